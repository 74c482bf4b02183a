/* libFuzzer: the cstash client's parse of an HTTP response (what a remote,
 * or anyone between, sends). The first bytes choose small limits, a HEAD
 * request or not, and how the bytes are split as if read from a socket;
 * the rest is the response. Beyond memory errors, it checks properties
 * the parse promises whatever the input:
 * - a complete head does not depend on the bytes after it, and no
 *   shorter prefix of it is complete;
 * - a body decodes the same fed whole or in pieces, never grows past the
 *   body limit, and a complete body is what its framing delimits: the
 *   Content-Length, every byte to the end, or chunks that re-encode and
 *   decode to the same bytes. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "property failed: %s (line %d)\n", #cond, __LINE__);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The outcome of decoding a body. */
struct decoded {
    enum cs_status rc; /* of the first failing call, or of the last */
    bool done;
    size_t used; /* bytes taken as the body and its framing */
    struct cs_bytes body;
};

/* Decodes buf[0..len) as a socket reader would: the bytes arrive in
 * pieces of the sizes in splits (cycled; 0 means all at once), the
 * untaken rest of each feed is kept and fed again with the next piece, and
 * the end of buf is the connection's end when eof. */
static struct decoded decode(const struct cs_http_head *head, const struct cs_http_limits *lim,
                             const uint8_t *buf, size_t len, const uint8_t *splits, size_t nsplits,
                             bool eof)
{
    struct decoded d = {0};
    struct cs_http_body b;
    size_t start = 0, end = 0, k = 0; /* buf[start..end) arrived, not taken */
    d.rc = cs_http_body_start(&b, head, lim);
    while (d.rc == CS_OK) {
        size_t used;
        d.rc = cs_http_body_feed(&b, buf + start, end - start, &d.body, &used);
        if (d.rc != CS_OK)
            break;
        CHECK(used <= end - start);
        CHECK(b.seen <= lim->body && d.body.len <= lim->body);
        start += used;
        if (b.done)
            break;
        if (end == len) {
            if (eof)
                d.rc = cs_http_body_end(&b, buf + start, end - start, &d.body);
            if (d.rc == CS_OK && eof)
                start = end;
            break;
        }
        size_t piece = nsplits ? splits[k++ % nsplits] : len;
        end = piece && piece < len - end ? end + piece : len;
    }
    CHECK(d.body.len <= lim->body);
    d.done = d.rc == CS_OK && b.done;
    d.used = start;
    return d;
}

static bool same(const struct decoded *a, const struct decoded *b)
{
    return a->rc == b->rc && a->done == b->done && (!a->done || a->used == b->used) &&
           a->body.len == b->body.len &&
           (!a->body.len || !memcmp(a->body.data, b->body.data, a->body.len));
}

/* body in chunks of the sizes in splits, then the last chunk. */
static void chunk(const struct cs_bytes *body, const uint8_t *splits, size_t nsplits,
                  struct cs_bytes *out)
{
    char line[32];
    for (size_t off = 0, k = 0; off < body->len; k++) {
        size_t n = nsplits && splits[k % nsplits] ? splits[k % nsplits] : body->len;
        if (n > body->len - off)
            n = body->len - off;
        snprintf(line, sizeof line, "%zx\r\n", n);
        cs_bytes_append_str(out, line);
        cs_bytes_append(out, body->data + off, n);
        cs_bytes_append_str(out, "\r\n");
        off += n;
    }
    cs_bytes_append_str(out, "0\r\n\r\n");
}

static bool same_head(const struct cs_http_head *a, const struct cs_http_head *b)
{
    return a->major == b->major && a->minor == b->minor && a->status == b->status &&
           a->framing == b->framing && a->length == b->length && a->close == b->close;
}

static void check_head(const uint8_t *buf, size_t len, bool head_request,
                       const struct cs_http_limits *lim, const struct cs_http_head *head,
                       size_t used)
{
    struct cs_http_head again;
    size_t used2;
    const char *why = NULL;
    CHECK(used <= len && used <= lim->head);
    /* The same head from exactly its bytes. */
    CHECK(cs_http_head_parse(buf, used, head_request, lim, &again, &used2, &why) == CS_OK);
    CHECK(used2 == used && same_head(head, &again));
    /* One byte less is never a complete head. */
    enum cs_status rc = cs_http_head_parse(buf, used - 1, head_request, lim, &again, &used2, &why);
    CHECK(rc != CS_OK || used2 == 0);
    CHECK(head->framing != CS_HTTP_UNTIL_CLOSE || head->close);
    CHECK(head->framing == CS_HTTP_LENGTH || head->length == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    /* limits small enough for the fuzzer to reach, and never 0 */
    struct cs_http_limits lim = {
        .head = 1 + (size_t)data[0] * 8,
        .line = 1 + data[1] % 200,
        .body = data[2] == 0xff ? cs_http_limits_default.body : (uint64_t)data[2] * 4,
    };
    bool head_request = data[3] & 1, eof = data[3] & 2;
    size_t nsplits = 1 + data[4] % 4;
    const uint8_t *splits = data + 5;
    if (size < 5 + nsplits)
        return 0;
    const uint8_t *buf = data + 5 + nsplits;
    size_t len = size - 5 - nsplits;

    struct cs_http_head head;
    size_t used = 0;
    const char *why = NULL;
    enum cs_status rc = cs_http_head_parse(buf, len, head_request, &lim, &head, &used, &why);
    CHECK(rc == CS_OK || rc == CS_ERR_INVALID);
    CHECK(rc == CS_OK || (why && why[0]));
    if (rc != CS_OK || !used)
        return 0;
    check_head(buf, len, head_request, &lim, &head, used);

    const uint8_t *rest = buf + used;
    size_t rest_len = len - used;
    struct decoded whole = decode(&head, &lim, rest, rest_len, NULL, 0, eof);
    struct decoded pieces = decode(&head, &lim, rest, rest_len, splits, nsplits, eof);
    CHECK(same(&whole, &pieces));
    CHECK(whole.used <= rest_len && (!whole.done || whole.body.len <= whole.used));
    if (whole.done) {
        /* What the framing delimits, and nothing after it is looked at. */
        if (head.framing == CS_HTTP_NO_BODY)
            CHECK(whole.used == 0);
        if (head.framing == CS_HTTP_LENGTH)
            CHECK(whole.body.len == head.length && whole.used == head.length);
        if (head.framing == CS_HTTP_UNTIL_CLOSE)
            CHECK(eof && whole.used == rest_len && whole.body.len == rest_len);
        struct decoded prefix = decode(&head, &lim, rest, whole.used, splits, nsplits, eof);
        CHECK(same(&whole, &prefix));
        cs_bytes_free(&prefix.body);
    }
    if (whole.done && head.framing == CS_HTTP_CHUNKED) {
        struct cs_bytes enc = {0};
        chunk(&whole.body, splits, nsplits, &enc);
        struct decoded re = decode(&head, &lim, enc.data, enc.len, NULL, 0, false);
        CHECK(re.done && re.used == enc.len && re.body.len == whole.body.len);
        CHECK(!re.body.len || !memcmp(re.body.data, whole.body.data, re.body.len));
        cs_bytes_free(&re.body);
        cs_bytes_free(&enc);
    }
    cs_bytes_free(&whole.body);
    cs_bytes_free(&pieces.body);
    return 0;
}
