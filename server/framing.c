/* Request framing checks: see framing.h. */
#include "autoconfig.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "server/framing.h"

struct framing {
    unsigned content_length, transfer_encoding;
    bool bad_name;
};

/* RFC 9110 5.1: a field name is a token. libmicrohttpd keeps whatever
 * precedes the colon, so "Content-Length : 5" would be a header of another
 * name, which neither it nor we take as framing while a proxy may. */
static bool token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr(extra, c)))
            return false;
    }
    return true;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct framing *f = cls;

    (void)kind;
    (void)value;
    if (!token(key))
        f->bad_name = true;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        f->transfer_encoding++;
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
                             size_t target_len, unsigned *status)
{
    struct framing f = {0, 0, false};
    const char *te;

    *status = MHD_HTTP_BAD_REQUEST;
    if (target_has_nul(url, version, target_len))
        return "request target contains a NUL byte";
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &f);
    if (f.bad_name)
        return "a header field name is not a token (space before the colon?)";
    if (f.content_length > 1)
        return "more than one Content-Length header (RFC 9112 6.3)";
    if (f.transfer_encoding > 1)
        return "more than one Transfer-Encoding header";
    if (f.transfer_encoding && f.content_length)
        return "Content-Length together with Transfer-Encoding: the body's length is ambiguous "
               "(RFC 9112 6.1)";
    te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    /* RFC 9112 6.1: HTTP/1.0 has no transfer codings; such framing is faulty */
    if (te && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
        return "Transfer-Encoding in an HTTP/1.0 request";
    if (te && strcasecmp(te, "chunked") != 0) {
        *status = MHD_HTTP_NOT_IMPLEMENTED;
        return "Transfer-Encoding other than chunked is not supported";
    }
    return NULL;
}
