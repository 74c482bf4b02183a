/* The -MD dependency rule (see depfile.h). */
#include "autoconfig.h"

#include "client/depfile.h"

#include <stdbool.h>
#include <string.h>

/* Where the first rule's target ends: the ':' that is followed by white
 * space or the end (a path may hold ':' elsewhere), NULL if none. */
static const char *target_end(const char *p, const char *end)
{
    const char *start = p;
    for (; p < end; p++) {
        if (*p == '\\' && p + 1 < end && p[1] != '\n') {
            p++;
            continue;
        }
        if (*p == '\n' && (p == start || p == end - 1 || p[-1] != '\\'))
            return NULL; /* a line with no ':' */
        if (*p == ':' && (p + 1 == end || p[1] == ' ' || p[1] == '\t' || p[1] == '\n' ||
                          (p[1] == '\\' && p + 2 < end && p[2] == '\n')))
            return p;
    }
    return NULL;
}

enum cs_status cs_depfile_parse(const char *text, size_t len, struct cs_strv *files)
{
    const char *p = text, *end = text + len;
    const char *colon = target_end(p, end);
    if (!colon || colon == text)
        return CS_ERR_INVALID;
    p = colon + 1;
    enum cs_status rc = CS_OK;
    struct cs_bytes w = {0};
    bool done = false;
    while (rc == CS_OK && !done) {
        bool word_end = p >= end;
        if (!word_end) {
            char c = *p;
            /* gcc continues a line with " \\": one ending a name is the
             * name's own backslash, which gcc does not escape. */
            bool after_blank = w.len == 0;
            if (c == '\\' && after_blank && p + 1 < end && p[1] == '\n') {
                p += 2; /* a continued line */
                word_end = true;
            } else if (c == '\\' && after_blank && p + 2 < end && p[1] == '\r' && p[2] == '\n') {
                p += 3;
                word_end = true;
            } else if (c == '\\' && p + 1 < end && (p[1] == ' ' || p[1] == '\t' || p[1] == '#')) {
                rc = cs_bytes_append(&w, p + 1, 1);
                p += 2;
            } else if (c == '\\' || (c == '$' && (p + 1 >= end || p[1] != '$'))) {
                rc = CS_ERR_INVALID;
            } else if (c == '$') {
                rc = cs_bytes_append(&w, "$", 1);
                p += 2;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                p++;
                word_end = true;
            } else if (c == '\n') {
                done = word_end = true; /* the end of the first rule */
            } else {
                rc = cs_bytes_append(&w, p, 1);
                p++;
            }
        } else {
            done = true;
        }
        if (rc == CS_OK && word_end && w.len > 0) {
            rc = cs_strv_push(files, (char *)w.data);
            cs_bytes_free(&w);
        }
    }
    cs_bytes_free(&w);
    return rc;
}
