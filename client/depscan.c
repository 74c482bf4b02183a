/* Scans for depend mode (see depscan.h). Both work on the text as the
 * preprocessor sees it after its first phases: backslash-newline splices
 * (also "??/" and blanks before the newline) removed, and "%:" and "??="
 * read as '#'. Where they cannot be sure, they answer the cautious way. */
#include "autoconfig.h"

#include "client/depscan.h"

#include <stdlib.h>
#include <string.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* How unsplice reads "??/" before a newline: a splice only with
 * -trigraphs, which the scan cannot see. */
enum trigraphs { TRI_SPLICE, TRI_PLAIN, TRI_REFUSE };

/* text[0..n) as the preprocessor's first phases leave it, into out: a
 * UTF-8 byte order mark dropped, "\r\n" and a lone '\r' read as '\n'
 * (gcc does), and splices (a backslash, or "??/" as tri says, then blanks
 * and a newline) removed. CS_ERR_INVALID for a "??/" splice under
 * TRI_REFUSE. */
static enum cs_status unsplice(const char *text, size_t n, enum trigraphs tri, struct cs_bytes *out)
{
    size_t i = n >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
    enum cs_status rc = cs_bytes_append(out, "", 0);
    char *o = rc == CS_OK ? malloc(n + 1) : NULL;
    if (!o)
        return CS_ERR_NOMEM;
    size_t len = 0;
    while (i < n) {
        size_t k = 0;
        if (text[i] == '\\')
            k = 1;
        else if (n - i >= 3 && text[i] == '?' && text[i + 1] == '?' && text[i + 2] == '/')
            k = tri == TRI_PLAIN ? 0 : 3;
        if (k) {
            size_t e = i + k;
            while (e < n && blank(text[e]))
                e++;
            bool nl = e < n && (text[e] == '\n' || text[e] == '\r');
            if (nl && k == 3 && tri == TRI_REFUSE) {
                free(o);
                return CS_ERR_INVALID;
            }
            if (nl) {
                i = e + (text[e] == '\r' && e + 1 < n && text[e + 1] == '\n' ? 2 : 1);
                continue;
            }
        }
        if (text[i] == '\r') {
            o[len++] = '\n';
            i += i + 1 < n && text[i + 1] == '\n' ? 2 : 1;
            continue;
        }
        o[len++] = text[i++];
    }
    rc = cs_bytes_append(out, o, len);
    free(o);
    return rc;
}

/* The length of a '#' at p ("#", "%:" or "??="), 0 if none. */
static size_t hash_len(const char *p, const char *end)
{
    if (p < end && *p == '#')
        return 1;
    if (end - p >= 2 && p[0] == '%' && p[1] == ':')
        return 2;
    if (end - p >= 3 && p[0] == '?' && p[1] == '?' && p[2] == '=')
        return 3;
    return 0;
}

/* Past a comment at p, or p itself if none. */
static const char *past_comment(const char *p, const char *end)
{
    if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
        for (p += 2; end - p >= 2; p++)
            if (p[0] == '*' && p[1] == '/')
                return p + 2;
        return end;
    }
    if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
        while (p < end && *p != '\n')
            p++;
        return p;
    }
    return p;
}

/* Past blanks and comments (a block comment may go on over lines). */
static const char *past_blanks(const char *p, const char *end)
{
    for (;;) {
        while (p < end && blank(*p))
            p++;
        const char *q = past_comment(p, end);
        if (q == p)
            return p;
        p = q;
    }
}

/* Past the end of a directive's line: string and character literals, and
 * comments that go on over lines. */
static const char *past_directive(const char *p, const char *end)
{
    while (p < end && *p != '\n') {
        const char *q = past_comment(p, end);
        if (q != p) {
            p = q;
        } else if (*p == '"' || *p == '\'') {
            char quote = *p++;
            while (p < end && *p != quote && *p != '\n')
                p += *p == '\\' && p + 1 < end ? 2 : 1;
            if (p < end && *p == quote)
                p++;
        } else {
            p++;
        }
    }
    return p < end ? p + 1 : end;
}

static bool word_is(const char *w, size_t n, const char *s)
{
    return strlen(s) == n && !memcmp(w, s, n);
}

/* Past blanks and comments that end on this line. */
static const char *past_blanks_on_line(const char *p, const char *end)
{
    for (;;) {
        while (p < end && blank(*p))
            p++;
        if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *stop = nl ? nl : end;
            const char *q = p + 2;
            while (stop - q >= 2 && !(q[0] == '*' && q[1] == '/'))
                q++;
            if (stop - q < 2)
                return p; /* goes on over lines: stop before it */
            p = q + 2;
            continue;
        }
        return p;
    }
}

/* Whether the spliced text has a line marker: a '#' first on a line
 * (after blanks and comments that end on it) and then a digit, whatever
 * follows (gcc expands macros there). Every line is looked at, inside a
 * comment or a raw string too: a false alarm only costs a hit. */
static bool has_line_marker_read(const char *p, const char *end, bool comments_over_lines)
{
    while (p < end) {
        const char *q = comments_over_lines ? past_blanks(p, end) : past_blanks_on_line(p, end);
        size_t h = hash_len(q, end);
        if (h) {
            q = comments_over_lines ? past_blanks(q + h, end) : past_blanks_on_line(q + h, end);
            if (q < end && *q >= '0' && *q <= '9')
                return true;
        }
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        p = nl ? nl + 1 : end;
    }
    return false;
}

/* Both readings: a comment over lines may hide a marker (`/ * c` newline
 * `* / # 1 "x" 3`), or be no comment at all (inside a raw string). */
static bool has_line_marker(const char *p, const char *end)
{
    return has_line_marker_read(p, end, false) || has_line_marker_read(p, end, true);
}

/* The check of one reading of the text (see unsplice). */
static bool declares_as(const uint8_t *d, size_t n, enum trigraphs tri)
{
    struct cs_bytes s = {0};
    if (unsplice((const char *)d, d ? n : 0, tri, &s) != CS_OK) {
        cs_bytes_free(&s);
        return true; /* cannot tell: the cautious answer */
    }
    const char *t = s.data ? (const char *)s.data : "";
    static const char pragma[] = "system_header";
    bool yes = (s.len >= sizeof pragma - 1 && memmem(t, s.len, pragma, sizeof pragma - 1)) ||
               has_line_marker(t, t + s.len);
    cs_bytes_free(&s);
    return yes;
}

bool cs_depscan_declares_system_header(const uint8_t *d, size_t n)
{
    /* With and without trigraphs: the scan cannot tell which gcc reads. */
    return declares_as(d, n, TRI_PLAIN) ||
           ((d && memmem(d, n, "?\?/", 3)) && declares_as(d, n, TRI_SPLICE));
}

/* The directives before the spliced text's first token (see depscan.h). */
static enum cs_status scan_leading(const char *p, const char *end, struct cs_strv *names)
{
    int depth = 0; /* #if nesting: gcc may leave out a token inside */
    for (;;) {
        p = past_blanks(p, end);
        if (p < end && *p == '\n') {
            p++;
            continue;
        }
        size_t h = hash_len(p, end);
        if (!h) {
            /* A token. Inside #if gcc may leave it out; a macro that expands to
             * nothing, or _Pragma, is no token to gcc: unsure, when an
             * include may follow. */
            if (p < end && (depth > 0 || memmem(p, (size_t)(end - p), "include", 7) ||
                            memmem(p, (size_t)(end - p), "import", 6)))
                return CS_ERR_INVALID;
            return CS_OK;
        }
        p = past_blanks(p + h, end);
        const char *word = p;
        while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '_'))
            p++;
        size_t n = (size_t)(p - word);
        if (word_is(word, n, "if") || word_is(word, n, "ifdef") || word_is(word, n, "ifndef"))
            depth++;
        else if (word_is(word, n, "endif"))
            depth--;
        if (word_is(word, n, "include") || word_is(word, n, "include_next") ||
            word_is(word, n, "import")) {
            p = past_blanks(p, end);
            char close = p < end && *p == '"' ? '"' : p < end && *p == '<' ? '>' : 0;
            const char *q = close ? memchr(p + 1, close, (size_t)(end - p - 1)) : NULL;
            if (!q || memchr(p + 1, '\n', (size_t)(q - p - 1)))
                return CS_ERR_INVALID; /* a macro, or no name on the line */
            enum cs_status rc = cs_strv_push_own(names, strndup(p + 1, (size_t)(q - p - 1)));
            if (rc != CS_OK || depth == 0)
                return rc; /* gcc opens it for sure: no later one is precompiled */
            p = q + 1;
        }
        p = past_directive(p, end);
    }
}

enum cs_status cs_depscan_leading_includes(const char *text, size_t len, struct cs_strv *names)
{
    struct cs_bytes s = {0};
    enum cs_status rc = unsplice(text, text ? len : 0, TRI_REFUSE, &s);
    if (rc == CS_OK)
        rc = s.data ? scan_leading((const char *)s.data, (const char *)s.data + s.len, names)
                    : CS_OK;
    cs_bytes_free(&s);
    return rc;
}
