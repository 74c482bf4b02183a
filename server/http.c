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

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/size.h"
#include "server/admin.h"
#include "server/auth_limit.h"
#include "server/framing.h"
#include "server/guard.h"
#include "server/http_status.h"
#include "server/http.h"
#include "server/live.h"
#include "server/listen.h"
#include "server/propfind.h"
#include "server/route.h"
#include "server/webdav.h"
#include "storage/disk.h"
#include "storage/zstd_io.h"

/* Objects up to this size are read into memory and sent with their
 * headers in one go; larger ones are sent from the fd with sendfile. */
#define SMALL_OBJECT_MAX (32 * 1024)
/* Bytes of connection memory: bounds how much of a body one call sees,
 * and the headers libmicrohttpd accepts (limits.header_size is checked
 * exactly in dispatch, within this bound). */
#define CONNECTION_MEMORY (64 * 1024)
#define REASON_MAX 320
/* Refused bodies up to this size are read and dropped, keeping the
 * connection; larger ones get their answer before the body. */
#define DISCARD_MAX (1024 * 1024)

#define ALLOW_OBJECT CS_DAV_ALLOW

struct cs_server {
    const struct cs_backend *backend;
    struct cs_index *index;
    struct cs_live live;     /* config and users; replaced by reloads */
    struct cs_limits limits; /* from the first config: fixed until restart */
    struct cs_guard guard;
    struct cs_auth_limit *auth_limit; /* failed password hashes per client address */
    struct cs_stats *stats;
    struct MHD_Daemon *daemons[CS_MAX_LISTEN];
    size_t n_daemons;
    struct listener_ref { /* what a daemon's connection callback is told */
        struct cs_server *srv;
        unsigned index;
    } refs[CS_MAX_LISTEN];
    struct MHD_Response *miss; /* shared 404 for misses, the most common answer */
    atomic_bool draining;
    char *tls_cert, *tls_key, *tls_ca; /* PEM text for libmicrohttpd */
};

enum method {
    M_GET,
    M_HEAD,
    M_PUT,
    M_DELETE,
    M_OPTIONS,
    M_PROPFIND,
    M_MKCOL,
    M_COPY,
    M_MOVE,
    M_OTHER
};

/* Per-request state, made when the request line arrives (on_request_line)
 * and freed in on_completed. */
struct request {
    bool started;                   /* the access handler has seen it */
    size_t target_len;              /* strlen of the raw target, or (size_t)-1 */
    size_t header_bytes;            /* the headers' size, from the framing check */
    const struct cs_policy *policy; /* held from the first call to completion */
    unsigned ticket;                /* for cs_live_leave */
    int uid;                        /* the client: a user, or -1 (anonymous) */
    struct MHD_Response *response;  /* prepared, queued on the next call */
    unsigned status;
    bool shared_response; /* srv->miss: never destroyed here */
    uint64_t sent_bytes;  /* body bytes of a GET answer, as sent */
    bool queued;
    struct cs_upload *upload; /* PUT in progress */
    const struct cs_namespace_config *ns;
    size_t ns_slot; /* ns's index in the config, for the counters */
    uint64_t received;
    uint64_t limit;         /* max_blob_size for this PUT */
    struct cs_route *route; /* PROPFIND: kept until its body is in */
    struct cs_buf body;     /* PROPFIND body */
};

static enum method parse_method(const char *m)
{
    switch (m[0]) {
    case 'G': return strcmp(m, "GET") == 0 ? M_GET : M_OTHER;
    case 'H': return strcmp(m, "HEAD") == 0 ? M_HEAD : M_OTHER;
    case 'P':
        if (strcmp(m, "PUT") == 0)
            return M_PUT;
        return strcmp(m, "PROPFIND") == 0 ? M_PROPFIND : M_OTHER;
    case 'D': return strcmp(m, "DELETE") == 0 ? M_DELETE : M_OTHER;
    case 'O': return strcmp(m, "OPTIONS") == 0 ? M_OPTIONS : M_OTHER;
    case 'M':
        if (strcmp(m, "MKCOL") == 0)
            return M_MKCOL;
        return strcmp(m, "MOVE") == 0 ? M_MOVE : M_OTHER;
    case 'C': return strcmp(m, "COPY") == 0 ? M_COPY : M_OTHER;
    default: return M_OTHER;
    }
}

/* Methods that change what is stored need the namespace's write right. */
static bool is_write(enum method m)
{
    return m == M_PUT || m == M_DELETE || m == M_MKCOL || m == M_COPY || m == M_MOVE;
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

static void prepare_error(struct request *req, const char *method, const char *url, unsigned status,
                          const char *reason)
{
    log_request_error(req, method, url, status, reason);
    prepare_text(req, status, reason);
    if (req->response && status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"cstash\", Bearer realm=\"cstash\"");
    if (req->response && cs_http_status_retry(status))
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, CS_HTTP_RETRY_AFTER);
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

/* An object stored as zstd has two representations, the raw body and the
 * frame as stored (Content-Encoding: zstd), and a strong ETag names one
 * (RFC 9110 8.8.3). The raw body keeps "<sha256 of the raw body>", which
 * clients may compare with a digest they know (Bazel's CAS keys); the
 * frame gets that with "-zstd" appended. */
#define ETAG_ZSTD_SUFFIX "-zstd"
#define ETAG_MAX (CS_SHA256_HEX_LEN + sizeof ETAG_ZSTD_SUFFIX + 2) /* quotes and NUL */

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

/* A body stored compressed, too large to have been decompressed into
 * memory: sent as stored (as_stored, for clients that take zstd), else
 * decompressed while it is sent. CS_OK and *out, or why not (the object's
 * fd is closed either way). */
static enum cs_status compressed_response(struct request *req, struct cs_object *obj,
                                          bool as_stored, bool head, struct MHD_Response **out)
{
    struct cs_body_reader *r;
    enum cs_status st;

    *out = NULL;
    if (as_stored) {
        req->sent_bytes = obj->stored_size;
        *out = MHD_create_response_from_fd_at_offset64(obj->stored_size, obj->fd, obj->offset);
        if (!*out) {
            close(obj->fd);
            return CS_ERR_NOMEM;
        }
        MHD_add_response_header(*out, MHD_HTTP_HEADER_CONTENT_ENCODING, "zstd");
        return CS_OK;
    }
    if (head) {
        close(obj->fd);
        *out = MHD_create_response_from_callback(obj->size, 4096, no_body, NULL, NULL);
        return *out ? CS_OK : CS_ERR_NOMEM;
    }
    st = cs_body_reader_open(obj, &r);
    if (st != CS_OK)
        return st;
    *out = MHD_create_response_from_callback(obj->size, 64 * 1024, read_body, r, close_body);
    if (!*out) {
        cs_body_reader_close(r);
        return CS_ERR_NOMEM;
    }
    return CS_OK;
}

/* The response for an opened object; CS_OK, or why there is none (the
 * object is released either way). */
static enum cs_status prepare_object(struct request *req, struct MHD_Connection *conn,
                                     struct cs_object *obj, bool head)
{
    enum cs_status st = CS_OK;

    /* The representation is chosen first; ETag and If-None-Match follow
     * it. Bodies up to SMALL_OBJECT_MAX are sent raw (a GET has them
     * decompressed in memory), so a HEAD, which opens none into memory,
     * chooses what the GET would. */
    bool as_stored = obj->zstd && !obj->body && obj->size > SMALL_OBJECT_MAX && accepts_zstd(conn);

    req->status = MHD_HTTP_OK;
    req->sent_bytes = obj->size;
    if (not_modified(conn, obj, as_stored)) {
        req->status = MHD_HTTP_NOT_MODIFIED;
        req->response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        free(obj->body);
        if (obj->fd >= 0)
            close(obj->fd);
    } else if (obj->body) {
        req->response =
            MHD_create_response_from_buffer(obj->size, obj->body, MHD_RESPMEM_MUST_FREE);
        if (!req->response)
            free(obj->body);
    } else if (obj->zstd) {
        st = compressed_response(req, obj, as_stored, head, &req->response);
        if (st != CS_OK)
            return st;
    } else {
        /* GET streams with sendfile; HEAD reports the same length, unsent */
        req->response = MHD_create_response_from_fd_at_offset64(obj->size, obj->fd, obj->offset);
        if (!req->response)
            close(obj->fd);
    }
    if (!req->response)
        return CS_ERR_NOMEM;
    add_object_headers(req->response, obj, as_stored);
    if (obj->zstd)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    return st;
}

/* A WebDAV handler's reply becomes the response. */
static void prepare_reply(struct request *req, struct cs_reply *r, const char *method,
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
    if (req->response && r->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"cstash\", Bearer realm=\"cstash\"");
    if (req->response && cs_http_status_retry(r->status))
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, CS_HTTP_RETRY_AFTER);
    cs_reply_free(r);
}

static void handle_admin(struct cs_server *srv, struct request *req, const struct cs_route *r,
                         const char *method, const char *url)
{
    struct cs_admin admin = {.cfg = req->policy->cfg,
                             .backend = srv->backend,
                             .stats = srv->stats,
                             .auth_limit = srv->auth_limit,
                             .uid = req->uid};
    struct cs_reply reply;

    cs_reply_init(&reply);
    cs_admin_handle(&admin, r->admin, method, &reply);
    prepare_reply(req, &reply, method, url);
}

static struct cs_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* mTLS: the CN of a client certificate that the configured CA signed.
 * Checked once per connection: the handshake does not change. */
static void check_client_cert(struct cs_conn *c, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    const gnutls_datum_t *certs;
    gnutls_x509_crt_t crt;
    unsigned status = 0, n = 0;
    size_t size = sizeof c->cn - 1;

    c->cert_checked = true;
    if (!ci || !ci->tls_session)
        return;
    certs = gnutls_certificate_get_peers(ci->tls_session, &n);
    if (!certs || n == 0)
        return; /* no certificate: the request is anonymous */
    c->cn[0] = '\0';
    if (gnutls_certificate_verify_peers2(ci->tls_session, &status) != GNUTLS_E_SUCCESS ||
        status != 0 || gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS)
        goto bad;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) != GNUTLS_E_SUCCESS ||
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, c->cn, &size) !=
            GNUTLS_E_SUCCESS) {
        gnutls_x509_crt_deinit(crt);
        goto bad;
    }
    gnutls_x509_crt_deinit(crt);
    c->cn[size < sizeof c->cn ? size : sizeof c->cn - 1] = '\0';
    c->cert_ok = true;
    return;
bad:
    c->cn[0] = '\1'; /* presented, not trusted: no user has this name */
    c->cn[1] = '\0';
}

#define WRONG_CREDENTIALS "wrong credentials: unknown user, wrong password or unknown token"

static const struct sockaddr *client_addr(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    return ci ? ci->client_addr : NULL;
}

/* A password that takes a hash to check: hashed only while the client's
 * address is within its budget of failures (else 429, no hash), and a
 * wrong one spends from it. false when the request is answered. */
static bool verify_password(struct cs_server *srv, struct request *req, struct MHD_Connection *conn,
                            const struct cs_credentials *cred, enum cs_auth_result *r,
                            const char *method, const char *url)
{
    const struct sockaddr *addr = client_addr(conn);
    char reason[REASON_MAX], retry[16];
    unsigned retry_s = 1;

    if (!cs_auth_limit_allow(srv->auth_limit, addr, &retry_s)) {
        snprintf(reason, sizeof reason,
                 "too many failed authentications from this address: retry in %u s", retry_s);
        prepare_error(req, method, url, MHD_HTTP_TOO_MANY_REQUESTS, reason);
        snprintf(retry, sizeof retry, "%u", retry_s);
        if (req->response)
            MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, retry);
        return false;
    }
    *r = cs_auth_verify_slow(req->policy->auth, cred, &req->uid);
    if (*r == CS_AUTH_DENIED)
        cs_auth_limit_failed(srv->auth_limit, addr);
    return true;
}

/* Who the client is: req->uid. false when the request is answered (401). */
static bool authenticate(struct cs_server *srv, struct request *req, struct MHD_Connection *conn,
                         const char *method, const char *url)
{
    const char *h =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    struct cs_credentials cred;
    char reason[REASON_MAX];
    const char *why = "";
    enum cs_auth_result r;

    req->uid = -1;
    if (!h) {
        struct cs_conn *c = srv->tls_ca ? conn_of(conn) : NULL;
        if (!c)
            return true;
        if (!c->cert_checked)
            check_client_cert(c, conn);
        if (c->cn[0] == '\0')
            return true;
        req->uid = c->cert_ok ? cs_config_find_user(req->policy->cfg, c->cn) : -1;
        if (req->uid >= 0)
            return true;
        prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED,
                      "client certificate not trusted, or its CN names no user");
        return false;
    }
    if (cs_credentials_parse(h, &cred, &why) != CS_OK) {
        snprintf(reason, sizeof reason, "malformed Authorization header: %s", why);
        prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED, reason);
        return false;
    }
    r = cs_auth_lookup(req->policy->auth, &cred, &req->uid);
    if (r == CS_AUTH_SLOW && !verify_password(srv, req, conn, &cred, &r, method, url)) {
        cs_credentials_clear(&cred);
        req->uid = -1;
        return false;
    }
    cs_credentials_clear(&cred);
    if (r == CS_AUTH_DENIED) {
        req->uid = -1;
        prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED, WRONG_CREDENTIALS);
        return false;
    }
    return true;
}

/* The right a method needs, and whether the client has it on ns; if not,
 * the answer is prepared: 401 for anonymous clients (credentials may
 * help), 403 for users. Said before looking at the key, so the answer
 * does not depend on whether it exists. */
static bool authorize(struct request *req, const struct cs_namespace_config *ns, unsigned need,
                      const char *method, const char *url)
{
    char reason[REASON_MAX];

    if ((cs_config_rights(ns, req->uid) & need) == need)
        return true;
    if (req->uid < 0) {
        snprintf(reason, sizeof reason, "namespace '%s' needs credentials to %s", ns->name,
                 need == CS_RIGHT_READ ? "read" : "write");
        prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED, reason);
    } else {
        snprintf(reason, sizeof reason, "user '%s' may not %s namespace '%s'",
                 req->policy->cfg->users[req->uid].name,
                 need == CS_RIGHT_READ ? "read" : "write to", ns->name);
        prepare_error(req, method, url, MHD_HTTP_FORBIDDEN, reason);
    }
    return false;
}

/* Request target and header sizes against the limits: 414 / 431. */
static bool within_limits(struct cs_server *srv, struct request *req, const char *method,
                          const char *url)
{
    char reason[REASON_MAX];
    size_t n = strlen(url);

    if (n > srv->limits.url_length) {
        snprintf(reason, sizeof reason, "request path of %zu bytes is over limits.url_length %u", n,
                 srv->limits.url_length);
        prepare_error(req, method, url, MHD_HTTP_URI_TOO_LONG, reason);
        return false;
    }
    n += strlen(method) + 12 + req->header_bytes;
    if (n > srv->limits.header_size) {
        snprintf(reason, sizeof reason,
                 "request line and headers of %zu bytes are over limits.header_size %u", n,
                 srv->limits.header_size);
        prepare_error(req, method, url, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, reason);
        return false;
    }
    return true;
}

/* Bazel's CAS: a key ending in "cas/<64 hex>" names the sha256 of its body. */
static bool cas_digest(const char *key, size_t len, uint8_t out[CS_SHA256_LEN])
{
    size_t i;

    if (len < 4 + CS_SHA256_HEX_LEN)
        return false;
    const char *hex = key + len - CS_SHA256_HEX_LEN;
    if (memcmp(hex - 4, "cas/", 4) != 0 || (hex - 4 != key && hex[-5] != '/'))
        return false;
    for (i = 0; i < CS_SHA256_HEX_LEN; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return false;
    return cs_hex_decode(hex, CS_SHA256_HEX_LEN, out, CS_SHA256_LEN);
}

/* Why a store failed, in words a client's log can act on. */
static void store_reason(const struct request *req, enum cs_status st, char *out, size_t len)
{
    if (st == CS_ERR_QUOTA)
        snprintf(out, len,
                 "insufficient storage: namespace '%s' or the data dir is at its size limit "
                 "and eviction could not free space in time; retry later",
                 req->ns->name);
    else if (st == CS_ERR_NO_SPACE)
        snprintf(out, len,
                 "insufficient storage: the data dir's file system is full; "
                 "eviction is freeing space, retry later");
    else if (st == CS_ERR_INDEX)
        snprintf(out, len,
                 "cannot store now: the index cannot record writes (see the "
                 "server log); reads work, retry later");
    else if (st == CS_ERR_OVERLOAD)
        snprintf(out, len, "cannot store now: too many writes wait for the index; retry later");
    else
        snprintf(out, len, "cannot store: %s", cs_strerror(st));
}

/* PUT, first call: checks that must happen before any byte of the body. */
static void begin_put(struct cs_server *srv, struct request *req, struct MHD_Connection *conn,
                      const struct cs_object_id *id, const char *method, const char *url)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *ct =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    struct cs_put_options opt = {
        .durable = req->ns->durable, .size_hint = 0, .compress_level = req->ns->compress_level};
    uint8_t expect[CS_SHA256_LEN];
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
    if (ct && strlen(ct) > CS_CONTENT_TYPE_MAX) {
        prepare_error(req, method, url, MHD_HTTP_BAD_REQUEST, "Content-Type longer than 127 bytes");
        return;
    }
    if (ct && strcmp(ct, "application/octet-stream") != 0)
        opt.content_type = ct;
    if (cas_digest(id->key, id->key_len, expect)) {
        /* Bazel uploads every blob without asking first: a blob we hold is
         * named by its content, so keep ours and drop the body unread. */
        if (srv->backend->ops->exists(srv->backend->state, id) == CS_OK) {
            prepare_empty(req, MHD_HTTP_NO_CONTENT);
            return;
        }
        opt.expect_sha256 = expect;
    }
    st = srv->backend->ops->put_begin(srv->backend->state, id, &opt, &req->upload);
    if (st != CS_OK) {
        store_reason(req, st, reason, sizeof reason);
        prepare_error(req, method, url, cs_http_status(st), reason);
    }
}

/* PUT, later calls: one chunk of body, or the end of it. */
static void continue_put(struct cs_server *srv, struct request *req, const char *data, size_t len,
                         const char *method, const char *url)
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
            store_reason(req, st, reason, sizeof reason);
        }
        if (st != CS_OK) {
            ops->put_abort(req->upload);
            req->upload = NULL;
            prepare_error(req, method, url, cs_http_status(st), reason);
        }
        return;
    }
    st = ops->put_commit(req->upload, &created);
    req->upload = NULL; /* commit frees the handle, success or not */
    if (st == CS_ERR_DIGEST) {
        prepare_error(req, method, url, MHD_HTTP_BAD_REQUEST,
                      "body does not hash to the sha256 in its cas/ key: not stored");
        return;
    }
    if (st != CS_OK) {
        store_reason(req, st, reason, sizeof reason);
        prepare_error(req, method, url, cs_http_status(st), reason);
        return;
    }
    prepare_empty(req, created ? MHD_HTTP_CREATED : MHD_HTTP_NO_CONTENT);
    cs_stats_add(srv->stats, req->ns_slot, CS_STAT_PUTS, 1);
    cs_stats_add(srv->stats, req->ns_slot, CS_STAT_BYTES_IN, req->received);
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static bool has_body(struct MHD_Connection *conn);

/* WebDAV methods; PROPFIND waits for its body and runs in finish_propfind. */
static void dav_of(const struct cs_server *srv, const struct request *req, struct cs_dav *dav)
{
    dav->cfg = req->policy->cfg;
    dav->backend = srv->backend;
    dav->index = srv->index;
    dav->list_max = srv->limits.propfind_results;
}

static void dispatch_dav(struct cs_server *srv, struct request *req, struct MHD_Connection *conn,
                         const struct cs_route *route, enum method m, const char *method,
                         const char *url)
{
    struct cs_reply reply;
    struct cs_dav dav;

    dav_of(srv, req, &dav);
    cs_reply_init(&reply);
    switch (m) {
    case M_OPTIONS: cs_dav_options(&dav, route, &reply); break;
    case M_PROPFIND:
        req->route = malloc(sizeof *req->route);
        if (!req->route) {
            prepare_error(req, method, url, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
            cs_reply_free(&reply);
            return;
        }
        *req->route = *route;
        cs_buf_init(&req->body, CS_PROPFIND_BODY_MAX);
        cs_reply_free(&reply);
        return;
    case M_MKCOL: cs_dav_mkcol(&dav, route, has_body(conn), &reply); break;
    case M_DELETE: cs_dav_delete_collection(&dav, route, &reply); break;
    case M_COPY:
    case M_MOVE:
        cs_dav_copy_move(&dav, route, m == M_MOVE, header(conn, "Destination"),
                         header(conn, MHD_HTTP_HEADER_HOST), header(conn, "Overwrite"),
                         header(conn, "Depth"), &reply);
        break;
    default: cs_reply_free(&reply); return;
    }
    prepare_reply(req, &reply, method, url);
}

static void finish_propfind(struct cs_server *srv, struct request *req, struct MHD_Connection *conn,
                            const char *method, const char *url)
{
    struct cs_reply reply;
    struct cs_dav dav;

    dav_of(srv, req, &dav);
    if (req->body.overflow) {
        prepare_error(req, method, url, MHD_HTTP_CONTENT_TOO_LARGE, "PROPFIND body over 64 KiB");
        return;
    }
    cs_reply_init(&reply);
    cs_dav_propfind(&dav, req->route, header(conn, "Depth"), req->body.data, req->body.len, &reply);
    prepare_reply(req, &reply, method, url);
}

/* First call: route and do the work; the response waits for the next call. */
static void dispatch(struct cs_server *srv, struct request *req, struct MHD_Connection *conn,
                     const char *url, const char *method)
{
    const struct cs_backend_ops *ops = srv->backend->ops;
    const struct cs_config *cfg = req->policy->cfg;
    enum method m = parse_method(method);
    struct cs_route route;
    struct cs_object_id id;
    struct cs_object obj;
    char reason[REASON_MAX];
    enum cs_status st;

    if (!within_limits(srv, req, method, url))
        return;
    if (m == M_OPTIONS && strcmp(url, "*") == 0) {
        struct cs_reply reply;
        struct cs_dav dav;
        dav_of(srv, req, &dav);
        cs_reply_init(&reply);
        cs_dav_options(&dav, NULL, &reply);
        prepare_reply(req, &reply, method, url);
        return;
    }
    st = cs_route_parse(cfg, url, &route, reason, sizeof reason);
    req->ns = route.kind == CS_ROUTE_OBJECT ? route.ns : NULL;
    if (!authenticate(srv, req, conn, method, url))
        return;
    if (st == CS_OK && route.kind == CS_ROUTE_ADMIN) {
        handle_admin(srv, req, &route, method, url);
        return;
    }
    if (req->ns && cs_config_rights(req->ns, req->uid) == 0) {
        /* A client with no right on a namespace gets the answer a missing
         * one gets, word for word: it cannot learn which names exist. */
        snprintf(reason, sizeof reason, "unknown namespace '%s'", req->ns->name);
        req->ns = NULL;
        st = CS_ERR_NOT_FOUND;
    }
    if (req->ns)
        req->ns_slot = (size_t)(req->ns - cfg->namespaces);
    if (m == M_OTHER) {
        prepare_method_not_allowed(req, method, url, ALLOW_OBJECT);
        return;
    }
    if (!req->ns && req->uid < 0 && cfg->n_users) {
        /* an anonymous client learns nothing, not even which namespaces exist */
        prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED, "credentials needed");
        return;
    }
    if (req->ns && m != M_OPTIONS &&
        !authorize(req, req->ns, is_write(m) ? CS_RIGHT_WRITE : CS_RIGHT_READ, method, url))
        return;
    if (st != CS_OK) {
        prepare_error(req, method, url, cs_http_status(st), reason);
        return;
    }
    if (m != M_GET && m != M_HEAD && m != M_PUT && !(m == M_DELETE && !route.collection)) {
        dispatch_dav(srv, req, conn, &route, m, method, url);
        return;
    }
    if (route.collection) {
        prepare_error(req, method, url, MHD_HTTP_BAD_REQUEST,
                      route.key_len ? "path ends with '/': it names a collection, not an object"
                                    : "no key after the namespace: use /<namespace>/<key>");
        return;
    }
    cs_object_id_init(&id, route.ns->name, route.key, route.key_len);
    switch (m) {
    case M_GET:
    case M_HEAD:
        st = ops->open(srv->backend->state, &id, m == M_GET ? SMALL_OBJECT_MAX : 0, &obj);
        if (st == CS_OK && (st = prepare_object(req, conn, &obj, m == M_HEAD)) != CS_OK) {
            prepare_error(req, method, url, cs_http_status(st),
                          st == CS_ERR_OVERLOAD ? "too many compressed objects are being sent "
                                                  "decompressed at once; retry later"
                                                : "the stored object cannot be sent: see the "
                                                  "server log");
        } else if (st == CS_OK) {
            cs_stats_add(srv->stats, req->ns_slot, CS_STAT_HITS, 1);
            if (m == M_GET && req->status == MHD_HTTP_OK)
                cs_stats_add(srv->stats, req->ns_slot, CS_STAT_BYTES_OUT, req->sent_bytes);
        } else if (st == CS_ERR_NOT_FOUND) {
            prepare_miss(srv, req);
            cs_stats_add(srv->stats, req->ns_slot, CS_STAT_MISSES, 1);
        } else
            prepare_error(req, method, url, cs_http_status(st), cs_strerror(st));
        break;
    case M_PUT: begin_put(srv, req, conn, &id, method, url); break;
    case M_DELETE:
        st = ops->remove(srv->backend->state, &id, route.ns->durable);
        if (st == CS_OK)
            prepare_empty(req, MHD_HTTP_NO_CONTENT);
        else if (st == CS_ERR_NOT_FOUND)
            dispatch_dav(srv, req, conn, &route, m, method, url); /* maybe a collection */
        else
            prepare_error(req, method, url, cs_http_status(st), cs_strerror(st));
        break;
    default: break;
    }
}

static bool has_body(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

    return (cl && strcmp(cl, "0") != 0) ||
           MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Debug-level access log: one line per answered request. */
static void log_access(const struct request *req, const char *method, const char *url)
{
    if (cs_log_enabled(CS_LOG_DEBUG))
        cs_log(CS_LOG_DEBUG, "ns=%s %s %s: %u", req->ns ? req->ns->name : "-", method, url,
               req->status);
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
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

    if (expect && strcasecmp(expect, "100-continue") == 0)
        return true;
    return !cl || strtoull(cl, NULL, 10) > DISCARD_MAX;
}

/* A request whose framing is not sound is answered at once, before its
 * body, and its connection closed: the bytes after it cannot be trusted
 * to start the next request. */
static bool refuse_framing(struct request *req, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version)
{
    unsigned status;
    const char *why =
        cs_framing_check(conn, url, version, req->target_len, &status, &req->header_bytes);

    if (!why)
        return false;
    prepare_error(req, method, url, status, why);
    if (req->response)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONNECTION, "close");
    return true;
}

/* The request line is parsed: the request's state starts here, with the
 * target's length before libmicrohttpd cuts it at '?' or decodes it. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct request *req = calloc(1, sizeof *req);

    (void)cls;
    (void)conn;
    if (req)
        req->target_len = strlen(uri);
    return req; /* NULL: on_request makes one */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct cs_server *srv = cls;
    struct request *req = *req_cls;
    size_t len = *upload_data_size;

    if (!req || !req->started) {
        if (!req) { /* on_request_line was out of memory */
            req = calloc(1, sizeof *req);
            if (!req)
                return MHD_NO;
            req->target_len = (size_t)-1;
            *req_cls = req;
        }
        req->started = true;
        req->policy = cs_live_enter(&srv->live, &req->ticket);
        cs_conn_phase(conn_of(conn), CS_CONN_REQUEST);
        if (refuse_framing(req, conn, url, method, version)) {
            log_access(req, method, url);
            return queue(srv, conn, req);
        }
        dispatch(srv, req, conn, url, method);
        /* only a refusal may be answered before the body */
        if (req->status >= 400 && has_body(conn) && refuse_before_body(conn)) {
            log_access(req, method, url);
            return queue(srv, conn, req);
        }
        return MHD_YES;
    }
    if (len > 0) {
        /* libmicrohttpd 0.9.75 cannot answer in the middle of a body: after
         * a failure the rest is dropped and the answer waits for its end. */
        if (req->upload)
            continue_put(srv, req, upload_data, len, method, url);
        else if (req->route)
            cs_buf_add(&req->body, upload_data, len);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->upload)
        continue_put(srv, req, NULL, 0, method, url);
    else if (req->route && !req->response)
        finish_propfind(srv, req, conn, method, url);
    if (req->queued)
        return MHD_YES;
    log_access(req, method, url);
    return queue(srv, conn, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct cs_server *srv = cls;
    struct request *req = *req_cls;

    (void)toe;
    if (!req)
        return;
    if (!req->started) { /* refused by libmicrohttpd before the access handler */
        free(req);
        *req_cls = NULL;
        return;
    }
    if (req->upload) /* aborted or failed upload: leave nothing behind */
        srv->backend->ops->put_abort(req->upload);
    if (req->response && !req->shared_response)
        MHD_destroy_response(req->response);
    free(req->route);
    cs_buf_free(&req->body);
    cs_live_leave(&srv->live, req->ticket);
    free(req);
    *req_cls = NULL;
    cs_conn_phase(conn_of(conn), CS_CONN_HEADERS);
}

/* Every connection is known to the guard, which enforces its time limits
 * and the listener's connection cap. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    const struct listener_ref *ref = cls;
    struct cs_server *srv = ref->srv;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? cs_guard_add(&srv->guard, ci->connect_fd, ref->index) : NULL;
    } else {
        cs_guard_remove(&srv->guard, *socket_context);
        *socket_context = NULL;
    }
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
    /* libmicrohttpd says this for every failed handshake, most often a
     * client that does not trust our certificate and hangs up. */
    if (strstr(msg, "handshake message out of context")) {
        cs_log(CS_LOG_WARN,
               "TLS handshake failed (libmicrohttpd: %s); a client that does not trust "
               "the certificate does this, see docs/security.md",
               msg);
        return;
    }
    cs_log(CS_LOG_WARN, "libmicrohttpd: %s", msg);
}

/* A whole PEM file as a string for libmicrohttpd; NULL and a log line
 * when it cannot be read. */
static char *read_pem(const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (!f) {
        cs_log(CS_LOG_ERROR, "cannot read %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *grown = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (!grown || cap > (1u << 20)) {
                cs_log(CS_LOG_ERROR, "%s %s is too large for a PEM file", what, path);
                free(grown ? grown : buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    if (!strstr(buf, "-----BEGIN ")) {
        cs_log(CS_LOG_ERROR, "%s %s is not a PEM file", what, path);
        free(buf);
        return NULL;
    }
    return buf;
}

static enum cs_status load_tls(struct cs_server *srv, const struct cs_config *cfg)
{
    size_t i;
    bool any = false;

    for (i = 0; i < cfg->n_listen; i++)
        any |= cfg->listen_tls[i];
    if (!any)
        return CS_OK;
    srv->tls_cert = read_pem(cfg->tls_cert, "tls_cert");
    srv->tls_key = read_pem(cfg->tls_key, "tls_key");
    if (cfg->tls_client_ca)
        srv->tls_ca = read_pem(cfg->tls_client_ca, "tls_client_ca");
    if (!srv->tls_cert || !srv->tls_key || (cfg->tls_client_ca && !srv->tls_ca))
        return CS_ERR_INVALID;
    return CS_OK;
}

/* Connections libmicrohttpd may hold per listener above limits.connections,
 * which the guard enforces: at its own limit libmicrohttpd stops accepting
 * and new clients hang in the backlog instead of being served. It splits
 * its limit among the threads, so each thread gets room for the whole cap. */
#define MHD_HEADROOM 64

static struct MHD_Daemon *start_daemon(struct cs_server *srv, const struct cs_config *cfg,
                                       const struct cs_listener *l, bool tls, unsigned index)
{
    struct MHD_OptionItem opts[24];
    size_t n = 0;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (l->ipv6 ? MHD_USE_IPv6 : 0) | (tls ? MHD_USE_TLS : 0);
    size_t memory = CONNECTION_MEMORY;

    if (srv->limits.header_size + 16 * 1024 > memory)
        memory = srv->limits.header_size + 16 * 1024;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)}
    OPT(MHD_OPTION_LISTEN_SOCKET, l->fd, NULL);
    OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL);
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, srv->limits.idle_timeout_s, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, (srv->limits.connections + MHD_HEADROOM) * cfg->threads, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->limits.connections_per_ip, NULL);
    if (tls) {
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key);
        if (srv->tls_ca)
            OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->tls_ca);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        &srv->refs[index], MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

static void free_server(struct cs_server *srv)
{
    if (srv->miss)
        MHD_destroy_response(srv->miss);
    cs_stats_free(srv->stats);
    cs_auth_limit_free(srv->auth_limit);
    cs_guard_stop(&srv->guard);
    cs_live_destroy(&srv->live);
    free(srv->tls_cert);
    free(srv->tls_key);
    free(srv->tls_ca);
    free(srv);
}

enum cs_status cs_server_start(struct cs_config *cfg, const struct cs_backend *backend,
                               const struct cs_listener *listeners, size_t n,
                               struct cs_server **out)
{
    static const char miss_body[] = "not found\n";
    struct cs_server *srv = calloc(1, sizeof *srv);
    struct cs_policy *policy = NULL;
    enum cs_status st;
    size_t i;

    if (!srv) {
        cs_config_free(cfg);
        return CS_ERR_NOMEM;
    }
    st = cs_policy_new(cfg, &policy);
    if (st != CS_OK) {
        cs_config_free(cfg);
        free(srv);
        return st;
    }
    cs_live_init(&srv->live, policy);
    srv->backend = backend;
    srv->limits = cfg->limits;
    srv->index = cs_disk_index(backend);
    atomic_init(&srv->draining, false);
    st = cs_guard_start(&srv->guard, cfg->limits.header_timeout_s, cfg->limits.request_timeout_s,
                        cfg->limits.connections);
    if (st == CS_OK && !srv->index)
        st = CS_ERR_INVALID;
    if (st == CS_OK)
        st = cs_stats_new(cfg->n_namespaces, &srv->stats);
    if (st == CS_OK)
        st = cs_auth_limit_new(cfg->limits.auth_failures, &srv->auth_limit);
    if (st == CS_OK)
        st = load_tls(srv, cfg);
    if (st == CS_OK) {
        srv->miss = MHD_create_response_from_buffer(sizeof miss_body - 1, (void *)miss_body,
                                                    MHD_RESPMEM_PERSISTENT);
        if (!srv->miss)
            st = CS_ERR_NOMEM;
        else
            MHD_add_response_header(srv->miss, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    "text/plain; charset=utf-8");
    }
    if (st != CS_OK) {
        free_server(srv);
        return st;
    }
    for (i = 0; i < n; i++) {
        srv->refs[i] = (struct listener_ref){srv, (unsigned)i};
        struct MHD_Daemon *d =
            start_daemon(srv, cfg, &listeners[i], cfg->listen_tls[i], (unsigned)i);
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

const struct cs_config *cs_server_config(struct cs_server *srv)
{
    return atomic_load(&srv->live.current)->cfg;
}

enum cs_status cs_server_reload(struct cs_server *srv, struct cs_config *cfg, char *why,
                                size_t why_len)
{
    const struct cs_config *old = cs_server_config(srv);
    struct cs_policy *policy;
    struct cs_disk_ns *ns;
    enum cs_status st;
    size_t i;

    if (!cs_config_reloadable(old, cfg, why, why_len)) {
        cs_config_free(cfg);
        return CS_ERR_INVALID;
    }
    if (!cs_live_reclaim(&srv->live)) {
        snprintf(why, why_len, "requests of the config before the last reload are in flight");
        return CS_ERR_BUSY; /* cfg stays the caller's */
    }
    ns = calloc(cfg->n_namespaces, sizeof *ns);
    if (!ns) {
        cs_config_free(cfg);
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    for (i = 0; i < cfg->n_namespaces; i++) {
        ns[i].name = cfg->namespaces[i].name;
        ns[i].max_size = cfg->namespaces[i].max_size;
    }
    cs_disk_set_limits(srv->backend, cfg->max_size, ns, cfg->n_namespaces);
    free(ns);
    st = cs_policy_new(cfg, &policy);
    if (st != CS_OK) {
        cs_config_free(cfg);
        snprintf(why, why_len, "%s", cs_strerror(st));
        return st;
    }
    cs_live_publish(&srv->live, policy);
    return CS_OK;
}

bool cs_server_reclaim(struct cs_server *srv)
{
    return cs_live_reclaim(&srv->live);
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

unsigned cs_server_active(struct cs_server *srv)
{
    return cs_live_active(&srv->live);
}

void cs_server_stop(struct cs_server *srv)
{
    size_t i;

    if (!srv)
        return;
    for (i = 0; i < srv->n_daemons; i++)
        MHD_stop_daemon(srv->daemons[i]);
    free_server(srv);
}
