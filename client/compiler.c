/* Locating and identifying the real compiler. */
#include "autoconfig.h"

#include "client/compiler.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/exec.h"
#include "common/hash.h"

static bool is_self(const char *real_candidate, const char *self)
{
    return self && strcmp(real_candidate, self) == 0;
}

/* " size mtime_ns " of path, resolved; false if it cannot be stat'ed. */
static bool stat_part(const char *real, char *buf, size_t len)
{
    struct stat st;
    if (stat(real, &st) != 0)
        return false;
    snprintf(buf, len, " %lld %lld ", (long long)st.st_size,
             (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
    return true;
}

/* Whether real's base name is name. */
static bool base_is(const char *real, const char *name)
{
    const char *slash = strrchr(real, '/');
    return !strcmp(slash ? slash + 1 : real, name);
}

/* Launchers that run the compiler of their own name found on PATH
 * (distcc's and icecc's masquerade directories, ccache's): keyed by the
 * launcher alone, a PATH or a compiler upgrade behind it kept the old key. */
static bool is_launcher(const char *real)
{
    static const char *const names[] = {"distcc", "icecc", "ccache", "sccache", "buildcache"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (base_is(real, names[i]))
            return true;
    return false;
}

/* What the launcher (resolved) runs for name: the first regular file of
 * that name in its search path that resolves to neither the launcher nor
 * this program, resolved; malloc'd, NULL if none. ccache searches
 * CCACHE_PATH instead when it is set. An empty entry is the working
 * directory. */
static char *behind_on_path(const char *name, const char *launcher, const char *self)
{
    const char *ccache_path = getenv("CCACHE_PATH");
    const char *path =
        ccache_path && *ccache_path && base_is(launcher, "ccache") ? ccache_path : getenv("PATH");
    char *copy = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *found = NULL;
    for (char *dir = copy, *next; dir && !found; dir = next) {
        next = strchr(dir, ':');
        if (next)
            *next++ = '\0';
        char *cand = cs_path_join(*dir ? dir : ".", name);
        char *real = cand && access(cand, X_OK) == 0 ? realpath(cand, NULL) : NULL;
        struct stat st;
        if (real && strcmp(real, launcher) != 0 && !is_self(real, self) && stat(real, &st) == 0 &&
            S_ISREG(st.st_mode))
            found = real;
        else
            free(real);
        free(cand);
    }
    free(copy);
    return found;
}

/* The launchers' own settings that name the compiler they run. */
static const char *const launcher_env[] = {"CCACHE_PATH", "CCACHE_COMPILER", "ICECC_CC",
                                           "ICECC_CXX"};

/* The resolved file, its size and mtime, and the name it is run by (the
 * base name of c->path, its argv[0]): one binary behind several names
 * (distcc's and icecc's masquerade links, a multi-call binary, clang and
 * clang++) picks its language or real compiler by that name, so the name
 * is part of who the compiler is. */
static enum cs_status set_identity(struct cs_compiler *c, const char *real, const char *self)
{
    char buf[64], behind_buf[64] = "";
    if (!stat_part(real, buf, sizeof buf))
        return cs_status_from_errno(errno);
    const char *slash = strrchr(c->path, '/');
    const char *name = slash ? slash + 1 : c->path;
    /* A launcher: what it runs is part of who the compiler is. */
    char *behind = is_launcher(real) ? behind_on_path(name, real, self) : NULL;
    if (behind && !stat_part(behind, behind_buf, sizeof behind_buf))
        behind_buf[0] = '\0';
    const char *b = behind ? behind : "";
    struct cs_bytes id = {0};
    enum cs_status rc = cs_bytes_append_str(&id, real);
    if (rc == CS_OK)
        rc = cs_bytes_append_str(&id, buf);
    if (rc == CS_OK)
        rc = cs_bytes_append_str(&id, name);
    if (rc == CS_OK && behind)
        rc = cs_bytes_append_str(&id, " behind ");
    if (rc == CS_OK)
        rc = cs_bytes_append_str(&id, b);
    if (rc == CS_OK)
        rc = cs_bytes_append_str(&id, behind_buf);
    for (size_t i = 0;
         rc == CS_OK && is_launcher(real) && i < sizeof launcher_env / sizeof launcher_env[0];
         i++) {
        const char *v = getenv(launcher_env[i]);
        if (v && (rc = cs_bytes_append_str(&id, " ")) == CS_OK &&
            (rc = cs_bytes_append_str(&id, launcher_env[i])) == CS_OK &&
            (rc = cs_bytes_append_str(&id, "=")) == CS_OK)
            rc = cs_bytes_append_str(&id, v);
    }
    if (rc == CS_OK)
        rc = cs_bytes_append(&id, "", 1);
    free(behind);
    if (rc != CS_OK) {
        cs_bytes_free(&id);
        return rc;
    }
    c->identity = (char *)id.data; /* owned from here */
    return (c->real = strdup(real)) ? CS_OK : CS_ERR_NOMEM;
}

enum cs_status cs_compiler_find(const char *name, struct cs_compiler *c)
{
    memset(c, 0, sizeof *c);
    char *self = realpath("/proc/self/exe", NULL);
    enum cs_status rc = CS_ERR_NOT_FOUND;
    if (strchr(name, '/')) {
        char *real = realpath(name, NULL);
        if (real && !is_self(real, self) && access(real, X_OK) == 0) {
            c->path = strdup(name);
            rc = c->path ? set_identity(c, real, self) : CS_ERR_NOMEM;
        }
        free(real);
    } else {
        const char *path = getenv("PATH");
        char *copy = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
        if (!copy) {
            free(self);
            return CS_ERR_NOMEM;
        }
        char *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
            char *cand = cs_path_join(*dir ? dir : ".", name);
            if (!cand) {
                rc = CS_ERR_NOMEM;
                break;
            }
            char *real = access(cand, X_OK) == 0 ? realpath(cand, NULL) : NULL;
            struct stat st;
            if (real && !is_self(real, self) && stat(real, &st) == 0 && S_ISREG(st.st_mode)) {
                c->path = cand;
                rc = set_identity(c, real, self);
                free(real);
                break;
            }
            free(real);
            free(cand);
        }
        free(copy);
    }
    free(self);
    if (rc != CS_OK)
        cs_compiler_free(c);
    return rc;
}

void cs_compiler_version_key(const struct cs_compiler *c, uint8_t key[CS_SHA256_LEN])
{
    const void *parts[] = {"cstash-compiler-v1", c->identity};
    size_t lens[] = {18, strlen(c->identity)};
    cs_sha256_parts(parts, lens, 2, key);
}

/* cache_dir/compilers/<hex of the version key>, malloc'd (and the
 * directory into *dir when dir is not NULL). */
static char *version_file(const struct cs_compiler *c, const char *cache_dir, char **dir)
{
    uint8_t h[CS_SHA256_LEN];
    char hex[CS_SHA256_HEX_LEN + 1];
    cs_compiler_version_key(c, h);
    cs_hex_encode(h, sizeof h, hex);
    char *d = cs_path_join(cache_dir, "compilers");
    char *file = d ? cs_path_join(d, hex) : NULL;
    if (dir && file)
        *dir = d;
    else
        free(d);
    return file;
}

enum cs_status cs_compiler_version_cached(const struct cs_compiler *c, const char *cache_dir,
                                          struct cs_bytes *out)
{
    char *file = version_file(c, cache_dir, NULL);
    if (!file)
        return CS_ERR_NOMEM;
    size_t before = out->len;
    enum cs_status rc = cs_read_file(file, CS_COMPILER_VERSION_MAX, out);
    free(file);
    if (rc == CS_OK && out->len == before)
        rc = CS_ERR_NOT_FOUND; /* an empty file is no version */
    return rc;
}

static char *const probe_args[] = {"-dumpfullversion", "-dumpmachine"};

enum cs_status cs_compiler_probe_start(const struct cs_compiler *c, struct cs_child *child)
{
    char *argv[] = {c->path, probe_args[0], probe_args[1], NULL};
    return cs_exec_start(argv, child);
}

/* After the first run (rc, status): --version where -dumpfullversion
 * failed, as not every compiler knows it; the text is what out has past
 * before. */
static enum cs_status probe_done(const struct cs_compiler *c, enum cs_status rc, int status,
                                 struct cs_bytes *out, size_t before, struct cs_bytes *err)
{
    if (rc == CS_OK && status != 0) {
        out->len = before;
        err->len = 0;
        char *argv2[] = {c->path, "--version", NULL};
        rc = cs_exec_capture(argv2, out, err, CS_COMPILER_VERSION_MAX, &status);
    }
    if (rc == CS_OK && (status != 0 || out->len == before))
        rc = CS_ERR_INVALID;
    cs_bytes_free(err);
    return rc;
}

enum cs_status cs_compiler_probe_finish(const struct cs_compiler *c, struct cs_child *child,
                                        struct cs_bytes *out)
{
    struct cs_bytes err = {0};
    int status = -1;
    size_t before = out->len;
    enum cs_status rc = cs_exec_collect(child, out, &err, CS_COMPILER_VERSION_MAX, &status);
    return probe_done(c, rc, status, out, before, &err);
}

enum cs_status cs_compiler_version_probe(const struct cs_compiler *c, struct cs_bytes *out)
{
    struct cs_bytes err = {0};
    int status = -1;
    size_t before = out->len;
    char *argv[] = {c->path, probe_args[0], probe_args[1], NULL};
    enum cs_status rc = cs_exec_capture(argv, out, &err, CS_COMPILER_VERSION_MAX, &status);
    return probe_done(c, rc, status, out, before, &err);
}

void cs_compiler_version_save(const struct cs_compiler *c, const char *cache_dir, const void *text,
                              size_t len)
{
    char *dir = NULL;
    char *file = version_file(c, cache_dir, &dir);
    /* a cache: failure is fine */
    if (file && cs_write_file_atomic(file, text, len) != CS_OK && cs_mkdirs(dir, true) == CS_OK)
        (void)cs_write_file_atomic(file, text, len);
    free(dir);
    free(file);
}

enum cs_status cs_compiler_version(const struct cs_compiler *c, const char *cache_dir,
                                   struct cs_bytes *out)
{
    size_t before = out->len;
    enum cs_status rc = cs_compiler_version_cached(c, cache_dir, out);
    if (rc == CS_OK || rc == CS_ERR_NOMEM)
        return rc;
    out->len = before;
    rc = cs_compiler_version_probe(c, out);
    if (rc == CS_OK)
        cs_compiler_version_save(c, cache_dir, out->data + before, out->len - before);
    return rc;
}

/* Adds dir/name unless out has it. */
static enum cs_status add_config(struct cs_strv *out, const char *dir, const char *name)
{
    char *path = cs_path_join(dir, name);
    if (!path)
        return CS_ERR_NOMEM;
    for (size_t i = 0; i < out->n; i++)
        if (!strcmp(out->v[i], path)) {
            free(path);
            return CS_OK;
        }
    return cs_strv_push_own(out, path);
}

/* The file names of cs_compiler_default_configs for the name base. */
static enum cs_status config_names(const char *base, const char *triple, struct cs_strv *names)
{
    /* Less a version, as clang takes it off: clang-14, clang14.0 -> clang. */
    size_t n = strlen(base), m = n;
    while (m > 0 && (isdigit((unsigned char)base[m - 1]) || base[m - 1] == '.'))
        m--;
    if (m > 1 && m < n && base[m - 1] == '-')
        m--;
    if (m == 0)
        m = n;
    char *name = strndup(base, m);
    if (!name)
        return CS_ERR_NOMEM;
    struct cs_bytes b = {0};
    enum cs_status rc = CS_OK;
    /* Every split at a '-': PREFIX.cfg and SUFFIX.cfg; k == 0 is the whole name. */
    for (size_t k = 0; k < m && rc == CS_OK; k++) {
        if (k > 0 && name[k] != '-')
            continue;
        const char *suffix = k == 0 ? name : name + k + 1;
        for (int form = 0; form < 3 && rc == CS_OK; form++) {
            b.len = 0;
            if (form == 0 && k > 0)
                rc = cs_bytes_append(&b, name, k); /* clang 14: <prefix>.cfg */
            else if (form == 1)
                rc = cs_bytes_append_str(&b, suffix); /* <prefix>-<mode>.cfg, <driver>.cfg */
            else if (form == 2 && triple && *triple) {
                rc = cs_bytes_append_str(&b, triple); /* clang 16: <triple>-<driver>.cfg */
                if (rc == CS_OK)
                    rc = cs_bytes_append(&b, "-", 1);
                if (rc == CS_OK)
                    rc = cs_bytes_append_str(&b, suffix);
            }
            if (rc == CS_OK && b.len > 0 && (rc = cs_bytes_append_str(&b, ".cfg")) == CS_OK)
                rc = cs_strv_push(names, (const char *)b.data);
        }
    }
    cs_bytes_free(&b);
    free(name);
    return rc;
}

enum cs_status cs_compiler_default_configs(const struct cs_compiler *c, const char *triple,
                                           const char *cwd, struct cs_strv *out)
{
    const char *slash = strrchr(c->path, '/');
    const char *base = slash ? slash + 1 : c->path;
    char *dirs[2] = {NULL, NULL};
    struct cs_strv names = {0};
    enum cs_status rc = config_names(base, triple, &names);
    /* The resolved directory (clang 14, and clang's default); the one run
     * from (clang with -no-canonical-prefixes). */
    const char *rslash = c->real ? strrchr(c->real, '/') : NULL;
    if (rc == CS_OK && rslash && !(dirs[0] = strndup(c->real, (size_t)(rslash - c->real) + 1)))
        rc = CS_ERR_NOMEM;
    if (rc == CS_OK) {
        char *dir = slash ? strndup(c->path, (size_t)(slash - c->path) + 1) : strdup(".");
        dirs[1] = dir ? cs_path_absolute(dir, cwd) : NULL;
        free(dir);
        if (!dirs[1])
            rc = CS_ERR_NOMEM;
    }
    for (int d = 0; d < 2 && rc == CS_OK; d++)
        for (size_t i = 0; dirs[d] && i < names.n && rc == CS_OK; i++)
            rc = add_config(out, dirs[d], names.v[i]);
    free(dirs[0]);
    free(dirs[1]);
    cs_strv_free(&names);
    return rc;
}

void cs_compiler_free(struct cs_compiler *c)
{
    free(c->path);
    free(c->real);
    free(c->identity);
    c->path = c->real = c->identity = NULL;
}
