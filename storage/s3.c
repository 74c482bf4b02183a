/* The s3 tier: S3-compatible object storage (AWS S3, MinIO, Ceph RGW, R2)
 * over libcurl, signed with our own SigV4 (storage/sigv4.h says why).
 *
 * Object name: <prefix><64 hex of the object's digest>. The digest covers
 * namespace and key, so namespaces sharing a bucket and prefix never meet,
 * and every cstashd instance names an object alike. Metadata: Content-Type
 * and x-amz-meta-cstash-sha256 (the body's digest: a fill checks it).
 * Eviction is the bucket's lifecycle rule (docs/scaling.md); refresh()
 * copies an object onto itself so the rule counts from its last use. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/base64.h"
#include "common/hash.h"
#include "common/log.h"
#include "storage/curl_xfer.h"
#include "storage/remote.h"
#include "storage/sigv4.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define META_SHA256 "x-amz-meta-cstash-sha256"
#define META_BLOB "x-amz-meta-cstash-meta" /* the object's metadata blob, base64 */
#define URL_MAX 2048

struct s3 {
    char *base;      /* scheme://host[:port] */
    char *host;      /* Host header: host[:port], with the bucket for vhost style */
    char *path_base; /* "/bucket/prefix" (path style) or "/prefix", URI-encoded */
    char *copy_base; /* "/bucket/prefix": x-amz-copy-source in either style */
    char *region;
    char *access_key, *secret_key, *session_token; /* NULL: unsigned requests */
    struct cs_curl_pool *pool;
};

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* SigV4's URI encoding; '/' kept (it separates path segments). */
static char *uri_encode(const char *s)
{
    char *out = malloc(strlen(s) * 3 + 1), *o = out;

    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (unreserved(c) || c == '/')
            *o++ = (char)c;
        else
            o += sprintf(o, "%%%02X", c);
    }
    *o = '\0';
    return out;
}

static char *dup_nonempty(const char *v)
{
    return v && v[0] ? strdup(v) : NULL;
}

static void s3_destroy(void *state)
{
    struct s3 *s = state;

    if (!s)
        return;
    cs_curl_pool_free(s->pool);
    free(s->base);
    free(s->host);
    free(s->path_base);
    free(s->copy_base);
    free(s->region);
    free(s->access_key);
    free(s->secret_key);
    free(s->session_token);
    free(s);
}

/* The object's path (URI-encoded, for the URL and the signature). */
static void object_path(const struct s3 *s, const struct cs_object_id *id, char *out, size_t len)
{
    char hex[CS_SHA256_HEX_LEN + 1];

    cs_remote_digest_hex(id, hex);
    snprintf(out, len, "%s%s", s->path_base, hex);
}

struct signed_request {
    struct curl_slist *headers;
    char url[URL_MAX];
};

/* Builds the URL and the signed headers for method on path. extra: more
 * headers to send and sign (lowercase names), n of them. */
static enum cs_status sign(const struct s3 *s, const char *method, const char *path,
                           const char *payload_sha256, const struct cs_sigv4_header *extra,
                           size_t n_extra, struct signed_request *out)
{
    struct cs_sigv4_header h[8];
    char date[32], auth[1024], line[URL_MAX];
    size_t nh = 0, i;
    time_t now = time(NULL);
    struct tm tm;

    out->headers = NULL;
    snprintf(out->url, sizeof out->url, "%s%s", s->base, path);
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
    h[nh++] = (struct cs_sigv4_header){"host", s->host};
    h[nh++] = (struct cs_sigv4_header){"x-amz-content-sha256", payload_sha256};
    h[nh++] = (struct cs_sigv4_header){"x-amz-date", date};
    if (s->session_token)
        h[nh++] = (struct cs_sigv4_header){"x-amz-security-token", s->session_token};
    for (i = 0; i < n_extra && nh < sizeof h / sizeof h[0]; i++)
        h[nh++] = extra[i];
    for (i = 1; i < nh; i++) { /* host goes by CURLOPT_URL */
        snprintf(line, sizeof line, "%s: %s", h[i].name, h[i].value);
        out->headers = curl_slist_append(out->headers, line);
    }
    out->headers = curl_slist_append(out->headers, "Expect:"); /* no 100-continue round trip */
    if (s->access_key) {
        struct cs_sigv4_request r = {
            .method = method,
            .path = path,
            .query = "",
            .headers = h,
            .nheaders = nh,
            .payload_sha256 = payload_sha256,
            .amz_date = date,
            .region = s->region,
            .service = "s3",
            .access_key = s->access_key,
            .secret_key = s->secret_key,
        };
        enum cs_status st = cs_sigv4_authorization(&r, auth, sizeof auth);
        if (st != CS_OK) {
            curl_slist_free_all(out->headers);
            out->headers = NULL;
            return st;
        }
        snprintf(line, sizeof line, "Authorization: %s", auth);
        out->headers = curl_slist_append(out->headers, line);
    }
    return out->headers ? CS_OK : CS_ERR_NOMEM;
}

/* One request on the object id: signed, sent, logged when it fails. */
static enum cs_status request(struct s3 *s, const char *method, const struct cs_object_id *id,
                              struct cs_curl_request *r, const char *payload_sha256,
                              const struct cs_sigv4_header *extra, size_t n_extra)
{
    char path[URL_MAX], why[256];
    struct signed_request sr;
    long status;
    enum cs_status st;

    object_path(s, id, path, sizeof path);
    st = sign(s, method, path, payload_sha256, extra, n_extra, &sr);
    if (st != CS_OK)
        return st;
    r->method = method;
    r->url = sr.url;
    r->headers = sr.headers;
    r->meta_sha256_header = META_SHA256;
    r->meta_blob_header = META_BLOB;
    st = cs_curl_perform(s->pool, r, &status, why, sizeof why);
    curl_slist_free_all(sr.headers);
    if (st != CS_OK && st != CS_ERR_NOT_FOUND && cs_log_enabled(CS_LOG_DEBUG)) {
        char hex[CS_SHA256_HEX_LEN + 1];
        cs_remote_digest_hex(id, hex);
        cs_log(CS_LOG_DEBUG, "s3 %s %s (ns=%s): %s", method, hex, id->ns, why);
    }
    return st;
}

static enum cs_status s3_get(void *state, const struct cs_object_id *id,
                             const struct cs_remote_sink *sink)
{
    struct cs_curl_request r = {.sink = sink};
    return request(state, "GET", id, &r, EMPTY_SHA256, NULL, 0);
}

static enum cs_status s3_head(void *state, const struct cs_object_id *id,
                              struct cs_remote_meta *out)
{
    struct cs_curl_request r = {.meta = out};
    return request(state, "HEAD", id, &r, EMPTY_SHA256, NULL, 0);
}

static enum cs_status s3_put(void *state, const struct cs_object_id *id,
                             const struct cs_remote_meta *meta, const struct cs_remote_source *src)
{
    char sha[CS_SHA256_HEX_LEN + 1], blob[4 * (CS_REMOTE_META_MAX + 2) / 3 + 1];
    struct cs_sigv4_header extra[3];
    struct cs_curl_request r = {.src = src, .src_size = meta->size};
    size_t n = 0;

    cs_hex_encode(meta->sha256, CS_SHA256_LEN, sha);
    extra[n++] = (struct cs_sigv4_header){
        "content-type", meta->content_type[0] ? meta->content_type : "application/octet-stream"};
    extra[n++] = (struct cs_sigv4_header){META_SHA256, sha};
    if (meta->blob_len > 0 && meta->blob_len <= CS_REMOTE_META_MAX) {
        cs_base64_encode(meta->blob, meta->blob_len, blob);
        extra[n++] = (struct cs_sigv4_header){META_BLOB, blob};
    }
    /* the payload's digest is known: S3 checks the body against it */
    return request(state, "PUT", id, &r, meta->has_sha256 ? sha : "UNSIGNED-PAYLOAD", extra, n);
}

static enum cs_status s3_remove(void *state, const struct cs_object_id *id)
{
    struct cs_curl_request r = {0};
    enum cs_status st = request(state, "DELETE", id, &r, EMPTY_SHA256, NULL, 0);
    return st == CS_ERR_NOT_FOUND ? CS_OK : st;
}

static ssize_t read_nothing(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return 0;
}

static const struct cs_remote_source no_body = {read_nothing, NULL};

/* Copy onto itself: S3 allows it only when the metadata is replaced, so
 * the current metadata is read first and sent again. */
static enum cs_status s3_refresh(void *state, const struct cs_object_id *id)
{
    struct s3 *s = state;
    struct cs_remote_meta meta;
    char source[URL_MAX], sha[CS_SHA256_HEX_LEN + 1], name[CS_SHA256_HEX_LEN + 1];
    char blob[4 * (CS_REMOTE_META_MAX + 2) / 3 + 1];
    struct cs_sigv4_header extra[5];
    size_t n = 0;
    struct cs_curl_request r = {.src = &no_body, .src_size = 0};
    enum cs_status st = s3_head(s, id, &meta);

    if (st != CS_OK)
        return st;
    cs_remote_digest_hex(id, name);
    snprintf(source, sizeof source, "%s%s", s->copy_base, name);
    cs_hex_encode(meta.sha256, CS_SHA256_LEN, sha);
    extra[n++] = (struct cs_sigv4_header){
        "content-type", meta.content_type[0] ? meta.content_type : "application/octet-stream"};
    extra[n++] = (struct cs_sigv4_header){"x-amz-copy-source", source};
    extra[n++] = (struct cs_sigv4_header){"x-amz-metadata-directive", "REPLACE"};
    if (meta.has_sha256)
        extra[n++] = (struct cs_sigv4_header){META_SHA256, sha};
    if (meta.blob_len > 0) { /* REPLACE would drop it */
        cs_base64_encode(meta.blob, meta.blob_len, blob);
        extra[n++] = (struct cs_sigv4_header){META_BLOB, blob};
    }
    return request(s, "PUT", id, &r, EMPTY_SHA256, extra, n);
}

static const struct cs_remote_ops s3_ops = {
    .type = "s3",
    .get = s3_get,
    .head = s3_head,
    .put = s3_put,
    .remove = s3_remove,
    .refresh = s3_refresh,
    .destroy = s3_destroy,
};

enum cs_status cs_s3_open(const struct cs_tier_config *cfg, const char *ns, struct cs_remote *out,
                          char *why, size_t why_len)
{
    struct s3 *s = calloc(1, sizeof *s);
    const char *region = cfg->region ? cfg->region : "us-east-1";
    const char *scheme, *host;
    char *endpoint = NULL, *prefix = NULL;
    size_t host_len;
    int rc;

    (void)ns;
    if (!s)
        goto nomem;
    if (cfg->endpoint)
        endpoint = strdup(cfg->endpoint);
    else if (asprintf(&endpoint, "https://s3.%s.amazonaws.com", region) < 0)
        endpoint = NULL;
    prefix = uri_encode(cfg->prefix ? cfg->prefix : "");
    if (!endpoint || !prefix)
        goto nomem;
    while (endpoint[0] && endpoint[strlen(endpoint) - 1] == '/')
        endpoint[strlen(endpoint) - 1] = '\0';
    scheme = strncmp(endpoint, "https://", 8) == 0 ? "https://" : "http://";
    host = endpoint + strlen(scheme);
    host_len = strcspn(host, "/");
    if (host_len == 0 || host[host_len] != '\0') {
        snprintf(why, why_len, "s3 endpoint must be scheme://host[:port], without a path");
        free(endpoint);
        free(prefix);
        s3_destroy(s);
        return CS_ERR_INVALID;
    }
    if (cfg->path_style) {
        rc = asprintf(&s->base, "%s", endpoint);
        if (rc >= 0)
            rc = asprintf(&s->host, "%s", host);
        if (rc >= 0)
            rc = asprintf(&s->path_base, "/%s/%s", cfg->bucket, prefix);
    } else {
        rc = asprintf(&s->base, "%s%s.%s", scheme, cfg->bucket, host);
        if (rc >= 0)
            rc = asprintf(&s->host, "%s.%s", cfg->bucket, host);
        if (rc >= 0)
            rc = asprintf(&s->path_base, "/%s", prefix);
    }
    if (rc >= 0)
        rc = asprintf(&s->copy_base, "/%s/%s", cfg->bucket, prefix);
    free(endpoint);
    free(prefix);
    endpoint = prefix = NULL;
    if (rc < 0)
        goto nomem;
    s->region = strdup(region);
    /* the config's credentials, or else all three from the environment:
     * never a mix of the two */
    if (cfg->access_key) {
        s->access_key = dup_nonempty(cfg->access_key);
        s->secret_key = dup_nonempty(cfg->secret_key);
        s->session_token = dup_nonempty(cfg->session_token);
    } else {
        s->access_key = dup_nonempty(getenv("AWS_ACCESS_KEY_ID"));
        s->secret_key = dup_nonempty(getenv("AWS_SECRET_ACCESS_KEY"));
        s->session_token = dup_nonempty(getenv("AWS_SESSION_TOKEN"));
    }
    if (!s->access_key != !s->secret_key) {
        snprintf(why, why_len,
                 "s3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                 "must be set together");
        s3_destroy(s);
        return CS_ERR_INVALID;
    }
    s->pool = cs_curl_pool_new(cfg);
    if (!s->region || !s->pool)
        goto nomem;
    out->ops = &s3_ops;
    out->state = s;
    return CS_OK;
nomem:
    free(endpoint);
    free(prefix);
    s3_destroy(s);
    snprintf(why, why_len, "out of memory");
    return CS_ERR_NOMEM;
}
