/* Scans for depend mode (see depscan.h). Both work on the text as the
 * preprocessor sees it after its first phases: backslash-newline splices
 * (also "??/" and blanks before the newline) removed, and "%:" and "??="
 * read as '#'. Where they cannot be sure, they answer the cautious way. */
#include "autoconfig.h"

#include "client/depscan.h"

#include <string.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r';
}

/* The length of a splice at p (a backslash or "??/", blanks, a newline),
 * 0 if none. */
static size_t splice_len(const char *p, const char *end)
{
    size_t k = 0;
    if (p < end && *p == '\\')
        k = 1;
    else if (end - p >= 3 && p[0] == '?' && p[1] == '?' && p[2] == '/')
        k = 3; /* a splice only with trigraphs on: see unsplice */
    else
        return 0;
    while (p + k < end && blank(p[k]))
        k++;
    return p + k < end && p[k] == '\n' ? k + 1 : 0;
}

/* text[0..n) without its splices (and a UTF-8 byte order mark), into out.
 * Whether "??/" splices depends on -trigraphs: CS_ERR_INVALID for one
 * unless trigraph_ok (then it is taken as one). */
static enum cs_status unsplice(const char *text, size_t n, bool trigraph_ok, struct cs_bytes *out)
{
    size_t i = n >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
    enum cs_status rc = cs_bytes_append(out, "", 0);
    while (rc == CS_OK && i < n) {
        size_t q = i, k = 0;
        while (q < n && !(k = splice_len(text + q, text + n)))
            q++;
        if (k && text[q] == '?' && !trigraph_ok)
            return CS_ERR_INVALID;
        rc = cs_bytes_append(out, text + i, q - i);
        i = q + k;
    }
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
static const char *skip_comment(const char *p, const char *end)
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
static const char *skip_blanks(const char *p, const char *end)
{
    for (;;) {
        while (p < end && blank(*p))
            p++;
        const char *q = skip_comment(p, end);
        if (q == p)
            return p;
        p = q;
    }
}

/* Past the end of a directive's line: string and character literals, and
 * comments that go on over lines. */
static const char *skip_line(const char *p, const char *end)
{
    while (p < end && *p != '\n') {
        const char *q = skip_comment(p, end);
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

/* Whether the spliced text has a line marker: a '#' first on a line
 * (after blanks and comments) and then a digit, whatever follows it (gcc
 * expands macros there). */
static bool has_line_marker(const char *p, const char *end)
{
    while (p < end) {
        const char *q = skip_blanks(p, end);
        size_t h = hash_len(q, end);
        if (h) {
            q = skip_blanks(q + h, end);
            if (q < end && *q >= '0' && *q <= '9')
                return true;
        }
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        p = nl ? nl + 1 : end;
    }
    return false;
}

bool cs_depscan_declares_system_header(const uint8_t *d, size_t n)
{
    struct cs_bytes s = {0};
    if (unsplice((const char *)d, d ? n : 0, true, &s) != CS_OK) {
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

/* The directives before the spliced text's first token (see depscan.h). */
static enum cs_status scan_leading(const char *p, const char *end, struct cs_strv *names)
{
    int depth = 0; /* #if nesting: a token inside may be one gcc skips */
    for (;;) {
        p = skip_blanks(p, end);
        if (p < end && *p == '\n') {
            p++;
            continue;
        }
        size_t h = hash_len(p, end);
        if (!h)
            return p < end && depth > 0 ? CS_ERR_INVALID : CS_OK;
        p = skip_blanks(p + h, end);
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
            p = skip_blanks(p, end);
            char close = p < end && *p == '"' ? '"' : p < end && *p == '<' ? '>' : 0;
            const char *q = close ? memchr(p + 1, close, (size_t)(end - p - 1)) : NULL;
            if (!q || memchr(p + 1, '\n', (size_t)(q - p - 1)))
                return CS_ERR_INVALID; /* a macro, or no name on the line */
            enum cs_status rc = cs_strv_push_own(names, strndup(p + 1, (size_t)(q - p - 1)));
            if (rc != CS_OK || depth == 0)
                return rc; /* gcc opens it for sure: no later one is precompiled */
            p = q + 1;
        }
        p = skip_line(p, end);
    }
}

enum cs_status cs_depscan_leading_includes(const char *text, size_t len, struct cs_strv *names)
{
    struct cs_bytes s = {0};
    enum cs_status rc = unsplice(text, text ? len : 0, false, &s);
    if (rc == CS_OK)
        rc = s.data ? scan_leading((const char *)s.data, (const char *)s.data + s.len, names)
                    : CS_OK;
    cs_bytes_free(&s);
    return rc;
}
