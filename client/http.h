/* A small HTTP/1.1 client for plain http:// remotes: GET and PUT on one
 * keep-alive connection, with a connect timeout and a deadline per
 * request. It exists because loading libcurl costs a compile hit ~10 ms
 * (32 shared libraries); https:// still goes through libcurl. */
#ifndef CS_CLIENT_HTTP_H
#define CS_CLIENT_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "client/util.h"

struct cs_http;

/* Parses http://[user:pass@]host[:port][/path]; NULL with *why on a bad URL.
 * token (may be NULL) is sent as a bearer token. */
struct cs_http *cs_http_open(const char *url, const char *token, uint32_t connect_timeout_ms,
                             uint32_t timeout_ms, const char **why);
/* One request to <path>/<rel>; *status is the HTTP status. out (GET) gets
 * the body. CS_ERR_BUSY on a timeout, CS_ERR_IO on other failures. */
enum cs_status cs_http_request(struct cs_http *h, const char *method, const char *rel,
                               const void *body, size_t len, struct cs_bytes *out, int *status);
/* Whether the last failure means the server is away (refused, timed out). */
bool cs_http_unreachable(const struct cs_http *h);
const char *cs_http_error(const struct cs_http *h);
/* The first line of the last non-200 answer's body (a server's one-line
 * reason), "" when it had none or a large one. */
const char *cs_http_reason(const struct cs_http *h);
void cs_http_close(struct cs_http *h);

#endif
