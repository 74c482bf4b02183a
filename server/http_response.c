/* Answers: the prepared response of a request, from a one-line error to
 * an object sent from its fd (ETag, If-None-Match, zstd as stored or
 * decompressed while sent). Responses are made here and queued by http.c. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "server/http_priv.h"
#include "server/http_status.h"
#include "server/s3.h"
#include "storage/zstd_io.h"

/* An object stored as zstd has two representations, the raw body and the
 * frame as stored (Content-Encoding: zstd), and a strong ETag names one
 * (RFC 9110 8.8.3). The raw body keeps "<sha256 of the raw body>", which
 * clients may compare with a digest they know (Bazel's CAS keys); the
 * frame gets that with "-zstd" appended. */
#define ETAG_ZSTD_SUFFIX "-zstd"
#define ETAG_MAX (CS_SHA256_HEX_LEN + sizeof ETAG_ZSTD_SUFFIX + 2) /* quotes and NUL */

static void log_request_error(const struct cs_request *req, const char *method, const char *url,
                              unsigned status, const char *reason)
{
    static __thread unsigned long seq;

    cs_log(status >= 500 ? CS_LOG_ERROR : CS_LOG_DEBUG, "req %ld-%lu ns=%s %s %s: %u %s",
           (long)syscall(SYS_gettid), ++seq, req->ns ? req->ns->name : "-", method, url, status,
           reason);
}

/* A text/plain answer with a one-line reason. */
static void prepare_text(struct cs_request *req, unsigned status, const char *text)
{
    size_t len = strlen(text);
    char *body = malloc(len + 1);

    if (body) {
        memcpy(body, text, len);
        body[len] = '\n';
        req->response = MHD_create_response_from_buffer(len + 1, body, MHD_RESPMEM_MUST_FREE);
        if (!req->response)
            free(body);
    }
    if (req->response)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/plain; charset=utf-8");
    req->status = status;
}

void http_prepare_error(struct cs_request *req, const char *method, const char *url,
                        unsigned status, const char *reason)
{
    if (req->s3) { /* S3 clients read an XML error with a code */
        s3_status_error(req, status, reason);
        return;
    }
    log_request_error(req, method, url, status, reason);
    prepare_text(req, status, reason);
    if (req->response && status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"cstash\", Bearer realm=\"cstash\"");
    if (req->response && cs_http_status_retry(status))
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, CS_HTTP_RETRY_AFTER);
}

void http_prepare_method_not_allowed(struct cs_request *req, const char *method, const char *url,
                                     const char *allow)
{
    char reason[REASON_MAX];

    snprintf(reason, sizeof reason, "method %.32s is not allowed here (allowed: %s)", method,
             allow);
    http_prepare_error(req, method, url, MHD_HTTP_METHOD_NOT_ALLOWED, reason);
    if (req->response)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_ALLOW, allow);
}

void http_prepare_empty(struct cs_request *req, unsigned status)
{
    req->response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    req->status = status;
}

void http_prepare_miss(struct cs_server *srv, struct cs_request *req)
{
    req->status = MHD_HTTP_NOT_FOUND;
    if (!atomic_load_explicit(&srv->draining, memory_order_relaxed)) {
        req->response = srv->miss;
        req->shared_response = true;
    } else {
        prepare_text(req, MHD_HTTP_NOT_FOUND, "not found");
    }
}

/* The opaque tag, unquoted, into out (ETAG_MAX bytes); returns its length. */
static size_t etag_of(const struct cs_object *obj, bool as_stored, char *out)
{
    size_t n = CS_SHA256_HEX_LEN;

    cs_hex_encode(obj->etag, CS_SHA256_LEN, out);
    if (as_stored) {
        memcpy(out + n, ETAG_ZSTD_SUFFIX, sizeof ETAG_ZSTD_SUFFIX);
        n += sizeof ETAG_ZSTD_SUFFIX - 1;
    }
    out[n] = '\0';
    return n;
}

/* Two headers only: each costs libmicrohttpd allocations on the hot path.
 * No Last-Modified: no client of ours reads it (PROPFIND reports it);
 * dropping it made no measurable difference, so this is a choice of less
 * work, not a measured gain. as_stored: the body is the zstd frame. */
static void add_object_headers(struct MHD_Response *resp, const struct cs_object *obj,
                               bool as_stored)
{
    char etag[ETAG_MAX];
    size_t n;

    etag[0] = '"';
    n = etag_of(obj, as_stored, etag + 1);
    etag[n + 1] = '"';
    etag[n + 2] = '\0';
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            obj->content_type[0] ? obj->content_type : "application/octet-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
}

/* If-None-Match (RFC 9110 13.1.2): "*", or a list of entity tags compared
 * weakly (a W/ prefix is ignored) with the ETag of the representation this
 * response carries, and only that one: a client holding the frame must not
 * get a 304 for the raw body, nor the other way round. A malformed list
 * matches nothing (a full answer is always safe). */
static bool not_modified(struct MHD_Connection *conn, const struct cs_object *obj, bool as_stored)
{
    const char *p =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    char tag[ETAG_MAX];
    size_t tag_len;

    if (!p)
        return false;
    tag_len = etag_of(obj, as_stored, tag);
    for (;;) {
        const char *end;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            return false;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"')
            return false;
        end = strchr(p + 1, '"');
        if (!end)
            return false;
        if ((size_t)(end - p - 1) == tag_len && memcmp(p + 1, tag, tag_len) == 0)
            return true;
        p = end + 1;
        if (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
            return false;
    }
}

/* Whether the client takes zstd as it is stored (Accept-Encoding: zstd,
 * without q=0). */
static bool accepts_zstd(struct MHD_Connection *conn)
{
    const char *ae =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    const char *p = ae ? strcasestr(ae, "zstd") : NULL;

    if (!p)
        return false;
    p += 4;
    while (*p == ' ')
        p++;
    if (*p != ';')
        return true;
    p = strchr(p, '=');
    return !(p && strtod(p + 1, NULL) == 0.0);
}

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    ssize_t n = cs_body_reader_read(cls, buf, max);

    (void)pos;
    if (n < 0) {
        cs_log(CS_LOG_ERROR, "a compressed object failed to decompress while being sent: %s",
               cs_strerror((enum cs_status)n));
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void close_body(void *cls)
{
    cs_body_reader_close(cls);
}

/* HEAD of a body that would be decompressed: its length, and no
 * decompressor (libmicrohttpd never reads a HEAD's body). */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

struct MHD_Response *http_head_response(uint64_t size)
{
    return MHD_create_response_from_callback(size, 4096, no_body, NULL, NULL);
}

/* The response takes what obj holds: obj's fd or body is handed over. */
static struct MHD_Response *from_fd(struct cs_object *obj, uint64_t size)
{
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(size, obj->fd, obj->offset);

    if (resp)
        obj->fd = -1;
    return resp;
}

static struct MHD_Response *from_body(struct cs_object *obj)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(obj->size, obj->body, MHD_RESPMEM_MUST_FREE);

    if (resp)
        obj->body = NULL;
    return resp;
}

/* A body stored compressed, too large to have been decompressed into
 * memory: sent as stored (as_stored, for clients that take zstd), else
 * decompressed while it is sent. CS_OK and *out, or why not. */
static enum cs_status compressed_response(struct cs_request *req, struct cs_object *obj,
                                          bool as_stored, bool head, struct MHD_Response **out)
{
    struct cs_body_reader *r;
    enum cs_status st;

    if (as_stored) {
        req->sent_bytes = obj->stored_size;
        *out = from_fd(obj, obj->stored_size);
        if (*out)
            MHD_add_response_header(*out, MHD_HTTP_HEADER_CONTENT_ENCODING, "zstd");
        return *out ? CS_OK : CS_ERR_NOMEM;
    }
    if (head) {
        *out = http_head_response(obj->size);
        return *out ? CS_OK : CS_ERR_NOMEM;
    }
    st = cs_body_reader_open(obj, &r); /* takes obj's fd, success or not */
    if (st != CS_OK)
        return st;
    *out = MHD_create_response_from_callback(obj->size, 64 * 1024, read_body, r, close_body);
    if (!*out) {
        cs_body_reader_close(r);
        return CS_ERR_NOMEM;
    }
    return CS_OK;
}

enum cs_status http_prepare_object(struct cs_request *req, struct MHD_Connection *conn,
                                   struct cs_object *obj, bool head)
{
    enum cs_status st = CS_OK;

    /* The representation is chosen first; ETag and If-None-Match follow
     * it. Bodies up to HOT_OBJECT_MAX are sent raw (a GET the memory tier
     * may keep has them decompressed in memory, others decompress them as
     * they are sent), so a HEAD, which opens none into memory, and a
     * conditional GET choose what any GET would. */
    bool as_stored = obj->zstd && !obj->body && obj->size > HOT_OBJECT_MAX && accepts_zstd(conn);

    req->status = MHD_HTTP_OK;
    req->sent_bytes = obj->size;
    if (not_modified(conn, obj, as_stored)) {
        req->status = MHD_HTTP_NOT_MODIFIED;
        req->response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else if (obj->body) {
        req->response = from_body(obj);
    } else if (obj->zstd) {
        st = compressed_response(req, obj, as_stored, head, &req->response);
    } else {
        /* GET streams with sendfile; HEAD reports the same length, unsent */
        req->response = from_fd(obj, obj->size);
    }
    if (st == CS_OK && !req->response)
        st = CS_ERR_NOMEM;
    if (st == CS_OK) {
        add_object_headers(req->response, obj, as_stored);
        if (obj->zstd)
            MHD_add_response_header(req->response, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    }
    cs_object_release(obj); /* what the response did not take */
    return st;
}

/* A WebDAV handler's reply becomes the response. */
void http_prepare_reply(struct cs_request *req, struct cs_reply *r, const char *method,
                        const char *url)
{
    if (r->error) {
        size_t n = r->body.len;
        char line[REASON_MAX];
        snprintf(line, sizeof line, "%.*s", (int)(n && r->body.data[n - 1] == '\n' ? n - 1 : n),
                 r->body.data ? r->body.data : "");
        log_request_error(req, method, url, r->status, line);
    }
    if (r->body.len) {
        req->response =
            MHD_create_response_from_buffer(r->body.len, r->body.data, MHD_RESPMEM_MUST_FREE);
        if (req->response)
            r->body.data = NULL; /* the response owns it now */
    } else {
        req->response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    req->status = r->status;
    if (req->response && r->content_type)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (req->response && r->allow)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (req->response && r->dav_header)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_DAV, "1");
    if (req->response && (r->no_store || r->page))
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (req->response && r->page) {
        /* its own script and style sheet, fetches to this origin; nothing
         * else, no inline script, and no framing (clickjacking) */
        MHD_add_response_header(req->response, "Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self'; "
                                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                                "form-action 'none'");
        MHD_add_response_header(req->response, "X-Frame-Options", "DENY");
        MHD_add_response_header(req->response, "X-Content-Type-Options", "nosniff");
    }
    if (req->response && r->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"cstash\", Bearer realm=\"cstash\"");
    if (req->response && cs_http_status_retry(r->status))
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, CS_HTTP_RETRY_AFTER);
    cs_reply_free(r);
}
