/* Line markers look like `# 12 "path" 2 3` (or `#line 12 "path"`); the
 * path is a C string literal with backslash escapes. */
#include "autoconfig.h"

#include "client/ppscan.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* A tiny open-addressing set of strings, so each include is listed once.
 * The hash only picks the slot: a slot holds the index of the path in the
 * include list, and a hit compares the strings, because two distinct paths
 * with one hash must both reach the manifest (a header left out of it is a
 * header whose change cannot invalidate a direct-mode hit). */
struct seen_slot {
    uint64_t hash; /* 0: empty (fnv() never returns 0) */
    size_t index;  /* into the include list */
};
struct seen {
    struct seen_slot *slots;
    size_t cap, n;
};

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return h | 1;
}

static enum cs_status seen_grow(struct seen *s)
{
    size_t cap = s->cap ? s->cap * 2 : 256;
    struct seen_slot *t = calloc(cap, sizeof *t);
    if (!t)
        return CS_ERR_NOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].hash) {
            size_t j = s->slots[i].hash & (cap - 1);
            while (t[j].hash)
                j = (j + 1) & (cap - 1);
            t[j] = s->slots[i];
        }
    free(s->slots);
    s->slots = t;
    s->cap = cap;
    return CS_OK;
}

/* Appends name to list unless it is there already (as recorded in s). */
static enum cs_status seen_add(struct seen *s, struct cs_strv *list, const char *name)
{
    if (s->n * 2 >= s->cap) {
        enum cs_status rc = seen_grow(s);
        if (rc != CS_OK)
            return rc;
    }
    uint64_t h = fnv(name, strlen(name));
    size_t j = h & (s->cap - 1);
    for (; s->slots[j].hash; j = (j + 1) & (s->cap - 1))
        if (s->slots[j].hash == h && strcmp(list->v[s->slots[j].index], name) == 0)
            return CS_OK;
    enum cs_status rc = cs_strv_push(list, name);
    if (rc != CS_OK)
        return rc;
    s->slots[j].hash = h;
    s->slots[j].index = list->n - 1;
    s->n++;
    return CS_OK;
}

/* The byte an escape stands for, s just after the backslash; *s moves to
 * its last character. clang writes bytes past ASCII in octal (\303\251)
 * and a tab as \t; gcc escapes only '\\' and '"'. */
static char unescape(const char **s, const char *end)
{
    const char *p = *s;
    if (*p >= '0' && *p <= '7') {
        unsigned v = 0;
        int n = 0;
        for (; n < 3 && p < end && *p >= '0' && *p <= '7'; n++, p++)
            v = v * 8 + (unsigned)(*p - '0');
        *s = p - 1;
        return (char)(v & 0xff);
    }
    static const char from[] = "ntrabfv", to[] = "\n\t\r\a\b\f\v";
    const char *k = memchr(from, *p, sizeof from - 1);
    return k ? to[k - from] : *p;
}

/* Parses the quoted path starting at q (pointing at '"'); returns the
 * position after the closing quote, or NULL. */
static const char *parse_path(const char *q, const char *end, struct cs_bytes *path)
{
    path->len = 0;
    for (const char *s = q + 1; s < end; s++) {
        if (*s == '"')
            return s + 1;
        char c = *s;
        if (c == '\\' && s + 1 < end) {
            s++;
            c = unescape(&s, end);
        }
        if (cs_bytes_append(path, &c, 1) != CS_OK)
            return NULL;
    }
    return NULL;
}

enum cs_status cs_ppscan(const char *text, size_t len, const char *cwd, const char *basedir,
                         struct cs_sha256 *h, struct cs_strv *includes)
{
    const char *p = text, *end = text + len, *flushed = text;
    struct seen seen = {0};
    struct cs_bytes path = {0};
    enum cs_status rc = CS_OK;
    bool nomem = false;
    while (p < end && rc == CS_OK) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *q = NULL;
        if (p[0] == '#') {
            const char *s = p + 1;
            if (eol - s >= 4 && memcmp(s, "line", 4) == 0)
                s += 4;
            if (s < eol && *s == ' ' && s + 1 < eol && s[1] >= '0' && s[1] <= '9') {
                q = memchr(s, '"', (size_t)(eol - s));
            }
        }
        if (q) {
            const char *after = parse_path(q, eol, &path);
            if (!after) {
                rc = path.data || path.len == 0 ? CS_OK : CS_ERR_NOMEM;
                p = eol + 1;
                continue;
            }
            const char *name = path.data ? (const char *)path.data : "";
            char *rel = NULL;
            if (basedir && name[0] == '/') {
                char *abs = cs_path_absolute(name, "/");
                if (!abs)
                    rc = CS_ERR_NOMEM;
                else {
                    rel = cs_path_relative_under(abs, basedir, cwd, &nomem);
                    free(abs);
                    if (nomem)
                        rc = CS_ERR_NOMEM;
                }
            }
            if (rel) {
                /* Hash the text up to the path, the relative path, the rest. */
                cs_sha256_update(h, flushed, (size_t)(q + 1 - flushed));
                cs_sha256_update(h, rel, strlen(rel));
                cs_sha256_update(h, "\"", 1);
                flushed = after;
                free(rel);
            }
            /* `# 0 "/cwd//"` (gcc -g) names the working directory, not a file. */
            bool dir_marker = path.len > 0 && name[path.len - 1] == '/';
            if (rc == CS_OK && name[0] && name[0] != '<' && !dir_marker)
                rc = seen_add(&seen, includes, name);
        }
        p = eol + 1;
    }
    if (rc == CS_OK && flushed < end)
        cs_sha256_update(h, flushed, (size_t)(end - flushed));
    free(seen.slots);
    cs_bytes_free(&path);
    return rc;
}

/* Whether p is at a line marker (gcc puts one between two literals with
 * many blank lines between them). */
static bool marker_line(const char *p, const char *end)
{
    return end - p > 2 && p[0] == '#' && p[1] == ' ' && isdigit((unsigned char)p[2]);
}

/* The next character of text as the compiler sees a string: a closing
 * quote, blanks (and line markers) and an opening quote (two literals it
 * joins) are passed over. *p moves past what was read; -1 at the end. */
static int joined_char(const char **p, const char *end)
{
    while (*p < end && **p == '"') {
        const char *q = *p + 1;
        for (;;) {
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
                q++;
            if (q < end && marker_line(q, end) && (q == *p + 1 || q[-1] == '\n')) {
                const char *nl = memchr(q, '\n', (size_t)(end - q));
                q = nl ? nl : end;
                continue;
            }
            break;
        }
        if (q >= end || *q != '"')
            break;
        *p = q + 1;
    }
    return *p < end ? (unsigned char)*(*p)++ : -1;
}

/* Whether the joined text at p is word in any case, followed by a blank,
 * a quote or a backslash (an escape in an asm() string). */
static bool word_at(const char *p, const char *end, const char *word)
{
    for (const char *w = word; *w; w++) {
        int c = joined_char(&p, end);
        if (c < 0 || tolower(c) != *w)
            return false;
    }
    int c = p < end ? (unsigned char)*p : -1;
    return c == ' ' || c == '\t' || c == '"' || c == '\\';
}

/* Whether the '.' at p starts a statement as gas reads one: at the start
 * of a line or a string, after ';' or a label's ':', or after an escaped
 * newline or tab in a string (blanks between). A member in C
 * ("{ .include = 1", "s.incbin") is none. */
static bool statement_start(const char *text, const char *p)
{
    while (p > text && (p[-1] == ' ' || p[-1] == '\t'))
        p--;
    if (p == text)
        return true;
    char c = p[-1];
    if (c == '\n' || c == '"' || c == ';' || c == ':')
        return true;
    return (c == 'n' || c == 't') && p - 1 > text && p[-2] == '\\';
}

bool cs_ppscan_assembler_reads_file(const char *text, size_t len)
{
    const char *end = text + len;
    for (const char *p = text; p < end; p++)
        if (*p == '.' && statement_start(text, p) &&
            (word_at(p + 1, end, "incbin") || word_at(p + 1, end, "include")))
            return true;
    return false;
}
