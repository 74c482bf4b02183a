/* AWS Signature Version 4 for the s3 tier (issue 7), written with OpenSSL's
 * HMAC rather than libcurl's CURLOPT_AWS_SIGV4: the s3 tier streams bodies
 * and must sign with UNSIGNED-PAYLOAD or a precomputed digest and its own
 * x-amz-* headers, and a signer of our own can be unit-tested against
 * AWS's published vectors without a network. */
#ifndef CS_SIGV4_H
#define CS_SIGV4_H

#include <stddef.h>

#include "common/status.h"

struct cs_sigv4_header {
    const char *name, *value;
};

struct cs_sigv4_request {
    const char *method;
    const char *path;                      /* URI-encoded, e.g. "/bucket/key" */
    const char *query;                     /* URI-encoded "a=1&b=2" in any order, or "" */
    const struct cs_sigv4_header *headers; /* every header to sign, host included */
    size_t nheaders;
    const char *payload_sha256; /* hex, or "UNSIGNED-PAYLOAD" */
    const char *amz_date;       /* "YYYYMMDDTHHMMSSZ", also sent as x-amz-date */
    const char *region, *service, *access_key, *secret_key;
};

/* Writes the Authorization header's value into out. CS_ERR_INVALID for a
 * malformed request, CS_ERR_TOO_LARGE when out is too small. */
enum cs_status cs_sigv4_authorization(const struct cs_sigv4_request *r, char *out, size_t outlen);

#endif
