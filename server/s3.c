/* The S3 front end: which requests are S3, the route (bucket, key, the
 * operation the method and query name), who the client is and what it may
 * do. Buckets are namespaces; every right is the namespace's read/write
 * list, exactly as for HTTP. What may block goes to a worker (JOB_S3 and
 * the generic jobs), as in http.c. */
#include "autoconfig.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/base64.h"
#include "common/log.h"
#include "server/guard.h"
#include "server/s3_priv.h"
#include "server/text.h"

const char *s3_header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

const char *s3_query(struct MHD_Connection *conn, const char *name, bool *present)
{
    const char *v = NULL;
    enum MHD_Result found =
        MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v, NULL);

    if (present)
        *present = found == MHD_YES;
    return found == MHD_YES ? v : NULL;
}

static bool has_query(struct MHD_Connection *conn, const char *name)
{
    bool present;

    (void)s3_query(conn, name, &present);
    return present;
}

/* Whether the target had a query at all: most object requests have none,
 * and each lookup walks libmicrohttpd's list. */
static bool any_query(const struct cs_request *req)
{
    return req->target_len == (size_t)-1 || req->target_len > strlen(req->url);
}

/* "<bucket>.<domain>[:port]" → bucket; false when Host is not under it. */
static bool virtual_host_bucket(const struct cs_config *cfg, struct MHD_Connection *conn,
                                char *bucket, size_t cap)
{
    const char *host = s3_header(conn, MHD_HTTP_HEADER_HOST);
    const char *dom = cfg->s3.domain;
    size_t hlen, dlen;

    if (!host || !dom)
        return false;
    const char *colon = strrchr(host, ':');
    hlen = colon && !strchr(host, ']') ? (size_t)(colon - host) : strlen(host);
    dlen = strlen(dom);
    if (hlen <= dlen + 1 || host[hlen - dlen - 1] != '.' ||
        strncasecmp(host + hlen - dlen, dom, dlen) != 0)
        return false;
    if (hlen - dlen - 1 >= cap)
        return false;
    memcpy(bucket, host, hlen - dlen - 1);
    bucket[hlen - dlen - 1] = '\0';
    return true;
}

/* On every request, so the common case costs little: the listener, the
 * Authorization header (looked up again by the HTTP path), the query only
 * when the target has one, Host only when s3.domain is set. */
bool s3_is_request(const struct cs_server *srv, const struct cs_request *req,
                   struct MHD_Connection *conn)
{
    const struct cs_config *cfg = req->policy->cfg;
    const struct cs_conn *c = http_conn_of(conn);
    const char *auth = s3_header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
    char bucket[CS_NAMESPACE_MAX + 1];

    (void)srv;
    if (c && c->listener < cfg->n_listen && cfg->listen_s3[c->listener])
        return true;
    if (auth && (strncmp(auth, "AWS4-", 5) == 0 || strncmp(auth, "AWS ", 4) == 0))
        return true;
    if (any_query(req) &&
        (has_query(conn, "X-Amz-Algorithm") || has_query(conn, "X-Amz-Credential") ||
         (has_query(conn, "AWSAccessKeyId") && has_query(conn, "Signature"))))
        return true;
    return cfg->s3.domain && virtual_host_bucket(cfg, conn, bucket, sizeof bucket);
}

/* Request ids: a random start and a counter, 16 hex digits. */
static void new_request_id(struct cs_server *srv, char out[S3_REQUEST_ID_LEN + 1])
{
    static const char hex[] = "0123456789ABCDEF";
    uint64_t n = atomic_fetch_add_explicit(&srv->s3_request_seq, 1, memory_order_relaxed);

    for (int i = S3_REQUEST_ID_LEN - 1; i >= 0; i--, n >>= 4)
        out[i] = hex[n & 15];
    out[S3_REQUEST_ID_LEN] = '\0';
}

static enum s3_op op_of_bucket(enum cs_method m, const char *method, struct MHD_Connection *conn)
{
    switch (m) {
    case M_GET: return has_query(conn, "uploads") ? S3_LIST_MPUS : S3_GET_BUCKET;
    case M_HEAD: return S3_HEAD_BUCKET;
    case M_PUT: return S3_PUT_BUCKET;
    case M_DELETE: return S3_DELETE_BUCKET;
    default:
        if (strcmp(method, "POST") == 0 && has_query(conn, "delete"))
            return S3_DELETE_OBJECTS;
        return S3_OP_NONE;
    }
}

static enum s3_op op_of_object(enum cs_method m, const char *method, struct MHD_Connection *conn,
                               bool query)
{
    bool upload_id = query && has_query(conn, "uploadId");

    switch (m) {
    case M_GET: return upload_id ? S3_LIST_PARTS : S3_GET_OBJECT;
    case M_HEAD: return S3_HEAD_OBJECT;
    case M_PUT:
        if (upload_id && has_query(conn, "partNumber"))
            return S3_UPLOAD_PART;
        return s3_header(conn, "x-amz-copy-source") ? S3_COPY_OBJECT : S3_PUT_OBJECT;
    case M_DELETE: return upload_id ? S3_ABORT_MPU : S3_DELETE_OBJECT;
    default:
        if (strcmp(method, "POST") != 0)
            return S3_OP_NONE;
        if (has_query(conn, "uploads"))
            return S3_CREATE_MPU;
        return upload_id ? S3_COMPLETE_MPU : S3_OP_NONE;
    }
}

/* Sub-resources we do not keep: refused by name rather than taken for a
 * plain GET or PUT of the object (a PUT ?tagging must not replace it). */
static const char *unsupported_subresource(struct MHD_Connection *conn, bool bucket)
{
    static const char *const object_only[] = {"tagging",    "acl",        "retention",
                                              "legal-hold", "torrent",    "restore",
                                              "select",     "attributes", NULL};
    size_t i;

    if (bucket)
        return NULL; /* s3_bucket_get answers each by name */
    for (i = 0; object_only[i]; i++)
        if (has_query(conn, object_only[i]))
            return object_only[i];
    return NULL;
}

/* Splits the path (and Host) into bucket and key. false with an error. */
static bool route(struct cs_request *req, struct MHD_Connection *conn, const char *url)
{
    struct cs_s3_req *s3 = req->s3;
    const char *rest = url, *reason = NULL;
    bool vhost = virtual_host_bucket(req->policy->cfg, conn, s3->bucket, sizeof s3->bucket);

    if (!vhost) {
        const char *p = url[0] == '/' ? url + 1 : url;
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n > CS_NAMESPACE_MAX) {
            s3_prepare_error(req, 400, "InvalidBucketName", "bucket name over %d bytes",
                             CS_NAMESPACE_MAX);
            return false;
        }
        memcpy(s3->bucket, p, n);
        s3->bucket[n] = '\0';
        rest = slash ? slash : "";
    }
    /* rest is "" or "/..." */
    if (rest[0] == '/')
        rest++;
    if (rest[0] == '\0')
        return true;
    size_t raw_len = strlen(rest);
    if (rest[raw_len - 1] == '/') {
        s3_prepare_error(req, 400, "InvalidArgument",
                         "keys ending in '/' are not supported (they name a directory here)");
        return false;
    }
    if (cs_key_normalize(rest, raw_len, s3->key, &s3->key_len, &reason) != CS_OK) {
        s3_prepare_error(req, 400, "InvalidArgument", "bad key: %s", reason);
        return false;
    }
    s3->has_key = true;
    return true;
}

/* Who signed the request: req->uid. false with a 403 prepared. */
static bool authenticate(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    enum cs_s3_err e = s3_authenticate(srv, req, conn);

    if (e == CS_S3_OK)
        return true;
    s3_prepare_error(req, (unsigned)cs_s3_err_http_status(e), cs_s3_err_code(e), "%s",
                     cs_s3_err_message(e));
    return false;
}

static bool is_write_op(enum s3_op op)
{
    switch (op) {
    case S3_PUT_BUCKET:
    case S3_DELETE_BUCKET:
    case S3_DELETE_OBJECTS:
    case S3_PUT_OBJECT:
    case S3_COPY_OBJECT:
    case S3_DELETE_OBJECT:
    case S3_CREATE_MPU:
    case S3_UPLOAD_PART:
    case S3_COMPLETE_MPU:
    case S3_ABORT_MPU: return true;
    default: return false;
    }
}

/* The bucket and the right the operation needs. false with an error. */
static bool authorize(struct cs_request *req)
{
    struct cs_s3_req *s3 = req->s3;
    const struct cs_config *cfg = req->policy->cfg;
    unsigned need = is_write_op(s3->op) ? CS_RIGHT_WRITE : CS_RIGHT_READ;

    if (s3->op == S3_LIST_BUCKETS)
        return true;
    if (!cs_namespace_name_valid(s3->bucket, strlen(s3->bucket))) {
        s3_prepare_error(req, 400, "InvalidBucketName", "'%s' is not a valid bucket name",
                         s3->bucket);
        return false;
    }
    req->ns = cs_config_find_namespace(cfg, s3->bucket, strlen(s3->bucket));
    if (!req->ns || cs_config_rights(req->ns, req->uid) == 0) {
        /* A bucket the caller has no right on gets the answer a missing
         * one gets, word for word, as on the HTTP side: no one learns which
         * names exist. (403, not 404: a user with a right elsewhere gets
         * AccessDenied either way.) */
        req->ns = NULL;
        s3_prepare_error(req, 403, "AccessDenied", "Access Denied");
        return false;
    }
    req->ns_slot = (size_t)(req->ns - cfg->namespaces);
    if ((cs_config_rights(req->ns, req->uid) & need) != need) {
        s3_prepare_error(req, 403, "AccessDenied",
                         req->uid < 0 ? "anonymous clients may not %s bucket '%s'"
                                      : "user may not %s bucket '%s'",
                         need == CS_RIGHT_WRITE ? "write to" : "read", s3->bucket);
        return false;
    }
    return true;
}

/* The route as the generic jobs (JOB_OPEN, JOB_PUT_*, JOB_DELETE) read it. */
static bool keep_object_route(struct cs_request *req)
{
    struct cs_s3_req *s3 = req->s3;

    if (!req->route)
        req->route = calloc(1, sizeof *req->route);
    if (!req->route) {
        s3_prepare_error(req, 500, "InternalError", "out of memory");
        return false;
    }
    req->route->kind = CS_ROUTE_OBJECT;
    req->route->ns = req->ns;
    memcpy(req->route->key, s3->key, s3->key_len + 1);
    req->route->key_len = s3->key_len;
    req->route->collection = false;
    return true;
}

bool s3_prepare_job(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    return http_start_job(srv, req, conn, JOB_S3);
}

static bool needs_xml_body(enum s3_op op)
{
    return op == S3_DELETE_OBJECTS || op == S3_COMPLETE_MPU;
}

static void start(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    struct cs_s3_req *s3 = req->s3;

    if (needs_xml_body(s3->op)) {
        s3->xml_body = true;
        cs_buf_init(&s3->body, S3_XML_BODY_MAX);
        return; /* the job starts at the end of the body */
    }
    switch (s3->op) {
    case S3_GET_OBJECT:
    case S3_HEAD_OBJECT:
    case S3_PUT_OBJECT:
    case S3_DELETE_OBJECT: s3_dispatch_object(srv, req, conn); break;
    default: (void)s3_prepare_job(srv, req, conn); break;
    }
}

void s3_dispatch(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    struct cs_s3_req *s3 = calloc(1, sizeof *s3);
    const char *sub;

    req->s3 = s3;
    if (!s3) {
        http_prepare_error(req, req->method, req->url, 500, "out of memory");
        return;
    }
    new_request_id(srv, s3->request_id);
    s3->resource = req->url;
    req->conn = conn; /* the handlers read headers and the query through it */
    req->srv = srv;
    if (!http_within_limits(srv, req, req->method, req->url) || !route(req, conn, req->url) ||
        !authenticate(srv, req, conn))
        return;
    if (s3->bucket[0] == '\0') {
        if (req->m != M_GET) {
            s3_prepare_error(req, 405, "MethodNotAllowed", "%.16s / is not an S3 operation",
                             req->method);
            return;
        }
        s3->op = S3_LIST_BUCKETS;
    } else {
        s3->op = s3->has_key ? op_of_object(req->m, req->method, conn, any_query(req))
                             : op_of_bucket(req->m, req->method, conn);
    }
    if (s3->op == S3_OP_NONE) {
        s3_prepare_error(req, 405, "MethodNotAllowed", "%.16s is not allowed on this resource",
                         req->method);
        return;
    }
    if (any_query(req) && (sub = unsupported_subresource(conn, !s3->has_key)) != NULL) {
        s3_prepare_error(req, 501, "NotImplemented", "the ?%s sub-resource is not supported", sub);
        return;
    }
    if (!authorize(req))
        return;
    if ((s3->op == S3_PUT_OBJECT || s3->op == S3_COPY_OBJECT || s3->op == S3_CREATE_MPU) &&
        !cs_xml_text_exact(s3->key, s3->key_len)) {
        /* S3 keys are UTF-8: a listing could not name this one */
        s3_prepare_error(req, 400, "InvalidArgument", "the key is not valid UTF-8");
        return;
    }
    /* the generic upload jobs read the key from req->route */
    if ((s3->op == S3_PUT_OBJECT || s3->op == S3_UPLOAD_PART) && !keep_object_route(req))
        return;
    start(srv, req, conn);
}

bool s3_body(struct cs_server *srv, struct cs_request *req, const char *data, size_t len)
{
    struct cs_s3_req *s3 = req->s3;

    if (s3->xml_body) {
        (void)cs_buf_add(&s3->body, data, len); /* an overflow is answered at the end */
        return true;
    }
    if (s3->storing && req->upload)
        return s3_body_data(srv, req, data, len);
    return true; /* a refused upload: the rest is dropped */
}

/* An XML body (DeleteObjects, CompleteMultipartUpload) is acted on only
 * when it is the body that was signed: its sha256 when one was signed, its
 * Content-MD5 when sent. aws-chunked XML bodies are refused. */
static bool xml_body_ok(struct cs_request *req)
{
    struct cs_s3_req *s3 = req->s3;
    const char *md5 = s3_header(req->conn, "Content-MD5");
    const void *data = s3->body.data ? s3->body.data : "";
    uint8_t got[EVP_MAX_MD_SIZE], want[32];
    unsigned got_len = 0;
    size_t want_len = 0;

    if (s3->auth.payload != CS_S3_PAYLOAD_UNSIGNED && s3->auth.payload != CS_S3_PAYLOAD_SHA256) {
        s3_prepare_error(req, 400, "InvalidRequest",
                         "aws-chunked bodies are taken for PutObject and UploadPart only");
        return false;
    }
    if (s3->auth.payload == CS_S3_PAYLOAD_SHA256 &&
        (EVP_Digest(data, s3->body.len, got, &got_len, EVP_sha256(), NULL) != 1 || got_len != 32 ||
         memcmp(got, s3->auth.payload_sha256, 32) != 0)) {
        s3_digest_mismatch(req);
        return false;
    }
    if (md5 &&
        (!cs_base64_decode(md5, strlen(md5), want, sizeof want, &want_len) || want_len != 16 ||
         EVP_Digest(data, s3->body.len, got, &got_len, EVP_md5(), NULL) != 1 ||
         memcmp(got, want, 16) != 0)) {
        s3_prepare_error(req, 400, "BadDigest",
                         "the Content-MD5 you specified did not match what was received");
        return false;
    }
    return true;
}

bool s3_end_body(struct cs_server *srv, struct cs_request *req)
{
    struct cs_s3_req *s3 = req->s3;

    if (req->response)
        return false; /* answered already (a refusal) */
    if (s3->xml_body) {
        if (s3->body.overflow) {
            s3_prepare_error(req, 400, "MalformedXML", "request body over %u bytes",
                             S3_XML_BODY_MAX);
            return false;
        }
        return xml_body_ok(req);
    }
    if (s3->storing && req->upload)
        (void)s3_body_end(srv, req); /* on failure the error is prepared */
    return false;
}

void s3_run_job(struct cs_server *srv, struct cs_request *req)
{
    struct cs_s3_req *s3 = req->s3;
    struct MHD_Connection *conn = req->conn;

    switch (s3->op) {
    case S3_LIST_BUCKETS: s3_list_buckets(srv, req); break;
    case S3_GET_BUCKET: s3_bucket_get(srv, req, conn); break;
    case S3_HEAD_BUCKET: s3_bucket_head(srv, req); break;
    case S3_PUT_BUCKET: s3_bucket_put(srv, req); break;
    case S3_DELETE_BUCKET: s3_bucket_delete(srv, req); break;
    case S3_DELETE_OBJECTS: s3_delete_objects(srv, req); break;
    case S3_GET_OBJECT:
    case S3_HEAD_OBJECT: (void)s3_serve_object(srv, req, conn, 0); break;
    case S3_COPY_OBJECT: s3_copy_object(srv, req, conn); break;
    case S3_DELETE_OBJECT: s3_delete_object(srv, req); break;
    case S3_CREATE_MPU: s3_mpu_create(srv, req, conn); break;
    case S3_UPLOAD_PART: s3_mpu_upload_part(srv, req, conn); break;
    case S3_COMPLETE_MPU: s3_mpu_complete(srv, req); break;
    case S3_ABORT_MPU: s3_mpu_abort(srv, req); break;
    case S3_LIST_PARTS: s3_mpu_list_parts(srv, req, conn); break;
    case S3_LIST_MPUS: s3_mpu_list(srv, req, conn); break;
    default: s3_prepare_error(req, 500, "InternalError", "no handler for this operation"); break;
    }
}

void s3_finish_response(struct cs_request *req)
{
    if (req->response && !req->shared_response)
        MHD_add_response_header(req->response, "x-amz-request-id", req->s3->request_id);
}

void s3_request_free(struct cs_request *req)
{
    struct cs_s3_req *s3 = req->s3;

    if (!s3)
        return;
    s3_body_free(s3);
    free(s3->meta);
    cs_buf_free(&s3->body);
    explicit_bzero(s3->auth.signing_key, sizeof s3->auth.signing_key);
    free(s3);
    req->s3 = NULL;
}
