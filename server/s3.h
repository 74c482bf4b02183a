/* The S3 front end, as the request path in http.c sees it. A request is
 * S3 when it came in on an S3 listener ("s3://host:port"), is signed with
 * SigV4 (header or presigned query), or names a bucket in its Host under
 * s3.domain; everything else is answered exactly as before. */
#ifndef CS_S3_H
#define CS_S3_H

#include <microhttpd.h>
#include <stdbool.h>

struct cs_server;
struct cs_request;

/* Whether the request is S3 (on its first call). */
bool s3_is_request(const struct cs_server *srv, const struct cs_request *req,
                   struct MHD_Connection *conn);
/* First call: authenticate, route, check rights, start the operation. */
void s3_dispatch(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn);
/* A body call: false when the bytes are taken and a flush must follow in
 * a worker (JOB_PUT_FLUSH). */
bool s3_body(struct cs_server *srv, struct cs_request *req, const char *data, size_t len);
/* The body is in: true when a job (JOB_S3) must finish the request. */
bool s3_end_body(struct cs_server *srv, struct cs_request *req);
/* The S3 part of a job (JOB_OPEN, JOB_DELETE, JOB_S3) in a worker. */
void s3_run_job(struct cs_server *srv, struct cs_request *req);
/* Just before the answer is queued: the headers every S3 answer carries. */
void s3_finish_response(struct cs_request *req);
/* After a PUT's commit (http_commit_put): the S3 answer. */
void s3_stored(struct cs_request *req, bool created);
/* A CAS key already held: the body is dropped unread, 200. */
void s3_stored_unread(struct cs_request *req);
/* The body does not hash to its signed x-amz-content-sha256 (nor, for a
 * cas/ key, its digest): 400, nothing stored. */
void s3_digest_mismatch(struct cs_request *req);
/* http_prepare_error for an S3 request: the reason as S3 XML. */
void s3_status_error(struct cs_request *req, unsigned status, const char *reason);
/* PutObject and UploadPart: the put options S3 adds (meta, size,
 * digests); false with an error prepared. */
struct cs_put_options;
bool s3_put_options(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                    struct cs_put_options *opt, unsigned char expect_sha256[32]);
void s3_request_free(struct cs_request *req);
/* Starts the request ids at a random number (getrandom). */
#include "common/status.h"
enum cs_status s3_request_id_seed(struct cs_server *srv);

#endif
