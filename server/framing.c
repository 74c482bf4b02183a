/* Request framing checks: see framing.h. */
#include "autoconfig.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "server/framing.h"

struct framing {
    unsigned content_length, transfer_encoding;
    size_t bytes;   /* names, values, ": " and CRLF */
    const char *te; /* the Transfer-Encoding value */
    bool bad_name;
};

/* RFC 9110 5.1: a field name is a token (these are the bytes a token may
 * hold). libmicrohttpd keeps whatever precedes the colon, so
 * "Content-Length : 5" would be a header of another name, which neither it
 * nor we take as framing while a proxy may. A table: this runs for every
 * header of every request. */
static const bool tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,  ['~'] = 1, ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,  ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,  ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,  ['N'] = 1, ['O'] = 1,
    ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,  ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,  ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,  ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,  ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* The length of key when it is a token, else 0. */
static size_t token_len(const char *key)
{
    const unsigned char *p = (const unsigned char *)key;

    while (tchar[*p])
        p++;
    return *p ? 0 : (size_t)(p - (const unsigned char *)key);
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct framing *f = cls;
    size_t n = token_len(key);

    (void)kind;
    f->bytes += (n ? n : strlen(key)) + (value ? strlen(value) : 0) + 4;
    if (n == 0) {
        f->bad_name = true;
    } else if (n == sizeof MHD_HTTP_HEADER_CONTENT_LENGTH - 1 &&
               strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->content_length++;
    } else if (n == sizeof MHD_HTTP_HEADER_TRANSFER_ENCODING - 1 &&
               strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        f->te = value;
    }
    return MHD_YES;
}

/* libmicrohttpd keeps the request line in one buffer: the target runs from
 * url to the space before version. A C string shorter than that held a NUL
 * byte (the version is "HTTP/1.x" there; a request line without one is
 * refused by libmicrohttpd before it gets here). */
static bool target_has_nul(const char *url, const char *version, size_t target_len)
{
    if (target_len == (size_t)-1 || strncmp(version, "HTTP/", 5) != 0 || version <= url)
        return false;
    return (size_t)(version - url) - 1 != target_len;
}

const char *cs_framing_check(struct MHD_Connection *conn, const char *url, const char *version,
                             size_t target_len, unsigned *status, size_t *header_bytes)
{
    struct framing f = {0, 0, 0, NULL, false};

    *status = MHD_HTTP_BAD_REQUEST;
    *header_bytes = 0;
    if (target_has_nul(url, version, target_len))
        return "request target contains a NUL byte";
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &f);
    *header_bytes = f.bytes;
    if (f.bad_name)
        return "a header field name is not a token (space before the colon?)";
    if (f.content_length > 1)
        return "more than one Content-Length header (RFC 9112 6.3)";
    if (f.transfer_encoding > 1)
        return "more than one Transfer-Encoding header";
    if (f.transfer_encoding && f.content_length)
        return "Content-Length together with Transfer-Encoding: the body's length is ambiguous "
               "(RFC 9112 6.1)";
    /* RFC 9112 6.1: HTTP/1.0 has no transfer codings; such framing is faulty */
    if (f.te && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
        return "Transfer-Encoding in an HTTP/1.0 request";
    if (f.te && strcasecmp(f.te, "chunked") != 0) {
        *status = MHD_HTTP_NOT_IMPLEMENTED;
        return "Transfer-Encoding other than chunked is not supported";
    }
    return NULL;
}
