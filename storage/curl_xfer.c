/* libcurl transfers for the remote tiers. */
#include "autoconfig.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "common/hash.h"
#include "storage/curl_xfer.h"

#define POOL_MAX 64

struct cs_curl_pool {
    pthread_mutex_t lock;
    CURL *free[POOL_MAX];
    size_t n;
    long connect_timeout_s, stall_timeout_s;
    bool verify;
    char *ca_file;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct cs_curl_pool *cs_curl_pool_new(const struct cs_tier_config *cfg)
{
    struct cs_curl_pool *p;

    pthread_once(&global_once, global_init);
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    p->connect_timeout_s = cfg->connect_timeout_s;
    p->stall_timeout_s = cfg->timeout_s;
    p->verify = cfg->tls_verify;
    if (cfg->ca_file && !(p->ca_file = strdup(cfg->ca_file))) {
        cs_curl_pool_free(p);
        return NULL;
    }
    return p;
}

void cs_curl_pool_free(struct cs_curl_pool *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++)
        curl_easy_cleanup(p->free[i]);
    pthread_mutex_destroy(&p->lock);
    free(p->ca_file);
    free(p);
}

static CURL *take(struct cs_curl_pool *p)
{
    CURL *c = NULL;

    pthread_mutex_lock(&p->lock);
    if (p->n)
        c = p->free[--p->n];
    pthread_mutex_unlock(&p->lock);
    if (c) {
        curl_easy_reset(c); /* options go, connections stay */
        return c;
    }
    return curl_easy_init();
}

static void give_back(struct cs_curl_pool *p, CURL *c)
{
    pthread_mutex_lock(&p->lock);
    if (p->n < POOL_MAX) {
        p->free[p->n++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    if (c)
        curl_easy_cleanup(c);
}

struct xfer {
    const struct cs_curl_request *r;
    CURL *curl;
    long status; /* of the final answer, once its headers ended */
    bool began;
    enum cs_status local; /* a sink or source error */
    struct cs_remote_meta meta;
};

/* "Name: value" when line starts with name (any case): the value, trimmed. */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name), v;

    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return false;
    line += n + 1;
    len -= n + 1;
    while (len && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    while (len && isspace((unsigned char)line[len - 1]))
        len--;
    v = len < outlen - 1 ? len : outlen - 1;
    memcpy(out, line, v);
    out[v] = '\0';
    return true;
}

/* The metadata blob, base64 in one header; one that does not decode, or
 * would not fit, is dropped whole (the object is still served, without). */
static void take_blob(struct xfer *x, const char *line, size_t len)
{
    char v[4 * (CS_REMOTE_META_MAX + 2) / 3 + 8];
    size_t n = 0;

    if (!header_value(line, len, x->r->meta_blob_header, v, sizeof v))
        return;
    if (strlen(v) >= sizeof v - 1 ||
        !cs_base64_decode(v, strlen(v), x->meta.blob, sizeof x->meta.blob, &n))
        n = 0;
    x->meta.blob_len = n;
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    struct xfer *x = ctx;
    size_t len = size * n;
    char v[256];

    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new answer (after 100 Continue, say): forget the last one's headers */
        memset(&x->meta, 0, sizeof x->meta);
        x->meta.size = CS_REMOTE_SIZE_UNKNOWN;
        x->status = 0;
    } else if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
    } else if (header_value(line, len, "Content-Length", v, sizeof v)) {
        char *end;
        unsigned long long s = strtoull(v, &end, 10);
        if (end != v && *end == '\0')
            x->meta.size = s;
    } else if (header_value(line, len, "Content-Type", v, sizeof v)) {
        /* one too long to store is dropped, never cut (a cut type is wrong) */
        size_t vlen = strlen(v);
        if (vlen < sizeof x->meta.content_type)
            memcpy(x->meta.content_type, v, vlen + 1);
    } else if (header_value(line, len, "Last-Modified", v, sizeof v)) {
        time_t t = curl_getdate(v, NULL);
        x->meta.mtime = t > 0 ? t : 0;
    } else if (x->r->meta_blob_header) {
        take_blob(x, line, len);
    }
    if (x->r->meta_sha256_header &&
        header_value(line, len, x->r->meta_sha256_header, v, sizeof v)) {
        x->meta.has_sha256 = strlen(v) == CS_SHA256_HEX_LEN &&
                             cs_hex_decode(v, CS_SHA256_HEX_LEN, x->meta.sha256, CS_SHA256_LEN);
    }
    return len;
}

static enum cs_status begin_body(struct xfer *x)
{
    x->began = true;
    if (strcmp(x->meta.content_type, "application/octet-stream") == 0)
        x->meta.content_type[0] = '\0';
    return x->r->sink->begin(x->r->sink->ctx, &x->meta);
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct xfer *x = ctx;
    size_t len = size * n;

    if (x->status < 200 || x->status > 299 || !x->r->sink)
        return len; /* an error page: dropped */
    if (!x->began && (x->local = begin_body(x)) != CS_OK)
        return 0;
    x->local = x->r->sink->write(x->r->sink->ctx, data, len);
    return x->local == CS_OK ? len : 0;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
    struct xfer *x = ctx;
    ssize_t got = x->r->src->read(x->r->src->ctx, buf, size * n);

    if (got < 0) {
        x->local = (enum cs_status)got;
        return CURL_READFUNC_ABORT;
    }
    return (size_t)got;
}

static void setup(struct cs_curl_pool *p, CURL *c, const struct cs_curl_request *r, struct xfer *x)
{
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, p->connect_timeout_s);
    /* no total limit (objects can be large): a transfer that stalls fails */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, p->stall_timeout_s);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, p->verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, p->verify ? 2L : 0L);
    if (p->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_file);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    if (r->userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, r->userpwd);
    }
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->src_size);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, x);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

enum cs_status cs_curl_perform(struct cs_curl_pool *p, const struct cs_curl_request *r,
                               long *status, char *why, size_t why_len)
{
    struct xfer x = {.r = r, .local = CS_OK};
    enum cs_status st = CS_OK;
    CURLcode rc;
    CURL *c = take(p);

    *status = 0;
    if (!c) {
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    x.curl = c;
    x.meta.size = CS_REMOTE_SIZE_UNKNOWN;
    setup(p, c, r, &x);
    rc = curl_easy_perform(c);
    if (x.status == 0)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.status);
    *status = x.status;
    if (x.local != CS_OK) {
        st = x.local;
        snprintf(why, why_len, "%s", cs_strerror(st));
    } else if (rc != CURLE_OK) {
        snprintf(why, why_len, "%s", curl_easy_strerror(rc));
        st = CS_ERR_UNAVAILABLE;
    } else if (x.status == 404) {
        st = CS_ERR_NOT_FOUND;
    } else if (x.status < 200 || x.status > 299) {
        snprintf(why, why_len, "answered HTTP %ld", x.status);
        st = CS_ERR_UNAVAILABLE;
    } else if (r->sink && !x.began) {
        st = begin_body(&x); /* an empty body */
    }
    if (st == CS_OK && r->meta)
        *r->meta = x.meta;
    give_back(p, c);
    return st;
}
