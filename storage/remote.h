/* Remote storage tiers (s3, redis, http): what the tier layer (tiers.h)
 * asks of each. Unlike the disk backend they hold only object bodies with a
 * little metadata, named by the object's digest (s3, redis) or its key
 * (http). Every operation may run on any thread at the same time; each
 * tier keeps its own connections. Failures are CS_ERR_UNAVAILABLE (with
 * the reason logged at debug level): the tier layer decides what a client
 * sees.
 *
 * Dependencies point one way: the tier layer (tiers.c, tier.c) opens and
 * calls the tiers (s3.c, redis.c, upstream.c); they use remote.c and
 * curl_xfer.c, never the tier layer. */
#ifndef CS_REMOTE_H
#define CS_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "storage/backend.h"

/* One tier as configured: tiers = ( { type = "disk"; }, { type = "s3"; ... } ). */
enum cs_tier_type { CS_TIER_DISK, CS_TIER_S3, CS_TIER_REDIS, CS_TIER_HTTP };

struct cs_tier_config {
    enum cs_tier_type type;
    bool write_async;                              /* write = "async": through a bounded queue */
    char *url;                                     /* redis, http */
    char *endpoint, *bucket, *region, *prefix;     /* s3 (prefix: also redis) */
    char *access_key, *secret_key, *session_token; /* s3; NULL: from AWS_* variables */
    char *token;                                   /* http: bearer token */
    char *ca_file;            /* s3, http: PEM CA bundle instead of the system's */
    bool path_style;          /* s3: endpoint/bucket/key rather than bucket.endpoint/key */
    bool tls_verify;          /* s3, http: on unless set false */
    uint64_t max_object_size; /* larger objects skip this tier; 0: no cap */
    unsigned ttl_s;           /* redis: expiry; 0: none */
    unsigned timeout_s;       /* a request that moves no byte this long fails */
    unsigned connect_timeout_s;
    unsigned backoff_s;     /* the tier stays out of the path this long after failing */
    unsigned queue;         /* async writes waiting; more are dropped (and counted) */
    unsigned refresh_age_s; /* s3: copy-in-place objects older than this on a hit; 0: off */
};

#define CS_REMOTE_SIZE_UNKNOWN UINT64_MAX

/* Bytes of an object's metadata blob (backend.h) a tier carries with it:
 * the s3 tier sends it base64 in one x-amz-meta-* header, and AWS holds
 * user metadata to 2 KiB. A larger blob stays on the disk that has it. */
#define CS_REMOTE_META_MAX 1400

struct cs_remote_meta {
    uint64_t size; /* body bytes, or CS_REMOTE_SIZE_UNKNOWN */
    bool has_sha256;
    uint8_t sha256[CS_SHA256_LEN]; /* of the body, when the tier keeps it */
    char content_type[CS_CONTENT_TYPE_MAX + 1];
    time_t mtime;                     /* when the tier last wrote it; 0: unknown */
    uint8_t blob[CS_REMOTE_META_MAX]; /* the object's metadata (S3's ETag, x-amz-meta-*) */
    size_t blob_len;                  /* 0: none (tiers that keep none) */
};

/* Where a GET's body goes: begin once (before any write), then the body. */
struct cs_remote_sink {
    enum cs_status (*begin)(void *ctx, const struct cs_remote_meta *meta);
    enum cs_status (*write)(void *ctx, const void *data, size_t len);
    void *ctx;
};

/* Where a PUT's body comes from: 0 at the end, a negative status on error. */
struct cs_remote_source {
    ssize_t (*read)(void *ctx, void *buf, size_t len);
    void *ctx;
};

struct cs_remote_ops {
    const char *type;
    /* CS_ERR_NOT_FOUND on a miss (sink untouched). */
    enum cs_status (*get)(void *state, const struct cs_object_id *id,
                          const struct cs_remote_sink *sink);
    enum cs_status (*head)(void *state, const struct cs_object_id *id, struct cs_remote_meta *out);
    /* meta->size is exact; the source gives exactly that many bytes. */
    enum cs_status (*put)(void *state, const struct cs_object_id *id,
                          const struct cs_remote_meta *meta, const struct cs_remote_source *src);
    /* CS_OK also when there was nothing to remove. */
    enum cs_status (*remove)(void *state, const struct cs_object_id *id);
    /* Resets the object's age (lifecycle rules count from it); NULL when
     * the tier has no use for it. */
    enum cs_status (*refresh)(void *state, const struct cs_object_id *id);
    void (*destroy)(void *state);
};

struct cs_remote {
    const struct cs_remote_ops *ops;
    void *state;
};

/* Each opens one tier for one namespace; no connection is made yet. On
 * failure *why says why in one line. */
enum cs_status cs_s3_open(const struct cs_tier_config *cfg, const char *ns, struct cs_remote *out,
                          char *why, size_t why_len);
enum cs_status cs_redis_open(const struct cs_tier_config *cfg, const char *ns,
                             struct cs_remote *out, char *why, size_t why_len);
enum cs_status cs_upstream_open(const struct cs_tier_config *cfg, const char *ns,
                                struct cs_remote *out, char *why, size_t why_len);

/* The digest as 64 lowercase hex digits: how s3 and redis name objects
 * (remote.c). */
void cs_remote_digest_hex(const struct cs_object_id *id, char out[CS_SHA256_HEX_LEN + 1]);

#endif
