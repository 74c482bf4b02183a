/* Server-side verification of AWS Signature Version 4 for the S3 front end
 * (issue 17): the Authorization header form and presigned URLs, the
 * x-amz-content-sha256 payload modes, and a cache of derived signing keys.
 * Pure: it sees the request as name/value arrays and never libmicrohttpd.
 *
 * HTTP statuses follow AWS: failures of authentication are 403
 * (InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed,
 * AccessDenied for expiry and for SigV2), malformed requests are 400
 * (AuthorizationHeaderMalformed, AuthorizationQueryParametersError,
 * MissingSecurityHeader, InvalidArgument, InvalidRequest, InvalidURI,
 * IncompleteBody, BadDigest), an allocation failure is 500 InternalError.
 * SigV2 is refused (403 AccessDenied, with a message that says why). */
#ifndef CS_S3_SIGV4_H
#define CS_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "storage/sigv4.h"

/* Every S3-level error this module and server/s3_chunked.c report. */
enum cs_s3_err {
    CS_S3_OK = 0,
    CS_S3_ERR_HEADER_MALFORMED,    /* AuthorizationHeaderMalformed, 400 */
    CS_S3_ERR_QUERY_MALFORMED,     /* AuthorizationQueryParametersError, 400 */
    CS_S3_ERR_INVALID_ACCESS_KEY,  /* InvalidAccessKeyId, 403 */
    CS_S3_ERR_SIGNATURE,           /* SignatureDoesNotMatch, 403 */
    CS_S3_ERR_SKEWED,              /* RequestTimeTooSkewed, 403 */
    CS_S3_ERR_EXPIRED,             /* AccessDenied "Request has expired", 403 */
    CS_S3_ERR_NO_DATE,             /* AccessDenied: no x-amz-date or Date, 403 */
    CS_S3_ERR_SIGV2,               /* AccessDenied: SigV2 refused, 403 */
    CS_S3_ERR_MISSING_CONTENT_SHA, /* MissingSecurityHeader (x-amz-content-sha256), 400 */
    CS_S3_ERR_BAD_CONTENT_SHA,     /* InvalidArgument: unknown x-amz-content-sha256, 400 */
    CS_S3_ERR_TWO_MECHANISMS,      /* InvalidArgument: header and query auth, 400 */
    CS_S3_ERR_UNSUPPORTED_AUTH,    /* InvalidArgument: Basic, Bearer, ..., 400 */
    CS_S3_ERR_INVALID_URI,         /* InvalidURI: bad percent-encoding, 400 */
    CS_S3_ERR_TOO_BIG,             /* InvalidRequest: over this module's bounds, 400 */
    CS_S3_ERR_INCOMPLETE_BODY,     /* IncompleteBody, 400 */
    CS_S3_ERR_BAD_CHUNKED,         /* InvalidRequest: malformed aws-chunked, 400 */
    CS_S3_ERR_CHUNK_SIGNATURE,     /* SignatureDoesNotMatch (a chunk or trailer), 403 */
    CS_S3_ERR_BAD_TRAILER,         /* InvalidRequest: trailer missing or unknown, 400 */
    CS_S3_ERR_BAD_DIGEST,          /* BadDigest: the trailer checksum differs, 400 */
    CS_S3_ERR_DECODED_LENGTH,      /* IncompleteBody: x-amz-decoded-content-length, 400 */
    CS_S3_ERR_INTERNAL,            /* InternalError (allocation failed), 500 */
    CS_S3_ERR_UNSIGNED_HEADERS,    /* AccessDenied: x-amz-* or Content-MD5 sent unsigned, 403 */
};

/* The S3 error code ("SignatureDoesNotMatch"), a one-line message and the
 * HTTP status for an error; never NULL. */
const char *cs_s3_err_code(enum cs_s3_err e);
const char *cs_s3_err_message(enum cs_s3_err e);
int cs_s3_err_http_status(enum cs_s3_err e);

struct cs_s3_kv {
    const char *name, *value; /* value NULL: a bare query name ("?uploads") */
};

struct cs_s3_sigreq {
    const char *method;
    const char *path_raw;         /* as received, still percent-encoded, starts with '/' */
    const struct cs_s3_kv *query; /* names/values still percent-encoded, received order */
    size_t nquery;
    const struct cs_s3_kv *headers; /* every header as received; any case, duplicates kept */
    size_t nheaders;
    time_t now;
};

/* Which kind of authentication a request carries, judged from its
 * Authorization header and query names alone (no verification): lets the
 * ordinary port tell an S3 client from a Basic or Bearer one. */
enum cs_s3_auth_kind {
    CS_S3_AUTH_NONE, /* anonymous */
    CS_S3_AUTH_V4_HEADER,
    CS_S3_AUTH_V4_QUERY, /* presigned URL */
    CS_S3_AUTH_V2,       /* "AWS key:sig" or AWSAccessKeyId+Signature */
    CS_S3_AUTH_OTHER,    /* another Authorization scheme */
};
enum cs_s3_auth_kind cs_s3_auth_kind(const struct cs_s3_sigreq *r);

/* x-amz-content-sha256, i.e. how the body is protected. */
enum cs_s3_payload {
    CS_S3_PAYLOAD_UNSIGNED,                   /* UNSIGNED-PAYLOAD (or none given) */
    CS_S3_PAYLOAD_SHA256,                     /* hex digest: check it as the body streams */
    CS_S3_PAYLOAD_STREAMING_SIGNED,           /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    CS_S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
    CS_S3_PAYLOAD_STREAMING_SIGNED_TRAILER,   /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
};

#define CS_S3_ACCESS_KEY_MAX 128
#define CS_S3_REGION_MAX CS_SIGV4_SCOPE_PART_MAX
#define CS_S3_SCOPE_MAX (8 + 1 + CS_S3_REGION_MAX + 1 + 2 + 1 + 12)
#define CS_S3_HEADER_VALUE_MAX 8192 /* any one header value this module reads or signs */
#define CS_S3_PATH_MAX 8192         /* bytes of path_raw */
#define CS_S3_QUERY_BYTES_MAX 16384 /* bytes of all query names and values */
#define CS_S3_MAX_EXPIRES 604800    /* presigned URLs live a week at most */
#define CS_S3_MAX_SKEW 900          /* seconds, as AWS */

/* The outcome of a successful verification. */
struct cs_s3_auth {
    bool anonymous; /* no Authorization header and no X-Amz-* auth query */
    bool presigned;
    char access_key[CS_S3_ACCESS_KEY_MAX + 1];
    char region[CS_S3_REGION_MAX + 1];
    char date8[9];                   /* "20130524" */
    char amz_date[17];               /* "20130524T000000Z" */
    char scope[CS_S3_SCOPE_MAX + 1]; /* "20130524/us-east-1/s3/aws4_request" */
    uint8_t signing_key[CS_SIGV4_KEY_LEN];
    char seed_signature[CS_SIGV4_SIG_HEX + 1]; /* the request's signature: the chain's seed */
    enum cs_s3_payload payload;
    uint8_t payload_sha256[32]; /* for CS_S3_PAYLOAD_SHA256 */
};

/* The secret of an access key, or NULL when the key is unknown. The string
 * must stay valid until cs_s3_sigv4_verify() returns. */
typedef const char *(*cs_s3_secret_fn)(void *ctx, const char *access_key);

struct cs_s3_keycache;

/* A cache of derived signing keys by (access key, date, region, secret):
 * a rotated secret misses, it never finds the old key. Bounded (about
 * CS_S3_KEYCACHE_SIZE entries, replaced round-robin per stripe) and
 * thread-safe with striped locks, so threads verifying different keys do not
 * contend. NULL when out of memory. */
#define CS_S3_KEYCACHE_SIZE 1024
struct cs_s3_keycache *cs_s3_keycache_new(void);
void cs_s3_keycache_free(struct cs_s3_keycache *c);

/* Verifies r. On CS_S3_OK, *out says who signed what (or that the request
 * is anonymous: then only payload/payload_sha256 are set). cache may be
 * NULL (every call derives the key). Thread-safe. */
enum cs_s3_err cs_s3_sigv4_verify(const struct cs_s3_sigreq *r, cs_s3_secret_fn secret,
                                  void *secret_ctx, struct cs_s3_keycache *cache,
                                  struct cs_s3_auth *out);

#endif
