/* PUT: what is checked before the body (size, length, type, Bazel's CAS
 * rule), the body as it streams into an upload, and the commit. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/size.h"
#include "server/bazel.h"
#include "server/http_priv.h"
#include "server/http_status.h"
#include "server/s3.h"

/* Why a store failed, in words a client's log can act on. */
static void store_reason(const struct cs_request *req, enum cs_status st, char *out, size_t len)
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
bool http_begin_put(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                    const struct cs_object_id *id, unsigned flags, const char *method,
                    const char *url)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *ct =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    struct cs_put_options opt = {.durable = req->ns->durable,
                                 .nowait = (flags & CS_NOWAIT) != 0,
                                 .size_hint = 0,
                                 .compress_level = req->ns->compress_level};
    uint8_t expect[CS_SHA256_LEN], signed_sha256[CS_SHA256_LEN];
    char reason[REASON_MAX];
    enum cs_status st;

    req->limit = req->ns->max_blob_size;
    if (req->s3 && !s3_put_options(srv, req, conn, &opt, signed_sha256))
        return true;
    if (cl) {
        /* libmicrohttpd has already rejected a malformed Content-Length;
         * an aws-chunked body's own length is what S3 gave as size_hint */
        if (!opt.size_hint)
            opt.size_hint = strtoull(cl, NULL, 10);
        if (opt.size_hint > req->limit) {
            char limit[32];
            cs_format_size(req->limit, limit, sizeof limit);
            snprintf(reason, sizeof reason,
                     "body of %llu bytes exceeds max_blob_size %s of namespace '%s'",
                     (unsigned long long)opt.size_hint, limit, req->ns->name);
            http_prepare_error(req, method, url, MHD_HTTP_CONTENT_TOO_LARGE, reason);
            return true;
        }
    } else if (!te || !strcasestr(te, "chunked")) {
        http_prepare_error(req, method, url, MHD_HTTP_LENGTH_REQUIRED,
                           "PUT needs a Content-Length header (or chunked transfer encoding)");
        return true;
    }
    if (ct && strlen(ct) > CS_CONTENT_TYPE_MAX) {
        http_prepare_error(req, method, url, MHD_HTTP_BAD_REQUEST,
                           "Content-Type longer than 127 bytes");
        return true;
    }
    if (ct && strcmp(ct, "application/octet-stream") != 0)
        opt.content_type = ct;
    if (cs_bazel_cas_digest(id->key, id->key_len, expect)) {
        if (opt.expect_sha256 && memcmp(opt.expect_sha256, expect, sizeof expect) != 0) {
            http_prepare_error(req, method, url, MHD_HTTP_BAD_REQUEST,
                               "x-amz-content-sha256 is not the digest in the cas/ key");
            return true;
        }
        /* Bazel uploads every blob without asking first: a blob we hold is
         * named by its content, so keep ours and drop the body unread. (An
         * S3 PutObject stores its metadata too: written like any other.) */
        st = req->s3 ? CS_ERR_NOT_FOUND : srv->backend->ops->exists(srv->backend->state, id, flags);
        if (st == CS_ERR_WOULD_BLOCK)
            return false;
        if (st == CS_OK) {
            if (req->s3) /* a PutObject answers 200: OpenDAL fails a write on 204 */
                s3_stored_unread(req);
            else
                http_prepare_empty(req, MHD_HTTP_NO_CONTENT);
            return true;
        }
        opt.expect_sha256 = expect;
    }
    st = srv->backend->ops->put_begin(srv->backend->state, id, &opt, &req->upload);
    if (st == CS_ERR_WOULD_BLOCK)
        return false;
    if (st != CS_OK) {
        store_reason(req, st, reason, sizeof reason);
        http_prepare_error(req, method, url, cs_http_status(st), reason);
    }
    return true;
}

void http_put_drop(struct cs_server *srv, struct cs_request *req)
{
    if (req->upload)
        srv->backend->ops->put_abort(req->upload);
    req->upload = NULL;
}

static void fail_put(struct cs_server *srv, struct cs_request *req, enum cs_status st,
                     const char *method, const char *url)
{
    char reason[REASON_MAX];

    if (st == CS_ERR_TOO_LARGE)
        snprintf(reason, sizeof reason, "body exceeds max_blob_size of namespace '%s'",
                 req->ns->name);
    else
        store_reason(req, st, reason, sizeof reason);
    http_put_drop(srv, req);
    http_prepare_error(req, method, url, cs_http_status(st), reason);
}

bool http_continue_put(struct cs_server *srv, struct cs_request *req, const char *data, size_t len,
                       unsigned flags, const char *method, const char *url)
{
    const struct cs_backend_ops *ops = srv->backend->ops;
    enum cs_status st;

    if (req->received + len > req->limit) {
        fail_put(srv, req, CS_ERR_TOO_LARGE, method, url);
        return true;
    }
    req->received += len;
    st = ops->put_write(req->upload, data, len, flags);
    if (st == CS_ERR_WOULD_BLOCK)
        return false; /* taken; the rest waits for http_flush_put */
    if (st != CS_OK)
        fail_put(srv, req, st, method, url);
    return true;
}

void http_flush_put(struct cs_server *srv, struct cs_request *req, const char *method,
                    const char *url)
{
    enum cs_status st = srv->backend->ops->put_flush(req->upload);

    if (st != CS_OK)
        fail_put(srv, req, st, method, url);
}

bool http_commit_put(struct cs_server *srv, struct cs_request *req, unsigned flags,
                     const char *method, const char *url)
{
    const struct cs_backend_ops *ops = srv->backend->ops;
    char reason[REASON_MAX];
    enum cs_status st;
    bool created = false;

    if (flags & CS_NOWAIT) {
        /* fsync, the index row's commit and sync tiers wait */
        if (req->ns->durable || req->ns->n_tiers > 0)
            return false;
        st = ops->put_write(req->upload, NULL, 0, CS_NOWAIT | CS_PUT_END);
        if (st == CS_ERR_WOULD_BLOCK)
            return false;
        if (st != CS_OK) {
            fail_put(srv, req, st, method, url);
            return true;
        }
    }
    st = ops->put_commit(req->upload, &created);
    req->upload = NULL; /* commit frees the handle, success or not */
    if (st == CS_ERR_DIGEST && req->s3) {
        s3_digest_mismatch(req);
        return true;
    }
    if (st == CS_ERR_DIGEST) {
        http_prepare_error(req, method, url, MHD_HTTP_BAD_REQUEST,
                           "body does not hash to the sha256 in its cas/ key: not stored");
        return true;
    }
    if (st != CS_OK) {
        store_reason(req, st, reason, sizeof reason);
        http_prepare_error(req, method, url, cs_http_status(st), reason);
        return true;
    }
    if (req->s3)
        s3_stored(req, created);
    else
        http_prepare_empty(req, created ? MHD_HTTP_CREATED : MHD_HTTP_NO_CONTENT);
    cs_stats_add(srv->stats, req->ns_slot, CS_STAT_PUTS, 1);
    cs_stats_add(srv->stats, req->ns_slot, CS_STAT_BYTES_IN, req->received);
    return true;
}

bool http_has_body(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

    return (cl && strcmp(cl, "0") != 0) ||
           MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* A refused request with a body: answer before the body only when the
 * client waits for "100 Continue" or the body is large. Otherwise read and
 * drop it first: closing with unread bytes makes the kernel send a reset,
 * which can destroy the answer before the client reads it. */
bool http_refuse_before_body(struct MHD_Connection *conn)
{
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

    if (expect && strcasecmp(expect, "100-continue") == 0)
        return true;
    return !cl || strtoull(cl, NULL, 10) > DISCARD_MAX;
}
