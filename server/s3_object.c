/* Object operations: GetObject and HeadObject (the answer in s3_get.c),
 * PutObject and UploadPart (the generic upload path of http_put.c, with the
 * body checked in s3_body.c), DeleteObject, DeleteObjects and CopyObject. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http_status.h"
#include "server/s3_priv.h"
#include "server/s3_xml.h"

static void object_id(const struct cs_request *req, struct cs_object_id *id)
{
    cs_object_id_init(id, req->ns->name, req->s3->key, req->s3->key_len);
}

bool s3_serve_object(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                     unsigned flags)
{
    const struct cs_backend_ops *ops = srv->backend->ops;
    bool head = req->s3->op == S3_HEAD_OBJECT;
    struct cs_object_id id;
    struct cs_object obj;
    enum cs_status st;

    object_id(req, &id);
    st = ops->open(srv->backend->state, &id, head ? 0 : SMALL_OBJECT_MAX, flags, &obj);
    if (st == CS_ERR_WOULD_BLOCK)
        return false;
    if (st == CS_OK) {
        cs_stats_lookup(srv->stats, req->ns_slot, CS_PROTO_S3, true);
        s3_prepare_object(req, conn, &obj, head);
        if (!head && (req->status == 200 || req->status == 206))
            cs_stats_add(srv->stats, req->ns_slot, CS_STAT_BYTES_OUT, req->sent_bytes);
    } else if (st == CS_ERR_NOT_FOUND) {
        cs_stats_lookup(srv->stats, req->ns_slot, CS_PROTO_S3, false);
        s3_prepare_error(req, 404, "NoSuchKey", "The specified key does not exist.");
    } else {
        s3_status_error(req, cs_http_status(st), cs_strerror(st));
    }
    return true;
}

void s3_delete_object(struct cs_server *srv, struct cs_request *req)
{
    struct cs_object_id id;
    enum cs_status st;

    object_id(req, &id);
    st = srv->backend->ops->remove(srv->backend->state, &id, req->ns->durable);
    if (st == CS_OK || st == CS_ERR_NOT_FOUND) /* S3 deletes what is not there, too */
        s3_prepare_empty(req, 204);
    else
        s3_status_error(req, cs_http_status(st), cs_strerror(st));
}

void s3_prepare_stored(struct cs_request *req)
{
    struct cs_s3_req *s3 = req->s3;
    char etag[40], checksum[CS_CHECKSUM_B64_MAX + 1];
    size_t n;

    s3_prepare_empty(req, 200);
    snprintf(etag, sizeof etag, "\"%.32s\"", (const char *)s3->meta + s3->etag_at);
    if (req->response) {
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_ETAG, etag);
        /* the value inside the blob is not NUL-terminated: copied out */
        const char *v = s3_meta_get(s3->meta, s3->meta_len, s3->checksum_name, &n);
        if (s3->has_checksum && v && n < sizeof checksum) {
            memcpy(checksum, v, n);
            checksum[n] = '\0';
            MHD_add_response_header(req->response, s3->checksum_name, checksum);
        }
    }
}

void s3_stored(struct cs_request *req, bool created)
{
    (void)created;
    s3_prepare_stored(req);
}

void s3_stored_unread(struct cs_request *req)
{
    s3_prepare_empty(req, 200);
}

void s3_digest_mismatch(struct cs_request *req)
{
    s3_prepare_error(req, 400, "XAmzContentSHA256Mismatch",
                     "The provided 'x-amz-content-sha256' header does not match what was "
                     "computed; nothing was stored");
}

void s3_dispatch_object(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    struct cs_s3_req *s3 = req->s3;
    struct cs_object_id id;

    switch (s3->op) {
    case S3_GET_OBJECT:
    case S3_HEAD_OBJECT:
        if (!s3_serve_object(srv, req, conn, CS_NOWAIT))
            (void)http_start_job(srv, req, conn, JOB_OPEN);
        break;
    case S3_PUT_OBJECT:
        object_id(req, &id);
        if (!http_begin_put(srv, req, conn, &id, CS_NOWAIT, req->method, req->url))
            (void)http_start_job(srv, req, conn, JOB_PUT_BEGIN);
        break;
    case S3_DELETE_OBJECT:
        if (req->ns->durable || req->ns->n_tiers > 0)
            (void)http_start_job(srv, req, conn, JOB_S3);
        else
            s3_delete_object(srv, req);
        break;
    default: break;
    }
}

/* "/bucket/key" or "bucket/key", percent-encoded, maybe "?versionId=". */
static bool parse_copy_source(struct cs_request *req, const char *src, char *bucket, char *key,
                              size_t *key_len)
{
    const char *reason = NULL, *slash, *end;
    size_t n;

    if (src[0] == '/')
        src++;
    slash = strchr(src, '/');
    end = strchr(src, '?');
    if (end && strcmp(end, "?versionId=null") != 0) {
        s3_prepare_error(req, 404, "NoSuchVersion",
                         "versioning is not enabled: the only version is \"null\"");
        return false;
    }
    if (!end)
        end = src + strlen(src);
    if (!slash || slash > end || (size_t)(slash - src) > CS_NAMESPACE_MAX) {
        s3_prepare_error(req, 400, "InvalidArgument", "x-amz-copy-source must be /<bucket>/<key>");
        return false;
    }
    n = (size_t)(slash - src);
    memcpy(bucket, src, n);
    bucket[n] = '\0';
    if (cs_key_normalize(slash + 1, (size_t)(end - slash - 1), key, key_len, &reason) != CS_OK) {
        s3_prepare_error(req, 400, "InvalidArgument", "x-amz-copy-source: bad key: %s", reason);
        return false;
    }
    return true;
}

static void prepare_copy_result(struct cs_server *srv, struct cs_request *req,
                                const struct cs_object_id *to)
{
    struct cs_object obj;
    struct cs_buf b;
    char etag[80];
    enum cs_status st = srv->backend->ops->open(srv->backend->state, to, 0, CS_NOTOUCH, &obj);

    if (st != CS_OK) {
        s3_status_error(req, cs_http_status(st), cs_strerror(st));
        return;
    }
    s3_object_etag(&obj, etag, sizeof etag);
    cs_buf_init(&b, 4096);
    (void)cs_s3_copy_result(&b, false, obj.mtime, etag);
    cs_object_release(&obj);
    s3_prepare_xml(req, 200, &b);
}

/* The source within the destination's max_blob_size (a link takes no
 * body through the upload path, which would check it). */
static bool copy_fits(struct cs_server *srv, struct cs_request *req,
                      const struct cs_object_id *from)
{
    struct cs_object obj;
    enum cs_status st = srv->backend->ops->open(srv->backend->state, from, 0, CS_NOTOUCH, &obj);

    if (st == CS_ERR_NOT_FOUND) {
        s3_prepare_error(req, 404, "NoSuchKey", "the source key does not exist");
        return false;
    }
    if (st != CS_OK) {
        s3_status_error(req, cs_http_status(st), cs_strerror(st));
        return false;
    }
    uint64_t size = obj.size;
    cs_object_release(&obj);
    if (size > req->ns->max_blob_size) {
        s3_prepare_error(req, 400, "EntityTooLarge",
                         "the source is larger than max_blob_size of bucket '%s'", req->ns->name);
        return false;
    }
    return true;
}

/* CopyObject: a hard link (the metadata comes along), within a namespace
 * or across two where the client may read the source and write here. A
 * REPLACE directive would need the body rewritten: refused. */
void s3_copy_object(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    struct cs_s3_req *s3 = req->s3;
    const char *src = s3_header(conn, "x-amz-copy-source");
    const char *directive = s3_header(conn, "x-amz-metadata-directive");
    char bucket[CS_NAMESPACE_MAX + 1], key[CS_KEY_MAX + 1];
    const struct cs_namespace_config *from_ns;
    struct cs_object_id from, to;
    size_t key_len = 0;
    bool created = false;
    enum cs_status st;

    if (directive && strcmp(directive, "COPY") != 0) {
        s3_prepare_error(req, 501, "NotImplemented",
                         "x-amz-metadata-directive %.16s is not supported (only COPY)", directive);
        return;
    }
    if (!parse_copy_source(req, src, bucket, key, &key_len))
        return;
    from_ns = cs_config_find_namespace(req->policy->cfg, bucket, strlen(bucket));
    if (!from_ns) {
        s3_prepare_error(req, 404, "NoSuchBucket", "the source bucket '%s' does not exist", bucket);
        return;
    }
    if (!(cs_config_rights(from_ns, req->uid) & CS_RIGHT_READ)) {
        s3_prepare_error(req, 403, "AccessDenied", "no read right on the source bucket '%s'",
                         bucket);
        return;
    }
    cs_object_id_init(&from, from_ns->name, key, key_len);
    object_id(req, &to);
    if (!copy_fits(srv, req, &from))
        return;
    if (from.key_len == to.key_len && strcmp(from.ns, to.ns) == 0 &&
        memcmp(from.key, to.key, to.key_len) == 0) {
        s3_prepare_error(req, 400, "InvalidRequest",
                         "copying an object onto itself without changing anything is not "
                         "allowed");
        return;
    }
    st = srv->backend->ops->copy(srv->backend->state, &from, &to, true, req->ns->durable, &created);
    if (st == CS_ERR_NOT_FOUND)
        s3_prepare_error(req, 404, "NoSuchKey", "the source key does not exist");
    else if (st != CS_OK)
        s3_status_error(req, cs_http_status(st), cs_strerror(st));
    else
        prepare_copy_result(srv, req, &to);
    (void)s3;
}

struct delete_walk {
    struct cs_server *srv;
    struct cs_request *req;
    struct cs_buf *out;
    bool quiet;
};

static enum cs_status delete_one(void *arg, const struct cs_s3_delete_obj *o)
{
    struct delete_walk *w = arg;
    const char *reason = NULL;
    struct cs_object_id id;
    enum cs_status st;

    if (o->version_id && strcmp(o->version_id, "null") != 0)
        return cs_s3_delete_failed(w->out, o->key, o->key_len, o->version_id, "NoSuchVersion",
                                   "versioning is not enabled: the only version is \"null\"");
    /* keys in the body are not percent-encoded: validated as they are */
    if (cs_key_validate(o->key, o->key_len, &reason) != CS_OK)
        return cs_s3_delete_failed(w->out, o->key, o->key_len, o->version_id, "InvalidArgument",
                                   reason);
    cs_object_id_init(&id, w->req->ns->name, o->key, o->key_len);
    st = w->srv->backend->ops->remove(w->srv->backend->state, &id, w->req->ns->durable);
    if (st == CS_OK || st == CS_ERR_NOT_FOUND)
        return cs_s3_delete_deleted(w->out, w->quiet, o->key, o->key_len, o->version_id);
    return cs_s3_delete_failed(w->out, o->key, o->key_len, o->version_id, "InternalError",
                               cs_strerror(st));
}

void s3_delete_objects(struct cs_server *srv, struct cs_request *req)
{
    struct cs_s3_req *s3 = req->s3;
    struct cs_buf out;
    struct delete_walk w = {.srv = srv, .req = req, .out = &out};
    struct cs_s3_parse_error err = {0};

    cs_buf_init(&out, S3_XML_REPLY_MAX);
    (void)cs_s3_delete_begin(&out);
    if (cs_s3_parse_delete(s3->body.data ? s3->body.data : "", s3->body.len, &w.quiet, delete_one,
                           &w, &err) != CS_OK &&
        err.code) {
        cs_buf_free(&out);
        s3_prepare_error(req, 400, err.code, "%s", err.message);
        return;
    }
    (void)cs_s3_delete_end(&out);
    s3_prepare_xml(req, 200, &out);
}
