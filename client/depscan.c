/* Scans for depend mode (see depscan.h). */
#include "autoconfig.h"

#include "client/depscan.h"

#include <string.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r';
}

bool cs_depscan_declares_system_header(const uint8_t *d, size_t n)
{
    static const char pragma[] = "system_header";
    if (n >= sizeof pragma - 1 && memmem(d, n, pragma, sizeof pragma - 1))
        return true;
    for (size_t i = 0; i < n;) {
        size_t k = i;
        while (k < n && blank((char)d[k]))
            k++;
        if (k < n && d[k] == '#') {
            for (k++; k < n && blank((char)d[k]); k++)
                ;
            size_t digits = k;
            while (k < n && d[k] >= '0' && d[k] <= '9')
                k++;
            if (k > digits && k < n && blank((char)d[k])) {
                while (k < n && blank((char)d[k]))
                    k++;
                if (k < n && d[k] == '"')
                    return true;
            }
        }
        const uint8_t *nl = memchr(d + i, '\n', n - i);
        i = nl ? (size_t)(nl - d) + 1 : n;
    }
    return false;
}

/* Past a comment at p ("/ *" or "//"), or p itself if none. */
static const char *skip_comment(const char *p, const char *end)
{
    if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
        for (p += 2; end - p >= 2; p++)
            if (p[0] == '*' && p[1] == '/')
                return p + 2;
        return end;
    }
    if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
        for (p += 2; p < end && *p != '\n'; p++)
            if (*p == '\\' && p + 1 < end && p[1] == '\n')
                p++;
        return p;
    }
    return p;
}

/* Past blanks and comments on this line. */
static const char *skip_blanks(const char *p, const char *end)
{
    for (;;) {
        while (p < end && blank(*p))
            p++;
        if (end - p >= 2 && p[0] == '\\' && p[1] == '\n') {
            p += 2;
            continue;
        }
        const char *q = skip_comment(p, end);
        if (q == p)
            return p;
        p = q;
    }
}

/* Past the end of a directive's line: continued lines, and comments that
 * go on over lines. */
static const char *skip_line(const char *p, const char *end)
{
    while (p < end && *p != '\n') {
        const char *q = skip_comment(p, end);
        if (q != p) {
            p = q;
        } else if (*p == '\\' && p + 1 < end && p[1] == '\n') {
            p += 2;
        } else {
            p++;
        }
    }
    return p < end ? p + 1 : end;
}

/* The directives before text's first token: their include names into
 * names (when not NULL), and whether there is a token at all. */
static enum cs_status scan_leading(const char *text, size_t len, struct cs_strv *names, bool *token)
{
    const char *p = text, *end = text + len;
    for (;;) {
        p = skip_blanks(p, end);
        if (p < end && *p == '\n') {
            p++;
            continue;
        }
        if (p >= end || *p != '#') {
            *token = p < end;
            return CS_OK; /* the first token, or the end */
        }
        p = skip_blanks(p + 1, end);
        const char *word = p;
        while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '_'))
            p++;
        size_t n = (size_t)(p - word);
        bool include = (n == 7 && !memcmp(word, "include", 7)) ||
                       (n == 12 && !memcmp(word, "include_next", 12)) ||
                       (n == 6 && !memcmp(word, "import", 6));
        if (include && names) {
            p = skip_blanks(p, end);
            char close = p < end && *p == '"' ? '"' : p < end && *p == '<' ? '>' : 0;
            const char *q = close ? memchr(p + 1, close, (size_t)(end - p - 1)) : NULL;
            if (!q || memchr(p + 1, '\n', (size_t)(q - p - 1)))
                return CS_ERR_INVALID; /* a macro, or no name on the line */
            enum cs_status rc = cs_strv_push_own(names, strndup(p + 1, (size_t)(q - p - 1)));
            if (rc != CS_OK)
                return rc;
            p = q + 1;
        }
        p = skip_line(p, end);
    }
}

enum cs_status cs_depscan_leading_includes(const char *text, size_t len, struct cs_strv *names)
{
    bool token;
    return scan_leading(text, len, names, &token);
}

bool cs_depscan_has_token(const char *text, size_t len)
{
    bool token = true;
    (void)scan_leading(text, len, NULL, &token);
    return token;
}
