/* gcc -H's header list, taken out of the compiler's stderr (see
 * header_trace.h). */
#include "autoconfig.h"

#include "client/header_trace.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char GUARDS[] = "Multiple include guards may be useful for:";

/* path[0..n) names a regular file (a copy: the text is not terminated). */
static bool is_regular(const char *path, size_t n)
{
    char buf[4096];
    struct stat st;
    if (n == 0 || n >= sizeof buf || memchr(path, '\0', n))
        return false;
    memcpy(buf, path, n);
    buf[n] = '\0';
    return stat(buf, &st) == 0 && S_ISREG(st.st_mode);
}

/* The length of a -H line's prefix before its path, 0 if it is not one:
 * a dot per level and a space (". inc/x.h"), or a precompiled header gcc
 * used ("! x.h.gch") or tried and refused ("x x.h.gch"). */
static size_t trace_prefix(const char *line, size_t n)
{
    size_t d = 0;
    while (d < n && line[d] == '.')
        d++;
    if (d == 0 && n > 0 && (line[0] == '!' || line[0] == 'x'))
        d = 1;
    return d > 0 && d + 1 < n && line[d] == ' ' ? d + 1 : 0;
}

enum cs_status cs_header_trace_split(const char *text, size_t len, struct cs_strv *files,
                                     struct cs_bytes *rest)
{
    const char *p = text, *end = text + len;
    bool in_guards = false;
    enum cs_status rc = CS_OK;
    while (rc == CS_OK && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        size_t n = (size_t)((nl ? nl : end) - p);
        size_t d = trace_prefix(p, n);
        bool drop = true;
        if (d > 0 && !in_guards) {
            /* A file -H names must be one the cache can check (a
             * precompiled header's object depends on its content). */
            if (!is_regular(p + d, n - d))
                rc = CS_ERR_INVALID;
            else
                rc = cs_strv_push_own(files, strndup(p + d, n - d));
        } else if (n == sizeof GUARDS - 1 && !memcmp(p, GUARDS, n)) {
            in_guards = true;
        } else if (in_guards && is_regular(p, n)) {
            /* one of the headers without a guard, already named */
        } else {
            in_guards = false;
            drop = false;
        }
        if (rc == CS_OK && !drop)
            rc = cs_bytes_append(rest, p, (size_t)(next - p));
        p = next;
    }
    return rc;
}

static const char *without_dot_slash(const char *p)
{
    while (p[0] == '.' && p[1] == '/')
        for (p += 2; *p == '/'; p++)
            ;
    return p;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Puts name in the open-addressing set of cap slots (a power of two);
 * false if it was there. */
static bool set_add(const char **set, size_t cap, const char *name)
{
    for (size_t i = (size_t)name_hash(name) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (!set[i]) {
            set[i] = name;
            return true;
        }
        if (!strcmp(set[i], name))
            return false;
    }
}

enum cs_status cs_header_trace_merge(struct cs_strv *files, const struct cs_strv *traced)
{
    size_t cap = 16;
    while (cap < 2 * (files->n + traced->n))
        cap *= 2;
    const char **set = calloc(cap, sizeof *set);
    if (!set)
        return CS_ERR_NOMEM;
    /* The set points into strings files and traced own; files may grow
     * (realloc moves its array, not the strings). */
    for (size_t i = 0; i < files->n; i++)
        (void)set_add(set, cap, without_dot_slash(files->v[i]));
    enum cs_status rc = CS_OK;
    for (size_t i = 0; rc == CS_OK && i < traced->n; i++)
        if (set_add(set, cap, without_dot_slash(traced->v[i])))
            rc = cs_strv_push(files, traced->v[i]);
    free(set);
    return rc;
}
