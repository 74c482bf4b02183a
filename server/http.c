/* Request handling on libmicrohttpd.
 *
 * libmicrohttpd calls the access handler several times per request. The
 * first call routes the request and does the storage work; the response is
 * queued on a later call, because queueing on the first call makes
 * libmicrohttpd close keep-alive connections (measured: 20k vs 71k req/s).
 * The exception is a PUT refused before its body: the response is queued at
 * once so that no "100 Continue" is sent and the body is never read.
 *
 * GET hot path: hash key → openat → fstat → response from the fd (sendfile),
 * or from a buffer for small objects (one send for headers and body). No
 * lock is shared by the threads except libmicrohttpd's own. */
#include "autoconfig.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/size.h"
#include "server/http.h"
#include "server/route.h"

/* Objects up to this size are read into memory and sent with their
 * headers in one go; larger ones are sent from the fd with sendfile. */
#define SMALL_OBJECT_MAX (32 * 1024)
/* Bytes of connection memory: bounds how much of a body one call sees. */
#define CONNECTION_MEMORY (64 * 1024)
#define CONNECTION_TIMEOUT_S 120
#define REASON_MAX 320
/* Refused bodies up to this size are read and dropped, keeping the
 * connection; larger ones get their answer before the body. */
#define DISCARD_MAX (1024 * 1024)

#define ALLOW_OBJECT "GET, HEAD, PUT, DELETE"
#define ALLOW_ADMIN "GET, HEAD"

struct cs_server {
    const struct cs_config *cfg;
    const struct cs_backend *backend;
    struct MHD_Daemon *daemons[CS_MAX_LISTEN];
    size_t n_daemons;
    struct MHD_Response *miss;     /* shared 404 for misses, the most common answer */
    atomic_uint active;
    atomic_bool draining;
};

enum method { M_GET, M_HEAD, M_PUT, M_DELETE, M_OTHER };

/* Per-request state, freed in on_completed. */
struct request {
    struct MHD_Response *response;  /* prepared, queued on the next call */
    unsigned status;
    bool shared_response;           /* srv->miss: never destroyed here */
    bool queued;
    struct cs_upload *upload;       /* PUT in progress */
    const struct cs_namespace_config *ns;
    uint64_t received;
    uint64_t limit;                 /* max_blob_size for this PUT */
};

static enum method parse_method(const char *m)
{
    switch (m[0]) {
    case 'G': return strcmp(m, "GET") == 0 ? M_GET : M_OTHER;
    case 'H': return strcmp(m, "HEAD") == 0 ? M_HEAD : M_OTHER;
    case 'P': return strcmp(m, "PUT") == 0 ? M_PUT : M_OTHER;
    case 'D': return strcmp(m, "DELETE") == 0 ? M_DELETE : M_OTHER;
    default: return M_OTHER;
    }
}

/* The one place where a storage status becomes an HTTP status. */
static unsigned http_status_for(enum cs_status st)
{
    switch (st) {
    case CS_OK: return MHD_HTTP_OK;
    case CS_ERR_NOT_FOUND: return MHD_HTTP_NOT_FOUND;
    case CS_ERR_BAD_KEY:
    case CS_ERR_INVALID: return MHD_HTTP_BAD_REQUEST;
    case CS_ERR_TOO_LARGE: return MHD_HTTP_CONTENT_TOO_LARGE;
    case CS_ERR_NO_SPACE: return MHD_HTTP_INSUFFICIENT_STORAGE;
    case CS_ERR_BUSY: return MHD_HTTP_SERVICE_UNAVAILABLE;
    case CS_ERR_NOMEM:
    case CS_ERR_IO:
    case CS_ERR_EXISTS:
    case CS_ERR_PERM: return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

static void log_request_error(const struct request *req, const char *method, const char *url,
                              unsigned status, const char *reason)
{
    static __thread unsigned long seq;

    cs_log(status >= 500 ? CS_LOG_ERROR : CS_LOG_DEBUG, "req %ld-%lu ns=%s %s %s: %u %s",
           (long)syscall(SYS_gettid), ++seq, req->ns ? req->ns->name : "-", method, url, status,
           reason);
}

/* A text/plain answer with a one-line reason. */
static void prepare_text(struct request *req, unsigned status, const char *text)
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

static void prepare_error(struct request *req, const char *method, const char *url,
                          unsigned status, const char *reason)
{
    log_request_error(req, method, url, status, reason);
    prepare_text(req, status, reason);
    if (req->response && status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"cstash\", Bearer realm=\"cstash\"");
}

static void prepare_method_not_allowed(struct request *req, const char *method, const char *url,
                                       const char *allow)
{
    char reason[REASON_MAX];

    snprintf(reason, sizeof reason, "method %.32s is not allowed here (allowed: %s)", method,
             allow);
    prepare_error(req, method, url, MHD_HTTP_METHOD_NOT_ALLOWED, reason);
    if (req->response)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_ALLOW, allow);
}

static void prepare_empty(struct request *req, unsigned status)
{
    req->response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    req->status = status;
}

static void prepare_miss(struct cs_server *srv, struct request *req)
{
    req->status = MHD_HTTP_NOT_FOUND;
    if (!atomic_load_explicit(&srv->draining, memory_order_relaxed)) {
        req->response = srv->miss;
        req->shared_response = true;
    } else {
        prepare_text(req, MHD_HTTP_NOT_FOUND, "not found");
    }
}

static void prepare_object(struct request *req, struct cs_object *obj, enum method m)
{
    req->status = MHD_HTTP_OK;
    if (m == M_GET && obj->size <= SMALL_OBJECT_MAX) {
        char *buf = malloc(obj->size ? obj->size : 1);
        ssize_t n = buf ? pread(obj->fd, buf, obj->size, 0) : -1;
        if (n == (ssize_t)obj->size) {
            close(obj->fd);
            req->response =
                MHD_create_response_from_buffer(obj->size, buf, MHD_RESPMEM_MUST_FREE);
            if (!req->response)
                free(buf);
            goto headers;
        }
        free(buf); /* short read (truncated underneath us?): fall back to the fd */
    }
    req->response = MHD_create_response_from_fd64(obj->size, obj->fd);
    if (!req->response)
        close(obj->fd);
headers:
    if (req->response)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "application/octet-stream");
}

static void handle_admin(struct request *req, const struct cs_route *r, enum method m,
                         const char *method, const char *url)
{
    if (strcmp(r->admin, "health") != 0) {
        prepare_error(req, method, url, MHD_HTTP_NOT_FOUND, "no such server endpoint");
        return;
    }
    if (m != M_GET && m != M_HEAD) {
        prepare_method_not_allowed(req, method, url, ALLOW_ADMIN);
        return;
    }
    prepare_text(req, MHD_HTTP_OK, "ok");
}

/* PUT, first call: checks that must happen before any byte of the body. */
static void begin_put(struct cs_server *srv, struct request *req, struct MHD_Connection *conn,
                      const struct cs_object_id *id, const char *method, const char *url)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_TRANSFER_ENCODING);
    struct cs_put_options opt = {.durable = req->ns->durable, .size_hint = 0};
    char reason[REASON_MAX];
    enum cs_status st;

    req->limit = req->ns->max_blob_size;
    if (cl) {
        /* libmicrohttpd has already rejected a malformed Content-Length */
        opt.size_hint = strtoull(cl, NULL, 10);
        if (opt.size_hint > req->limit) {
            char limit[32];
            cs_format_size(req->limit, limit, sizeof limit);
            snprintf(reason, sizeof reason,
                     "body of %llu bytes exceeds max_blob_size %s of namespace '%s'",
                     (unsigned long long)opt.size_hint, limit, req->ns->name);
            prepare_error(req, method, url, MHD_HTTP_CONTENT_TOO_LARGE, reason);
            return;
        }
    } else if (!te || !strcasestr(te, "chunked")) {
        prepare_error(req, method, url, MHD_HTTP_LENGTH_REQUIRED,
                      "PUT needs a Content-Length header (or chunked transfer encoding)");
        return;
    }
    st = srv->backend->ops->put_begin(srv->backend->state, id, &opt, &req->upload);
    if (st != CS_OK) {
        snprintf(reason, sizeof reason, "cannot store: %s", cs_strerror(st));
        prepare_error(req, method, url, http_status_for(st), reason);
    }
}

/* PUT, later calls: one chunk of body, or the end of it. */
static void continue_put(struct cs_server *srv, struct request *req, const char *data,
                         size_t len, const char *method, const char *url)
{
    const struct cs_backend_ops *ops = srv->backend->ops;
    char reason[REASON_MAX];
    enum cs_status st;
    bool created = false;

    if (len > 0) {
        req->received += len;
        if (req->received > req->limit) {
            st = CS_ERR_TOO_LARGE;
            snprintf(reason, sizeof reason, "body exceeds max_blob_size of namespace '%s'",
                     req->ns->name);
        } else {
            st = ops->put_write(req->upload, data, len);
            snprintf(reason, sizeof reason, "cannot store: %s", cs_strerror(st));
        }
        if (st != CS_OK) {
            ops->put_abort(req->upload);
            req->upload = NULL;
            prepare_error(req, method, url, http_status_for(st), reason);
        }
        return;
    }
    st = ops->put_commit(req->upload, &created);
    req->upload = NULL; /* commit frees the handle, success or not */
    if (st != CS_OK) {
        snprintf(reason, sizeof reason, "cannot store: %s", cs_strerror(st));
        prepare_error(req, method, url, http_status_for(st), reason);
        return;
    }
    prepare_empty(req, created ? MHD_HTTP_CREATED : MHD_HTTP_NO_CONTENT);
}

/* First call: route and do the work; the response waits for the next call. */
static void dispatch(struct cs_server *srv, struct request *req, struct MHD_Connection *conn,
                     const char *url, const char *method)
{
    const struct cs_backend_ops *ops = srv->backend->ops;
    enum method m = parse_method(method);
    struct cs_route route;
    struct cs_object_id id;
    struct cs_object obj;
    char reason[REASON_MAX];
    enum cs_status st;

    st = cs_route_parse(srv->cfg, url, &route, reason, sizeof reason);
    req->ns = route.kind == CS_ROUTE_OBJECT ? route.ns : NULL;
    if (st == CS_OK && route.kind == CS_ROUTE_ADMIN) {
        handle_admin(req, &route, m, method, url);
        return;
    }
    if (m == M_OTHER) {
        prepare_method_not_allowed(req, method, url, ALLOW_OBJECT);
        return;
    }
    if (st != CS_OK) {
        prepare_error(req, method, url, http_status_for(st), reason);
        return;
    }
    if (m == M_PUT || m == M_DELETE ? !route.ns->write_anyone : !route.ns->read_anyone) {
        prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED,
                      "this namespace needs credentials for this request");
        return;
    }
    cs_object_id_init(&id, route.ns->name, route.key, route.key_len);
    switch (m) {
    case M_GET:
    case M_HEAD:
        st = ops->open(srv->backend->state, &id, &obj);
        if (st == CS_OK)
            prepare_object(req, &obj, m);
        else if (st == CS_ERR_NOT_FOUND)
            prepare_miss(srv, req);
        else
            prepare_error(req, method, url, http_status_for(st), cs_strerror(st));
        break;
    case M_PUT:
        begin_put(srv, req, conn, &id, method, url);
        break;
    case M_DELETE:
        st = ops->remove(srv->backend->state, &id, route.ns->durable);
        if (st == CS_OK)
            prepare_empty(req, MHD_HTTP_NO_CONTENT);
        else if (st == CS_ERR_NOT_FOUND)
            prepare_miss(srv, req);
        else
            prepare_error(req, method, url, http_status_for(st), cs_strerror(st));
        break;
    case M_OTHER:
        break;
    }
}

static bool has_body(struct MHD_Connection *conn)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);

    return (cl && strcmp(cl, "0") != 0) ||
           MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static enum MHD_Result queue(struct cs_server *srv, struct MHD_Connection *conn,
                             struct request *req)
{
    enum MHD_Result rc;

    req->queued = true;
    if (!req->response)
        return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
    if (!req->shared_response && atomic_load_explicit(&srv->draining, memory_order_relaxed))
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONNECTION, "close");
    rc = MHD_queue_response(conn, req->status, req->response);
    if (!req->shared_response)
        MHD_destroy_response(req->response);
    req->response = NULL;
    return rc;
}

/* A refused request with a body: answer before the body only when the
 * client waits for "100 Continue" or the body is large. Otherwise read and
 * drop it first: closing with unread bytes makes the kernel send a reset,
 * which can destroy the answer before the client reads it. */
static bool refuse_before_body(struct MHD_Connection *conn)
{
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_EXPECT);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);

    if (expect && strcasecmp(expect, "100-continue") == 0)
        return true;
    return !cl || strtoull(cl, NULL, 10) > DISCARD_MAX;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct cs_server *srv = cls;
    struct request *req = *req_cls;
    size_t len = *upload_data_size;

    (void)version;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        *req_cls = req;
        atomic_fetch_add_explicit(&srv->active, 1, memory_order_relaxed);
        dispatch(srv, req, conn, url, method);
        /* only a refusal may be answered before the body */
        if (req->status >= 400 && has_body(conn) && refuse_before_body(conn))
            return queue(srv, conn, req);
        return MHD_YES;
    }
    if (len > 0) {
        /* libmicrohttpd 0.9.75 cannot answer in the middle of a body: after
         * a failure the rest is dropped and the answer waits for its end. */
        if (req->upload)
            continue_put(srv, req, upload_data, len, method, url);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->upload)
        continue_put(srv, req, NULL, 0, method, url);
    if (req->queued)
        return MHD_YES;
    return queue(srv, conn, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct cs_server *srv = cls;
    struct request *req = *req_cls;

    (void)conn;
    (void)toe;
    if (!req)
        return;
    if (req->upload) /* aborted or failed upload: leave nothing behind */
        srv->backend->ops->put_abort(req->upload);
    if (req->response && !req->shared_response)
        MHD_destroy_response(req->response);
    free(req);
    *req_cls = NULL;
    atomic_fetch_sub_explicit(&srv->active, 1, memory_order_relaxed);
}

/* The path arrives still percent-encoded: cs_key_normalize decodes it, so
 * that %00 or %2e%2e can be judged after decoding. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    cs_log(CS_LOG_WARN, "libmicrohttpd: %s", msg);
}

enum cs_status cs_server_start(const struct cs_config *cfg, const struct cs_backend *backend,
                               const struct cs_listener *listeners, size_t n,
                               struct cs_server **out)
{
    static const char miss_body[] = "not found\n";
    struct cs_server *srv = calloc(1, sizeof *srv);
    size_t i;

    if (!srv)
        return CS_ERR_NOMEM;
    srv->cfg = cfg;
    srv->backend = backend;
    atomic_init(&srv->active, 0);
    atomic_init(&srv->draining, false);
    srv->miss = MHD_create_response_from_buffer(sizeof miss_body - 1, (void *)miss_body,
                                                MHD_RESPMEM_PERSISTENT);
    if (!srv->miss) {
        free(srv);
        return CS_ERR_NOMEM;
    }
    MHD_add_response_header(srv->miss, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    for (i = 0; i < n; i++) {
        unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ITC |
                         MHD_USE_ERROR_LOG | (listeners[i].ipv6 ? MHD_USE_IPv6 : 0);
        struct MHD_Daemon *d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_LISTEN_SOCKET, listeners[i].fd,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK,
            keep_escaped, NULL, MHD_OPTION_END);
        if (!d) {
            cs_log(CS_LOG_ERROR, "cannot start the HTTP server on %s", listeners[i].url);
            cs_server_stop(srv);
            return CS_ERR_IO;
        }
        srv->daemons[srv->n_daemons++] = d;
    }
    *out = srv;
    return CS_OK;
}

void cs_server_quiesce(struct cs_server *srv)
{
    size_t i;

    atomic_store(&srv->draining, true);
    for (i = 0; i < srv->n_daemons; i++) {
        MHD_socket fd = MHD_quiesce_daemon(srv->daemons[i]);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
}

unsigned cs_server_active(const struct cs_server *srv)
{
    return atomic_load(&srv->active);
}

void cs_server_stop(struct cs_server *srv)
{
    size_t i;

    if (!srv)
        return;
    for (i = 0; i < srv->n_daemons; i++)
        MHD_stop_daemon(srv->daemons[i]);
    if (srv->miss)
        MHD_destroy_response(srv->miss);
    free(srv);
}
