/* The compile path of cstash. */
#include "autoconfig.h"

#include "client/compile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/args.h"
#include "client/blob.h"
#include "client/compiler.h"
#include "client/exec.h"
#include "client/local.h"
#include "client/ppscan.h"
#include "client/remote.h"
#include "client/rust.h"
#include "client/session.h"
#include "client/settings.h"
#include "client/stats.h"
#include "client/version.h"
#include "client/depfile.h"
#include "client/depscan.h"
#include "client/whymiss.h"
#include "common/hash.h"

#define MAX_OUTPUT ((size_t)1 << 30) /* compiler stdout/stderr/preprocessed text */
#define MAX_OBJECT ((size_t)1 << 30)

struct job {
    struct cs_session ss; /* settings, counters, log, the blob stores */
    struct cs_args a;
    struct cs_compiler comp;
    char *cwd;          /* normalised getcwd(): what paths are made relative to */
    char *compiler_cwd; /* the working directory as the compiler records it */
    int argc;
    char **argv; /* the compiler's arguments as given */
    const char *compiler_name;
    struct cs_version ver;   /* the compiler's version text (version.h) */
    struct cs_sha256 common; /* everything but the source/preprocessed text */

    /* direct mode's source hash, for --why-miss */
    uint8_t src_hash[CS_SHA256_LEN];
    bool have_src_hash;
    /* depend mode with -MMD (mmd_rule_whole): no file may declare itself
     * a system header */
    bool mmd_rule;
};

/* prefix words (CSTASH_PREFIX) + compiler + args; caller frees. */
static enum cs_status command(struct job *j, bool with_prefix, char *const *args, size_t nargs,
                              struct cs_strv *out)
{
    enum cs_status rc = CS_OK;
    if (with_prefix && j->ss.s.prefix) {
        char *copy = strdup(j->ss.s.prefix), *save = NULL;
        if (!copy)
            return CS_ERR_NOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w && rc == CS_OK;
             w = strtok_r(NULL, " \t", &save))
            rc = cs_strv_push(out, w);
        free(copy);
    }
    if (rc == CS_OK)
        rc = cs_strv_push(out, j->comp.path ? j->comp.path : j->compiler_name);
    for (size_t i = 0; rc == CS_OK && i < nargs; i++)
        rc = cs_strv_push(out, args[i]);
    return rc;
}

/* Runs the compiler with the original arguments in place of this process. */
static int passthrough(struct job *j)
{
    struct cs_strv cmd = {0};
    (void)cs_version_confirm(&j->ver, &j->ss, &j->comp); /* reaped, its text kept */
    if (command(j, true, j->argv, (size_t)j->argc, &cmd) != CS_OK) {
        cs_session_flush_stats(&j->ss);
        fprintf(stderr, "cstash: out of memory\n");
        return 1;
    }
    return cs_session_exec(&j->ss, &cmd);
}

/* ---- remote ------------------------------------------------------------ */

/* ---- keys ---------------------------------------------------------------- */

static void hash_str(struct cs_sha256 *h, const char *s)
{
    cs_sha256_update(h, s, strlen(s) + 1); /* with the NUL: "ab","c" != "a","bc" */
}

/* Include search paths from the environment change which headers a
 * direct-mode hit would find; the locale changes the diagnostics text. */
static const char *const hashed_env[] = {"CPATH",
                                         "C_INCLUDE_PATH",
                                         "CPLUS_INCLUDE_PATH",
                                         "OBJC_INCLUDE_PATH",
                                         "OBJCPLUS_INCLUDE_PATH",
                                         "LANG",
                                         "LC_ALL",
                                         "LC_MESSAGES",
                                         "LC_CTYPE",
                                         "GCC_EXEC_PREFIX",
                                         "COMPILER_PATH",
                                         "SOURCE_DATE_EPOCH"};

static enum cs_status hash_common(struct job *j)
{
    enum cs_status rc;
    cs_sha256_init(&j->common);
    hash_str(&j->common, "cstash-key-v1");
    hash_str(&j->common, j->comp.identity);
    cs_sha256_update(&j->common, j->ver.text.data, j->ver.text.len);
    for (size_t i = 0; i < j->a.hashed.n; i++)
        hash_str(&j->common, j->a.hashed.v[i]);
    /* Debug info records the working directory, rewritten by the prefix
     * maps; one whose OLD does not match leaves it as it is. */
    if (j->a.debug) {
        struct cs_strv dirs = {0};
        if ((rc = cs_args_debug_dirs(&j->a, j->compiler_cwd, &dirs)) != CS_OK) {
            cs_strv_free(&dirs);
            return rc;
        }
        for (size_t i = 0; i < dirs.n; i++)
            hash_str(&j->common, dirs.v[i]);
        cs_strv_free(&dirs);
    } else {
        hash_str(&j->common, "");
    }
    if (j->a.output_in_key) {
        hash_str(&j->common, j->compiler_cwd);
        hash_str(&j->common, j->a.output);
    }
    hash_str(&j->common, j->ss.s.cache_buster ? j->ss.s.cache_buster : "");
    for (size_t i = 0; i < sizeof hashed_env / sizeof hashed_env[0]; i++) {
        const char *v = getenv(hashed_env[i]);
        hash_str(&j->common, hashed_env[i]);
        hash_str(&j->common, v ? v : "\x01unset");
    }
    return CS_OK;
}

static bool has_time_macros(const uint8_t *p, size_t n)
{
    return memmem(p, n, "__TIME__", 8) || memmem(p, n, "__DATE__", 8) ||
           memmem(p, n, "__TIMESTAMP__", 13);
}

static int64_t ns_of(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* How far a file's last change is from the compile's start. A file
 * changed after the start (minus the kernel's timestamp granularity) may
 * differ from what the preprocessor read: it is not recorded at all. One
 * changed in the seconds before may still change again within the same
 * timestamp tick: it is recorded, but a hit must check its hash, never
 * just its stat data. */
enum freshness { FRESH_OLD, FRESH_RECENT, FRESH_DURING };
#define DURING_MARGIN_NS (10 * 1000000LL)   /* jiffy-granular timestamps */
#define RECENT_MARGIN_NS (2 * 1000000000LL) /* 2 s: FAT/NFS granularity */

static enum freshness freshness(const struct job *j, const struct stat *st)
{
    int64_t changed =
        ns_of(&st->st_mtim) > ns_of(&st->st_ctim) ? ns_of(&st->st_mtim) : ns_of(&st->st_ctim);
    if (changed >= j->ss.start_ns - DURING_MARGIN_NS)
        return FRESH_DURING;
    return changed >= j->ss.start_ns - RECENT_MARGIN_NS ? FRESH_RECENT : FRESH_OLD;
}

/* Records what this compile's key was made of, for cstash --why-miss. */
static void why_note(struct job *j, const uint8_t key[CS_SHA256_LEN], const struct cs_manifest *m,
                     const struct cs_strv *includes, enum cs_why_kind kind)
{
    struct cs_why_inputs in = {.compiler = j->comp.path,
                               .identity = j->comp.identity,
                               .version = &j->ver.text,
                               .a = &j->a,
                               .cwd = j->cwd,
                               .compiler_cwd = j->compiler_cwd,
                               .env = hashed_env,
                               .nenv = sizeof hashed_env / sizeof hashed_env[0],
                               .source_hash = j->have_src_hash ? j->src_hash : NULL,
                               .m = m,
                               .includes = includes,
                               .key = key};
    cs_why_note(&j->ss, &in, kind);
}

/* ---- outputs ------------------------------------------------------------- */

/* The part of a .d file after its target ("target: deps…" → ": deps…"). */
static const char *after_target(const char *text, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] == '\\') {
            i++;
            continue;
        }
        if (text[i] == ':' && (text[i + 1] == ' ' || text[i + 1] == '\n' || text[i + 1] == '\t'))
            return text + i;
    }
    return NULL;
}

/* A target the way gcc quotes it for make. */
static enum cs_status make_quote(const char *s, struct cs_bytes *out)
{
    enum cs_status rc = CS_OK;
    for (; *s && rc == CS_OK; s++) {
        if (*s == ' ' || *s == '\t')
            rc = cs_bytes_append(out, "\\", 1);
        else if (*s == '$')
            rc = cs_bytes_append(out, "$", 1);
        else if (*s == '#')
            rc = cs_bytes_append(out, "\\", 1);
        if (rc == CS_OK)
            rc = cs_bytes_append(out, s, 1);
    }
    return rc;
}

static enum cs_status write_out(const char *path, const struct cs_bytes *b)
{
    return cs_write_output(path, b->data ? b->data : (uint8_t *)"", b->len);
}

static void replay(int fd, const struct cs_bytes *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(fd, b->data + off, b->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
}

/* Writes a cached result as this invocation's outputs. */
static enum cs_status deliver(struct job *j, const struct cs_bytes *blob)
{
    if (!cs_version_confirm(&j->ver, &j->ss, &j->comp))
        return CS_ERR_INVALID; /* found by another compiler's keys */
    struct cs_result r;
    enum cs_status rc = cs_result_decode(blob->data, blob->len, &r);
    if (rc != CS_OK)
        return rc;
    if (j->a.dep != r.has[CS_SEC_DEP]) {
        cs_result_free(&r);
        return CS_ERR_INVALID;
    }
    rc = write_out(j->a.output, &r.sec[CS_SEC_OBJECT]);
    if (rc == CS_OK && j->a.dep) {
        const struct cs_bytes *d = &r.sec[CS_SEC_DEP];
        struct cs_bytes text = {0};
        if (d->len >= 1 && d->data[0] == 'T') {
            rc = make_quote(j->a.output, &text);
            if (rc == CS_OK)
                rc = cs_bytes_append(&text, d->data + 1, d->len - 1);
        } else if (d->len >= 1) {
            rc = cs_bytes_append(&text, d->data + 1, d->len - 1);
        } else {
            rc = CS_ERR_INVALID;
        }
        if (rc == CS_OK)
            rc = write_out(j->a.dep_file, &text);
        cs_bytes_free(&text);
    }
    if (rc == CS_OK) {
        replay(1, &r.sec[CS_SEC_STDOUT]);
        replay(2, &r.sec[CS_SEC_STDERR]);
    }
    cs_result_free(&r);
    return rc;
}

/* ---- direct mode --------------------------------------------------------- */

static void bytes_sha256(const struct cs_bytes *b, uint8_t out[CS_SHA256_LEN])
{
    const void *parts[] = {b->data ? (void *)b->data : ""};
    size_t lens[] = {b->len};
    cs_sha256_parts(parts, lens, 1, out);
}

static bool file_matches(const struct cs_manifest_file *f)
{
    struct stat st;
    if (stat(f->path, &st) != 0 || (uint64_t)st.st_size != f->size)
        return false;
    if (ns_of(&st.st_mtim) == f->mtime && ns_of(&st.st_ctim) == f->ctime)
        return true;
    struct cs_bytes b = {0};
    bool same = false;
    if (cs_read_file(f->path, (size_t)1 << 30, &b) == CS_OK) {
        uint8_t h[CS_SHA256_LEN];
        bytes_sha256(&b, h);
        same = memcmp(h, f->hash, CS_SHA256_LEN) == 0;
    }
    cs_bytes_free(&b);
    return same;
}

/* The result key of the first manifest entry whose files are unchanged. */
static bool manifest_lookup(const struct cs_manifest *m, uint8_t key[CS_SHA256_LEN])
{
    for (uint32_t i = 0; i < m->n; i++) {
        bool ok = true;
        for (uint32_t f = 0; ok && f < m->e[i].nfiles; f++)
            ok = file_matches(&m->e[i].files[f]);
        if (ok) {
            memcpy(key, m->e[i].result_key, CS_SHA256_LEN);
            return true;
        }
    }
    return false;
}

/* Builds the entry for this compile: every include with stat and hash.
 * false when one is too new or holds time macros (then no entry). */
static bool manifest_entry(struct job *j, const struct cs_strv *includes,
                           const uint8_t result_key[CS_SHA256_LEN], struct cs_manifest_entry *e)
{
    memset(e, 0, sizeof *e);
    memcpy(e->result_key, result_key, CS_SHA256_LEN);
    if (!(e->files = calloc(includes->n ? includes->n : 1, sizeof *e->files)))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < includes->n; i++) {
        const char *path = includes->v[i];
        if (strcmp(path, j->a.input) == 0)
            continue; /* the source is in the manifest key already */
        struct stat st, after;
        struct cs_bytes b = {0};
        ok =
            stat(path, &st) == 0 && S_ISREG(st.st_mode) && freshness(j, &st) != FRESH_DURING &&
            cs_read_file(path, (size_t)1 << 30, &b) == CS_OK && !has_time_macros(b.data, b.len) &&
            !(j->mmd_rule && cs_depscan_declares_system_header(b.data, b.len)) &&
            !cs_ppscan_assembler_reads_file((const char *)(b.data ? b.data : (uint8_t *)""), b.len);
        /* Changed between the stat and the read: the hash would be of a
         * text the compile never saw, under the old stat data. */
        ok = ok && stat(path, &after) == 0 && after.st_size == st.st_size &&
             ns_of(&after.st_mtim) == ns_of(&st.st_mtim) &&
             ns_of(&after.st_ctim) == ns_of(&st.st_ctim);
        if (ok) {
            struct cs_manifest_file *f = &e->files[e->nfiles];
            bytes_sha256(&b, f->hash);
            f->size = (uint64_t)st.st_size;
            /* Stat data of 0 never matches: a recent file is checked by hash. */
            bool recent = freshness(j, &st) == FRESH_RECENT;
            f->mtime = recent ? 0 : ns_of(&st.st_mtim);
            f->ctime = recent ? 0 : ns_of(&st.st_ctim);
            ok = (f->path = strdup(path)) != NULL;
            if (ok)
                e->nfiles++;
        } else {
            cs_session_log(
                &j->ss,
                "no direct mode entry: %s changed during the compile, is unreadable, uses time "
                "macros, has .incbin/.include or (-MMD) declares itself a system header",
                path);
        }
        cs_bytes_free(&b);
    }
    if (!ok) {
        for (uint32_t f = 0; f < e->nfiles; f++)
            free(e->files[f].path);
        free(e->files);
        memset(e, 0, sizeof *e);
    }
    return ok;
}

static void entry_free(struct cs_manifest_entry *e)
{
    for (uint32_t f = 0; f < e->nfiles; f++)
        free(e->files[f].path);
    free(e->files);
    memset(e, 0, sizeof *e);
}

/* Puts e (taking its files) first in the manifest and stores it. */
static void store_manifest(struct job *j, const uint8_t mkey[CS_SHA256_LEN], struct cs_manifest *m,
                           struct cs_manifest_entry *e)
{
    struct cs_bytes blob = {0};
    if (cs_manifest_add(m, e) == CS_OK && cs_manifest_encode(m, &blob) == CS_OK)
        cs_session_store(&j->ss, mkey, CS_KIND_MANIFEST, &blob);
    cs_bytes_free(&blob);
    entry_free(e); /* what the manifest did not take */
}

/* Whether the preprocessor's text starts with a line marker naming the
 * source, as gcc's and clang's always do. With -P there are none and with
 * -dM no code: the text would key nothing of what is compiled, and a
 * manifest of the source alone would keep a hit after a header changed
 * (a marker-like line further on, in a raw string say, proves nothing). */
static bool markers_name_source(const struct job *j, const struct cs_bytes *pp,
                                const struct cs_strv *includes)
{
    const char *t = pp->data ? (const char *)pp->data : "";
    bool marker = pp->len > 2 && t[0] == '#' &&
                  ((t[1] == ' ' && isdigit((unsigned char)t[2])) ||
                   (pp->len > 6 && !memcmp(t + 1, "line ", 5)));
    return marker && includes->n > 0 && !strcmp(includes->v[0], j->a.input);
}

/* Why the preprocessor's text cannot key this compile (CS_UNC_NONE: it
 * can), and in words. */
static enum cs_uncacheable pp_refusal(const struct job *j, const struct cs_bytes *pp,
                                      const struct cs_strv *includes, const char **why)
{
    if (cs_ppscan_assembler_reads_file((const char *)(pp->data ? pp->data : (uint8_t *)""),
                                       pp->len)) {
        *why = ".incbin or .include reads a file no key holds";
        return CS_UNC_CODE_DIRECTIVE;
    }
    if (!markers_name_source(j, pp, includes)) {
        *why = "the preprocessor's text names no source (-P, -dM?)";
        return CS_UNC_NO_LINE_MARKERS;
    }
    return CS_UNC_NONE;
}

/* Adds this compile to the manifest (the one we read, or a new one). */
static void update_manifest(struct job *j, const uint8_t mkey[CS_SHA256_LEN], struct cs_manifest *m,
                            const struct cs_strv *includes, const uint8_t result_key[CS_SHA256_LEN])
{
    struct cs_manifest_entry e;
    if (manifest_entry(j, includes, result_key, &e))
        store_manifest(j, mkey, m, &e);
}

/* ---- depend mode --------------------------------------------------------- */

/* Depend mode's result key: the manifest key (compiler, arguments, source)
 * and every file of the entry, path and content, in the compiler's order.
 * It keys exactly what a direct hit checks. */
static void depend_key(const uint8_t mkey[CS_SHA256_LEN], const struct cs_manifest_entry *e,
                       uint8_t key[CS_SHA256_LEN])
{
    struct cs_sha256 h;
    cs_sha256_init(&h);
    hash_str(&h, "cstash-depend-v1");
    cs_sha256_update(&h, mkey, CS_SHA256_LEN);
    for (uint32_t i = 0; i < e->nfiles; i++) {
        hash_str(&h, e->files[i].path);
        cs_sha256_update(&h, e->files[i].hash, CS_SHA256_LEN);
    }
    cs_sha256_final(&h, key);
}

static const char *strip_dot_slash(const char *p)
{
    while (p[0] == '.' && p[1] == '/')
        for (p += 2; *p == '/'; p++)
            ;
    return p;
}

/* The path of the rule (files) that is name or ends in "/name", NULL if
 * none. */
static const char *rule_names(const struct cs_strv *files, const char *name)
{
    name = strip_dot_slash(name);
    size_t n = strlen(name);
    for (size_t f = 0; f < files->n; f++) {
        const char *path = strip_dot_slash(files->v[f]);
        size_t m = strlen(path);
        if (m == n ? !strcmp(path, name)
                   : m > n && path[m - n - 1] == '/' && !strcmp(path + m - n, name))
            return files->v[f];
    }
    return NULL;
}

/* The environment's system include directories (gcc reads them with
 * -nostdinc too); CPATH adds plain ones. */
static const char *const system_include_env[] = {"C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH",
                                                 "OBJC_INCLUDE_PATH", "OBJCPLUS_INCLUDE_PATH"};
#define SYSTEM_INCLUDE_ENVS (sizeof system_include_env / sizeof system_include_env[0])

/* Whether dir/name.gch (a file or a directory of them) exists. */
static bool gch_at(const char *dir, const char *name)
{
    char *base = name[0] == '/' || !dir ? strdup(name) : cs_path_join(dir, name);
    size_t n = base ? strlen(base) + sizeof ".gch" : 0;
    char *gch = base ? malloc(n) : NULL;
    if (gch)
        snprintf(gch, n, "%s.gch", base);
    struct stat st;
    bool yes = !gch || stat(gch, &st) == 0; /* no memory: the cautious answer */
    free(base);
    free(gch);
    return yes;
}

/* A precompiled header gcc may have read for one of names (the source's
 * leading includes and the -include files), NULL if none: it looks for
 * NAME.gch before NAME in each directory it searches, and its rule then
 * names neither, so a rebuilt one would be a stale hit. Looked for beside
 * each rule path that ends in a name, and under the source's directory,
 * the working directory, each -I, -iquote, -isystem and -idirafter and
 * each CPATH (and C_INCLUDE_PATH...) entry. Not in the standard system
 * directories (Debian has none there). true, with the .gch's path in
 * *where (malloc'd), when one is found; true with NULL when out of
 * memory. */
static bool pch_found(const struct job *j, const struct cs_strv *names, const struct cs_strv *files,
                      char **where)
{
    struct cs_strv dirs = {0};
    const char *slash = strrchr(j->a.input, '/');
    char *srcdir = slash ? strndup(j->a.input, (size_t)(slash - j->a.input + 1)) : strdup(".");
    bool ok = cs_strv_push_own(&dirs, srcdir) == CS_OK && cs_strv_push(&dirs, ".") == CS_OK;
    static const char *const opts[] = {"-I", "-iquote", "-isystem", "-idirafter"};
    for (size_t i = 0; ok && i < j->a.cc.n; i++)
        for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++) {
            const char *a = j->a.cc.v[i];
            if (!strcmp(a, opts[o]) && i + 1 < j->a.cc.n)
                ok = cs_strv_push(&dirs, j->a.cc.v[i + 1]) == CS_OK;
            else if (cs_starts_with(a, opts[o]) && a[strlen(opts[o])])
                ok = cs_strv_push(&dirs, a + strlen(opts[o])) == CS_OK;
        }
    for (size_t e = 0; e <= SYSTEM_INCLUDE_ENVS; e++)
        for (const char *p = getenv(e ? system_include_env[e - 1] : "CPATH"); ok && p && *p;) {
            size_t n = strcspn(p, ":");
            ok = cs_strv_push_own(&dirs, n ? strndup(p, n) : strdup(".")) == CS_OK;
            p += n + (p[n] == ':');
        }
    char *found = NULL;
    for (size_t i = 0; ok && !found && i < names->n; i++) {
        const char *name = names->v[i];
        for (size_t d = 0; ok && !found && d < dirs.n; d++)
            if (gch_at(dirs.v[d], name))
                ok = (found = cs_path_join(dirs.v[d], name)) != NULL;
        const char *rule = rule_names(files, name);
        if (ok && !found && rule && gch_at(NULL, rule))
            ok = (found = strdup(rule)) != NULL;
    }
    cs_strv_free(&dirs);
    if (!ok) {
        free(found);
        *where = NULL;
        return true; /* out of memory: the cautious answer */
    }
    *where = found;
    return found != NULL;
}

/* Whether every -include and -imacros file of the compile is in the rule
 * (files), as it is unless gcc took it from a precompiled header or (with
 * -MMD) found it in a system directory. Any other spelling of them counts
 * as not named. */
static bool forced_includes_named(const struct job *j, const struct cs_strv *files)
{
    for (size_t i = 0; i < j->a.cc.n; i++) {
        const char *a = j->a.cc.v[i];
        bool separate = !strcmp(a, "-include") || !strcmp(a, "-imacros") ||
                        !strcmp(a, "--include") || !strcmp(a, "--imacros");
        if (!separate) {
            if (cs_starts_with(a, "-include") || cs_starts_with(a, "--include") ||
                cs_starts_with(a, "-imacros") || cs_starts_with(a, "--imacros") ||
                strstr(a, ",-include") || strstr(a, ",-imacros") || strstr(a, ",--include") ||
                strstr(a, ",--imacros"))
                return false; /* joined, or in -Wp */
            continue;
        }
        if (++i >= j->a.cc.n)
            return false;
        if (!rule_names(files, j->a.cc.v[i]))
            return false;
    }
    return true;
}

/* After a depend-mode compile: the files its dependency file names, the
 * manifest entry of them and the result key. false (logged) when any is
 * missing: then nothing is stored. */
static bool depend_result(struct job *j, const char *dep_file, const uint8_t mkey[CS_SHA256_LEN],
                          struct cs_strv *files, struct cs_manifest_entry *e,
                          uint8_t key[CS_SHA256_LEN])
{
    /* The manifest key holds the source as it was before the compile:
     * the same text after it, or nothing is stored (exact, where a stat
     * is as coarse as the file system's clock). */
    struct cs_bytes src = {0};
    uint8_t sh[CS_SHA256_LEN];
    bool same = j->have_src_hash && cs_read_file(j->a.input, MAX_OBJECT, &src) == CS_OK;
    if (same) {
        bytes_sha256(&src, sh);
        same = memcmp(sh, j->src_hash, sizeof sh) == 0;
    }
    bool declares = same && j->mmd_rule && cs_depscan_declares_system_header(src.data, src.len);
    /* The assembler's own reads are in no rule (depend mode runs no
     * preprocessor whose text would show them) */
    bool asm_reads = same && cs_ppscan_assembler_reads_file(
                                 (const char *)(src.data ? src.data : (uint8_t *)""), src.len);
    /* The first file gcc opens may be precompiled: a forced one if any,
     * else one of the source's leading includes. */
    struct cs_strv leading = {0};
    enum cs_status lrc = CS_OK;
    for (size_t i = 0; lrc == CS_OK && i + 1 < j->a.cc.n; i++)
        if (!strcmp(j->a.cc.v[i], "-include") || !strcmp(j->a.cc.v[i], "--include") ||
            !strcmp(j->a.cc.v[i], "-imacros") || !strcmp(j->a.cc.v[i], "--imacros"))
            lrc = cs_strv_push(&leading, j->a.cc.v[i + 1]);
    if (same && lrc == CS_OK && leading.n == 0)
        lrc =
            cs_depscan_leading_includes(src.data ? (const char *)src.data : "", src.len, &leading);
    cs_bytes_free(&src);
    bool ok = same && !declares && !asm_reads && lrc == CS_OK;
    if (!same)
        cs_session_log(&j->ss, "depend mode: not cached: %s changed during the compile",
                       j->a.input);
    else if (declares)
        cs_session_log(&j->ss,
                       "depend mode: not cached: %s has a line marker or a system_header pragma "
                       "(-MMD may leave out what follows it)",
                       j->a.input);
    else if (asm_reads)
        cs_session_log(&j->ss, "depend mode: not cached: %s has .incbin or .include", j->a.input);
    else if (lrc != CS_OK)
        cs_session_log(&j->ss,
                       "depend mode: not cached: %s's leading includes: %s (one could be a "
                       "precompiled header's)",
                       j->a.input, cs_strerror(lrc));
    if (!ok) {
        cs_strv_free(&leading);
        return false;
    }
    struct cs_bytes d = {0};
    enum cs_status rc = cs_read_file(dep_file, MAX_OUTPUT, &d);
    if (rc == CS_OK)
        rc = cs_depfile_parse(d.data ? (const char *)d.data : "", d.len, files);
    cs_bytes_free(&d);
    /* The rule names the source (clang may put its ignorelists first; both
     * drop a leading "./"): a rule that does not is not this compile's. */
    bool has_source = false;
    for (size_t i = 0; rc == CS_OK && i < files->n; i++)
        has_source |= !strcmp(strip_dot_slash(files->v[i]), strip_dot_slash(j->a.input));
    if (rc == CS_OK && !has_source)
        rc = CS_ERR_INVALID;
    char *gch = NULL;
    bool pch = rc == CS_OK && pch_found(j, &leading, files, &gch);
    cs_strv_free(&leading);
    if (rc != CS_OK) {
        cs_session_log(&j->ss, "depend mode: not cached: the dependency file %s: %s", dep_file,
                       cs_strerror(rc));
        return false;
    }
    if (pch) {
        cs_session_log(&j->ss,
                       "depend mode: not cached: %s.gch: gcc's rule names neither a precompiled "
                       "header nor the header it stands for",
                       gch ? gch : "(out of memory)");
        free(gch);
        return false;
    }
    if (!forced_includes_named(j, files)) {
        cs_session_log(&j->ss,
                       "depend mode: not cached: a -include or -imacros file is not in %s (with "
                       "-MMD, a system header?)",
                       dep_file);
        return false;
    }
    static const uint8_t none[CS_SHA256_LEN];
    if (!manifest_entry(j, files, none, e))
        return false; /* logged */
    depend_key(mkey, e, key);
    memcpy(e->result_key, key, CS_SHA256_LEN);
    return true;
}

/* ---- the compile --------------------------------------------------------- */

static enum cs_status read_output(const char *path, struct cs_bytes *b)
{
    return cs_read_file(path, MAX_OBJECT, b);
}

/* Compiles for real and stores the result. Returns the exit status. In
 * depend mode (depend_file: where the compiler writes its -MD rule, extra
 * the arguments that ask for it when the user did not) the key comes from
 * that rule after the compile; result_key and includes are unused. */
static int compile_and_store(struct job *j, const uint8_t result_key_in[CS_SHA256_LEN],
                             bool have_key, const uint8_t mkey[CS_SHA256_LEN],
                             struct cs_manifest *m, bool direct_ok,
                             const struct cs_strv *includes_in, const char *depend_file,
                             const struct cs_strv *extra)
{
    struct cs_strv cmd = {0}, dep_files = {0};
    struct cs_bytes out = {0}, err = {0};
    struct cs_manifest_entry de = {0};
    uint8_t result_key[CS_SHA256_LEN] = {0};
    const struct cs_strv *includes = depend_file ? &dep_files : includes_in;
    int status = 1;
    if (!depend_file)
        memcpy(result_key, result_key_in, CS_SHA256_LEN);
    if (!cs_version_confirm(&j->ver, &j->ss, &j->comp)) {
        if (depend_file && extra && extra->n)
            (void)unlink(depend_file); /* ours: passthrough does not return */
        return passthrough(j);         /* the keys are another compiler's */
    }
    enum cs_status rc = command(j, true, j->a.cc.v, j->a.cc.n, &cmd);
    for (size_t i = 0; rc == CS_OK && extra && i < extra->n; i++)
        rc = cs_strv_push(&cmd, extra->v[i]);
    if (rc == CS_OK)
        rc = cs_exec_capture(cmd.v, &out, &err, MAX_OUTPUT, &status);
    cs_strv_free(&cmd);
    if (rc != CS_OK) {
        cs_bytes_free(&out);
        cs_bytes_free(&err);
        cs_session_count(&j->ss, CS_ST_INTERNAL_ERROR);
        cs_session_log(&j->ss, "running the compiler: %s", cs_strerror(rc));
        if (depend_file && extra && extra->n)
            (void)unlink(depend_file); /* ours: passthrough does not return */
        return passthrough(j);
    }
    replay(1, &out);
    replay(2, &err);
    if (status != 0) {
        cs_session_count(&j->ss, CS_ST_COMPILE_FAILED);
        cs_bytes_free(&out);
        cs_bytes_free(&err);
        return status;
    }
    cs_session_count(&j->ss, CS_ST_MISS);
    if (depend_file)
        have_key = depend_result(j, depend_file, mkey, &dep_files, &de, result_key);
    struct cs_result r = {0};
    r.has[CS_SEC_OBJECT] = true;
    rc = read_output(j->a.output, &r.sec[CS_SEC_OBJECT]);
    if (rc == CS_OK && j->a.dep) {
        struct cs_bytes d = {0};
        rc = read_output(j->a.dep_file, &d);
        r.has[CS_SEC_DEP] = true;
        const char *text = d.data ? (const char *)d.data : "";
        /* Unless the user named the target, the next hit writes its own. */
        const char *rest = j->a.dep_target_given ? NULL : after_target(text, d.len);
        const char *from = rest ? rest : text;
        if (rc == CS_OK)
            rc = cs_bytes_append(&r.sec[CS_SEC_DEP], rest ? "T" : "F", 1);
        if (rc == CS_OK)
            rc = cs_bytes_append(&r.sec[CS_SEC_DEP], from, d.len - (size_t)(from - text));
        cs_bytes_free(&d);
    }
    r.has[CS_SEC_STDOUT] = r.has[CS_SEC_STDERR] = true;
    r.sec[CS_SEC_STDOUT] = out;
    r.sec[CS_SEC_STDERR] = err;
    struct cs_bytes blob = {0};
    if (rc == CS_OK)
        rc = cs_result_encode(&r, &blob);
    cs_result_free(&r);
    if (rc != CS_OK) {
        cs_session_count(&j->ss, CS_ST_INTERNAL_ERROR);
        cs_session_log(&j->ss, "not cached: %s", cs_strerror(rc));
    } else if (have_key) {
        j->ss.shard = result_key[0] >> 4;
        cs_session_store(&j->ss, result_key, CS_KIND_RESULT, &blob);
        if (direct_ok && !j->ss.s.readonly && depend_file)
            store_manifest(j, mkey, m, &de);
        else if (direct_ok && !j->ss.s.readonly)
            update_manifest(j, mkey, m, includes, result_key);
        why_note(j, result_key, m, includes, j->ss.s.readonly ? CS_WHY_MISS : CS_WHY_MISS_STORED);
    }
    cs_bytes_free(&blob);
    entry_free(&de);
    cs_strv_free(&dep_files);
    return 0;
}

/* Whether a -MMD rule names every file the compile reads. It leaves out
 * system headers and whatever they include, even from the user's tree.
 * With -nostdinc and no system directory given (the Linux kernel's build)
 * no header is found in one, and gcc pre-includes no stdc-predef.h; a
 * file that makes itself one is refused after the compile
 * (cs_depscan_declares_system_header). gcc only: clang's rule and flags
 * were not checked. Anything that may add a system directory counts
 * against: the options by any spelling it knows (in -Wp and
 * -Xpreprocessor too; an @file; -B, whose DIR/include the driver adds;
 * a spec) and the environment (C_INCLUDE_PATH and the like,
 * COMPILER_PATH, GCC_EXEC_PREFIX). A list of what is refused, not of
 * what is safe: an option it does not know of is a hole (review of
 * 2093666 found -B and --include-directory-after). */
static bool mmd_rule_whole(const struct job *j)
{
    const char *v = j->ver.text.data ? (const char *)j->ver.text.data : "";
    size_t digits = strspn(v, "0123456789.");
    const char *path = j->comp.path ? j->comp.path : j->compiler_name;
    if (digits == 0 || (v[digits] != '\n' && v[digits] != '\0') || strstr(path, "clang") ||
        strstr(j->compiler_name, "clang"))
        return false; /* gcc -dumpfullversion's first line; clang prints none */
    for (size_t i = 0; i < SYSTEM_INCLUDE_ENVS; i++)
        if (getenv(system_include_env[i]) && *getenv(system_include_env[i]))
            return false; /* system directories, -nostdinc or not (depend_args_ok: -B and the like)
                           */
    static const char *const sys[] = {
        "isystem",      "idirafter",     "iwithprefix", "sysroot",
        "imultilib",    "iprefix",       "specs",       "include-directory-after",
        "include-with", "include-prefix"};
    bool nostdinc = false;
    for (size_t i = 0; i < j->a.cc.n; i++) {
        const char *a = j->a.cc.v[i];
        if (a[0] == '@' || cs_starts_with(a, "-B") || cs_starts_with(a, "--prefix"))
            return false; /* -B DIR: the driver adds -isystem DIR/include */
        for (size_t k = 0; k < sizeof sys / sizeof sys[0]; k++)
            if (strstr(a, sys[k]))
                return false;
        nostdinc |= !strcmp(a, "-nostdinc");
    }
    return nostdinc;
}

/* Whether arg is a unique-prefix spelling (at least "--xy") of a long
 * option gcc reads as a -M option (the one depend mode adds would lose). */
static bool long_dep_option(const char *arg)
{
    static const char *const names[] = {"--dependencies", "--user-dependencies",
                                        "--write-dependencies", "--write-user-dependencies",
                                        "--print-missing-file-dependencies"};
    size_t n = strcspn(arg, "=");
    for (size_t i = 0; n >= 4 && i < sizeof names / sizeof names[0]; i++)
        if (!strncmp(arg, names[i], n))
            return true;
    return false;
}

/* Whether the arguments and environment are ones depend mode's checks
 * can read (review of 3174205): pch_found looks for a .gch in the
 * include directories it can parse, so any other way of giving one (in
 * -Wp or -Xpreprocessor, -I=, -iwithprefixbefore, --include-directory,
 * -B, an @file inside -Wp), input read in another charset, preprocessed
 * input (#pragma GCC pch_preprocess) and a long -M spelling keep the
 * normal path. */
static bool depend_args_ok(const struct job *j)
{
    static const char *const env[] = {"COMPILER_PATH", "GCC_EXEC_PREFIX"};
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        if (getenv(env[i]) && *getenv(env[i]))
            return false;
    static const char *const dirs[] = {"-I=", "-iquote=", "-isystem=", "-idirafter="};
    for (size_t i = 0; i < j->a.cc.n; i++) {
        const char *a = j->a.cc.v[i];
        bool wp = cs_starts_with(a, "-Wp,");
        if ((wp && (strstr(a, ",-I") || strstr(a, ",-i") || strstr(a, ",@") || strstr(a, ",--"))) ||
            !strcmp(a, "-Xpreprocessor") || cs_starts_with(a, "-iwithprefix") ||
            cs_starts_with(a, "--include-directory") || cs_starts_with(a, "--include-with") ||
            cs_starts_with(a, "--include-prefix") || cs_starts_with(a, "-iprefix") ||
            cs_starts_with(a, "-B") || cs_starts_with(a, "--prefix") ||
            strstr(a, "input-charset") || strstr(a, "preprocessed") || strstr(a, "sysroot") ||
            cs_starts_with(a, "-imultilib") || long_dep_option(a))
            return false;
        for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++)
            if (cs_starts_with(a, dirs[k]))
                return false;
        if ((!strcmp(a, "-I") || !strcmp(a, "-iquote") || !strcmp(a, "-isystem") ||
             !strcmp(a, "-idirafter")) &&
            i + 1 < j->a.cc.n && j->a.cc.v[i + 1][0] == '=')
            return false;
    }
    return true;
}

/* Whether depend mode can key this compile by its -MD rule (or a -MMD
 * rule that names every file, mmd_rule_whole). */
static bool depend_ok(const struct job *j)
{
    if (!depend_args_ok(j))
        return false;
    if (j->a.dep_user_only && !mmd_rule_whole(j))
        return false; /* -MMD: the rule leaves out the system headers */
    if (!j->a.dep && j->a.dep_file)
        return false; /* -MF alone: gcc refuses it, and would with our -MD */
    if (getenv("DEPENDENCIES_OUTPUT") || getenv("SUNPRO_DEPENDENCIES"))
        return false; /* our -MD would take the place of the file they ask for */
    for (int i = 0; i < j->argc; i++) {
        if (!j->a.dep && (strstr(j->argv[i], "record-command-line") ||
                          strstr(j->argv[i], "record-gcc-switches")))
            return false; /* the object would name our temporary file */
        if (strchr(j->argv[i], '\n'))
            return false; /* an -MT with a newline could fake the rule's first line */
    }
    return true;
}

/* A miss in depend mode: one compile, which also writes the dependency
 * rule (the user's -MD file, else one of ours in DIR/tmp, removed after). */
static int compile_depend(struct job *j, const uint8_t mkey[CS_SHA256_LEN], struct cs_manifest *m)
{
    struct cs_strv extra = {0};
    char *tmp = NULL;
    enum cs_status rc = CS_OK;
    if (!cs_version_confirm(&j->ver, &j->ss, &j->comp))
        return passthrough(j); /* before the user's rule is removed */
    if (!j->a.dep) {
        char name[96];
        snprintf(name, sizeof name, "tmp/dep.%ld.%lx.d", (long)getpid(),
                 (unsigned long)(cs_now_ns() & 0xffffffff));
        tmp = cs_path_join(j->ss.s.dir, name);
        rc = tmp ? cs_mkdirs(tmp, false) : CS_ERR_NOMEM;
        /* Made here, so that a cache dir the compiler could not write its
         * rule into (read-only, full) is found before the compile. */
        int fd = rc == CS_OK ? open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
        if (rc == CS_OK && fd < 0)
            rc = cs_status_from_errno(errno);
        if (fd >= 0)
            close(fd);
        if (rc != CS_OK) {
            free(tmp); /* not ours to unlink */
            tmp = NULL;
        }
        if (rc == CS_OK)
            rc = cs_strv_push(&extra, "-MD");
        if (rc == CS_OK)
            rc = cs_strv_push(&extra, "-MF");
        if (rc == CS_OK)
            rc = cs_strv_push(&extra, tmp);
    }
    j->mmd_rule = j->a.dep_user_only; /* depend_ok: mmd_rule_whole */
    /* A rule left from an earlier compile must not pass for this one's. */
    if (rc == CS_OK && j->a.dep && unlink(j->a.dep_file) != 0 && errno != ENOENT)
        rc = cs_status_from_errno(errno);
    int code;
    if (rc != CS_OK) {
        cs_session_log(&j->ss, "depend mode: %s: preprocessing instead", cs_strerror(rc));
        code = -1;
    } else {
        code = compile_and_store(j, NULL, false, mkey, m, true, NULL, tmp ? tmp : j->a.dep_file,
                                 &extra);
    }
    if (tmp)
        (void)unlink(tmp);
    free(tmp);
    cs_strv_free(&extra);
    if ((getpid() & 63) == 0)
        cs_local_sweep_tmp(j->ss.s.dir); /* what killed compiles left */
    return code;
}

static int cached_compile(struct job *j)
{
    uint8_t mkey[CS_SHA256_LEN], rkey[CS_SHA256_LEN];
    struct cs_manifest m = {0};
    struct cs_bytes blob = {0}, src = {0}, pp = {0}, pperr = {0};
    struct cs_strv includes = {0};
    bool from_remote, direct_ok = j->ss.s.direct;
    int exit_code = 0;

    if (hash_common(j) != CS_OK) {
        cs_session_count(&j->ss, CS_ST_INTERNAL_ERROR);
        cs_session_log(&j->ss, "out of memory");
        return passthrough(j);
    }
    /* An overlay's virtual paths may be what the line markers name. */
    if (j->a.vfs_overlay)
        direct_ok = false;
    /* Direct mode: hash the source, find the manifest, check its files. */
    if (direct_ok) {
        struct stat st;
        direct_ok = cs_read_file(j->a.input, MAX_OBJECT, &src) == CS_OK &&
                    !has_time_macros(src.data, src.len) && stat(j->a.input, &st) == 0;
        if (direct_ok) {
            uint8_t sh[CS_SHA256_LEN];
            bytes_sha256(&src, sh);
            struct cs_sha256 h = j->common;
            hash_str(&h, "direct");
            hash_str(&h, j->a.input);
            cs_sha256_update(&h, sh, sizeof sh);
            cs_sha256_final(&h, mkey);
            memcpy(j->src_hash, sh, sizeof sh);
            j->have_src_hash = true;
            /* A source edited during the compile is hashed, but not remembered. */
            if (freshness(j, &st) == FRESH_DURING)
                direct_ok = false;
        }
        if (direct_ok && !j->ss.s.recache &&
            cs_session_fetch(&j->ss, mkey, CS_KIND_MANIFEST, &blob, &from_remote) == CS_OK &&
            cs_manifest_decode(blob.data, blob.len, &m) == CS_OK && manifest_lookup(&m, rkey)) {
            bool res_remote;
            if (cs_session_fetch(&j->ss, rkey, CS_KIND_RESULT, &blob, &res_remote) == CS_OK &&
                deliver(j, &blob) == CS_OK) {
                cs_session_count(&j->ss,
                                 res_remote ? CS_ST_DIRECT_HIT_REMOTE : CS_ST_DIRECT_HIT_LOCAL);
                j->ss.shard = rkey[0] >> 4;
                cs_session_log(&j->ss, "direct hit (%s) for %s", res_remote ? "remote" : "local",
                               j->a.output);
                why_note(j, rkey, &m, NULL, CS_WHY_HIT);
                goto done;
            }
        }
    }
    /* Depend mode: the compile itself names the headers. With -MMD, whose
     * list leaves out the system headers a direct hit must check, only
     * where it can have none. */
    if (direct_ok && j->ss.s.depend && depend_ok(j)) {
        cs_session_log(&j->ss, "miss (depend mode) for %s", j->a.output);
        exit_code = compile_depend(j, mkey, &m);
        if (exit_code >= 0)
            goto done;
        exit_code = 0;
    }
    /* Preprocess and hash the text. */
    {
        struct cs_strv cmd = {0};
        int status = 1;
        if (!cs_version_confirm(&j->ver, &j->ss, &j->comp)) {
            exit_code = passthrough(j); /* the keys are another compiler's */
            goto done;
        }
        enum cs_status rc = command(j, false, j->a.pp.v, j->a.pp.n, &cmd);
        if (rc == CS_OK)
            rc = cs_exec_capture(cmd.v, &pp, &pperr, MAX_OUTPUT, &status);
        cs_strv_free(&cmd);
        if (rc != CS_OK || status != 0) {
            cs_session_count(&j->ss, CS_ST_PREPROCESSOR_ERROR);
            cs_session_log(&j->ss, "preprocessor failed (%s, exit %d): compiling without the cache",
                           cs_strerror(rc), status);
            exit_code = passthrough(j);
            goto done;
        }
        struct cs_sha256 h = j->common;
        hash_str(&h, "preprocessed");
        rc = cs_ppscan((char *)(pp.data ? pp.data : (uint8_t *)""), pp.len, j->cwd, j->ss.s.basedir,
                       &h, &includes);
        /* Preprocessor warnings are part of what a hit must replay. */
        cs_sha256_update(&h, pperr.data ? pperr.data : (uint8_t *)"", pperr.len);
        cs_sha256_final(&h, rkey);
        if (rc != CS_OK) {
            cs_session_count(&j->ss, CS_ST_INTERNAL_ERROR);
            exit_code = passthrough(j);
            goto done;
        }
        const char *why = NULL;
        enum cs_uncacheable refusal = pp_refusal(j, &pp, &includes, &why);
        if (refusal != CS_UNC_NONE) {
            cs_session_count(&j->ss, (enum cs_stat)(CS_ST_UNCACHEABLE + refusal));
            cs_session_log(&j->ss, "uncacheable (%s): %s", cs_uncacheable_name(refusal), why);
            exit_code = passthrough(j);
            goto done;
        }
    }
    j->ss.shard = rkey[0] >> 4;
    if (!j->ss.s.recache &&
        cs_session_fetch(&j->ss, rkey, CS_KIND_RESULT, &blob, &from_remote) == CS_OK &&
        deliver(j, &blob) == CS_OK) {
        cs_session_count(&j->ss, from_remote ? CS_ST_PP_HIT_REMOTE : CS_ST_PP_HIT_LOCAL);
        cs_session_log(&j->ss, "preprocessed hit (%s) for %s", from_remote ? "remote" : "local",
                       j->a.output);
        if (direct_ok && !j->ss.s.readonly)
            update_manifest(j, mkey, &m, &includes, rkey);
        why_note(j, rkey, &m, &includes, CS_WHY_HIT);
        goto done;
    }
    cs_session_log(&j->ss, "miss for %s", j->a.output);
    exit_code = compile_and_store(j, rkey, true, mkey, &m, direct_ok, &includes, NULL, NULL);
done:
    cs_manifest_free(&m);
    cs_bytes_free(&blob);
    cs_bytes_free(&src);
    cs_bytes_free(&pp);
    cs_bytes_free(&pperr);
    cs_strv_free(&includes);
    return exit_code;
}

/* The compiler's default target: the -dumpmachine line of its version
 * text, or the "Target:" line of --version. malloc'd; NULL if none. */
static char *default_triple(const struct cs_bytes *version)
{
    const char *text = version->data ? (const char *)version->data : "";
    const char *t = strstr(text, "Target: ");
    if (t)
        return strndup(t + 8, strcspn(t + 8, "\r\n"));
    const char *line = NULL;
    for (const char *l = text; *l;) {
        size_t n = strcspn(l, "\r\n");
        if (n > 0 && memchr(l, '-', n) && !memchr(l, ' ', n))
            line = l;
        l += n;
        l += strspn(l, "\r\n");
    }
    return line ? strndup(line, strcspn(line, "\r\n")) : NULL;
}

/* The clang configuration files the driver may read on its own: into the
 * key, and their options checked (cs_args_add_configs). */
static enum cs_status default_configs(struct job *j)
{
    struct cs_strv paths = {0};
    char *triple = default_triple(&j->ver.text);
    enum cs_status rc = cs_compiler_default_configs(&j->comp, triple, j->cwd, &paths);
    if (rc == CS_OK)
        rc = cs_args_add_configs(&j->a, j->cwd, j->ss.s.basedir, &paths);
    free(triple);
    cs_strv_free(&paths);
    return rc;
}

/* The working directory the compiler writes into debug info: like gcc's
 * getpwd() and LLVM's current_path(), $PWD as it is (symlinks kept, not
 * normalised) when it is absolute and names this directory, else
 * getcwd(). Two checkouts reached through two symlinks to one directory
 * get different debug info. malloc'd; NULL on failure. */
static char *compiler_cwd(void)
{
    const char *pwd = getenv("PWD");
    struct stat a, b;
    if (pwd && pwd[0] == '/' && stat(pwd, &a) == 0 && stat(".", &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return strdup(pwd);
    return getcwd(NULL, 0);
}

int cs_compile_main(int argc, char **argv)
{
    struct job j = {.ss.logfd = -1, .compiler_name = argv[0], .argc = argc - 1, .argv = argv + 1};
    char err[512];
    j.ss.start_ns = cs_now_ns();
    j.ss.shard = (unsigned)getpid() & 15;
    enum cs_status rc = cs_settings_load(&j.ss.s, err, sizeof err);
    j.ss.settings_ok = rc == CS_OK;
    if (j.ss.s.log)
        j.ss.logfd = open(j.ss.s.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (rc != CS_OK) {
        fprintf(stderr, "cstash: %s; compiling without the cache\n",
                err[0] ? err : cs_strerror(rc));
        return passthrough(&j);
    }
    if (cs_compiler_find(argv[0], &j.comp) != CS_OK) {
        fprintf(stderr, "cstash: compiler \"%s\" not found (on PATH, skipping cstash itself)\n",
                argv[0]);
        return 127;
    }
    if (cs_rust_is_rustc(argv[0])) {
        int code = cs_rust_main(&j.ss, &j.comp, j.argc, j.argv);
        cs_compiler_free(&j.comp);
        cs_session_close(&j.ss);
        return code;
    }
    if (j.ss.s.disable) {
        cs_session_count(&j.ss, CS_ST_DISABLED);
        return passthrough(&j);
    }
    char *cwd = getcwd(NULL, 0);
    j.cwd = cwd ? cs_path_absolute(cwd, "/") : NULL;
    free(cwd);
    j.compiler_cwd = compiler_cwd();
    if (!j.cwd || !j.compiler_cwd) {
        cs_session_count(&j.ss, CS_ST_INTERNAL_ERROR);
        return passthrough(&j);
    }
    rc = cs_args_parse(j.argc, j.argv, j.cwd, j.ss.s.basedir, &j.a);
    if (rc != CS_OK) {
        cs_session_count(&j.ss, CS_ST_INTERNAL_ERROR);
        return passthrough(&j);
    }
    if (j.a.reason == CS_UNC_NONE) {
        cs_session_remote_init(&j.ss);
        if (cs_version_find(&j.ver, &j.ss, &j.comp) != CS_OK) {
            cs_session_count(&j.ss, CS_ST_INTERNAL_ERROR);
            cs_session_log(&j.ss, "cannot identify the compiler %s", j.comp.path);
            return passthrough(&j);
        }
        if (default_configs(&j) != CS_OK) {
            cs_session_count(&j.ss, CS_ST_INTERNAL_ERROR);
            return passthrough(&j);
        }
    }
    if (j.a.reason != CS_UNC_NONE) {
        cs_session_count(&j.ss, (enum cs_stat)(CS_ST_UNCACHEABLE + j.a.reason));
        cs_session_log(&j.ss, "uncacheable (%s)", cs_uncacheable_name(j.a.reason));
        return passthrough(&j);
    }
    int code = cached_compile(&j);
    cs_args_free(&j.a);
    cs_version_free(&j.ver, &j.ss, &j.comp);
    cs_compiler_free(&j.comp);
    free(j.cwd);
    free(j.compiler_cwd);
    cs_session_close(&j.ss);
    return code;
}
