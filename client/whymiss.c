/* cstash --why-miss (see whymiss.h). A record is text, one line per key
 * part ("arg -DFOO", "header HEX /abs/path"), values escaped so a line is
 * one line; blocks: the last miss, the entry it was closest to, and the
 * last few entries stored or hit. */
#include "autoconfig.h"

#include "client/whymiss.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/settings.h"

#define RECORD_MAX ((size_t)160 << 10) /* a record file; a bigger one is ignored */
#define ENTRY_MAX ((size_t)40 << 10)   /* one block; lines beyond it are left out */
#define LINE_MAX_VALUE 4096            /* a longer value is kept as its start and hash */
#define MAX_ENTRIES 3                  /* entries stored or hit kept per output */
#define MAX_RECORDS 2048               /* record files per cache dir, oldest removed */
#define HEADER_READ_MAX ((size_t)64 << 20)
#define LAST_FILE "last"

struct entry {
    char kind[8]; /* hit, stored, miss */
    long long when;
    char key[CS_SHA256_HEX_LEN + 1];
    struct cs_strv lines; /* "tag value", value escaped */
};

struct record {
    bool has_miss, has_base;
    struct entry miss, base;
    struct entry e[MAX_ENTRIES]; /* newest first */
    size_t n;
};

static void entry_free(struct entry *e)
{
    cs_strv_free(&e->lines);
    memset(e, 0, sizeof *e);
}

static enum cs_status entry_copy(struct entry *dst, const struct entry *src)
{
    enum cs_status rc = CS_OK;
    memset(dst, 0, sizeof *dst);
    memcpy(dst->kind, src->kind, sizeof dst->kind);
    dst->when = src->when;
    memcpy(dst->key, src->key, sizeof dst->key);
    for (size_t i = 0; rc == CS_OK && i < src->lines.n; i++)
        rc = cs_strv_push(&dst->lines, src->lines.v[i]);
    return rc;
}

static void record_free(struct record *r)
{
    entry_free(&r->miss);
    entry_free(&r->base);
    for (size_t i = 0; i < r->n; i++)
        entry_free(&r->e[i]);
    memset(r, 0, sizeof *r);
}

/* ---- building an entry --------------------------------------------------- */

/* Appends s with '\\', newlines and other control bytes escaped. */
static enum cs_status escape(struct cs_bytes *b, const char *s, size_t n)
{
    enum cs_status rc = CS_OK;
    for (size_t i = 0; i < n && rc == CS_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        if (c == '\\')
            rc = cs_bytes_append(b, "\\\\", 2);
        else if (c == '\n')
            rc = cs_bytes_append(b, "\\n", 2);
        else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            rc = cs_bytes_append(b, tmp, 4);
        } else
            rc = cs_bytes_append(b, s + i, 1);
    }
    return rc;
}

/* The sha256 of string s in hex, NUL-terminated. */
static void sha256_hex(const char *s, char hex[CS_SHA256_HEX_LEN + 1])
{
    uint8_t h[CS_SHA256_LEN];
    const void *parts[] = {s};
    size_t lens[] = {strlen(s)};
    cs_sha256_parts(parts, lens, 1, h);
    cs_hex_encode(h, sizeof h, hex);
}

/* Adds "tag [hex ]value" to lines; past ENTRY_MAX, one "truncated" line
 * says the rest is left out, so three blocks always fit in a record. */
static enum cs_status add_line(struct cs_why_lines *l, const char *tag, const uint8_t *hash,
                               const char *value)
{
    if (l->truncated)
        return CS_OK;
    char cut[320];
    size_t vlen = strlen(value);
    if (vlen > LINE_MAX_VALUE) {
        char hex[CS_SHA256_HEX_LEN + 1];
        sha256_hex(value, hex);
        snprintf(cut, sizeof cut, "%.200s... (%zu bytes, sha256 %.16s)", value, vlen, hex);
        value = cut;
    }
    struct cs_bytes b = {0};
    enum cs_status rc = cs_bytes_append_str(&b, tag);
    if (rc == CS_OK)
        rc = cs_bytes_append(&b, " ", 1);
    if (rc == CS_OK && hash) {
        char hex[CS_SHA256_HEX_LEN + 2];
        cs_hex_encode(hash, CS_SHA256_LEN, hex);
        hex[CS_SHA256_HEX_LEN] = ' ';
        rc = cs_bytes_append(&b, hex, CS_SHA256_HEX_LEN + 1);
    }
    if (rc == CS_OK)
        rc = escape(&b, value, strlen(value));
    if (rc == CS_OK && l->bytes + b.len + 1 > ENTRY_MAX) { /* escaped: as it is stored */
        l->truncated = true;
        b.len = 0;
        rc = cs_bytes_append_str(&b, "truncated (the entry is full: the lines after this are "
                                     "left out)");
    }
    if (rc == CS_OK)
        rc = cs_strv_push(&l->v, b.data ? (char *)b.data : "");
    if (rc == CS_OK)
        l->bytes += b.len + 1;
    cs_bytes_free(&b);
    return rc;
}

void cs_why_add(struct cs_why_lines *l, const char *tag, const uint8_t *hash, const char *value)
{
    if (!l->broken && add_line(l, tag, hash, value) != CS_OK)
        l->broken = true;
}

/* Whether a variable's value is a secret (a token in the environment of
 * CI): recorded by hash only, as records are plain files. */
static bool secret_name(const char *name)
{
    static const char *const words[] = {"TOKEN",  "SECRET",  "PASSW",   "CREDENTIAL",
                                        "APIKEY", "API_KEY", "PRIVATE", "AUTH"};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        for (const char *p = name; *p; p++)
            if (!strncasecmp(p, words[w], strlen(words[w])))
                return true;
    return false;
}

static enum cs_status env_line(struct cs_why_lines *l, const char *tag, const char *name,
                               const char *value)
{
    struct cs_bytes b = {0};
    enum cs_status rc = cs_bytes_append_str(&b, name);
    if (rc == CS_OK && value && secret_name(name)) {
        char hex[CS_SHA256_HEX_LEN + 1], shown[64];
        sha256_hex(value, hex);
        snprintf(shown, sizeof shown, "=(hidden, sha256 %.12s)", hex);
        rc = cs_bytes_append_str(&b, shown);
    } else if (rc == CS_OK && value) {
        rc = cs_bytes_append(&b, "=", 1);
        if (rc == CS_OK)
            rc = cs_bytes_append_str(&b, value);
    }
    if (rc == CS_OK)
        rc = add_line(l, tag, NULL, (char *)b.data);
    cs_bytes_free(&b);
    return rc;
}

void cs_why_add_env(struct cs_why_lines *l, const char *tag, const char *name, const char *value)
{
    if (!l->broken && env_line(l, tag, name, value) != CS_OK)
        l->broken = true;
}

void cs_why_lines_free(struct cs_why_lines *l)
{
    cs_strv_free(&l->v);
    memset(l, 0, sizeof *l);
}

static bool hash_file(const char *path, uint8_t h[CS_SHA256_LEN])
{
    struct cs_bytes b = {0};
    bool ok = cs_read_file(path, HEADER_READ_MAX, &b) == CS_OK;
    if (ok) {
        const void *parts[] = {b.data ? (void *)b.data : ""};
        size_t lens[] = {b.len};
        cs_sha256_parts(parts, lens, 1, h);
    }
    cs_bytes_free(&b);
    return ok;
}

static enum cs_status add_header(const struct cs_why_inputs *in, struct cs_why_lines *e,
                                 const char *path, const uint8_t *hash, bool *full)
{
    if (*full || strcmp(path, in->a->input) == 0)
        return CS_OK;
    if (e->truncated) {
        *full = true;
        return CS_OK;
    }
    uint8_t h[CS_SHA256_LEN];
    if (!hash && !hash_file(path, h))
        return CS_OK; /* unreadable now: not what the compile read either */
    char *abs = cs_path_absolute(path, in->cwd);
    if (!abs)
        return CS_ERR_NOMEM;
    enum cs_status rc = add_line(e, "header", hash ? hash : h, abs);
    free(abs);
    return rc;
}

struct c_ctx {
    const struct cs_session *ss;
    const struct cs_why_inputs *in;
};

/* The lines of a C/C++ compile (cs_why_build_fn). */
static enum cs_status c_build(void *ctx, struct cs_why_lines *e)
{
    const struct cs_session *ss = ((struct c_ctx *)ctx)->ss;
    const struct cs_why_inputs *in = ((struct c_ctx *)ctx)->in;
    const struct cs_args *a = in->a;
    enum cs_status rc = CS_OK;
    char *version = strndup(in->version->data ? (char *)in->version->data : "", in->version->len);
    if (!version)
        return CS_ERR_NOMEM;
    rc = add_line(e, "compiler", NULL, in->compiler);
    if (rc == CS_OK)
        rc = add_line(e, "version", NULL, version);
    free(version);
    if (rc == CS_OK)
        rc = add_line(e, "identity", NULL, in->identity);
    for (size_t i = 0; rc == CS_OK && i < a->hashed.n; i++)
        rc = add_line(e, "arg", NULL, a->hashed.v[i]);
    if (rc == CS_OK && a->debug) {
        struct cs_strv dirs = {0};
        rc = cs_args_debug_dirs(a, in->compiler_cwd, &dirs);
        for (size_t i = 0; rc == CS_OK && i < dirs.n; i++)
            rc = add_line(e, "part debug-dir", NULL, dirs.v[i]);
        cs_strv_free(&dirs);
    }
    if (rc == CS_OK && a->output_in_key) {
        rc = add_line(e, "part working-dir", NULL, in->compiler_cwd);
        if (rc == CS_OK)
            rc = add_line(e, "part output", NULL, a->output);
    }
    if (rc == CS_OK && ss->s.cache_buster)
        rc = add_line(e, "part cache-buster", NULL, ss->s.cache_buster);
    for (size_t i = 0; rc == CS_OK && i < in->nenv; i++) {
        const char *v = getenv(in->env[i]);
        if (v)
            rc = env_line(e, "env", in->env[i], v);
    }
    uint8_t sh[CS_SHA256_LEN];
    char *src = cs_path_absolute(a->input, in->cwd);
    if (!src)
        return CS_ERR_NOMEM;
    if (rc == CS_OK && (in->source_hash || hash_file(a->input, sh)))
        rc = add_line(e, "source", in->source_hash ? in->source_hash : sh, src);
    free(src);
    /* The headers: as the manifest entry of this key lists them, else as
     * the preprocessor named them, hashed now. */
    const struct cs_manifest_entry *me = NULL;
    for (uint32_t i = 0; in->m && !me && i < in->m->n; i++)
        if (memcmp(in->m->e[i].result_key, in->key, CS_SHA256_LEN) == 0)
            me = &in->m->e[i];
    bool full = false;
    if (me) {
        for (uint32_t f = 0; rc == CS_OK && f < me->nfiles; f++)
            rc = add_header(in, e, me->files[f].path, me->files[f].hash, &full);
    } else {
        for (size_t i = 0; rc == CS_OK && in->includes && i < in->includes->n; i++)
            rc = add_header(in, e, in->includes->v[i], NULL, &full);
    }
    return rc;
}

/* ---- the record file ----------------------------------------------------- */

static char *why_dir(const char *dir)
{
    return cs_path_join(dir, "why");
}

/* DIR/why/<sha256 of the absolute output path>; malloc'd. */
static char *record_path(const char *dir, const char *abs_output)
{
    char hex[CS_SHA256_HEX_LEN + 1];
    sha256_hex(abs_output, hex);
    char *wd = why_dir(dir);
    char *p = wd ? cs_path_join(wd, hex) : NULL;
    free(wd);
    return p;
}

/* Parses a record; false (r empty) when it is not one. */
static bool parse(char *text, struct record *r)
{
    memset(r, 0, sizeof *r);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (!line || strncmp(line, "cstash-why 1 ", 13) != 0)
        return false;
    struct entry *cur = NULL;
    bool ok = true;
    while (ok && (line = strtok_r(NULL, "\n", &save))) {
        char role[8], kind[8], key[CS_SHA256_HEX_LEN + 1];
        long long when;
        if (!cur) {
            ok = sscanf(line, "begin %7s %7s %lld %64s", role, kind, &when, key) == 4 &&
                 strlen(key) == CS_SHA256_HEX_LEN;
            if (!ok)
                break;
            if (!strcmp(role, "miss") && !r->has_miss) {
                cur = &r->miss;
                r->has_miss = true;
            } else if (!strcmp(role, "base") && !r->has_base) {
                cur = &r->base;
                r->has_base = true;
            } else if (!strcmp(role, "entry") && r->n < MAX_ENTRIES) {
                cur = &r->e[r->n++];
            } else {
                ok = false;
                break;
            }
            snprintf(cur->kind, sizeof cur->kind, "%s", kind);
            cur->when = when;
            memcpy(cur->key, key, sizeof key);
        } else if (!strcmp(line, "end")) {
            cur = NULL;
        } else if (!strcmp(line, "=miss") && r->has_miss && cur != &r->miss) {
            for (size_t i = 0; ok && i < r->miss.lines.n; i++)
                ok = cs_strv_push(&cur->lines, r->miss.lines.v[i]) == CS_OK;
        } else {
            ok = cs_strv_push(&cur->lines, line) == CS_OK;
        }
    }
    if (!ok || cur)
        record_free(r);
    return ok && !cur;
}

static enum cs_status read_record(const char *path, struct record *r)
{
    struct cs_bytes b = {0};
    enum cs_status rc = cs_read_file(path, RECORD_MAX, &b);
    memset(r, 0, sizeof *r);
    if (rc == CS_OK && !parse(b.data ? (char *)b.data : (char *)"", r))
        rc = CS_ERR_INVALID;
    cs_bytes_free(&b);
    return rc;
}

static bool same_lines(const struct entry *a, const struct entry *b)
{
    if (a->lines.n != b->lines.n)
        return false;
    for (size_t i = 0; i < a->lines.n; i++)
        if (strcmp(a->lines.v[i], b->lines.v[i]) != 0)
            return false;
    return true;
}

static enum cs_status put_block(struct cs_bytes *b, const char *role, const struct entry *e,
                                const struct record *r)
{
    char head[160];
    snprintf(head, sizeof head, "begin %s %s %lld %s\n", role, e->kind, e->when, e->key);
    enum cs_status rc = cs_bytes_append_str(b, head);
    /* An entry stored by the miss itself is the miss's lines again. */
    if (rc == CS_OK && e != &r->miss && r->has_miss && same_lines(e, &r->miss)) {
        rc = cs_bytes_append_str(b, "=miss\n");
    } else {
        for (size_t i = 0; rc == CS_OK && i < e->lines.n; i++) {
            rc = cs_bytes_append_str(b, e->lines.v[i]);
            if (rc == CS_OK)
                rc = cs_bytes_append(b, "\n", 1);
        }
    }
    if (rc == CS_OK)
        rc = cs_bytes_append_str(b, "end\n");
    return rc;
}

static enum cs_status serialize(const struct record *r, struct cs_bytes *b)
{
    char head[96];
    snprintf(head, sizeof head, "cstash-why 1 %s\n", r->n ? r->e[0].key : "-");
    enum cs_status rc = cs_bytes_append_str(b, head);
    if (rc == CS_OK && r->has_miss)
        rc = put_block(b, "miss", &r->miss, r);
    if (rc == CS_OK && r->has_base)
        rc = put_block(b, "base", &r->base, r);
    for (size_t i = 0; rc == CS_OK && i < r->n; i++) {
        size_t before = b->len;
        rc = put_block(b, "entry", &r->e[i], r);
        if (rc == CS_OK && i > 0 && b->len > RECORD_MAX) {
            b->len = before; /* older entries do not fit */
            b->data[b->len] = 0;
            break;
        }
    }
    return rc;
}

/* Whether the record's newest entry has this key: the first line only. */
static bool newest_is(const char *path, const char *key)
{
    char buf[96];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 13 + CS_SHA256_HEX_LEN)
        return false;
    return memcmp(buf, "cstash-why 1 ", 13) == 0 && memcmp(buf + 13, key, CS_SHA256_HEX_LEN) == 0 &&
           buf[13 + CS_SHA256_HEX_LEN] == '\n';
}

/* Removes the oldest records when there are more than MAX_RECORDS. */
static void prune(const char *dir)
{
    char *wd = why_dir(dir);
    DIR *d = wd ? opendir(wd) : NULL;
    struct dirent *de;
    size_t n = 0;
    while (d && (de = readdir(d)))
        n += strlen(de->d_name) >= CS_SHA256_HEX_LEN;
    if (d && n > MAX_RECORDS) {
        struct old {
            long long mtime;
            char name[CS_SHA256_HEX_LEN + 40];
        } *v = calloc(n + 16, sizeof *v);
        size_t k = 0;
        rewinddir(d);
        while (v && k < n + 16 && (de = readdir(d))) {
            struct stat st;
            if (strlen(de->d_name) < CS_SHA256_HEX_LEN || strlen(de->d_name) >= sizeof v[k].name ||
                fstatat(dirfd(d), de->d_name, &st, 0) != 0)
                continue;
            v[k].mtime = (long long)st.st_mtime;
            snprintf(v[k].name, sizeof v[k].name, "%s", de->d_name);
            k++;
        }
        /* Down to 90%: the next prune is many new outputs away. */
        while (v && k > MAX_RECORDS * 9 / 10) {
            size_t oldest = 0;
            for (size_t i = 1; i < k; i++)
                if (v[i].mtime < v[oldest].mtime)
                    oldest = i;
            (void)unlinkat(dirfd(d), v[oldest].name, 0);
            v[oldest] = v[--k];
        }
        free(v);
    }
    if (d)
        closedir(d);
    free(wd);
}

/* Writes a record file (tmp + rename), making DIR/why (mode 0700: the
 * records name files and arguments) when it is missing. */
static enum cs_status write_record(const char *dir, const char *path, const void *data, size_t len)
{
    char *wd = why_dir(dir);
    if (!wd)
        return CS_ERR_NOMEM;
    enum cs_status rc = CS_OK;
    struct stat st;
    if (lstat(wd, &st) != 0 && (rc = cs_mkdirs(path, false)) == CS_OK && lstat(wd, &st) != 0)
        rc = cs_status_from_errno(errno);
    if (rc == CS_OK && !S_ISDIR(st.st_mode))
        rc = CS_ERR_INVALID; /* not ours to change: a symlink, a file */
    else if (rc == CS_OK && (st.st_mode & 077) != 0 && chmod(wd, 0700) != 0)
        rc = cs_status_from_errno(errno); /* made by an earlier version, or new */
    free(wd);
    return rc == CS_OK ? cs_write_file_atomic(path, data, len) : rc;
}

/* Number of differences between old and new; printed to out unless NULL. */
static size_t diff(const struct entry *o, const struct entry *n, FILE *out);

void cs_why_note(struct cs_session *ss, const struct cs_why_inputs *in, enum cs_why_kind kind)
{
    char *abs = cs_path_absolute(in->a->output, in->cwd);
    struct c_ctx ctx = {ss, in};
    if (abs)
        cs_why_record(ss, abs, in->key, c_build, &ctx, kind);
    else
        cs_session_log(ss, "why-miss record for %s: %s", in->a->output, cs_strerror(CS_ERR_NOMEM));
    free(abs);
}

bool cs_why_record(struct cs_session *ss, const char *abs, const uint8_t *key_bin,
                   cs_why_build_fn build_fn, void *ctx, enum cs_why_kind kind)
{
    bool written = false;
    char key[CS_SHA256_HEX_LEN + 1];
    char *path = record_path(ss->s.dir, abs);
    struct record r = {0};
    struct entry cur = {0};
    struct cs_why_lines lines = {0};
    struct cs_bytes text = {0};
    enum cs_status rc = path ? CS_OK : CS_ERR_NOMEM;

    cs_hex_encode(key_bin, CS_SHA256_LEN, key);
    key[CS_SHA256_HEX_LEN] = 0;
    if (rc == CS_OK && kind == CS_WHY_HIT && newest_is(path, key))
        goto out; /* the usual hit: nothing new to record */
    if (rc == CS_OK)
        rc = build_fn(ctx, &lines);
    if (rc == CS_OK && lines.broken)
        rc = CS_ERR_NOMEM;
    if (rc != CS_OK)
        goto out;
    snprintf(cur.kind, sizeof cur.kind, "%s",
             kind == CS_WHY_HIT    ? "hit"
             : kind == CS_WHY_MISS ? "miss"
                                   : "stored");
    cur.when = (long long)time(NULL);
    memcpy(cur.key, key, sizeof cur.key);
    cur.lines = lines.v;
    memset(&lines, 0, sizeof lines);
    struct stat st;
    bool existed = stat(path, &st) == 0;
    if (existed && read_record(path, &r) != CS_OK)
        record_free(&r); /* unreadable or too big: start again */
    if (kind != CS_WHY_HIT) {
        /* The entry the miss is closest to, among those recorded before it. */
        size_t best = r.n, best_d = (size_t)-1;
        for (size_t i = 0; i < r.n; i++) {
            size_t d = diff(&r.e[i], &cur, NULL);
            if (d < best_d) {
                best = i;
                best_d = d;
            }
        }
        entry_free(&r.base);
        r.has_base = best < r.n;
        if (r.has_base)
            rc = entry_copy(&r.base, &r.e[best]);
        entry_free(&r.miss);
        r.has_miss = true;
        if (rc == CS_OK)
            rc = entry_copy(&r.miss, &cur);
    }
    if (rc == CS_OK && kind != CS_WHY_MISS) {
        /* cur becomes the newest entry; an older one of the same key goes. */
        for (size_t i = 0; i < r.n; i++) {
            if (strcmp(r.e[i].key, cur.key) == 0) {
                entry_free(&r.e[i]);
                memmove(&r.e[i], &r.e[i + 1], (r.n - i - 1) * sizeof r.e[0]);
                r.n--;
                break;
            }
        }
        if (r.n == MAX_ENTRIES)
            entry_free(&r.e[--r.n]);
        memmove(&r.e[1], &r.e[0], r.n * sizeof r.e[0]);
        r.e[0] = cur;
        r.n++;
        memset(&cur, 0, sizeof cur);
    }
    if (rc == CS_OK)
        rc = serialize(&r, &text);
    if (rc == CS_OK)
        rc = write_record(ss->s.dir, path, text.data, text.len);
    written = rc == CS_OK;
    if (rc == CS_OK && kind != CS_WHY_HIT) {
        char *wd = why_dir(ss->s.dir);
        char *last = wd ? cs_path_join(wd, LAST_FILE) : NULL;
        rc = last ? write_record(ss->s.dir, last, abs, strlen(abs)) : CS_ERR_NOMEM;
        free(last);
        free(wd);
    }
    /* A new output: now and then, keep the number of records bounded. */
    if (rc == CS_OK && !existed && (key_bin[1] & 15) == 0)
        prune(ss->s.dir);
out:
    if (rc != CS_OK)
        cs_session_log(ss, "why-miss record for %s: %s", abs, cs_strerror(rc));
    cs_bytes_free(&text);
    cs_why_lines_free(&lines);
    entry_free(&cur);
    record_free(&r);
    free(path);
    return written;
}

#define ALIAS_HEAD "cstash-why-alias 1\n"

void cs_why_alias(struct cs_session *ss, const char *output, const char *name)
{
    char *path = record_path(ss->s.dir, output);
    struct cs_bytes b = {0}, old = {0};
    enum cs_status rc = path ? cs_bytes_append_str(&b, ALIAS_HEAD) : CS_ERR_NOMEM;
    if (rc == CS_OK)
        rc = cs_bytes_append_str(&b, name);
    bool same = rc == CS_OK && cs_read_file(path, RECORD_MAX, &old) == CS_OK && old.len == b.len &&
                memcmp(old.data, b.data, b.len) == 0;
    if (rc == CS_OK && !same)
        rc = write_record(ss->s.dir, path, b.data, b.len);
    if (rc != CS_OK)
        cs_session_log(ss, "why-miss alias %s: %s", output, cs_strerror(rc));
    cs_bytes_free(&b);
    cs_bytes_free(&old);
    free(path);
}

/* The record an alias file at path names (malloc'd), NULL when path is
 * no alias. */
static char *alias_target(const char *dir, const char *path)
{
    struct cs_bytes b = {0};
    char *target = NULL;
    if (cs_read_file(path, 65536, &b) == CS_OK && b.len > strlen(ALIAS_HEAD) &&
        !memcmp(b.data, ALIAS_HEAD, strlen(ALIAS_HEAD)))
        target = record_path(dir, (char *)b.data + strlen(ALIAS_HEAD));
    cs_bytes_free(&b);
    return target;
}

/* ---- differences --------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void say(FILE *out, size_t *count, const char *fmt,
                                                      ...)
{
    (*count)++;
    if (!out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
}

/* The value of a "tag value" line, or NULL. */
static const char *value_of(const char *line, const char *tag)
{
    size_t n = strlen(tag);
    return strncmp(line, tag, n) == 0 && line[n] == ' ' ? line + n + 1 : NULL;
}

static const char *first(const struct entry *e, const char *tag)
{
    for (size_t i = 0; i < e->lines.n; i++) {
        const char *v = value_of(e->lines.v[i], tag);
        if (v)
            return v;
    }
    return "";
}

/* The values of tag, in order; malloc'd array (NULL when there are none). */
static const char **values(const struct entry *e, const char *tag, size_t *n)
{
    const char **v = calloc(e->lines.n + 1, sizeof *v);
    *n = 0;
    for (size_t i = 0; v && i < e->lines.n; i++) {
        const char *x = value_of(e->lines.v[i], tag);
        if (x)
            v[(*n)++] = x;
    }
    return v;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Header and source lines are "HEX path": ordered by path. */
static int by_path(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    return strcmp(x + CS_SHA256_HEX_LEN + 1, y + CS_SHA256_HEX_LEN + 1);
}

static bool hashed_line_ok(const char *v)
{
    return strlen(v) > CS_SHA256_HEX_LEN && v[CS_SHA256_HEX_LEN] == ' ';
}

/* The version text on one line: "12.2.0 x86_64-linux-gnu". */
static void one_line(const char *escaped, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = escaped; *p && k + 1 < cap; p++) {
        if (p[0] == '\\' && p[1] == 'n') {
            p++;
            if (k > 0 && *(p + 1))
                out[k++] = ' ';
        } else {
            out[k++] = *p;
        }
    }
    out[k] = 0;
}

/* What pairs a removed argument with an added one as "changed". */
static size_t opt_key(const char *arg)
{
    if (!strncmp(arg, "-D", 2) || !strncmp(arg, "-U", 2) || strchr(arg, '=')) {
        const char *eq = strchr(arg, '=');
        return eq ? (size_t)(eq - arg) : strlen(arg);
    }
    if (!strncmp(arg, "-O", 2) || !strncmp(arg, "-g", 2))
        return 2;
    return 0;
}

static void diff_args(const struct entry *o, const struct entry *n, FILE *out, size_t *count)
{
    size_t na, nb;
    const char **a = values(o, "arg", &na), **b = values(n, "arg", &nb);
    const char **rem = calloc(na + 1, sizeof *rem), **add = calloc(nb + 1, sizeof *add);
    if (!a || !b || !rem || !add) {
        say(out, count, "argument list not compared (out of memory)");
        goto out;
    }
    bool same_order = na == nb;
    for (size_t i = 0; same_order && i < na; i++)
        same_order = strcmp(a[i], b[i]) == 0;
    if (same_order)
        goto out;
    qsort(a, na, sizeof *a, by_str);
    qsort(b, nb, sizeof *b, by_str);
    size_t i = 0, j = 0, nr = 0, nd = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);
        if (c == 0) {
            i++;
            j++;
        } else if (c < 0) {
            rem[nr++] = a[i++];
        } else {
            add[nd++] = b[j++];
        }
    }
    for (size_t r = 0; r < nr; r++) {
        size_t k = opt_key(rem[r]);
        for (size_t d = 0; k && d < nd; d++) {
            if (add[d] && opt_key(add[d]) == k && !strncmp(rem[r], add[d], k)) {
                say(out, count, "argument changed: %s -> %s", rem[r], add[d]);
                rem[r] = add[d] = NULL;
                break;
            }
        }
    }
    for (size_t r = 0; r < nr; r++)
        if (rem[r])
            say(out, count, "argument removed: %s", rem[r]);
    for (size_t d = 0; d < nd; d++)
        if (add[d])
            say(out, count, "argument added: %s", add[d]);
    if (nr == 0 && nd == 0)
        say(out, count, "argument order changed");
out:
    free(a);
    free(b);
    free(rem);
    free(add);
}

static size_t name_len(const char *nv)
{
    const char *eq = strchr(nv, '=');
    return eq ? (size_t)(eq - nv) : strlen(nv);
}

/* "env NAME=VALUE" lines (what names is "env" or "env ... read by the
 * code"); a line without '=' is a variable that was unset. */
static void diff_env(const struct entry *o, const struct entry *n, const char *tag,
                     const char *what, FILE *out, size_t *count)
{
    size_t na, nb;
    const char **a = values(o, tag, &na), **b = values(n, tag, &nb);
    if (a && b) {
        qsort(a, na, sizeof *a, by_str);
        qsort(b, nb, sizeof *b, by_str);
        size_t i = 0, j = 0;
        while (i < na || j < nb) {
            size_t la = i < na ? name_len(a[i]) : 0, lb = j < nb ? name_len(b[j]) : 0;
            int c = i == na ? 1 : j == nb ? -1 : strncmp(a[i], b[j], la < lb ? lb : la);
            bool va = c <= 0 && a[i][la] == '=', vb = c >= 0 && b[j][lb] == '=';
            if (c == 0 && strcmp(a[i], b[j]) != 0 && va && vb)
                say(out, count, "%s %.*s changed: \"%s\" -> \"%s\"", what, (int)la, a[i],
                    a[i] + la + 1, b[j] + lb + 1);
            else if (c <= 0 && va && !vb)
                say(out, count, "%s %.*s unset (was \"%s\")", what, (int)la, a[i], a[i] + la + 1);
            else if (c >= 0 && vb && !va)
                say(out, count, "%s %.*s set: \"%s\"", what, (int)lb, b[j], b[j] + lb + 1);
            i += c <= 0;
            j += c >= 0;
        }
    }
    free(a);
    free(b);
}

static void diff_parts(const struct entry *o, const struct entry *n, FILE *out, size_t *count)
{
    static const char *const labels[] = {"debug-dir",    "working-dir", "output",
                                         "cache-buster", "crate",       "outputs",
                                         "emit",         "linker",      "deep"};
    for (size_t l = 0; l < sizeof labels / sizeof labels[0]; l++) {
        char tag[32];
        snprintf(tag, sizeof tag, "part %s", labels[l]);
        size_t na, nb;
        const char **a = values(o, tag, &na), **b = values(n, tag, &nb);
        bool same = a && b && na == nb;
        for (size_t i = 0; same && i < na; i++)
            same = strcmp(a[i], b[i]) == 0;
        if (!same && !strcmp(labels[l], "deep"))
            say(out, count,
                "the crates below the --extern ones changed (deep hash %.12s... -> "
                "%.12s...)",
                na ? a[0] : "(none)", nb ? b[0] : "(none)");
        else if (!same)
            say(out, count, "%s changed: %s -> %s", labels[l], na ? a[0] : "(none)",
                nb ? b[0] : "(none)");
        free(a);
        free(b);
    }
}

/* Lines "HEX path" of one tag, by path; what names the kind of file. */
static void diff_files(const struct entry *o, const struct entry *n, const char *tag,
                       const char *what, FILE *out, size_t *count)
{
    size_t na, nb, ka = 0, kb = 0;
    const char **a = values(o, tag, &na), **b = values(n, tag, &nb);
    if (!a || !b)
        goto out;
    for (size_t i = 0; i < na; i++) /* malformed lines are left out */
        if (hashed_line_ok(a[i]))
            a[ka++] = a[i];
    for (size_t i = 0; i < nb; i++)
        if (hashed_line_ok(b[i]))
            b[kb++] = b[i];
    qsort(a, ka, sizeof *a, by_path);
    qsort(b, kb, sizeof *b, by_path);
    size_t i = 0, j = 0;
    const int H = CS_SHA256_HEX_LEN + 1;
    while (i < ka || j < kb) {
        int c = i == ka ? 1 : j == kb ? -1 : strcmp(a[i] + H, b[j] + H);
        if (c == 0) {
            if (strncmp(a[i], b[j], CS_SHA256_HEX_LEN) != 0)
                say(out, count, "%s %s changed (sha256 %.12s... -> %.12s...)", what, a[i] + H, a[i],
                    b[j]);
            i++;
            j++;
        } else if (c < 0) {
            say(out, count, "%s %s removed", what, a[i] + H);
            i++;
        } else {
            say(out, count, "%s %s added (sha256 %.12s...)", what, b[j] + H, b[j]);
            j++;
        }
    }
out:
    free(a);
    free(b);
}

static size_t diff(const struct entry *o, const struct entry *n, FILE *out)
{
    size_t count = 0;
    const char *c0 = first(o, "compiler"), *c1 = first(n, "compiler");
    char v0[128], v1[128];
    one_line(first(o, "version"), v0, sizeof v0);
    one_line(first(n, "version"), v1, sizeof v1);
    if (strcmp(c0, c1) != 0 || strcmp(v0, v1) != 0)
        say(out, &count, "compiler changed: %s %s -> %s %s", c0, v0, c1, v1);
    else if (strcmp(first(o, "identity"), first(n, "identity")) != 0)
        say(out, &count, "compiler changed: %s (%s) -> (%s)", c0, first(o, "identity"),
            first(n, "identity"));
    diff_args(o, n, out, &count);
    diff_parts(o, n, out, &count);
    diff_env(o, n, "env", "env", out, &count);
    diff_env(o, n, "envdep", "env (read by the code)", out, &count);
    const char *s0 = first(o, "source"), *s1 = first(n, "source");
    const int H = CS_SHA256_HEX_LEN + 1;
    if (hashed_line_ok(s0) && hashed_line_ok(s1)) {
        if (strcmp(s0 + H, s1 + H) != 0)
            say(out, &count, "source changed: %s -> %s", s0 + H, s1 + H);
        else if (strncmp(s0, s1, CS_SHA256_HEX_LEN) != 0)
            say(out, &count, "source %s changed (sha256 %.12s... -> %.12s...)", s0 + H, s0, s1);
    }
    static const char *const files[][2] = {
        {"header", "header"},          {"file", "file"},
        {"extern", "extern crate"},    {"crate-dir", "crate in an -L dir"},
        {"native-lib", "native lib"},  {"native-dir", "native lib in an -L dir"},
        {"link-arg", "link-arg file"}, {"target-spec", "target spec"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        diff_files(o, n, files[i][0], files[i][1], out, &count);
    if (count == 0 && strcmp(o->key, n->key) != 0 && first(n, "part crate")[0])
        say(out, &count, "the key differs in an input the record does not list");
    else if (count == 0 && strcmp(o->key, n->key) != 0)
        say(out, &count,
            "preprocessed text differs (a macro or a file the record does not list, or the "
            "preprocessor's warnings)");
    return count;
}

/* ---- cstash --why-miss --------------------------------------------------- */

static void local_time(long long epoch, char *out, size_t cap)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, cap, "%lld", epoch);
}

int cs_why_main(const char *output)
{
    struct cs_settings s;
    char err[512], *abs = NULL, *path = NULL;
    struct record r = {0};
    int code = 1;
    if (cs_settings_load(&s, err, sizeof err) != CS_OK) {
        fprintf(stderr, "cstash: %s\n", err);
        cs_settings_free(&s);
        return 1;
    }
    if (output) {
        char *cwd = getcwd(NULL, 0);
        char *ncwd = cwd ? cs_path_absolute(cwd, "/") : NULL;
        abs = ncwd ? cs_path_absolute(output, ncwd) : NULL;
        free(cwd);
        free(ncwd);
    } else {
        char *wd = why_dir(s.dir);
        char *last = wd ? cs_path_join(wd, LAST_FILE) : NULL;
        struct cs_bytes b = {0};
        if (last && cs_read_file(last, 65536, &b) == CS_OK && b.len)
            abs = strdup((char *)b.data);
        cs_bytes_free(&b);
        free(last);
        free(wd);
        if (!abs) {
            fprintf(stderr, "cstash: no miss recorded in %s\n", s.dir);
            goto out;
        }
        printf("last miss: %s\n", abs);
    }
    path = abs ? record_path(s.dir, abs) : NULL;
    if (!path) {
        fprintf(stderr, "cstash: out of memory\n");
        goto out;
    }
    char *target = alias_target(s.dir, path); /* an output of a Rust crate */
    if (target) {
        free(path);
        path = target;
    }
    enum cs_status rc = read_record(path, &r);
    if (rc != CS_OK) {
        fprintf(stderr, "cstash: no record of a compile of %s in %s%s\n", abs, s.dir,
                rc == CS_ERR_NOT_FOUND ? "" : " (the record is unreadable)");
        goto out;
    }
    if (!r.has_miss) {
        fprintf(stderr, "cstash: no miss recorded for %s (only hits)\n", abs);
        goto out;
    }
    code = 0;
    char when[64];
    if (!r.has_base) {
        local_time(r.miss.when, when, sizeof when);
        printf("no earlier entry: the miss of %s at %s was its first compile recorded here\n", abs,
               when);
    } else if (diff(&r.base, &r.miss, stdout) == 0) {
        local_time(r.base.when, when, sizeof when);
        printf("no difference recorded (an entry with these inputs was recorded at %s: since "
               "evicted, cleared, or CSTASH_RECACHE)\n",
               when);
    }
out:
    record_free(&r);
    free(path);
    free(abs);
    cs_settings_free(&s);
    return code;
}
