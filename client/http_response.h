/* The parse of an HTTP/1.1 response from bytes in memory: the status line
 * and headers, then the body as its framing (Content-Length, chunked, or
 * until the server closes) delimits it. No socket here: client/http.c
 * feeds what it reads, tests/fuzz/fuzz_http_response.c what it makes up.
 * Pure functions of their arguments, so thread-safe. */
#ifndef CS_CLIENT_HTTP_RESPONSE_H
#define CS_CLIENT_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/util.h"

/* The longest line of a head that limits may allow (a stack buffer). */
#define CS_HTTP_LINE_MAX 8192

/* What a response may make the client hold. */
struct cs_http_limits {
    size_t head;   /* the status line, the headers and the empty line after them */
    size_t line;   /* one line of the head, without its line end (< CS_HTTP_LINE_MAX) */
    uint64_t body; /* the body, without its chunk framing */
};
/* 64 KiB of head, 8 KiB lines, 1 GiB of body. */
extern const struct cs_http_limits cs_http_limits_default;

enum cs_http_framing {
    CS_HTTP_NO_BODY,     /* HEAD, 1xx, 204, 304 */
    CS_HTTP_LENGTH,      /* Content-Length */
    CS_HTTP_CHUNKED,     /* Transfer-Encoding: chunked */
    CS_HTTP_UNTIL_CLOSE, /* neither: the body ends with the connection */
};

struct cs_http_head {
    int major, minor, status;
    enum cs_http_framing framing;
    uint64_t length; /* CS_HTTP_LENGTH: the body's size */
    bool close;      /* the connection cannot carry another request */
};

/* Parses the head at the front of buf[0..len), the answer to a HEAD
 * request when head_request. CS_OK and *used > 0: *head is filled and the
 * head took *used bytes; CS_OK and *used == 0: the head is not complete
 * yet (call again with more bytes); CS_ERR_INVALID: not a response, or
 * over lim, with a static one-line *why. */
enum cs_status cs_http_head_parse(const uint8_t *buf, size_t len, bool head_request,
                                  const struct cs_http_limits *lim, struct cs_http_head *head,
                                  size_t *used, const char **why);

/* The state of a body being decoded. */
struct cs_http_body {
    enum cs_http_framing framing;
    uint64_t max;  /* lim->body */
    uint64_t seen; /* body bytes delivered so far */
    uint64_t left; /* CS_HTTP_LENGTH: bytes to come; chunked: of the current chunk */
    int step;      /* chunked: where in the framing the next byte is */
    bool done;     /* the body is complete */
};

/* Starts the body that head announces; CS_ERR_INVALID when its
 * Content-Length is over lim->body. */
enum cs_status cs_http_body_start(struct cs_http_body *b, const struct cs_http_head *head,
                                  const struct cs_http_limits *lim);
/* Takes body bytes from the front of data[0..len) and appends the body
 * they hold to out (NULL: dropped); *used is how many it took. It takes
 * fewer than len when the body is done (the rest belongs to the next
 * response) or when the rest is a part of a chunk line or of a body that
 * ends with the connection: call again with those bytes and more.
 * CS_ERR_INVALID on bad framing or a body over the limit. */
enum cs_status cs_http_body_feed(struct cs_http_body *b, const uint8_t *data, size_t len,
                                 struct cs_bytes *out, size_t *used);
/* The connection ended with data[0..len) not taken: the end of a body
 * that ends with the connection (appended to out), else a body cut short
 * (CS_ERR_IO). */
enum cs_status cs_http_body_end(struct cs_http_body *b, const uint8_t *data, size_t len,
                                struct cs_bytes *out);

#endif
