/* Streaming decoder of S3's aws-chunked bodies (issue 17): the signed form
 * (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, a chained signature on every chunk),
 * the unsigned form with a checksum trailer (STREAMING-UNSIGNED-PAYLOAD-
 * TRAILER, the newer SDKs' default) and the signed form with a signed
 * trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER). Feed it the raw body
 * in slices of any size; payload bytes reach the sink as soon as they are
 * known to be payload, straight from the caller's slice. State is a few KiB
 * and never grows with the body. One decoder per request; not thread-safe. */
#ifndef CS_S3_CHUNKED_H
#define CS_S3_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#include "common/checksum.h"
#include "common/status.h"
#include "server/s3_sigv4.h"

#define CS_S3_CHUNK_LINE_MAX 160 /* "<hex>;chunk-signature=<64 hex>" and other extensions */
#define CS_S3_TRAILER_MAX 4096   /* all trailer lines together */

typedef enum cs_status (*cs_s3_sink_fn)(void *ctx, const void *data, size_t len);

struct cs_s3_chunked_config {
    enum cs_s3_payload mode;       /* one of the three CS_S3_PAYLOAD_STREAMING_* */
    const struct cs_s3_auth *auth; /* signed modes: key, amz_date, scope, seed (copied) */
    const char *trailer;           /* the x-amz-trailer header, or NULL */
    int64_t decoded_length;        /* x-amz-decoded-content-length, or -1 when absent */
    cs_s3_sink_fn sink;
    void *sink_ctx;
};

struct cs_s3_chunked;

/* A decoder, or NULL with *why set: CS_S3_ERR_BAD_TRAILER for an
 * x-amz-trailer that names no known checksum (or one given to the signed
 * mode without trailer), CS_S3_ERR_BAD_CONTENT_SHA for another mode,
 * CS_S3_ERR_INTERNAL when out of memory. Caller owns it: _free(). */
struct cs_s3_chunked *cs_s3_chunked_new(const struct cs_s3_chunked_config *cfg,
                                        enum cs_s3_err *why);
void cs_s3_chunked_free(struct cs_s3_chunked *d);

/* Decodes the next len raw bytes. CS_OK; a sink's status, returned as the
 * sink gave it; or CS_ERR_INVALID for a body that breaks the protocol, its
 * S3 error in cs_s3_chunked_error(). After any error the decoder stays
 * failed and returns the same status. */
enum cs_status cs_s3_chunked_feed(struct cs_s3_chunked *d, const void *data, size_t len);

/* The body has ended: CS_OK only after the final chunk and the trailer were
 * complete and checked; CS_ERR_INVALID (CS_S3_ERR_INCOMPLETE_BODY) for a
 * body that ended early. */
enum cs_status cs_s3_chunked_finish(struct cs_s3_chunked *d);

/* The S3 error behind a CS_ERR_INVALID (CS_S3_OK after a sink's failure). */
enum cs_s3_err cs_s3_chunked_error(const struct cs_s3_chunked *d);

/* A one-line message for that error, more precise than cs_s3_err_message()
 * (BadDigest names the algorithm, as AWS does). Never NULL. */
const char *cs_s3_chunked_message(const struct cs_s3_chunked *d);

/* Payload bytes decoded so far. */
uint64_t cs_s3_chunked_decoded(const struct cs_s3_chunked *d);

/* After a successful finish with a checksum trailer: its algorithm and the
 * verified base64 value (to store and return with GET). NULL otherwise. */
const char *cs_s3_chunked_checksum(const struct cs_s3_chunked *d, enum cs_checksum_alg *alg);

#endif
