/* The Destination header of WebDAV MOVE and COPY: an absolute URI or an
 * absolute path. Only targets on this server, in the same namespace as
 * the source, are accepted; the key is decoded and validated like any
 * request path, so traversal and control characters are refused. */
#ifndef CS_DESTINATION_H
#define CS_DESTINATION_H

#include "server/route.h"

/* host is the request's Host header (may be NULL). On success dst is the
 * parsed route. Errors, each with a one-line reason:
 *   CS_ERR_INVALID   missing or malformed header, or a key that fails validation (400)
 *   CS_ERR_CONFLICT  another server (502 Bad Gateway, RFC 4918 9.9.4)
 *   CS_ERR_PERM      another namespace or the server's own space (403) */
enum cs_status cs_destination_parse(const struct cs_config *cfg, const char *header,
                                    const char *host, const struct cs_route *src,
                                    struct cs_route *dst, char *reason, size_t reason_len);

#endif
