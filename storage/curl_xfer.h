/* HTTP requests of the s3 and http tiers, over libcurl. Each tier has a
 * pool of easy handles: a handle keeps its connections (and TLS sessions)
 * open, so a request reuses one instead of connecting again. */
#ifndef CS_CURL_XFER_H
#define CS_CURL_XFER_H

#include <curl/curl.h>
#include <stdbool.h>

#include "storage/remote.h"

struct cs_curl_pool;

struct cs_curl_pool *cs_curl_pool_new(const struct cs_tier_config *cfg);
void cs_curl_pool_free(struct cs_curl_pool *p);

struct cs_curl_request {
    const char *method; /* GET HEAD PUT DELETE */
    const char *url;
    const struct curl_slist *headers;   /* extra request headers */
    const char *userpwd;                /* "user:pass" for Basic, or NULL */
    const struct cs_remote_source *src; /* PUT body */
    uint64_t src_size;
    const struct cs_remote_sink *sink; /* GET body (2xx only) */
    struct cs_remote_meta *meta;       /* filled from the answer's headers, or NULL */
    const char *meta_sha256_header;    /* the header holding a hex sha256, or NULL */
    const char *meta_blob_header;      /* the header holding the metadata blob (base64), or NULL */
};

/* 2xx: CS_OK; 404: CS_ERR_NOT_FOUND; other answers, connection errors and
 * timeouts: CS_ERR_UNAVAILABLE with why set. A sink or source error is
 * returned as it is (it is not the remote's fault). *status gets the HTTP
 * status (0 when there was no answer). */
enum cs_status cs_curl_perform(struct cs_curl_pool *p, const struct cs_curl_request *r,
                               long *status, char *why, size_t why_len);

#endif
