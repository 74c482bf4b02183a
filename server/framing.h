/* One request is one request: framing checks libmicrohttpd 0.9.75 does
 * not make. It takes the first of two Content-Length headers and runs the
 * rest of the body as a second request (request smuggling behind any
 * proxy); it cuts a request target at a NUL byte, so "PUT /ns/key\0evil"
 * stores "key"; it accepts Content-Length together with chunked. Each is
 * refused with 400 (501 for a transfer coding it cannot decode) before
 * anything is stored, and the connection is closed after the answer. */
#ifndef CS_FRAMING_H
#define CS_FRAMING_H

#include <microhttpd.h>
#include <stddef.h>

/* NULL when the request's framing is sound; else a one-line reason, and
 * *status gets the HTTP status to answer with. url and version are the
 * access handler's arguments; target_len is strlen of the target that
 * libmicrohttpd's URI-log callback saw (before it cuts the query or
 * decodes), or (size_t)-1 when unknown. The same walk over the headers
 * sums their size into *header_bytes (name, value and 4 bytes of ": " and
 * CRLF each), for limits.header_size: one walk a request, not two. */
const char *cs_framing_check(struct MHD_Connection *conn, const char *url, const char *version,
                             size_t target_len, unsigned *status, size_t *header_bytes);

#endif
