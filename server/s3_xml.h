/* S3 XML: every answer body the S3 front end writes, and the three request
 * bodies it reads (DeleteObjects, CompleteMultipartUpload,
 * CreateBucketConfiguration). Pure: no I/O, no storage, no shared state,
 * so every function is thread-safe.
 *
 * Writers append to a bounded struct cs_buf and return its status: CS_OK,
 * or the buffer's sticky failure (CS_ERR_TOO_LARGE / CS_ERR_NOMEM), in
 * which case the answer is incomplete and must not be sent.
 *
 * Key bytes and XML: S3 keys are UTF-8, but a key stored through the HTTP
 * or WebDAV front ends may not be. With encoding-type=url a key is
 * percent-encoded (cs_url_encode) and comes back exactly. Without it a
 * byte that is not part of well-formed UTF-8 becomes U+FFFD
 * (cs_xml_escape), as in PROPFIND answers: the XML is always well-formed,
 * but the listed name is not the key. cs_xml_text_exact() tells the caller
 * when that happens (it may log it). awscli always asks for url encoding.
 *
 * Error codes the front end answers with through cs_s3_error_xml() for
 * sub-resources we do not keep: GET ?policy -> 404 NoSuchBucketPolicy,
 * ?cors -> 404 NoSuchCORSConfiguration, ?lifecycle -> 404
 * NoSuchLifecycleConfiguration (what AWS answers for a bucket without
 * them; s3cmd info needs an S3 error, it crashed on a 405). */
#ifndef CS_S3_XML_H
#define CS_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/status.h"

#define CS_S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define CS_S3_KEY_MAX 1024    /* bytes, as on AWS */
#define CS_S3_DELETE_MAX 1000 /* objects in one DeleteObjects */
#define CS_S3_PARTS_MAX 10000 /* parts in one upload; numbers are 1..10000 */
#define CS_S3_ETAG_MAX 64     /* a part ETag without quotes (ours are 32 hex) */
#define CS_S3_CHECKSUM_MAX 64 /* base64 of a SHA-256 is 44 */
#define CS_S3_VERSION_ID_MAX 1024
#define CS_S3_LOCATION_MAX 64

/* --- writers ------------------------------------------------------------- */

/* Owner, Initiator: ID and DisplayName, both required. */
struct cs_s3_owner {
    const char *id;
    const char *display_name;
};

/* <Error>. code, message and request_id are required; the others are left
 * out when NULL. */
struct cs_s3_error {
    const char *code;     /* "NoSuchKey" */
    const char *message;  /* one line */
    const char *resource; /* the request path, e.g. "/bucket/key" */
    const char *request_id;
    const char *bucket; /* <BucketName> */
    const char *key;    /* <Key>, key_len bytes */
    size_t key_len;
};
enum cs_status cs_s3_error_xml(struct cs_buf *out, const struct cs_s3_error *e);

/* One object of a listing (Contents, Version) or a copy result. */
struct cs_s3_object {
    const char *key;
    size_t key_len;
    time_t mtime;
    const char *etag; /* without quotes: "<md5 hex>" or "<md5 hex>-N" */
    uint64_t size;
};

/* Listings are streamed: begin, then add_object / add_upload / add_part /
 * add_prefix for each entry in key order, then end (or discard on an early
 * exit). The caller never holds the list. The counts and markers that AWS
 * puts before the entries (KeyCount, IsTruncated, Next*) are only known at
 * the end: begin leaves a place for them and end fills it in, so the
 * elements come out in AWS's order. CommonPrefixes are held by the writer
 * (bounded by out's limit) and written after the entries, as AWS does. */
enum cs_s3_list_kind {
    CS_S3_LIST_V1,       /* ListObjects: ListBucketResult with Marker */
    CS_S3_LIST_V2,       /* ListObjectsV2: ListBucketResult with KeyCount */
    CS_S3_LIST_VERSIONS, /* ListObjectVersions: ListVersionsResult */
    CS_S3_LIST_UPLOADS,  /* ListMultipartUploads: ListMultipartUploadsResult */
    CS_S3_LIST_PARTS,    /* ListParts: ListPartsResult */
};

/* What the request asked, echoed in the answer. A (ptr, len) pair with
 * ptr NULL is "not given" and its element is left out; prefix is always
 * written (empty when NULL). */
struct cs_s3_list_req {
    enum cs_s3_list_kind kind;
    const char *bucket;
    const char *prefix; /* not for PARTS */
    size_t prefix_len;
    const char *delimiter; /* not for PARTS */
    size_t delimiter_len;
    uint64_t max; /* MaxKeys, MaxUploads or MaxParts */
    bool url;     /* encoding-type=url: keys, prefixes and markers percent-encoded */
    /* V1: Marker (always written). VERSIONS: KeyMarker; UPLOADS: KeyMarker */
    const char *marker;
    size_t marker_len;
    /* V2 */
    const char *continuation_token; /* opaque, as received; never url-encoded */
    const char *start_after;
    size_t start_after_len;
    /* VERSIONS: VersionIdMarker; UPLOADS: UploadIdMarker (NUL-terminated) */
    const char *id_marker;
    /* PARTS */
    const char *key; /* the upload's key */
    size_t key_len;
    const char *upload_id;
    uint32_t part_number_marker;
    /* Owner of every Contents/Version/Upload (and Initiator of uploads and
     * parts). NULL: no Owner elements (ListObjectsV2 without fetch-owner). */
    const struct cs_s3_owner *owner;
};

/* What only the end knows. */
struct cs_s3_list_next {
    bool truncated;
    /* V1 NextMarker (AWS gives it only with a delimiter), VERSIONS and
     * UPLOADS NextKeyMarker; left out when NULL */
    const char *marker;
    size_t marker_len;
    const char *token;    /* V2 NextContinuationToken, opaque; NULL: none */
    const char *id;       /* VERSIONS NextVersionIdMarker, UPLOADS NextUploadIdMarker */
    uint32_t part_number; /* PARTS NextPartNumberMarker (0: none) */
};

struct cs_s3_list_writer {
    struct cs_buf *out;
    const struct cs_s3_list_req *req; /* must outlive the writer */
    size_t mark;                      /* where end inserts the counts */
    size_t key_count;                 /* entries and prefixes written */
    struct cs_buf prefixes;           /* CommonPrefixes, written by end; owned */
};

/* One upload of ListMultipartUploads. */
struct cs_s3_upload {
    const char *key;
    size_t key_len;
    const char *upload_id;
    time_t initiated;
};

/* One part of ListParts. */
struct cs_s3_part_info {
    uint32_t number;
    time_t mtime;
    const char *etag; /* without quotes */
    uint64_t size;
};

enum cs_status cs_s3_list_begin(struct cs_s3_list_writer *w, struct cs_buf *out,
                                const struct cs_s3_list_req *req);
/* V1, V2: Contents. VERSIONS: Version with VersionId "null" and IsLatest
 * true, as an unversioned AWS bucket answers. CS_ERR_INVALID for other
 * kinds. */
enum cs_status cs_s3_list_add_object(struct cs_s3_list_writer *w, const struct cs_s3_object *o);
enum cs_status cs_s3_list_add_upload(struct cs_s3_list_writer *w, const struct cs_s3_upload *u);
enum cs_status cs_s3_list_add_part(struct cs_s3_list_writer *w, const struct cs_s3_part_info *p);
/* A CommonPrefixes entry (the prefix including its delimiter). */
enum cs_status cs_s3_list_add_prefix(struct cs_s3_list_writer *w, const char *prefix, size_t n);
/* Writes the counts and markers and closes the document; frees the
 * writer's state whatever the outcome. */
enum cs_status cs_s3_list_end(struct cs_s3_list_writer *w, const struct cs_s3_list_next *next);
/* Frees the writer's state without finishing (out holds half an answer). */
void cs_s3_list_discard(struct cs_s3_list_writer *w);

/* ListAllMyBucketsResult: streamed like listings, without counts. */
enum cs_status cs_s3_buckets_begin(struct cs_buf *out, const struct cs_s3_owner *owner);
enum cs_status cs_s3_buckets_add(struct cs_buf *out, const char *name, time_t created);
enum cs_status cs_s3_buckets_end(struct cs_buf *out);

/* DeleteResult: begin, one deleted() or failed() per object in request
 * order, end. In quiet mode deleted() writes nothing (AWS lists only the
 * errors). version_id NULL: no VersionId element. */
enum cs_status cs_s3_delete_begin(struct cs_buf *out);
enum cs_status cs_s3_delete_deleted(struct cs_buf *out, bool quiet, const char *key, size_t key_len,
                                    const char *version_id);
enum cs_status cs_s3_delete_failed(struct cs_buf *out, const char *key, size_t key_len,
                                   const char *version_id, const char *code, const char *message);
enum cs_status cs_s3_delete_end(struct cs_buf *out);

/* CopyObjectResult (part false) or CopyPartResult (part true). */
enum cs_status cs_s3_copy_result(struct cs_buf *out, bool part, time_t mtime, const char *etag);

/* InitiateMultipartUploadResult. */
enum cs_status cs_s3_initiate_result(struct cs_buf *out, const char *bucket, const char *key,
                                     size_t key_len, const char *upload_id);

/* CompleteMultipartUploadResult. location is the object's URL (written as
 * given, escaped). checksum_name is the element ("ChecksumCRC32", ...) and
 * checksum its value; both NULL for none. */
struct cs_s3_complete_result {
    const char *location;
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *etag; /* without quotes: "<hex>-N" */
    const char *checksum_name;
    const char *checksum;
};
enum cs_status cs_s3_complete_result(struct cs_buf *out, const struct cs_s3_complete_result *r);

/* <LocationConstraint>: empty for us-east-1 (and for NULL or ""), as AWS
 * answers GetBucketLocation. */
enum cs_status cs_s3_location(struct cs_buf *out, const char *region);

/* <VersioningConfiguration/> with no Status: versioning never enabled. */
enum cs_status cs_s3_versioning(struct cs_buf *out);

/* AccessControlPolicy for ?acl: the owner has FULL_CONTROL, nobody else
 * has a grant. */
enum cs_status cs_s3_acl(struct cs_buf *out, const struct cs_s3_owner *owner);

/* --- parsers ------------------------------------------------------------- */

/* Why a body was refused: an S3 error code (static string, e.g.
 * "MalformedXML") and a one-line message for cs_s3_error. */
struct cs_s3_parse_error {
    const char *code;
    char message[160];
};

/* Every parser takes the whole body (the caller caps it, 2 MiB for
 * DeleteObjects), parses it with expat and refuses any DOCTYPE, so there
 * are no entities but the five predefined ones and no external
 * references. Elements may be in the S3 namespace or in none; unknown
 * elements are ignored (text inside them is not kept). Return: CS_OK;
 * CS_ERR_INVALID with *err filled; CS_ERR_NOMEM; or, for DeleteObjects,
 * the callback's own error. */

struct cs_s3_delete_obj {
    const char *key; /* key_len bytes (1..CS_S3_KEY_MAX), not NUL-terminated */
    size_t key_len;
    const char *version_id; /* NUL-terminated, or NULL when absent */
};
/* Called once per object in document order. A status other than CS_OK
 * stops the walk and is returned. */
typedef enum cs_status (*cs_s3_delete_cb)(void *arg, const struct cs_s3_delete_obj *obj);

/* DeleteObjects body: <Delete><Quiet>true</Quiet><Object><Key>..</Key>
 * <VersionId>..</VersionId></Object>...</Delete>. The whole body is checked
 * before the first callback (check before you destroy): a body with 1001
 * objects, a key over 1024 bytes or broken XML at the end deletes
 * nothing. *quiet is set before the first callback. Codes: MalformedXML
 * (bad XML, wrong root, no objects, over 1000, an Object without a Key, a
 * bad Quiet), KeyTooLongError, UserKeyMustBeSpecified (an empty Key). */
enum cs_status cs_s3_parse_delete(const char *body, size_t len, bool *quiet, cs_s3_delete_cb cb,
                                  void *arg, struct cs_s3_parse_error *err);

enum cs_s3_checksum {
    CS_S3_CHECKSUM_NONE,
    CS_S3_CHECKSUM_CRC32,
    CS_S3_CHECKSUM_CRC32C,
    CS_S3_CHECKSUM_CRC64NVME,
    CS_S3_CHECKSUM_SHA1,
    CS_S3_CHECKSUM_SHA256,
};
/* The element name of a checksum kind ("ChecksumCRC32"), NULL for NONE. */
const char *cs_s3_checksum_name(enum cs_s3_checksum kind);

struct cs_s3_part {
    uint32_t number;                       /* 1..10000 */
    char etag[CS_S3_ETAG_MAX + 1];         /* quotes removed */
    enum cs_s3_checksum checksum_kind;     /* NONE when the part gave none */
    char checksum[CS_S3_CHECKSUM_MAX + 1]; /* as sent (base64) */
};
struct cs_s3_complete {
    struct cs_s3_part *parts; /* n, ascending; owned, cs_s3_complete_free() */
    size_t n;
};

/* CompleteMultipartUpload body. Codes: MalformedXML (bad XML, wrong root,
 * no parts, over 10000, a Part without PartNumber or ETag, a second
 * checksum in one part), InvalidArgument (a part number not in
 * 1..10000), InvalidPartOrder (numbers not strictly ascending),
 * InvalidPart (an ETag or checksum too long to be one we gave out). */
enum cs_status cs_s3_parse_complete(const char *body, size_t len, struct cs_s3_complete *out,
                                    struct cs_s3_parse_error *err);
void cs_s3_complete_free(struct cs_s3_complete *c);

/* CreateBucketConfiguration body; an empty (or all-blank) body is fine.
 * region gets the LocationConstraint, "" when there is none. Codes:
 * MalformedXML, InvalidLocationConstraint (over CS_S3_LOCATION_MAX). */
enum cs_status cs_s3_parse_create_bucket(const char *body, size_t len,
                                         char region[CS_S3_LOCATION_MAX + 1],
                                         struct cs_s3_parse_error *err);

#endif
