/* XML escaping, percent-encoding and dates (see text.h). Shared by
 * propfind.c and s3_xml.c so that both answer formats treat key bytes the
 * same way. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "server/text.h"

/* Length of the well-formed UTF-8 sequence at s (n bytes left) that
 * encodes an XML 1.0 Char, or 0. Strict (RFC 3629): no overlong forms, no
 * surrogates, nothing past U+10FFFF; XML also excludes C0 controls other
 * than tab, CR and LF, and U+FFFE/U+FFFF. */
static size_t xml_char_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len, i;
    uint32_t cp;

    if (c < 0x80)
        return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0; /* overlong, or past Unicode */
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return len;
}

bool cs_xml_text_exact(const char *s, size_t n)
{
    size_t i = 0, len;

    while (i < n) {
        len = xml_char_len((const unsigned char *)s + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

/* The entity for a byte that must not appear as itself, or NULL. */
static const char *xml_entity(char c)
{
    switch (c) {
    case '<': return "&lt;";
    case '>': return "&gt;"; /* only "]]>" needs it; simpler to always */
    case '&': return "&amp;";
    case '"': return "&quot;";
    case '\r': return "&#13;";
    default: return NULL;
    }
}

enum cs_status cs_xml_escape(struct cs_buf *out, const char *s, size_t n)
{
    size_t i = 0, run = 0, len;
    const char *ent;

    /* copy runs of plain characters in one call: listings escape every key */
    while (i < n) {
        ent = xml_entity(s[i]);
        len = ent ? 0 : xml_char_len((const unsigned char *)s + i, n - i);
        if (ent || len == 0) {
            cs_buf_add(out, s + run, i - run);
            if (ent)
                cs_buf_add(out, ent, strlen(ent));
            else
                cs_buf_add(out, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
            run = ++i;
            continue;
        }
        i += len;
    }
    cs_buf_add(out, s + run, n - run);
    return out->overflow ? out->err : CS_OK;
}

static bool url_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '/';
}

enum cs_status cs_url_encode(struct cs_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, run = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (url_unreserved(c))
            continue;
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        cs_buf_add(out, s + run, i - run);
        cs_buf_add(out, esc, 3);
        run = i + 1;
    }
    cs_buf_add(out, s + run, n - run);
    return out->overflow ? out->err : CS_OK;
}

static bool utc(time_t t, struct tm *tm, char *out, size_t len)
{
    if (len)
        out[0] = '\0';
    return gmtime_r(&t, tm) != NULL && tm->tm_year >= -1900 && tm->tm_year <= 9999 - 1900;
}

enum cs_status cs_iso8601_ms(time_t t, int ms, char *out, size_t len)
{
    struct tm tm;

    if (len < CS_ISO8601_LEN || ms < 0 || ms > 999 || !utc(t, &tm, out, len))
        return CS_ERR_INVALID;
    snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return CS_OK;
}

enum cs_status cs_imf_date(time_t t, char *out, size_t len)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    if (len < CS_IMF_DATE_LEN || !utc(t, &tm, out, len))
        return CS_ERR_INVALID;
    snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return CS_OK;
}

enum cs_status cs_parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    bool over = false;
    size_t i;

    if (n == 0)
        return CS_ERR_INVALID;
    for (i = 0; i < n; i++) {
        uint64_t d;

        if (s[i] < '0' || s[i] > '9')
            return CS_ERR_INVALID;
        d = (uint64_t)(s[i] - '0');
        if (!over && (d > max || v > (max - d) / 10))
            over = true; /* keep checking that the rest are digits */
        else if (!over)
            v = v * 10 + d;
    }
    *out = over ? max : v;
    return CS_OK;
}
