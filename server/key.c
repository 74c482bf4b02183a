/* Key decoding and validation. libmicrohttpd is told not to unescape the
 * path (see http.c), so %00 and %2e%2e reach this code and are judged after
 * decoding, where they would do harm. */
#include "autoconfig.h"

#include <string.h>

#include "common/hash.h"
#include "server/key.h"

static enum cs_status percent_decode(const char *raw, size_t raw_len, char *out, size_t *out_len,
                                     const char **reason)
{
    size_t i = 0, n = 0;

    while (i < raw_len) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = i + 2 < raw_len ? cs_hex_digit(raw[i + 1]) : -1;
            int lo = i + 2 < raw_len ? cs_hex_digit(raw[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *reason = "invalid percent-encoding in key";
                return CS_ERR_BAD_KEY;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 3;
        } else {
            i++;
        }
        if (n == CS_KEY_MAX) {
            *reason = "key longer than 1024 bytes";
            return CS_ERR_BAD_KEY;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    *out_len = n;
    return CS_OK;
}

static enum cs_status check_segments(const char *key, size_t len, const char **reason)
{
    size_t start = 0, i;

    if (len == 0) {
        *reason = "empty key";
        return CS_ERR_BAD_KEY;
    }
    for (i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)key[i] : '/';
        if (c < 0x20 || c == 0x7f) {
            *reason = "key contains a NUL or control character";
            return CS_ERR_BAD_KEY;
        }
        if (c != '/')
            continue;
        size_t seg = i - start;
        if (seg == 0) {
            *reason = "key contains an empty segment (leading, trailing or double slash)";
            return CS_ERR_BAD_KEY;
        }
        if ((seg == 1 && key[start] == '.') ||
            (seg == 2 && key[start] == '.' && key[start + 1] == '.')) {
            *reason = "key contains a '.' or '..' segment";
            return CS_ERR_BAD_KEY;
        }
        if (seg > CS_KEY_SEGMENT_MAX) {
            *reason = "key segment longer than 255 bytes";
            return CS_ERR_BAD_KEY;
        }
        start = i + 1;
    }
    return CS_OK;
}

enum cs_status cs_key_normalize(const char *raw, size_t raw_len, char *out, size_t *out_len,
                                const char **reason)
{
    enum cs_status st = percent_decode(raw, raw_len, out, out_len, reason);
    if (st != CS_OK)
        return st;
    return check_segments(out, *out_len, reason);
}

enum cs_status cs_key_validate(const char *key, size_t len, const char **reason)
{
    if (len > CS_KEY_MAX) {
        *reason = "key longer than 1024 bytes";
        return CS_ERR_BAD_KEY;
    }
    return check_segments(key, len, reason);
}

bool cs_namespace_name_valid(const char *name, size_t len)
{
    size_t i;

    if (len == 0 || len > CS_NAMESPACE_MAX)
        return false;
    if (name[0] == '.' || name[0] == '_' || name[0] == '-')
        return false;
    for (i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}
