/* AWS Signature Version 4 for the s3 tier (issue 7), written with OpenSSL's
 * HMAC rather than libcurl's CURLOPT_AWS_SIGV4: the s3 tier streams bodies
 * and must sign with UNSIGNED-PAYLOAD or a precomputed digest and its own
 * x-amz-* headers, and a signer of our own can be unit-tested against
 * AWS's published vectors without a network.
 *
 * The pieces below cs_sigv4_authorization() are shared with the server's
 * verifier (server/s3_sigv4.c, issue 17): the HMAC chain, the AWS
 * percent-encoding, the canonical query and the canonical request, so the
 * client and the server cannot drift apart. All functions are pure and
 * thread-safe. */
#ifndef CS_SIGV4_H
#define CS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define CS_SIGV4_KEY_LEN 32        /* a derived signing key, raw bytes */
#define CS_SIGV4_SIG_HEX 64        /* a signature, hex digits */
#define CS_SIGV4_MAX_HEADERS 64    /* signed headers in one request */
#define CS_SIGV4_MAX_QUERY 64      /* query parameters in one request */
#define CS_SIGV4_SECRET_MAX 256    /* bytes of a secret access key */
#define CS_SIGV4_SCOPE_PART_MAX 64 /* bytes of a scope's region or service */

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

/* --- shared with the verifier ------------------------------------------ */

/* HMAC-SHA256 of msg[0..mlen) under key[0..klen). */
void cs_sigv4_hmac(const void *key, size_t klen, const void *msg, size_t mlen,
                   uint8_t out[CS_SIGV4_KEY_LEN]);

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date8), region), service),
 * "aws4_request"). CS_ERR_INVALID for a secret over CS_SIGV4_SECRET_MAX bytes
 * or a date that is not 8 characters. Counts itself (below). */
enum cs_status cs_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                                    const char *service, uint8_t out[CS_SIGV4_KEY_LEN]);

/* How many times cs_sigv4_signing_key() ran in this process: lets tests
 * prove that a cached key is not derived again. */
unsigned long cs_sigv4_key_derivations(void);

/* AWS's URI encoding of in[0..n): A-Za-z0-9 -._~ kept, '/' kept when
 * keep_slash, every other byte %XX with uppercase hex. Returns the encoded
 * length; writes it (no NUL) only when out is not NULL. */
size_t cs_sigv4_uri_encode(const uint8_t *in, size_t n, bool keep_slash, char *out);

/* The canonical query string from already-encoded parameters (value NULL is
 * "name="): sorts p in place by name, then value, and writes "a=1&b=" with a
 * NUL. CS_ERR_INVALID over CS_SIGV4_MAX_QUERY, CS_ERR_TOO_LARGE when out is
 * too small. */
enum cs_status cs_sigv4_canonical_query(struct cs_sigv4_header *p, size_t n, char *out, size_t cap);

/* A canonical request. headers holds one entry per signed header, in any
 * order and any case, its value as received (duplicates already joined
 * with ','): names are lowercased, values trimmed and inner runs of spaces
 * collapsed here. */
struct cs_sigv4_canon {
    const char *method;
    const char *uri;   /* canonical URI (encoded) */
    const char *query; /* canonical query string, or "" */
    const struct cs_sigv4_header *headers;
    size_t nheaders; /* 1..CS_SIGV4_MAX_HEADERS, names unique */
    const char *payload;
};

/* SHA-256 of the canonical request (hashed as it is built: no buffer), and
 * the signed-headers list ("host;x-amz-date") written into signed_headers.
 * CS_ERR_INVALID for no or too many headers or a repeated name,
 * CS_ERR_TOO_LARGE when signed_headers is too small. */
enum cs_status cs_sigv4_canonical_hash(const struct cs_sigv4_canon *c, char *signed_headers,
                                       size_t cap, uint8_t out[32]);

/* Signature of a request: HMAC(key, "AWS4-HMAC-SHA256\n" amz_date "\n"
 * scope "\n" hex(creq_hash)) as lowercase hex with a NUL. scope is
 * "date8/region/service/aws4_request". */
void cs_sigv4_signature(const uint8_t key[CS_SIGV4_KEY_LEN], const char *amz_date,
                        const char *scope, const uint8_t creq_hash[32],
                        char hex[CS_SIGV4_SIG_HEX + 1]);

/* The chained signatures of aws-chunked bodies: HMAC(key, algorithm "\n"
 * amz_date "\n" scope "\n" prev_sig "\n" tail) as hex, where algorithm is
 * "AWS4-HMAC-SHA256-PAYLOAD" (tail: hex sha256("") "\n" hex of the chunk's
 * sha256) or "AWS4-HMAC-SHA256-TRAILER" (tail: hex of the trailer's sha256). */
void cs_sigv4_chained_signature(const uint8_t key[CS_SIGV4_KEY_LEN], const char *algorithm,
                                const char *amz_date, const char *scope, const char *prev_sig,
                                const char *tail, char hex[CS_SIGV4_SIG_HEX + 1]);

#endif
