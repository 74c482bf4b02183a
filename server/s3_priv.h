/* Internals of the S3 front end (docs/s3.md): s3.c (which requests are S3,
 * routing, access), s3_auth.c (SigV4 against the secrets), s3_body.c (the
 * body of a PutObject or UploadPart as it streams: aws-chunked, digests,
 * checksums), s3_object.c (Get/Head/Put/Delete/Copy), s3_get.c (the GET
 * answer: ranges, conditionals, headers), s3_list.c (listings), s3_bucket.c
 * (bucket calls), s3_multipart.c, s3_meta.c (what is stored with an object)
 * and s3_response.c (errors and XML answers). Not for use outside server/. */
#ifndef CS_S3_PRIV_H
#define CS_S3_PRIV_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/checksum.h"
#include "server/http_priv.h"
#include "server/key.h"
#include "server/s3.h"
#include "server/s3_chunked.h"
#include "server/s3_sigv4.h"
#include "server/s3_xml.h"
#include "storage/backend.h"

/* Largest XML request body (DeleteObjects of 1000 keys, a completion of
 * 10000 parts). */
#define S3_XML_BODY_MAX (2u << 20)
/* Largest XML answer: a listing of 1000 keys of 1 KiB each, escaped. */
#define S3_XML_REPLY_MAX (8u << 20)
#define S3_MAX_KEYS 1000
#define S3_REQUEST_ID_LEN 16
/* The hidden prefix of multipart state (parts, the upload's record): no
 * key a client can send starts with a control character (server/key.c). */
#define S3_MPU_PREFIX "\001mpu/"
#define S3_MPU_PREFIX_LEN 5

enum s3_op {
    S3_OP_NONE,
    S3_LIST_BUCKETS,
    S3_HEAD_BUCKET,
    S3_GET_BUCKET, /* a listing or a bucket sub-resource (?location, ?versioning...) */
    S3_PUT_BUCKET,
    S3_DELETE_BUCKET,
    S3_DELETE_OBJECTS, /* POST ?delete */
    S3_GET_OBJECT,
    S3_HEAD_OBJECT,
    S3_PUT_OBJECT,
    S3_COPY_OBJECT,
    S3_DELETE_OBJECT,
    S3_CREATE_MPU,   /* POST ?uploads */
    S3_UPLOAD_PART,  /* PUT ?partNumber&uploadId */
    S3_COMPLETE_MPU, /* POST ?uploadId */
    S3_ABORT_MPU,    /* DELETE ?uploadId */
    S3_LIST_PARTS,   /* GET ?uploadId */
    S3_LIST_MPUS,    /* GET bucket ?uploads */
};

/* An S3 request's own state, next to struct cs_request (req->s3). */
struct cs_s3_req {
    char request_id[S3_REQUEST_ID_LEN + 1];
    enum s3_op op;
    char bucket[CS_NAMESPACE_MAX + 1];
    char key[CS_KEY_MAX + 1];
    size_t key_len;
    bool has_key;
    const char *resource; /* the path, for <Resource> */

    /* authentication */
    bool signed_request;
    struct cs_s3_auth auth;

    /* a body being stored (PutObject, UploadPart) */
    bool storing;
    EVP_MD_CTX *md5;
    bool has_checksum;
    struct cs_checksum checksum; /* x-amz-checksum-* or the trailer's algorithm */
    char checksum_name[CS_CHECKSUM_HEADER_MAX + 1]; /* "x-amz-checksum-crc32" */
    char checksum_want[96]; /* the header's value (empty: from the trailer) */
    struct cs_s3_chunked *chunked;
    char *decoded; /* aws-chunked: the decoded bytes of one body call */
    size_t decoded_len, decoded_cap;
    uint64_t size_hint; /* the body's length (decoded), 0 when unknown */
    uint8_t body_md5[16];
    uint8_t content_md5[16];
    bool has_content_md5;
    uint8_t *meta; /* CS_OBJECT_META_MAX bytes once s3_meta_alloc made it; owned */
    size_t meta_len;
    size_t etag_at; /* where the ETag's text starts in meta */
    size_t checksum_at;
    unsigned part_number;
    char upload_id[48];

    /* an XML request body (DeleteObjects, CompleteMultipartUpload) */
    bool xml_body;
    struct cs_buf body;
};

/* s3_auth.c: req->uid and req->s3->auth from the signature. */
enum cs_s3_err s3_authenticate(struct cs_server *srv, struct cs_request *req,
                               struct MHD_Connection *conn);

/* s3.c */
bool s3_prepare_job(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn);
/* The query parameter name (raw), or NULL; *present tells "?uploads" from absent. */
const char *s3_query(struct MHD_Connection *conn, const char *name, bool *present);
const char *s3_header(struct MHD_Connection *conn, const char *name);

/* s3_response.c: each sets req->response and req->status. */
void s3_prepare_error(struct cs_request *req, unsigned status, const char *code, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));
/* An error named by its status only (the generic paths: quota, index). */
void s3_prepare_status_error(struct cs_request *req, unsigned status, const char *reason);
/* An XML answer: takes b's data. */
void s3_prepare_xml(struct cs_request *req, unsigned status, struct cs_buf *b);
void s3_prepare_empty(struct cs_request *req, unsigned status);

/* s3_meta.c: the metadata blob stored with an object (opaque to storage). */
struct s3_meta_field {
    const char *name; /* "etag", "x-amz-meta-...", "x-amz-checksum-crc32", ... */
    size_t name_len;
    const char *value;
    size_t value_len;
};
/* The request's metadata buffer (req->s3->meta), made on first use:
 * most requests store nothing. false when out of memory. */
bool s3_meta_alloc(struct cs_s3_req *s3);
/* Appends one field; false when it does not fit. */
bool s3_meta_add(uint8_t *meta, size_t *len, size_t cap, const char *name, const char *value,
                 size_t value_len);
/* The i-th field of a blob; false past the end or on a damaged blob. */
bool s3_meta_next(const uint8_t *meta, size_t len, size_t *pos, struct s3_meta_field *out);
/* The value of the field called name, or NULL (and *value_len 0). */
const char *s3_meta_get(const uint8_t *meta, size_t len, const char *name, size_t *value_len);
/* The object's S3 ETag, unquoted: the stored one (MD5 hex, or the
 * multipart form), else the sha256 hex of the body. out: 80 bytes. */
void s3_object_etag(const struct cs_object *obj, char *out, size_t outlen);

/* s3_body.c: a body to store. */
/* First call: headers that shape the upload (meta with room for the ETag,
 * the checksum, aws-chunked). false with an error prepared. */
bool s3_body_begin(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                   struct cs_put_options *opt, uint8_t expect_sha256[32]);
/* A body call: false when a worker must flush (JOB_PUT_FLUSH). */
bool s3_body_data(struct cs_server *srv, struct cs_request *req, const char *data, size_t len);
/* The body is in: the checks that need all of it, and the final meta.
 * false with an error prepared and the upload dropped. */
bool s3_body_end(struct cs_server *srv, struct cs_request *req);
void s3_body_free(struct cs_s3_req *s3);
/* Appends the headers S3 keeps (x-amz-meta-*, storage class...) to
 * req->s3->meta; false with an error prepared. */
bool s3_meta_from_headers(struct cs_request *req, struct MHD_Connection *conn);

/* s3_object.c */
void s3_dispatch_object(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn);
/* GET/HEAD: false (CS_NOWAIT) when a tier must be asked. */
bool s3_serve_object(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                     unsigned flags);
void s3_delete_object(struct cs_server *srv, struct cs_request *req);
void s3_copy_object(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn);
void s3_delete_objects(struct cs_server *srv, struct cs_request *req);
/* After a commit: 200 with the ETag (PutObject, UploadPart). */
void s3_prepare_stored(struct cs_request *req);

/* s3_get.c: the answer to GET/HEAD of an opened object (released). */
void s3_prepare_object(struct cs_request *req, struct MHD_Connection *conn, struct cs_object *obj,
                       bool head);

/* s3_list.c, s3_bucket.c: in a worker. */
void s3_list_objects(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                     enum cs_s3_list_kind kind);
void s3_list_buckets(struct cs_server *srv, struct cs_request *req);
void s3_bucket_get(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn);
void s3_bucket_head(struct cs_server *srv, struct cs_request *req);
void s3_bucket_put(struct cs_server *srv, struct cs_request *req);
void s3_bucket_delete(struct cs_server *srv, struct cs_request *req);

/* s3_multipart.c */
void s3_mpu_create(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn);
/* UploadPart's first call, in a worker: checks the upload, then begins
 * the part's upload. */
void s3_mpu_upload_part(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn);
void s3_mpu_complete(struct cs_server *srv, struct cs_request *req);
void s3_mpu_abort(struct cs_server *srv, struct cs_request *req);
void s3_mpu_list_parts(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn);
void s3_mpu_list(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn);

#endif
