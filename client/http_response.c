/* An HTTP/1.1 response parsed from memory: the head in one pass over a
 * buffer, the body by a small state machine fed as bytes arrive. */
#include "autoconfig.h"

#include "client/http_response.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A chunk-size line or a trailer, without its line end. */
#define CHUNK_LINE_MAX 256

const struct cs_http_limits cs_http_limits_default = {
    .head = 64 * 1024,
    .line = CS_HTTP_LINE_MAX - 1,
    .body = (uint64_t)1 << 30,
};

/* The line at the front of buf[0..len), ended by LF (a CR before it is
 * dropped), copied to line[] as a C string. *used: the bytes it took with
 * its end, 0 when it is not complete yet. CS_ERR_INVALID when it is cap
 * bytes or longer. */
static enum cs_status take_line(const uint8_t *buf, size_t len, char *line, size_t cap,
                                size_t *used)
{
    const uint8_t *nl = len ? memchr(buf, '\n', len) : NULL;
    *used = 0;
    if (!nl)
        return len > cap ? CS_ERR_INVALID : CS_OK;
    size_t n = (size_t)(nl - buf);
    if (n >= cap)
        return CS_ERR_INVALID;
    memcpy(line, buf, n);
    line[n] = '\0';
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    *used = n + 1;
    return CS_OK;
}

/* What one header line says about the framing and the connection. */
static void header_line(char *line, int64_t *clen, bool *chunked, bool *close)
{
    char *v = strchr(line, ':');
    if (!v)
        return;
    *v++ = '\0';
    while (*v == ' ' || *v == '\t')
        v++;
    if (!strcasecmp(line, "Content-Length"))
        *clen = strtoll(v, NULL, 10);
    else if (!strcasecmp(line, "Transfer-Encoding") && strcasestr(v, "chunked"))
        *chunked = true;
    else if (!strcasecmp(line, "Connection") && strcasestr(v, "close"))
        *close = true;
}

static enum cs_http_framing framing_of(int status, bool head_request, bool chunked, int64_t clen)
{
    if (head_request || status == 204 || status == 304 || (status >= 100 && status < 200))
        return CS_HTTP_NO_BODY;
    if (chunked)
        return CS_HTTP_CHUNKED;
    return clen >= 0 ? CS_HTTP_LENGTH : CS_HTTP_UNTIL_CLOSE;
}

enum cs_status cs_http_head_parse(const uint8_t *buf, size_t len, bool head_request,
                                  const struct cs_http_limits *lim, struct cs_http_head *head,
                                  size_t *used, const char **why)
{
    char line[CS_HTTP_LINE_MAX];
    size_t cap = lim->line < sizeof line ? lim->line + 1 : sizeof line;
    size_t pos = 0, n;
    int64_t clen = -1;
    bool chunked = false;
    *used = 0;
    memset(head, 0, sizeof *head);
    if (!len)
        return CS_OK;
    for (int i = 0;; i++) {
        if (take_line(buf + pos, len - pos, line, cap, &n) != CS_OK) {
            *why = "response header line too long";
            return CS_ERR_INVALID;
        }
        if (pos + (n ? n : len - pos) > lim->head) {
            *why = "response headers too large";
            return CS_ERR_INVALID;
        }
        if (n == 0)
            return CS_OK; /* more to come */
        pos += n;
        if (i == 0) {
            if (sscanf(line, "HTTP/%d.%d %d", &head->major, &head->minor, &head->status) != 3) {
                *why = "not an HTTP response";
                return CS_ERR_INVALID;
            }
            head->close = head->major == 1 && head->minor == 0;
            continue;
        }
        if (!line[0])
            break;
        header_line(line, &clen, &chunked, &head->close);
    }
    head->framing = framing_of(head->status, head_request, chunked, clen);
    head->length = head->framing == CS_HTTP_LENGTH ? (uint64_t)clen : 0;
    if (head->framing == CS_HTTP_UNTIL_CLOSE)
        head->close = true;
    *used = pos;
    return CS_OK;
}

/* Where a chunked body is: a size line, the chunk's data, the line end
 * after the data, the trailers. */
enum { CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, CHUNK_TRAILER };

enum cs_status cs_http_body_start(struct cs_http_body *b, const struct cs_http_head *head,
                                  const struct cs_http_limits *lim)
{
    memset(b, 0, sizeof *b);
    b->framing = head->framing;
    b->max = lim->body;
    b->left = head->length;
    b->step = CHUNK_SIZE;
    b->done = head->framing == CS_HTTP_NO_BODY || (head->framing == CS_HTTP_LENGTH && !b->left);
    if (head->framing == CS_HTTP_LENGTH && head->length > lim->body)
        return CS_ERR_INVALID;
    return CS_OK;
}

/* Up to b->left bytes of data: to out, and counted. */
static enum cs_status take_data(struct cs_http_body *b, const uint8_t *data, size_t len,
                                struct cs_bytes *out, size_t *used)
{
    size_t take = b->left < len ? (size_t)b->left : len;
    if (out && cs_bytes_append(out, data, take) != CS_OK)
        return CS_ERR_NOMEM;
    b->left -= take;
    b->seen += take;
    *used = take;
    return CS_OK;
}

/* A chunk-size line: hex digits, then maybe blanks and extensions after
 * ';'. CS_ERR_INVALID for anything else or a size over max. */
static enum cs_status chunk_size(const char *line, uint64_t max, uint64_t *n)
{
    const char *s = line;
    *n = 0;
    for (; isxdigit((unsigned char)*s); s++) {
        uint64_t d = (uint64_t)(isdigit((unsigned char)*s) ? *s - '0'
                                                           : tolower((unsigned char)*s) - 'a' + 10);
        if (*n > max / 16 || d > max - *n * 16)
            return CS_ERR_INVALID;
        *n = *n * 16 + d;
    }
    bool digits = s > line;
    while (*s == ' ' || *s == '\t')
        s++;
    return digits && (!*s || *s == ';') ? CS_OK : CS_ERR_INVALID;
}

/* One step of a chunked body: a line or a piece of data. */
static enum cs_status chunked_step(struct cs_http_body *b, const uint8_t *data, size_t len,
                                   struct cs_bytes *out, size_t *used)
{
    char line[CHUNK_LINE_MAX];
    if (b->step == CHUNK_DATA) {
        enum cs_status rc = take_data(b, data, len, out, used);
        if (rc == CS_OK && !b->left)
            b->step = CHUNK_DATA_END;
        return rc;
    }
    if (take_line(data, len, line, sizeof line, used) != CS_OK)
        return CS_ERR_INVALID;
    if (!*used)
        return CS_OK;
    if (b->step == CHUNK_DATA_END) {
        if (line[0]) /* more data than the chunk's size said */
            return CS_ERR_INVALID;
        b->step = CHUNK_SIZE;
    } else if (b->step == CHUNK_TRAILER) {
        b->done = !line[0]; /* trailers end with an empty line */
    } else {
        uint64_t n;
        if (chunk_size(line, b->max - b->seen, &n) != CS_OK)
            return CS_ERR_INVALID;
        b->left = n;
        b->step = n ? CHUNK_DATA : CHUNK_TRAILER;
    }
    return CS_OK;
}

enum cs_status cs_http_body_feed(struct cs_http_body *b, const uint8_t *data, size_t len,
                                 struct cs_bytes *out, size_t *used)
{
    *used = 0;
    if (b->done)
        return CS_OK;
    if (b->framing == CS_HTTP_LENGTH) {
        enum cs_status rc = take_data(b, data, len, out, used);
        b->done = !b->left;
        return rc;
    }
    if (b->framing == CS_HTTP_UNTIL_CLOSE) {
        /* Kept by the caller until the end, refused past the limit. */
        return len > b->max ? CS_ERR_INVALID : CS_OK;
    }
    while (!b->done && *used < len) {
        size_t n;
        enum cs_status rc = chunked_step(b, data + *used, len - *used, out, &n);
        if (rc != CS_OK)
            return rc;
        if (!n)
            break; /* a line not complete yet */
        *used += n;
    }
    return CS_OK;
}

enum cs_status cs_http_body_end(struct cs_http_body *b, const uint8_t *data, size_t len,
                                struct cs_bytes *out)
{
    if (b->done)
        return CS_OK;
    if (b->framing != CS_HTTP_UNTIL_CLOSE)
        return CS_ERR_IO;
    if (len > b->max)
        return CS_ERR_INVALID;
    enum cs_status rc = out ? cs_bytes_append(out, data, len) : CS_OK;
    b->seen += len;
    b->done = rc == CS_OK;
    return rc;
}
