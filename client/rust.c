/* The Rust path of cstash (see rust.h; docs/design.md has the key). */
#include "autoconfig.h"

#include "client/rust.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/blob.h"
#include "client/exec.h"
#include "client/rust_args.h"
#include "client/rust_deep.h"
#include "client/rust_depinfo.h"
#include "client/rust_paths.h"
#include "client/rust_result.h"
#include "client/rust_store.h"
#include "client/whymiss.h"
#include "common/hash.h"

#define MAX_OUTPUT ((size_t)1 << 30)
#define MAX_FILE ((size_t)1 << 30)
#define MAX_CRATE_FILES 1000 /* crates hashed from one -L dir */

extern char **environ;

struct rjob {
    struct cs_session *ss;
    const struct cs_compiler *rustc;
    int argc;
    char **argv;
    struct cs_rust_args a;
    struct cs_rust_roots r;
    const char *crate;   /* crate name */
    char *crate_owned;   /* when derived from the file name */
    char *out_dir;       /* absolute */
    struct cs_strv outs; /* output file names (in out_dir), dep-info excluded */
    char *dep_file;      /* absolute path of the .d, or NULL */
    bool remap;          /* the working dir is remapped in the compile */
    struct cs_sha256 common;
    char types[64];
    /* An input whose mtime or ctime is later than this may have changed
     * while rustc read it (see tick_boundary). */
    int64_t changed_after;
    uint8_t (*ext_sha)[CS_SHA256_LEN]; /* of each --extern file */
    bool deep_unknown; /* a final artifact whose tree has no deep hash (rust_deep.h) */
    /* What went into common, readable (--why-miss): lines beside the hashing. */
    struct cs_why_lines why;
};

bool cs_rust_is_rustc(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t n = strlen(base);
    return !strcmp(base, "rustc") || cs_starts_with(base, "rustc-") ||
           (n > 6 && !strcmp(base + n - 6, "-rustc"));
}

static void hash_str(struct cs_sha256 *h, const char *s)
{
    cs_sha256_update(h, s, strlen(s) + 1);
}

static void sha_of(const struct cs_bytes *b, uint8_t out[CS_SHA256_LEN])
{
    const void *parts[] = {b->data ? (const void *)b->data : ""};
    size_t lens[] = {b->len};
    cs_sha256_parts(parts, lens, 1, out);
}

static enum cs_status hash_file(const char *path, uint8_t out[CS_SHA256_LEN])
{
    struct cs_bytes b = {0};
    enum cs_status rc = cs_read_file(path, MAX_FILE, &b);
    if (rc == CS_OK)
        sha_of(&b, out);
    cs_bytes_free(&b);
    return rc;
}

/* ---- rustc's identity ------------------------------------------------------ */

/* rustup's proxies are symlinks to rustup, or hard links to it (the same
 * inode as the rustup beside them). */
static bool is_rustup_proxy(const char *real)
{
    const char *base = strrchr(real, '/');
    if (cs_starts_with(base ? base + 1 : real, "rustup"))
        return true;
    if (!base)
        return false;
    char *dir = strndup(real, (size_t)(base - real));
    char *rustup = dir ? cs_path_join(dir, "rustup") : NULL;
    struct stat a, b;
    bool same = rustup && stat(rustup, &a) == 0 && stat(real, &b) == 0 && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino;
    free(dir);
    free(rustup);
    return same;
}

/* rustc -vV and --print sysroot, cached in DIR/compilers per binary (path,
 * size, mtime). A rustup proxy picks the toolchain per call (directory
 * overrides, RUSTUP_TOOLCHAIN): it is asked every time. */
static enum cs_status rustc_identity(struct rjob *j, struct cs_bytes *out)
{
    bool proxy = is_rustup_proxy(j->rustc->real);
    uint8_t h[CS_SHA256_LEN];
    char hex[CS_SHA256_HEX_LEN + 1];
    const void *parts[] = {"cstash-rustc-v1", j->rustc->identity};
    size_t lens[] = {15, strlen(j->rustc->identity)};
    cs_sha256_parts(parts, lens, 2, h);
    cs_hex_encode(h, sizeof h, hex);
    char *dir = cs_path_join(j->ss->s.dir, "compilers");
    char *file = dir ? cs_path_join(dir, hex) : NULL;
    enum cs_status rc = file ? CS_OK : CS_ERR_NOMEM;
    if (rc == CS_OK && !proxy && cs_read_file(file, 1 << 16, out) == CS_OK && out->len > 0) {
        free(dir);
        free(file);
        return CS_OK;
    }
    out->len = 0;
    char *q1[] = {j->rustc->path, "-vV", NULL};
    char *q2[] = {j->rustc->path, "--print", "sysroot", NULL};
    char *const *qs[] = {q1, q2};
    for (int q = 0; q < 2 && rc == CS_OK; q++) {
        struct cs_bytes err = {0};
        int status = -1;
        rc = cs_exec_capture(qs[q], out, &err, 1 << 16, &status);
        if (rc == CS_OK && status != 0)
            rc = CS_ERR_INVALID;
        cs_bytes_free(&err);
    }
    if (rc == CS_OK && !proxy && cs_mkdirs(dir, true) == CS_OK)
        (void)cs_write_file_atomic(file, out->data, out->len); /* a cache: failure is fine */
    free(dir);
    free(file);
    return rc;
}

/* ---- the key ---------------------------------------------------------------- */

static bool env_hashed(const char *name, size_t n)
{
    static const char *const not_keyed[] = {"CARGO_MAKEFLAGS", "CARGO_HOME", "CARGO_TARGET_DIR",
                                            "CARGO_INCREMENTAL", "CARGO_LOG"};
    /* CARGO_REGISTRY_TOKEN and the like: credentials, which reach rustc's
     * environment but not its output (env! is an env dep, keyed apart). */
    static const char *const not_keyed_prefix[] = {
        "CARGO_TERM_",  "CARGO_HTTP_", "CARGO_NET_",      "CARGO_REGISTRIES_",
        "CARGO_BUILD_", "CARGO_LOG_",  "CARGO_REGISTRY_", "CARGO_CREDENTIAL_"};
    static const char *const take[] = {
        "OUT_DIR",     "RUSTC_BOOTSTRAP", "SOURCE_DATE_EPOCH", "LANG",         "LC_ALL",
        "LC_MESSAGES", "LC_CTYPE",        "LIBRARY_PATH",      "RUSTC_LINKER", "RUST_TARGET_PATH"};
    for (size_t i = 0; i < sizeof take / sizeof take[0]; i++)
        if (n == strlen(take[i]) && !strncmp(name, take[i], n))
            return true;
    if (n <= 6 || strncmp(name, "CARGO_", 6) != 0)
        return false;
    for (size_t i = 0; i < sizeof not_keyed / sizeof not_keyed[0]; i++)
        if (n == strlen(not_keyed[i]) && !strncmp(name, not_keyed[i], n))
            return false;
    for (size_t i = 0; i < sizeof not_keyed_prefix / sizeof not_keyed_prefix[0]; i++)
        if (n >= strlen(not_keyed_prefix[i]) &&
            !strncmp(name, not_keyed_prefix[i], strlen(not_keyed_prefix[i])))
            return false;
    return true;
}

static int by_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* cargo's environment, sorted, values with the roots replaced. */
static enum cs_status hash_env(struct rjob *j)
{
    struct cs_strv names = {0};
    enum cs_status rc = CS_OK;
    for (char **e = environ; *e && rc == CS_OK; e++) {
        const char *eq = strchr(*e, '=');
        if (eq && env_hashed(*e, (size_t)(eq - *e)))
            rc = cs_strv_push(&names, *e);
    }
    if (rc == CS_OK && names.n > 1)
        qsort(names.v, names.n, sizeof *names.v, by_str);
    for (size_t i = 0; rc == CS_OK && i < names.n; i++) {
        struct cs_bytes v = {0};
        rc = cs_rust_norm_text(&j->r, (uint8_t *)names.v[i], strlen(names.v[i]), &v);
        if (rc == CS_OK)
            cs_sha256_update(&j->common, v.data, v.len + 1);
        if (rc == CS_OK) { /* as the user knows it: not normalised */
            char *eq = strchr(names.v[i], '=');
            *eq = 0;
            cs_why_add_env(&j->why, "env", names.v[i], eq + 1);
            *eq = '=';
        }
        cs_bytes_free(&v);
    }
    cs_strv_free(&names);
    return rc;
}

/* A file's name and content into the key. */
static char *out_path(const struct rjob *j, size_t i);

static enum cs_status hash_named_file(struct rjob *j, const char *tag, const char *path,
                                      uint8_t sha_out[CS_SHA256_LEN])
{
    uint8_t h[CS_SHA256_LEN];
    enum cs_status rc = hash_file(path, h);
    if (rc != CS_OK)
        return rc;
    if (sha_out)
        memcpy(sha_out, h, sizeof h);
    hash_str(&j->common, tag);
    char *n = cs_rust_norm_path(&j->r, path, j->ss->s.basedir);
    char *abs = cs_path_absolute(path, j->r.cwd);
    if (!n || !abs) {
        free(n);
        free(abs);
        return CS_ERR_NOMEM;
    }
    hash_str(&j->common, n);
    cs_sha256_update(&j->common, h, sizeof h);
    cs_why_add(&j->why, tag, h, abs);
    free(n);
    free(abs);
    return CS_OK;
}

/* -l libraries found in the -L dirs, as rustc and the linker look. */
static enum cs_status hash_native_libs(struct rjob *j)
{
    enum cs_status rc = CS_OK;
    static const char *const pre[] = {"lib", "lib", "", "lib"};
    static const char *const suf[] = {".a", ".so", ".lib", ".rlib"};
    for (size_t l = 0; rc == CS_OK && l < j->a.native_libs.n; l++)
        for (size_t d = 0; rc == CS_OK && d < j->a.native_dirs.n; d++)
            for (size_t f = 0; rc == CS_OK && f < 4; f++) {
                char name[512];
                const char *lib = j->a.native_libs.v[l];
                if (lib[0] == '\001' && f > 0)
                    break; /* +verbatim: the file name as given, once */
                if (lib[0] == '\001')
                    snprintf(name, sizeof name, "%s", lib + 1);
                else
                    snprintf(name, sizeof name, "%s%s%s", pre[f], lib, suf[f]);
                char *p = cs_path_join(j->a.native_dirs.v[d], name);
                struct stat st;
                if (!p)
                    rc = CS_ERR_NOMEM;
                else if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
                    rc = hash_named_file(j, "native-lib", p, NULL);
                free(p);
            }
    return rc;
}

static bool crate_file(const char *n)
{
    size_t l = strlen(n);
    return cs_starts_with(n, "lib") &&
           ((l > 5 && !strcmp(n + l - 5, ".rlib")) || (l > 6 && !strcmp(n + l - 6, ".rmeta")));
}

/* Crates rustc may load from -L crate=/all= dirs (extern crate without
 * --extern). */
static enum cs_status hash_crate_dirs(struct rjob *j)
{
    enum cs_status rc = CS_OK;
    for (size_t d = 0; rc == CS_OK && d < j->a.crate_dirs.n; d++) {
        DIR *dir = opendir(j->a.crate_dirs.v[d]);
        if (!dir)
            continue; /* rustc ignores a missing -L dir */
        struct cs_strv names = {0};
        struct dirent *de;
        while (rc == CS_OK && (de = readdir(dir)))
            if (crate_file(de->d_name))
                rc =
                    names.n < MAX_CRATE_FILES ? cs_strv_push(&names, de->d_name) : CS_ERR_TOO_LARGE;
        closedir(dir);
        if (rc == CS_OK && names.n > 1)
            qsort(names.v, names.n, sizeof *names.v, by_str);
        for (size_t i = 0; rc == CS_OK && i < names.n; i++) {
            char *p = cs_path_join(j->a.crate_dirs.v[d], names.v[i]);
            rc = p ? hash_named_file(j, "crate-dir", p, NULL) : CS_ERR_NOMEM;
            free(p);
        }
        cs_strv_free(&names);
    }
    return rc;
}

static bool links(const struct rjob *j)
{
    return (j->a.emit & CS_RE_LINK) &&
           (j->a.types & (CS_RT_BIN | CS_RT_DYLIB | CS_RT_CDYLIB | CS_RT_PROC_MACRO));
}

/* The linker (cc unless -C linker): its identity and version. Known gap:
 * the C library's start files and the system libraries it links are
 * keyed by the linker's identity only. */
static enum cs_status hash_linker(struct rjob *j)
{
    struct cs_compiler cc;
    const char *name = j->a.linker ? j->a.linker : getenv("RUSTC_LINKER");
    enum cs_status rc = cs_compiler_find(name && *name ? name : "cc", &cc);
    struct cs_bytes v = {0};
    if (rc == CS_OK)
        rc = cs_compiler_version(&cc, j->ss->s.dir, &v);
    if (rc == CS_OK) {
        hash_str(&j->common, "linker");
        hash_str(&j->common, cc.identity);
        cs_sha256_update(&j->common, v.data, v.len);
        char *line = malloc(strlen(cc.path) + v.len + 2);
        if (line)
            sprintf(line, "%s %.*s", cc.path, (int)strcspn(v.data ? (char *)v.data : "", "\n"),
                    v.data ? (char *)v.data : "");
        cs_why_add(&j->why, "part linker", NULL, line ? line : "?");
        free(line);
    }
    cs_bytes_free(&v);
    cs_compiler_free(&cc);
    return rc;
}

/* A --target spec file (a .json path, or NAME.json in RUST_TARGET_PATH,
 * which rustc takes before its built-in targets) by content. */
static enum cs_status hash_target_spec(struct rjob *j)
{
    const char *t = j->a.target;
    size_t n = strlen(t);
    if (n > 5 && !strcmp(t + n - 5, ".json"))
        return hash_named_file(j, "target-spec", t, NULL);
    const char *path = getenv("RUST_TARGET_PATH");
    enum cs_status rc = CS_OK;
    char *copy = path ? strdup(path) : NULL, *save = NULL;
    for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && rc == CS_OK;
         d = strtok_r(NULL, ":", &save)) {
        char name[512];
        snprintf(name, sizeof name, "%s.json", t);
        char *p = cs_path_join(d, name);
        struct stat st;
        if (!p)
            rc = CS_ERR_NOMEM;
        else if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            rc = hash_named_file(j, "target-spec", p, NULL);
        free(p);
    }
    free(copy);
    return rc;
}

/* A crate whose output holds its dependencies' code: a linked one, or a
 * static library (it bundles every rlib). */
static bool final_artifact(const struct rjob *j)
{
    return links(j) || ((j->a.emit & CS_RE_LINK) && (j->a.types & CS_RT_STATICLIB));
}

/* The --extern files by content; for a final artifact also the tree
 * below them (rust_deep.h). */
static enum cs_status hash_externs(struct rjob *j)
{
    size_t n = j->a.externs.n;
    if (!(j->ext_sha = calloc(n ? n : 1, sizeof *j->ext_sha)))
        return CS_ERR_NOMEM;
    enum cs_status rc = CS_OK;
    for (size_t i = 0; rc == CS_OK && i < n; i++)
        rc = hash_named_file(j, "extern", j->a.externs.v[i], j->ext_sha[i]);
    if (rc == CS_OK && final_artifact(j)) {
        uint8_t deep[CS_SHA256_LEN];
        enum cs_status d = cs_rust_deep_hash(
            j->ss, &j->r, (const uint8_t(*)[CS_SHA256_LEN])j->ext_sha, j->a.externs.v, n, deep);
        if (d == CS_OK) {
            char hex[CS_SHA256_HEX_LEN + 1];
            hash_str(&j->common, "deep");
            cs_sha256_update(&j->common, deep, sizeof deep);
            cs_hex_encode(deep, sizeof deep, hex);
            hex[CS_SHA256_HEX_LEN] = 0;
            cs_why_add(&j->why, "part deep", NULL, hex);
        } else if (d == CS_ERR_NOT_FOUND) {
            j->deep_unknown = true;
        } else {
            rc = d;
        }
    }
    return rc;
}

/* For a final artifact, the native libraries in the -L native=/plain dirs
 * (cargo passes on every build script's link-search dir to the crate that
 * links: a dylib named in a dependency's metadata is found there). A dir
 * with more than MAX_NATIVE_FILES of them is a system dir, keyed like the
 * system libraries, by the linker's identity. */
#define MAX_NATIVE_FILES 256
static bool native_lib_file(const char *n)
{
    size_t l = strlen(n);
    return (l > 2 && (!strcmp(n + l - 2, ".a") || !strcmp(n + l - 2, ".o"))) ||
           strstr(n, ".so") != NULL;
}

static enum cs_status hash_native_dirs(struct rjob *j)
{
    enum cs_status rc = CS_OK;
    for (size_t d = 0; rc == CS_OK && d < j->a.native_dirs.n; d++) {
        DIR *dir = opendir(j->a.native_dirs.v[d]);
        if (!dir)
            continue;
        struct cs_strv names = {0};
        struct dirent *de;
        while (rc == CS_OK && names.n <= MAX_NATIVE_FILES && (de = readdir(dir)))
            if (native_lib_file(de->d_name))
                rc = cs_strv_push(&names, de->d_name);
        closedir(dir);
        if (rc == CS_OK && names.n > 1)
            qsort(names.v, names.n, sizeof *names.v, by_str);
        for (size_t i = 0; rc == CS_OK && names.n <= MAX_NATIVE_FILES && i < names.n; i++) {
            char *p = cs_path_join(j->a.native_dirs.v[d], names.v[i]);
            struct stat st;
            if (!p)
                rc = CS_ERR_NOMEM;
            else if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
                rc = hash_named_file(j, "native-dir", p, NULL);
            free(p);
        }
        cs_strv_free(&names);
    }
    return rc;
}

/* The record the crates above this one need (rust_deep.h). */
static void record_deep(struct rjob *j, const uint8_t (*shas)[CS_SHA256_LEN], size_t n)
{
    struct cs_strv paths = {0};
    enum cs_status rc = CS_OK;
    for (size_t i = 0; rc == CS_OK && i < j->a.externs.n; i++)
        rc =
            cs_strv_push_own(&paths, cs_rust_norm_path(&j->r, j->a.externs.v[i], j->ss->s.basedir));
    if (rc == CS_OK)
        cs_rust_deep_record(j->ss, shas, n, (const uint8_t(*)[CS_SHA256_LEN])j->ext_sha, paths.v,
                            j->a.externs.n);
    cs_strv_free(&paths);
}

/* The record for a compile whose result is not stored (an input changed,
 * read-only): the crates above it still need it. */
static void record_outputs_deep(struct rjob *j)
{
    uint8_t shas[CS_RUST_MAX_OUTPUTS][CS_SHA256_LEN];
    size_t n = 0;
    for (size_t i = 0; i < j->outs.n && n < CS_RUST_MAX_OUTPUTS; i++) {
        char *p = out_path(j, i);
        bool ok = p && hash_file(p, shas[n]) == CS_OK;
        free(p);
        if (!ok)
            return;
        n++;
    }
    record_deep(j, (const uint8_t(*)[CS_SHA256_LEN])shas, n);
}

/* The readable lines of what hash_common keys before the files. */
static void why_common(struct rjob *j, const struct cs_bytes *identity)
{
    const char *id = identity->data ? (const char *)identity->data : "";
    char version[160];
    snprintf(version, sizeof version, "%.*s", (int)strcspn(id, "\n"), id);
    cs_why_add(&j->why, "compiler", NULL, j->rustc->path);
    cs_why_add(&j->why, "version", NULL, version);
    cs_why_add(&j->why, "identity", NULL, j->rustc->identity);
    char emit[64];
    snprintf(emit, sizeof emit, "%s%s%s%s", j->a.emit & CS_RE_DEP_INFO ? " dep-info" : "",
             j->a.emit & CS_RE_METADATA ? " metadata" : "", j->a.emit & CS_RE_LINK ? " link" : "",
             j->remap ? " (working dir remapped)" : "");
    cs_why_add(&j->why, "part emit", NULL, emit[0] ? emit + 1 : "");
    cs_why_add(&j->why, "part crate", NULL, j->crate);
    struct cs_bytes outs = {0};
    for (size_t i = 0; i < j->outs.n; i++)
        if ((i > 0 && cs_bytes_append(&outs, " ", 1) != CS_OK) ||
            cs_bytes_append_str(&outs, j->outs.v[i]) != CS_OK)
            j->why.broken = true;
    cs_why_add(&j->why, "part outputs", NULL, outs.data ? (char *)outs.data : "");
    cs_bytes_free(&outs);
}

/* An argument with a path: the path absolute, as the user knows it. */
static void why_arg(struct rjob *j, const char *opt, const char *path)
{
    char *abs = cs_path_absolute(path, j->r.cwd);
    char *line = abs ? malloc(strlen(opt) + strlen(abs) + 2) : NULL;
    size_t n = strlen(opt);
    if (line) /* "--extern name=" and "-L native=" run into the path */
        sprintf(line, "%s%s%s", opt, n && opt[n - 1] == '=' ? "" : " ", abs);
    if (line)
        cs_why_add(&j->why, "arg", NULL, line);
    else
        j->why.broken = true;
    free(line);
    free(abs);
}

static enum cs_status hash_common(struct rjob *j, const struct cs_bytes *identity)
{
    struct cs_sha256 *h = &j->common;
    enum cs_status rc = CS_OK;
    cs_sha256_init(h);
    hash_str(h, "cstash-rust-v1");
    hash_str(h, j->rustc->identity);
    cs_sha256_update(h, identity->data, identity->len);
    why_common(j, identity);
    char emit[16];
    snprintf(emit, sizeof emit, "%u %d", j->a.emit, j->remap);
    hash_str(h, emit);
    for (size_t i = 0; rc == CS_OK && i < j->a.key_opt.n; i++) {
        hash_str(h, j->a.key_opt.v[i]);
        if (!j->a.key_path.v[i][0]) {
            cs_why_add(&j->why, "arg", NULL, j->a.key_opt.v[i]);
            continue;
        }
        char *n = cs_rust_norm_path(&j->r, j->a.key_path.v[i], j->ss->s.basedir);
        rc = n ? CS_OK : CS_ERR_NOMEM;
        if (n)
            hash_str(h, n);
        why_arg(j, j->a.key_opt.v[i], j->a.key_path.v[i]);
        free(n);
    }
    hash_str(h, j->crate);
    for (size_t i = 0; i < j->outs.n; i++)
        hash_str(h, j->outs.v[i]);
    if (rc == CS_OK && j->a.target)
        rc = hash_target_spec(j);
    if (rc == CS_OK)
        rc = hash_externs(j);
    for (size_t i = 0; rc == CS_OK && i < j->a.link_files.n; i++) {
        struct stat st;
        if (stat(j->a.link_files.v[i], &st) == 0 && S_ISREG(st.st_mode))
            rc = hash_named_file(j, "link-arg", j->a.link_files.v[i], NULL);
    }
    if (rc == CS_OK)
        rc = hash_native_libs(j);
    if (rc == CS_OK)
        rc = hash_crate_dirs(j);
    if (rc == CS_OK && links(j))
        rc = hash_linker(j);
    if (rc == CS_OK && final_artifact(j))
        rc = hash_native_dirs(j);
    if (rc == CS_OK)
        rc = hash_env(j);
    hash_str(h, j->ss->s.cache_buster ? j->ss->s.cache_buster : "");
    if (j->ss->s.cache_buster)
        cs_why_add(&j->why, "part cache-buster", NULL, j->ss->s.cache_buster);
    return rc;
}

/* ---- outputs ---------------------------------------------------------------- */

static enum cs_status add_out(struct rjob *j, const char *pre, const char *stem, const char *suf)
{
    char name[512];
    int n = snprintf(name, sizeof name, "%s%s%s", pre, stem, suf);
    if (n < 0 || (size_t)n >= sizeof name)
        return CS_ERR_INVALID;
    for (size_t i = 0; i < j->outs.n; i++)
        if (!strcmp(j->outs.v[i], name))
            return CS_OK;
    return cs_strv_push(&j->outs, name);
}

/* The files rustc will write, from the crate name, the types and --emit,
 * as rustc names them for ELF targets. */
static enum cs_status plan_outputs(struct rjob *j)
{
    const char *extra = j->a.extra;
    char stem[400];
    int n = snprintf(stem, sizeof stem, "%s%s", j->crate, extra);
    if (n < 0 || (size_t)n >= sizeof stem || strchr(stem, '/'))
        return CS_ERR_INVALID;
    enum cs_status rc = CS_OK;
    unsigned t = j->a.types ? j->a.types : CS_RT_BIN;
    if (j->a.out_file) {
        const char *base = strrchr(j->a.out_file, '/');
        return cs_strv_push(&j->outs, base ? base + 1 : j->a.out_file);
    }
    if (j->a.emit & CS_RE_METADATA)
        rc = add_out(j, "lib", stem, ".rmeta");
    if (rc == CS_OK && (j->a.emit & CS_RE_LINK)) {
        if (t & CS_RT_BIN)
            rc = add_out(j, "", stem, "");
        if (rc == CS_OK && (t & CS_RT_LIB))
            rc = add_out(j, "lib", stem, ".rlib");
        if (rc == CS_OK && (t & (CS_RT_DYLIB | CS_RT_CDYLIB | CS_RT_PROC_MACRO)))
            rc = add_out(j, "lib", stem, ".so");
        if (rc == CS_OK && (t & CS_RT_STATICLIB))
            rc = add_out(j, "lib", stem, ".a");
    }
    if (rc == CS_OK && (j->a.emit & CS_RE_DEP_INFO)) {
        char d[512];
        snprintf(d, sizeof d, "%s.d", stem);
        j->dep_file = cs_path_join(j->out_dir, d);
        rc = j->dep_file ? CS_OK : CS_ERR_NOMEM;
    }
    return rc;
}

static char *out_path(const struct rjob *j, size_t i)
{
    return cs_path_join(j->out_dir, j->outs.v[i]);
}

/* ---- the dep-info pass ---------------------------------------------------- */

/* Runs rustc for its dep-info only (no analysis, no codegen) and reads it. */
static enum cs_status depinfo_pass(struct rjob *j, struct cs_rust_depinfo *d)
{
    char name[96];
    snprintf(name, sizeof name, "tmp/depinfo.%ld.%lx.d", (long)getpid(),
             (unsigned long)(cs_now_ns() & 0xffffffff));
    char *tmp = cs_path_join(j->ss->s.dir, name);
    if (!tmp)
        return CS_ERR_NOMEM;
    size_t n = strlen(tmp) + 32;
    char *emit = malloc(n);
    struct cs_strv cmd = {0};
    enum cs_status rc = emit ? cs_mkdirs(tmp, false) : CS_ERR_NOMEM;
    if (rc == CS_OK) {
        snprintf(emit, n, "--emit=dep-info=%s", tmp);
        rc = cs_strv_push(&cmd, j->rustc->path);
    }
    for (size_t i = 0; rc == CS_OK && i < j->a.dep_info.n; i++)
        rc = cs_strv_push(&cmd, j->a.dep_info.v[i]);
    if (rc == CS_OK)
        rc = cs_strv_push(&cmd, j->a.input);
    if (rc == CS_OK)
        rc = cs_strv_push(&cmd, emit);
    struct cs_bytes out = {0}, err = {0}, text = {0};
    int status = -1;
    if (rc == CS_OK)
        rc = cs_exec_capture(cmd.v, &out, &err, MAX_OUTPUT, &status);
    if (rc == CS_OK && status != 0)
        rc = CS_ERR_INVALID;
    if (rc == CS_OK)
        rc = cs_read_file(tmp, MAX_FILE, &text);
    if (rc == CS_OK)
        rc = cs_rust_depinfo_parse(text.data ? (char *)text.data : "", d);
    (void)unlink(tmp);
    cs_bytes_free(&out);
    cs_bytes_free(&err);
    cs_bytes_free(&text);
    cs_strv_free(&cmd);
    free(emit);
    free(tmp);
    return rc;
}

/* The hash of an env-dep entry as it goes into keys and records: the
 * value as it is, roots and all. A crate that reads CARGO_MANIFEST_DIR or
 * OUT_DIR with env! may keep it, or something computed from it (its
 * length), in its output, where no search for the path would find it. */
static void env_dep_hash(const char *text, uint8_t out[CS_SHA256_LEN])
{
    const void *parts[] = {text};
    size_t lens[] = {strlen(text)};
    cs_sha256_parts(parts, lens, 1, out);
}

/* ---- direct mode records ----------------------------------------------------- */

static int64_t ns_of(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

#define DURING_MARGIN_NS (10 * 1000000LL)
#define RECENT_MARGIN_NS (2 * 1000000000LL)

/* An entry's file (path in the key's form) or env var ("\001E" NAME) as
 * it is now. */
static bool record_matches(const struct rjob *j, const struct cs_manifest_file *f)
{
    uint8_t h[CS_SHA256_LEN] = {0};
    if (f->path[0] == '\001' && f->path[1] == 'E') {
        char *t = cs_rust_env_dep_text(f->path + 2);
        if (t)
            env_dep_hash(t, h);
        bool ok = t && !memcmp(h, f->hash, sizeof h);
        free(t);
        return ok;
    }
    char *p = cs_rust_denorm_path(&j->r, f->path);
    struct stat st;
    bool ok = p && stat(p, &st) == 0 && (uint64_t)st.st_size == f->size;
    if (ok && !(ns_of(&st.st_mtim) == f->mtime && ns_of(&st.st_ctim) == f->ctime))
        ok = hash_file(p, h) == CS_OK && !memcmp(h, f->hash, sizeof h);
    free(p);
    return ok;
}

static bool manifest_lookup(struct rjob *j, const struct cs_manifest *m, uint8_t key[CS_SHA256_LEN],
                            uint32_t *which)
{
    for (uint32_t i = 0; i < m->n; i++) {
        bool ok = true;
        for (uint32_t f = 0; ok && f < m->e[i].nfiles; f++) {
            ok = record_matches(j, &m->e[i].files[f]);
            if (!ok)
                cs_session_log(j->ss, "rust %s: direct entry %u: %s%s differs", j->crate, i,
                               m->e[i].files[f].path[0] == '\001' ? "" : "file ",
                               m->e[i].files[f].path);
        }
        if (ok) {
            memcpy(key, m->e[i].result_key, CS_SHA256_LEN);
            *which = i;
            return true;
        }
    }
    return false;
}

/* The result key from the dep-info, and the direct-mode entry that leads
 * to it (no entry, *entry_ok false, when a file changed during the call). */
static enum cs_status result_key(struct rjob *j, const struct cs_rust_depinfo *d,
                                 uint8_t key[CS_SHA256_LEN], struct cs_manifest_entry *e,
                                 bool *entry_ok)
{
    struct cs_sha256 h = j->common;
    hash_str(&h, "rust-result");
    memset(e, 0, sizeof *e);
    *entry_ok = true;
    size_t n = d->files.n + d->env.n;
    if (!(e->files = calloc(n ? n : 1, sizeof *e->files)))
        return CS_ERR_NOMEM;
    enum cs_status rc = CS_OK;
    for (size_t i = 0; rc == CS_OK && i < d->files.n; i++) {
        struct cs_manifest_file *f = &e->files[e->nfiles];
        struct stat st;
        char *np = cs_rust_norm_path(&j->r, d->files.v[i], j->ss->s.basedir);
        rc = !np ? CS_ERR_NOMEM : stat(d->files.v[i], &st) != 0 ? CS_ERR_NOT_FOUND : CS_OK;
        if (rc == CS_OK && strlen(np) > 4000)
            *entry_ok = false; /* a manifest path longer than its decoder takes */
        if (rc == CS_OK)
            rc = hash_file(d->files.v[i], f->hash);
        if (rc != CS_OK) {
            free(np);
            break;
        }
        hash_str(&h, np);
        cs_sha256_update(&h, f->hash, sizeof f->hash);
        int64_t changed =
            ns_of(&st.st_mtim) > ns_of(&st.st_ctim) ? ns_of(&st.st_mtim) : ns_of(&st.st_ctim);
        if (changed > j->changed_after)
            *entry_ok = false;
        bool recent = changed >= j->ss->start_ns - RECENT_MARGIN_NS;
        f->path = np;
        f->size = (uint64_t)st.st_size;
        f->mtime = recent ? 0 : ns_of(&st.st_mtim);
        f->ctime = recent ? 0 : ns_of(&st.st_ctim);
        e->nfiles++;
    }
    for (size_t i = 0; rc == CS_OK && i < d->env.n; i++) {
        struct cs_manifest_file *f = &e->files[e->nfiles];
        const char *t = d->env.v[i];
        size_t nl = strcspn(t, "=");
        if (!(f->path = malloc(nl + 3))) {
            rc = CS_ERR_NOMEM;
            break;
        }
        snprintf(f->path, nl + 3, "\001E%.*s", (int)nl, t);
        e->nfiles++;
        env_dep_hash(t, f->hash);
        hash_str(&h, f->path);
        cs_sha256_update(&h, f->hash, sizeof f->hash);
    }
    cs_sha256_final(&h, key);
    memcpy(e->result_key, key, CS_SHA256_LEN);
    return rc;
}

/* ---- --why-miss ------------------------------------------------------------- */

/* The record's name: OUT_DIR/crate (types[ test]), without cargo's -C
 * extra-filename, which changes with the arguments, so that the entries
 * before a change are found; each output names it by an alias. malloc'd. */
static char *why_name(const struct rjob *j)
{
    if (j->a.out_file)
        return cs_path_absolute(j->a.out_file, j->r.cwd);
    bool test = false;
    for (size_t i = 0; i < j->a.key_opt.n; i++)
        test |= !strcmp(j->a.key_opt.v[i], "--test");
    char name[600];
    snprintf(name, sizeof name, "%s (%s%s)", j->crate, j->types, test ? " test" : "");
    return cs_path_join(j->out_dir, name);
}

struct why_ctx {
    struct rjob *j;
    const struct cs_manifest_entry *e;
};

/* The lines of a Rust compile (cs_why_build_fn): what common was made of,
 * then the files and env vars of the entry. */
static enum cs_status why_build(void *ctx, struct cs_why_lines *l)
{
    struct rjob *j = ((struct why_ctx *)ctx)->j;
    const struct cs_manifest_entry *e = ((struct why_ctx *)ctx)->e;
    *l = j->why; /* taken: a record is made once per call */
    memset(&j->why, 0, sizeof j->why);
    for (uint32_t i = 0; i < e->nfiles && !l->broken; i++) {
        const struct cs_manifest_file *f = &e->files[i];
        if (f->path[0] == '\001' && f->path[1] == 'E') {
            cs_why_add_env(l, "envdep", f->path + 2, getenv(f->path + 2));
            continue;
        }
        char *p = cs_rust_denorm_path(&j->r, f->path);
        char *abs = p ? cs_path_absolute(p, j->r.cwd) : NULL;
        cs_why_add(l, "file", f->hash, abs ? abs : f->path);
        free(abs);
        free(p);
    }
    return CS_OK;
}

static void why_note(struct rjob *j, const struct cs_manifest_entry *e,
                     const uint8_t key[CS_SHA256_LEN], enum cs_why_kind kind)
{
    char *name = why_name(j);
    struct why_ctx c = {j, e};
    if (name && cs_why_record(j->ss, name, key, why_build, &c, kind)) {
        for (size_t i = 0; i < j->outs.n; i++) {
            char *p = out_path(j, i);
            if (p && strcmp(p, name) != 0)
                cs_why_alias(j->ss, p, name);
            free(p);
        }
        if (j->dep_file)
            cs_why_alias(j->ss, j->dep_file, name);
    }
    free(name);
}

/* ---- a hit ------------------------------------------------------------------ */

static enum cs_status write_text(const struct rjob *j, const char *path, const struct cs_bytes *t)
{
    struct cs_bytes text = {0};
    enum cs_status rc = cs_rust_denorm_text(&j->r, t, &text);
    if (rc == CS_OK && unlink(path) != 0 && errno != ENOENT)
        rc = cs_status_from_errno(errno);
    if (rc == CS_OK)
        rc = cs_write_file_atomic(path, text.data ? text.data : (uint8_t *)"", text.len);
    cs_bytes_free(&text);
    return rc;
}

static void replay(const struct rjob *j, int fd, const struct cs_bytes *t)
{
    struct cs_bytes text = {0};
    if (cs_rust_denorm_text(&j->r, t, &text) == CS_OK) {
        size_t off = 0;
        while (off < text.len) {
            ssize_t n = write(fd, text.data + off, text.len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            off += (size_t)n;
        }
    }
    cs_bytes_free(&text);
}

/* A pin: a line "C<working dir>" and/or "T<target dir>" for each root the
 * outputs hold (bits 1 and 2 of found). malloc'd. */
static char *pin_of(const struct cs_rust_roots *r, unsigned found)
{
    size_t n = strlen(r->cwd) + (r->target ? strlen(r->target) : 0) + 8;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s%s%s%s", found & 1 ? "C" : "", found & 1 ? r->cwd : "",
                 found & 1 ? "\n" : "", found & 2 ? "T" : "",
                 found & 2 && r->target ? r->target : "", found & 2 ? "\n" : "");
    return p;
}

/* Whether a pinned record was built with this call's roots. */
static bool pin_matches(const struct cs_rust_roots *r, const char *pin)
{
    unsigned found = 0;
    for (const char *l = pin; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0))
        found |= l[0] == 'C' ? 1 : l[0] == 'T' ? 2 : 4;
    if (found & 4 || ((found & 2) && !r->target))
        return false;
    char *mine = pin_of(r, found);
    bool same = mine && !strcmp(mine, pin);
    free(mine);
    return same;
}

/* Restores a cached result as this call's outputs. *remote: some file
 * came from the remote. */
static enum cs_status deliver(struct rjob *j, const struct cs_bytes *blob, bool *remote)
{
    struct cs_rust_result r;
    enum cs_status rc = cs_rust_result_decode(blob->data, blob->len, &r);
    if (rc != CS_OK)
        return rc;
    if (r.pin && !pin_matches(&j->r, r.pin))
        rc = CS_ERR_NOT_FOUND; /* built elsewhere, and its outputs name that place */
    if (rc == CS_OK && (r.n != j->outs.n || (j->dep_file != NULL) != (r.dep_info.len > 0)))
        rc = CS_ERR_INVALID;
    for (uint32_t i = 0; rc == CS_OK && i < r.n; i++)
        if (strcmp(r.out[i].name, j->outs.v[i]) != 0)
            rc = CS_ERR_INVALID;
    for (uint32_t i = 0; rc == CS_OK && i < r.n; i++) {
        char *p = out_path(j, i);
        bool from_remote = false;
        rc = p ? cs_rust_store_restore(j->ss, &r.out[i], p, &from_remote) : CS_ERR_NOMEM;
        *remote |= from_remote;
        free(p);
    }
    if (rc == CS_OK && j->dep_file)
        rc = write_text(j, j->dep_file, &r.dep_info);
    if (rc == CS_OK) {
        uint8_t shas[CS_RUST_MAX_OUTPUTS][CS_SHA256_LEN];
        for (uint32_t i = 0; i < r.n; i++)
            memcpy(shas[i], r.out[i].sha, CS_SHA256_LEN);
        record_deep(j, (const uint8_t(*)[CS_SHA256_LEN])shas, r.n);
        replay(j, 1, &r.out_text);
        replay(j, 2, &r.err_text);
    } else {
        cs_session_log(j->ss, "rust %s: the cached result cannot be used: %s", j->crate,
                       rc == CS_ERR_NOT_FOUND && r.pin ? "built in another place"
                                                       : cs_strerror(rc));
    }
    cs_rust_result_free(&r);
    return rc;
}

static void entry_free(struct cs_manifest_entry *e)
{
    for (uint32_t f = 0; f < e->nfiles; f++)
        free(e->files[f].path);
    free(e->files);
    memset(e, 0, sizeof *e);
}

/* The previous build's outputs may be hard links into the cache: rustc and
 * the linker must write new files, never into those. */
static void unlink_outputs(const struct rjob *j)
{
    for (size_t i = 0; i < j->outs.n; i++) {
        char *p = out_path(j, i);
        if (p)
            (void)unlink(p);
        free(p);
    }
    if (j->dep_file)
        (void)unlink(j->dep_file);
}

/* ---- a miss ----------------------------------------------------------------- */

/* Whether a file holds a root's path: then the outputs depend on where
 * the checkout is, and the record is pinned to it. */
static unsigned embeds_roots(const struct rjob *j, const struct cs_bytes *b)
{
    const char *rs[2] = {j->r.cwd, j->r.target};
    unsigned found = 0;
    for (int k = 0; k < 2; k++)
        if (rs[k] && b->len && memmem(b->data, b->len, rs[k], strlen(rs[k])))
            found |= 1u << k;
    return found;
}

/* Reads what the compile wrote and stores it: files first, the record
 * last, so a record never names a file that was not stored. */
static void store_result(struct rjob *j, const uint8_t rkey[CS_SHA256_LEN], struct cs_bytes *out,
                         struct cs_bytes *err)
{
    struct cs_rust_result r = {0};
    enum cs_status rc = CS_OK;
    unsigned pinned = 0;
    for (size_t i = 0; rc == CS_OK && i < j->outs.n; i++) {
        char *p = out_path(j, i);
        struct cs_bytes data = {0};
        struct stat st;
        rc = !p ? CS_ERR_NOMEM : stat(p, &st) != 0 ? CS_ERR_NOT_FOUND : CS_OK;
        if (rc == CS_OK)
            rc = cs_read_file(p, MAX_FILE, &data);
        if (rc == CS_OK) {
            struct cs_rust_output *o = &r.out[r.n];
            sha_of(&data, o->sha);
            o->size = data.len;
            o->mode = (uint32_t)st.st_mode & 0777;
            rc = (o->name = strdup(j->outs.v[i])) ? CS_OK : CS_ERR_NOMEM;
            r.n += rc == CS_OK;
            pinned |= embeds_roots(j, &data);
            if (rc == CS_OK)
                cs_rust_store_add(j->ss, p, &data, o->sha, o->mode);
        } else {
            cs_session_log(j->ss, "rust output %s not found: not cached", p ? p : "?");
        }
        cs_bytes_free(&data);
        free(p);
    }
    struct cs_bytes d = {0};
    if (rc == CS_OK && j->dep_file)
        rc = cs_read_file(j->dep_file, MAX_FILE, &d);
    if (rc == CS_OK && j->dep_file)
        rc = cs_rust_norm_text(&j->r, d.data ? d.data : (uint8_t *)"", d.len, &r.dep_info);
    if (rc == CS_OK && j->dep_file && r.dep_info.len == 0)
        rc = CS_ERR_INVALID;
    if (rc == CS_OK)
        rc = cs_rust_norm_text(&j->r, out->data ? out->data : (uint8_t *)"", out->len, &r.out_text);
    if (rc == CS_OK)
        rc = cs_rust_norm_text(&j->r, err->data ? err->data : (uint8_t *)"", err->len, &r.err_text);
    if (rc == CS_OK && pinned && !(r.pin = pin_of(&j->r, pinned)))
        rc = CS_ERR_NOMEM;
    struct cs_bytes blob = {0};
    if (rc == CS_OK)
        rc = cs_rust_result_encode(&r, &blob);
    if (rc == CS_OK) {
        uint8_t shas[CS_RUST_MAX_OUTPUTS][CS_SHA256_LEN];
        for (uint32_t i = 0; i < r.n; i++)
            memcpy(shas[i], r.out[i].sha, CS_SHA256_LEN);
        record_deep(j, (const uint8_t(*)[CS_SHA256_LEN])shas, r.n);
        cs_session_store(j->ss, rkey, CS_KIND_RESULT, &blob);
        if (pinned)
            cs_session_log(j->ss, "rust %s: the outputs hold the checkout's path: pinned to it",
                           j->crate);
    } else if (rc != CS_ERR_NOT_FOUND) {
        cs_session_count(j->ss, CS_ST_INTERNAL_ERROR);
        cs_session_log(j->ss, "rust %s not cached: %s", j->crate, cs_strerror(rc));
    }
    cs_bytes_free(&blob);
    cs_bytes_free(&d);
    cs_rust_result_free(&r);
}

/* rustc with the original arguments, plus the working dir remapped. */
static enum cs_status compile_cmd(const struct rjob *j, struct cs_strv *cmd)
{
    enum cs_status rc = cs_strv_push(cmd, j->rustc->path);
    if (rc == CS_OK && j->remap) {
        size_t n = strlen(j->r.cwd) + 32;
        char *m = malloc(n);
        if (m)
            snprintf(m, n, "--remap-path-prefix=%s=.", j->r.cwd);
        rc = cs_strv_push_own(cmd, m);
    }
    for (int i = 0; rc == CS_OK && i < j->argc; i++)
        rc = cs_strv_push(cmd, j->argv[i]);
    return rc;
}

/* The result key from the dep-info the compile itself wrote (cargo always
 * asks for one), so a miss needs no dep-info pass of its own. */
static enum cs_status key_from_own_depinfo(struct rjob *j, uint8_t rkey[CS_SHA256_LEN],
                                           struct cs_manifest_entry *e, bool *entry_ok)
{
    struct cs_bytes text = {0};
    struct cs_rust_depinfo d = {0};
    enum cs_status rc = cs_read_file(j->dep_file, MAX_FILE, &text);
    if (rc == CS_OK)
        rc = cs_rust_depinfo_parse(text.data ? (char *)text.data : "", &d);
    if (rc == CS_OK)
        rc = result_key(j, &d, rkey, e, entry_ok);
    cs_rust_depinfo_free(&d);
    cs_bytes_free(&text);
    return rc;
}

/* Waits for the next tick of the clock the kernel stamps files with and
 * returns just below it. A file written after this returns has an mtime
 * (and ctime) at or above the tick, so above the value; one written before
 * the tick, below it (on multigrain kernels a write in the fraction of a
 * millisecond between the tick and our noticing it also counts as
 * changed). So "changed after the value" is exact, where a fine clock with
 * a margin also dropped build scripts' outputs written just before (cargo
 * runs rustc a few ms after the script). */
static int64_t tick_boundary(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_REALTIME_COARSE, &t) != 0)
        return cs_now_ns() - DURING_MARGIN_NS;
    int64_t before = ns_of(&t), now = before;
    for (int i = 0; i < 100 && now <= before; i++) {
        struct timespec nap = {0, 500000};
        nanosleep(&nap, NULL);
        if (clock_gettime(CLOCK_REALTIME_COARSE, &t) != 0)
            return cs_now_ns() - DURING_MARGIN_NS;
        now = ns_of(&t);
    }
    /* Changed: a time at or after the first tick that follows (multigrain
     * timestamps, Linux 6.13 and later, can be finer than the tick). */
    return now > before ? now - 1 : cs_now_ns() - DURING_MARGIN_NS;
}

/* Compiles for real (stderr passed on as it comes: cargo starts the
 * dependents when the metadata is announced) and stores the result: with
 * depend, under the key of the compile's own dep-info; else under rkey
 * (from the dep-info pass d, have_key), if the inputs hash the same after
 * the compile. Nothing is stored when an input changed while rustc ran.
 * Returns rustc's exit status, or -1 when rustc could not be started. */
static int compile_and_store(struct rjob *j, uint8_t rkey[CS_SHA256_LEN], bool depend,
                             bool have_key, const struct cs_rust_depinfo *d,
                             const uint8_t mkey[CS_SHA256_LEN], struct cs_manifest *m,
                             struct cs_manifest_entry *e)
{
    unlink_outputs(j);
    struct cs_strv cmd = {0};
    struct cs_bytes out = {0}, err = {0};
    int status = -1;
    enum cs_status rc = compile_cmd(j, &cmd);
    j->changed_after = tick_boundary();
    if (rc == CS_OK)
        rc = cs_exec_tee(cmd.v, &out, &err, MAX_OUTPUT, &status);
    cs_strv_free(&cmd);
    bool entry_ok = false;
    if (rc != CS_OK) {
        cs_session_count(j->ss, CS_ST_INTERNAL_ERROR);
        cs_session_log(j->ss, "running rustc: %s", cs_strerror(rc));
    } else if (status != 0) {
        cs_session_count(j->ss, CS_ST_COMPILE_FAILED);
    } else {
        cs_session_count(j->ss, CS_ST_MISS);
        cs_session_log(j->ss, "rust miss %s %s", j->crate, j->types);
        uint8_t key[CS_SHA256_LEN] = {0};
        entry_free(e);
        if (depend)
            rc = key_from_own_depinfo(j, key, e, &entry_ok);
        else if (have_key)
            rc = result_key(j, d, key, e, &entry_ok);
        if ((depend || have_key) && rc != CS_OK)
            cs_session_log(j->ss, "rust %s not cached: its inputs: %s", j->crate, cs_strerror(rc));
        have_key = (depend || have_key) && rc == CS_OK;
        if (have_key && !depend && memcmp(key, rkey, CS_SHA256_LEN) != 0)
            entry_ok = false; /* an input changed between the dep-info pass and rustc */
        memcpy(rkey, key, CS_SHA256_LEN);
        if (have_key && !entry_ok)
            cs_session_log(j->ss, "rust %s not cached: an input changed during the compile",
                           j->crate);
        if (have_key)
            why_note(j, e, rkey, entry_ok && !j->ss->s.readonly ? CS_WHY_MISS_STORED : CS_WHY_MISS);
        if (!(have_key && entry_ok && !j->ss->s.readonly))
            record_outputs_deep(j);
        if (have_key && entry_ok && !j->ss->s.readonly) {
            j->ss->shard = rkey[0] >> 4;
            store_result(j, rkey, &out, &err);
            if (j->ss->s.direct) {
                struct cs_bytes blob = {0};
                if (cs_manifest_add(m, e) == CS_OK && cs_manifest_encode(m, &blob) == CS_OK)
                    cs_session_store(j->ss, mkey, CS_KIND_MANIFEST, &blob);
                cs_bytes_free(&blob);
            }
        }
    }
    cs_bytes_free(&out);
    cs_bytes_free(&err);
    return status; /* rustc ran (-1: it could not be started) */
}

/* ---- the call ---------------------------------------------------------------- */

static int passthrough(struct rjob *j)
{
    unlink_outputs(j);
    struct cs_strv cmd = {0};
    enum cs_status rc = cs_strv_push(&cmd, j->rustc->path);
    for (int i = 0; rc == CS_OK && i < j->argc; i++)
        rc = cs_strv_push(&cmd, j->argv[i]);
    if (rc != CS_OK) {
        cs_session_flush_stats(j->ss);
        fprintf(stderr, "cstash: out of memory\n");
        return 1;
    }
    return cs_session_exec(j->ss, &cmd);
}

static int uncacheable(struct rjob *j, enum cs_uncacheable why)
{
    cs_session_count(j->ss, (enum cs_stat)(CS_ST_UNCACHEABLE + why));
    cs_session_log(j->ss, "rust uncacheable %s %s%s%s", cs_uncacheable_name(why),
                   j->crate ? j->crate : "-", j->a.reason_detail ? " " : "",
                   j->a.reason_detail ? j->a.reason_detail : "");
    return passthrough(j);
}

static int failed(struct rjob *j, const char *what, enum cs_status rc)
{
    cs_session_count(j->ss, CS_ST_INTERNAL_ERROR);
    cs_session_log(j->ss, "rust %s: %s: %s; running rustc", j->crate ? j->crate : "-", what,
                   cs_strerror(rc));
    return passthrough(j);
}

/* The crate name rustc derives from the file name; NULL when the source
 * may set it (or the crate type) itself. */
static enum cs_status name_and_types(struct rjob *j, const struct cs_bytes *src)
{
    const char *s = src->data ? (const char *)src->data : "";
    if ((!j->a.crate_name && memmem(s, src->len, "crate_name", 10)) ||
        (!j->a.types && memmem(s, src->len, "crate_type", 10)))
        return CS_ERR_INVALID;
    if (!j->a.types)
        j->a.types = CS_RT_BIN;
    if (j->a.crate_name) {
        j->crate = j->a.crate_name;
        return CS_OK;
    }
    const char *base = strrchr(j->a.input, '/');
    base = base ? base + 1 : j->a.input;
    size_t n = strlen(base);
    if (n > 3 && !strcmp(base + n - 3, ".rs"))
        n -= 3;
    if (!(j->crate_owned = strndup(base, n)))
        return CS_ERR_NOMEM;
    for (char *c = j->crate_owned; *c; c++)
        if (*c == '-')
            *c = '_';
    j->crate = j->crate_owned;
    return CS_OK;
}

/* The target profile dir: <target>/<profile> for .../deps and
 * .../build/<pkg>-<hash>, else the output dir itself. */
static char *target_root(const char *out_dir)
{
    char *t = strdup(out_dir);
    char *slash = t ? strrchr(t, '/') : NULL;
    if (slash && slash != t && !strcmp(slash, "/deps")) {
        *slash = 0;
    } else if (slash && slash != t) {
        *slash = 0;
        char *up = strrchr(t, '/');
        if (up && up != t && !strcmp(up, "/build"))
            *up = 0;
        else
            *slash = '/';
    }
    return t;
}

/* The output dir, the target root and the outputs' names. */
static enum cs_status plan(struct rjob *j)
{
    const char *od = j->a.out_file ? j->a.out_file : j->a.out_dir ? j->a.out_dir : ".";
    char *abs = cs_path_absolute(od, j->r.cwd);
    if (abs && j->a.out_file) {
        char *slash = strrchr(abs, '/');
        if (slash == abs)
            slash[1] = 0;
        else
            *slash = 0;
    }
    j->out_dir = abs;
    j->r.target = j->a.out_dir && abs ? target_root(abs) : NULL;
    if (!j->out_dir || (j->a.out_dir && !j->r.target))
        return CS_ERR_NOMEM;
    return plan_outputs(j);
}

static int cached_rustc(struct rjob *j)
{
    struct cs_bytes identity = {0}, src = {0}, blob = {0};
    struct cs_manifest m = {0};
    struct cs_manifest_entry e = {0};
    struct cs_rust_depinfo d = {0};
    uint8_t mkey[CS_SHA256_LEN], rkey[CS_SHA256_LEN], sh[CS_SHA256_LEN];
    uint32_t which = 0;
    bool from_remote = false, direct = j->ss->s.direct, entry_ok = false, have_key = false;
    int code = 0;
    enum cs_status rc = rustc_identity(j, &identity);
    if (rc != CS_OK) {
        code = failed(j, "rustc -vV", rc);
        goto done;
    }
    if ((rc = hash_common(j, &identity)) != CS_OK) {
        code = failed(j, "hashing the inputs", rc);
        goto done;
    }
    if (j->deep_unknown) {
        code = uncacheable(j, CS_UNC_UNKNOWN_DEPS);
        goto done;
    }
    if ((rc = cs_read_file(j->a.input, MAX_FILE, &src)) != CS_OK) {
        code = failed(j, "reading the source", rc);
        goto done;
    }
    sha_of(&src, sh);
    {
        struct cs_sha256 h = j->common;
        char *np = cs_rust_norm_path(&j->r, j->a.input, j->ss->s.basedir);
        hash_str(&h, "rust-direct");
        hash_str(&h, np ? np : "");
        cs_sha256_update(&h, sh, sizeof sh);
        cs_sha256_final(&h, mkey);
        free(np);
    }
    if (direct && !j->ss->s.recache &&
        cs_session_fetch(j->ss, mkey, CS_KIND_MANIFEST, &blob, &from_remote) == CS_OK &&
        cs_manifest_decode(blob.data, blob.len, &m) == CS_OK &&
        manifest_lookup(j, &m, rkey, &which)) {
        bool res_remote = false, file_remote = false;
        if (cs_session_fetch(j->ss, rkey, CS_KIND_RESULT, &blob, &res_remote) == CS_OK &&
            deliver(j, &blob, &file_remote) == CS_OK) {
            bool remote = res_remote || file_remote;
            cs_session_count(j->ss, remote ? CS_ST_DIRECT_HIT_REMOTE : CS_ST_DIRECT_HIT_LOCAL);
            cs_session_log(j->ss, "rust direct_hit_%s %s %s", remote ? "remote" : "local", j->crate,
                           j->types);
            why_note(j, &m.e[which], rkey, CS_WHY_HIT);
            goto done;
        }
    }
    /* A miss. With the compile's own dep-info to key it, straight to it. */
    bool depend = direct && j->dep_file;
    if (!depend && (rc = depinfo_pass(j, &d)) != CS_OK) {
        cs_session_count(j->ss, CS_ST_PREPROCESSOR_ERROR);
        cs_session_log(j->ss, "rust %s: the dep-info pass failed (%s): compiling uncached",
                       j->crate, cs_strerror(rc));
        code = passthrough(j);
        goto done;
    }
    if (!depend) {
        rc = result_key(j, &d, rkey, &e, &entry_ok);
        have_key = rc == CS_OK;
        j->ss->shard = rkey[0] >> 4;
    }
    if (!depend && !have_key) {
        cs_session_log(j->ss, "rust %s: an input of the dep-info cannot be read (%s)", j->crate,
                       cs_strerror(rc));
    } else if (!depend && !j->ss->s.recache) {
        bool res_remote = false, file_remote = false;
        if (cs_session_fetch(j->ss, rkey, CS_KIND_RESULT, &blob, &res_remote) == CS_OK &&
            deliver(j, &blob, &file_remote) == CS_OK) {
            bool remote = res_remote || file_remote;
            cs_session_count(j->ss, remote ? CS_ST_PP_HIT_REMOTE : CS_ST_PP_HIT_LOCAL);
            cs_session_log(j->ss, "rust hit_%s %s %s", remote ? "remote" : "local", j->crate,
                           j->types);
            why_note(j, &e, rkey, CS_WHY_HIT);
            if (entry_ok && direct && !j->ss->s.readonly) {
                struct cs_bytes mb = {0};
                if (cs_manifest_add(&m, &e) == CS_OK && cs_manifest_encode(&m, &mb) == CS_OK)
                    cs_session_store(j->ss, mkey, CS_KIND_MANIFEST, &mb);
                cs_bytes_free(&mb);
            }
            goto done;
        }
    }
    code = compile_and_store(j, rkey, depend, have_key, &d, mkey, &m, &e);
    if (code < 0)
        code = passthrough(j);
done:
    entry_free(&e);
    cs_rust_depinfo_free(&d);
    cs_manifest_free(&m);
    cs_bytes_free(&identity);
    cs_bytes_free(&src);
    cs_bytes_free(&blob);
    return code;
}

int cs_rust_main(struct cs_session *ss, const struct cs_compiler *rustc, int argc, char **argv)
{
    struct rjob j = {.ss = ss, .rustc = rustc, .argc = argc, .argv = argv};
    int code;
    if (ss->s.disable) {
        cs_session_count(ss, CS_ST_DISABLED);
        return passthrough(&j);
    }
    enum cs_status rc = cs_rust_args_parse(argc, argv, &j.a);
    char *cwd = getcwd(NULL, 0);
    j.r.cwd = cwd ? cs_path_absolute(cwd, "/") : NULL;
    free(cwd);
    if (rc != CS_OK || !j.r.cwd) {
        code = failed(&j, "parsing the arguments", rc != CS_OK ? rc : CS_ERR_IO);
        goto out;
    }
    j.changed_after = ss->start_ns - DURING_MARGIN_NS;
    j.crate = j.a.crate_name;
    /* Planned first when the name is given (cargo always does), so that an
     * uncacheable call's rustc also writes new files, not into old links. */
    bool planned = j.a.reason != CS_UNC_RUST_QUERY && j.a.input && j.a.crate_name &&
                   plan(&j) == CS_OK; /* a query writes nothing: nothing to unlink */
    if (j.a.reason != CS_UNC_NONE) {
        code = uncacheable(&j, j.a.reason);
        goto out;
    }
    struct stat st;
    if (stat(j.a.input, &st) != 0 || !S_ISREG(st.st_mode)) {
        code = uncacheable(&j, CS_UNC_SPECIAL_FILE); /* /dev/stdin, a FIFO, missing */
        goto out;
    }
    struct cs_bytes src = {0};
    rc = cs_read_file(j.a.input, MAX_FILE, &src);
    if (rc == CS_OK)
        rc = name_and_types(&j, &src);
    cs_bytes_free(&src);
    if (rc != CS_OK) {
        code = rc == CS_ERR_INVALID ? uncacheable(&j, CS_UNC_OPTION)
                                    : failed(&j, "reading the source", rc);
        goto out;
    }
    if (!planned && (rc = plan(&j)) != CS_OK) {
        code = failed(&j, "naming the outputs", rc);
        goto out;
    }
    cs_rust_types_name(j.a.types, j.types, sizeof j.types);
    if (!cs_rust_plain_path(j.r.cwd) || (j.r.target && !cs_rust_plain_path(j.r.target)) ||
        !cs_rust_plain_path(j.out_dir) || strlen(j.r.cwd) < 2) {
        code = uncacheable(&j, CS_UNC_UNUSUAL_PATH);
        goto out;
    }
    /* The working dir is the checkout's (cargo runs members there, with
     * target/ below it): map it to "." so the outputs do not hold it. */
    j.remap = (j.r.target && cs_rust_under(j.r.target, j.r.cwd)) ||
              (ss->s.basedir && cs_rust_under(j.r.cwd, ss->s.basedir));
    cs_session_remote_init(ss);
    code = cached_rustc(&j);
out:
    cs_rust_args_free(&j.a);
    cs_strv_free(&j.outs);
    free(j.crate_owned);
    free(j.out_dir);
    free(j.dep_file);
    free(j.r.cwd);
    free(j.r.target);
    free(j.ext_sha);
    cs_why_lines_free(&j.why);
    return code;
}
