/* The redis tier (hiredis). A value is a small header and the body:
 *   "CSV1", content-type length n, sha256 of the body (32), content type, body
 * under the key <prefix><64 hex of the object's digest>; the prefix
 * defaults to "cstash:<namespace>:". Redis evicts by itself (maxmemory with
 * allkeys-lru, docs/scaling.md); ttl adds an expiry. Objects over
 * max_object_size are not sent: one large value would stall the server for
 * every other client. */
#include "autoconfig.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/hash.h"
#include "common/log.h"
#include "storage/remote.h"

#define MAGIC "CSV1"
#define VALUE_FIXED (4 + 1 + CS_SHA256_LEN)
#define POOL_MAX 64
#define DEFAULT_MAX_OBJECT (4u << 20)

struct redis {
    char *host; /* NULL with a unix socket */
    int port;
    char *socket_path;
    char *user, *password;
    int db;
    char *prefix;
    uint64_t max_object;
    unsigned ttl_s;
    struct timeval connect_timeout, timeout;
    pthread_mutex_t lock;
    redisContext *free[POOL_MAX];
    size_t n_free;
};

static void log_failure(const struct redis *r, const char *what, const char *why)
{
    if (cs_log_enabled(CS_LOG_DEBUG))
        cs_log(CS_LOG_DEBUG, "redis %s:%d: %s: %s", r->host ? r->host : r->socket_path,
               r->host ? r->port : 0, what, why);
}

/* A reply that is not an error, or NULL (and the connection is dropped). */
static redisReply *command(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    redisReply *reply;

    va_start(ap, fmt);
    reply = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        freeReplyObject(reply);
        return NULL;
    }
    return reply;
}

static redisContext *connect_new(struct redis *r)
{
    redisContext *c = r->host ? redisConnectWithTimeout(r->host, r->port, r->connect_timeout)
                              : redisConnectUnixWithTimeout(r->socket_path, r->connect_timeout);
    redisReply *reply = NULL;

    if (!c || c->err) {
        log_failure(r, "connect", c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, r->timeout);
    if (r->password) {
        reply = r->user ? command(c, "AUTH %s %s", r->user, r->password)
                        : command(c, "AUTH %s", r->password);
        if (!reply) {
            log_failure(r, "AUTH", c->err ? c->errstr : "refused");
            redisFree(c);
            return NULL;
        }
        freeReplyObject(reply);
    }
    if (r->db) {
        reply = command(c, "SELECT %d", r->db);
        if (!reply) {
            log_failure(r, "SELECT", c->err ? c->errstr : "refused");
            redisFree(c);
            return NULL;
        }
        freeReplyObject(reply);
    }
    return c;
}

static redisContext *take(struct redis *r)
{
    redisContext *c = NULL;

    pthread_mutex_lock(&r->lock);
    if (r->n_free)
        c = r->free[--r->n_free];
    pthread_mutex_unlock(&r->lock);
    return c ? c : connect_new(r);
}

/* A context that failed is closed, not pooled: its stream may be half a reply. */
static void give_back(struct redis *r, redisContext *c)
{
    if (c && !c->err) {
        pthread_mutex_lock(&r->lock);
        if (r->n_free < POOL_MAX) {
            r->free[r->n_free++] = c;
            c = NULL;
        }
        pthread_mutex_unlock(&r->lock);
    }
    redisFree(c);
}

/* One command on a pooled connection; NULL (logged) when it fails. */
static redisReply *run(struct redis *r, const char *what, const char *fmt, ...)
{
    redisContext *c = take(r);
    redisReply *reply;
    va_list ap;

    if (!c)
        return NULL;
    va_start(ap, fmt);
    reply = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!reply) {
        log_failure(r, what, c->errstr);
    } else if (reply->type == REDIS_REPLY_ERROR) {
        log_failure(r, what, reply->str);
        freeReplyObject(reply);
        reply = NULL;
    }
    give_back(r, c);
    return reply;
}

static void key_of(const struct redis *r, const struct cs_object_id *id, char *out, size_t len)
{
    char hex[CS_SHA256_HEX_LEN + 1];

    cs_remote_digest_hex(id, hex);
    snprintf(out, len, "%s%s", r->prefix, hex);
}

static enum cs_status parse_value(const char *v, size_t len, struct cs_remote_meta *m,
                                  size_t *body_at)
{
    size_t ct;

    if (len < VALUE_FIXED || memcmp(v, MAGIC, 4) != 0)
        return CS_ERR_UNAVAILABLE;
    ct = (unsigned char)v[4];
    if (ct > CS_CONTENT_TYPE_MAX || VALUE_FIXED + ct > len)
        return CS_ERR_UNAVAILABLE;
    memset(m, 0, sizeof *m);
    m->has_sha256 = true;
    memcpy(m->sha256, v + 5, CS_SHA256_LEN);
    memcpy(m->content_type, v + VALUE_FIXED, ct);
    m->content_type[ct] = '\0';
    *body_at = VALUE_FIXED + ct;
    m->size = len - *body_at;
    return CS_OK;
}

/* GET (or, for a HEAD, only the header's bytes) of one key. */
static enum cs_status fetch(struct redis *r, const struct cs_object_id *id, bool whole,
                            redisReply **out)
{
    char key[512];
    redisReply *reply;

    key_of(r, id, key, sizeof key);
    reply = whole ? run(r, "GET", "GET %s", key)
                  : run(r, "GETRANGE", "GETRANGE %s 0 %d", key, VALUE_FIXED + CS_CONTENT_TYPE_MAX);
    if (!reply)
        return CS_ERR_UNAVAILABLE;
    if (reply->type == REDIS_REPLY_NIL || (reply->type == REDIS_REPLY_STRING && reply->len == 0)) {
        freeReplyObject(reply);
        return CS_ERR_NOT_FOUND;
    }
    if (reply->type != REDIS_REPLY_STRING) {
        freeReplyObject(reply);
        return CS_ERR_UNAVAILABLE;
    }
    *out = reply;
    return CS_OK;
}

static enum cs_status redis_get(void *state, const struct cs_object_id *id,
                                const struct cs_remote_sink *sink)
{
    struct redis *r = state;
    struct cs_remote_meta meta;
    redisReply *reply;
    size_t at;
    enum cs_status st = fetch(r, id, true, &reply);

    if (st != CS_OK)
        return st;
    st = parse_value(reply->str, reply->len, &meta, &at);
    if (st != CS_OK)
        log_failure(r, "GET", "a value not written by cstashd: treated as a miss");
    if (st == CS_OK)
        st = sink->begin(sink->ctx, &meta);
    if (st == CS_OK && meta.size)
        st = sink->write(sink->ctx, reply->str + at, meta.size);
    freeReplyObject(reply);
    return st == CS_ERR_UNAVAILABLE ? CS_ERR_NOT_FOUND : st;
}

static enum cs_status redis_head(void *state, const struct cs_object_id *id,
                                 struct cs_remote_meta *out)
{
    struct redis *r = state;
    redisReply *reply;
    size_t at;
    char key[512];
    enum cs_status st = fetch(r, id, false, &reply);

    if (st != CS_OK)
        return st;
    st = parse_value(reply->str, reply->len, out, &at);
    freeReplyObject(reply);
    if (st != CS_OK)
        return CS_ERR_NOT_FOUND;
    /* the size is the value's, less the header */
    key_of(r, id, key, sizeof key);
    reply = run(r, "STRLEN", "STRLEN %s", key);
    if (!reply || reply->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(reply);
        return CS_ERR_UNAVAILABLE;
    }
    out->size = reply->integer > (long long)at ? (uint64_t)reply->integer - at : 0;
    freeReplyObject(reply);
    return CS_OK;
}

static enum cs_status redis_put(void *state, const struct cs_object_id *id,
                                const struct cs_remote_meta *meta,
                                const struct cs_remote_source *src)
{
    struct redis *r = state;
    size_t ct = strlen(meta->content_type), head = VALUE_FIXED + ct, got = 0;
    char key[512], *v;
    redisReply *reply;

    if (meta->size > r->max_object)
        return CS_ERR_TOO_LARGE;
    v = malloc(head + meta->size + 1);
    if (!v)
        return CS_ERR_NOMEM;
    memcpy(v, MAGIC, 4);
    v[4] = (char)ct;
    memcpy(v + 5, meta->sha256, CS_SHA256_LEN);
    memcpy(v + VALUE_FIXED, meta->content_type, ct);
    while (got < meta->size) {
        ssize_t n = src->read(src->ctx, v + head + got, meta->size - got);
        if (n <= 0) {
            free(v);
            return n < 0 ? (enum cs_status)n : CS_ERR_IO;
        }
        got += (size_t)n;
    }
    key_of(r, id, key, sizeof key);
    reply = r->ttl_s ? run(r, "SET", "SET %s %b EX %u", key, v, head + got, r->ttl_s)
                     : run(r, "SET", "SET %s %b", key, v, head + got);
    free(v);
    if (!reply)
        return CS_ERR_UNAVAILABLE;
    freeReplyObject(reply);
    return CS_OK;
}

static enum cs_status redis_remove(void *state, const struct cs_object_id *id)
{
    struct redis *r = state;
    char key[512];
    redisReply *reply;

    key_of(r, id, key, sizeof key);
    reply = run(r, "DEL", "DEL %s", key);
    if (!reply)
        return CS_ERR_UNAVAILABLE;
    freeReplyObject(reply);
    return CS_OK;
}

static void redis_destroy(void *state)
{
    struct redis *r = state;
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->n_free; i++)
        redisFree(r->free[i]);
    pthread_mutex_destroy(&r->lock);
    free(r->host);
    free(r->socket_path);
    free(r->user);
    free(r->password);
    free(r->prefix);
    free(r);
}

static const struct cs_remote_ops redis_ops = {
    .type = "redis",
    .get = redis_get,
    .head = redis_head,
    .put = redis_put,
    .remove = redis_remove,
    .refresh = NULL,
    .destroy = redis_destroy,
};

/* redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N] */
static enum cs_status parse_url(struct redis *r, const char *url, char *why, size_t why_len)
{
    const char *p, *at, *slash, *colon;
    char *end;

    r->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *q = strchr(url + 7, '?');
        r->socket_path = q ? strndup(url + 7, (size_t)(q - url - 7)) : strdup(url + 7);
        if (q && strncmp(q, "?db=", 4) == 0)
            r->db = (int)strtol(q + 4, &end, 10);
        if (!r->socket_path || r->socket_path[0] != '/') {
            snprintf(why, why_len, "redis url unix://PATH needs an absolute path");
            return CS_ERR_INVALID;
        }
        return CS_OK;
    }
    p = url + 8; /* "redis://" */
    slash = strchr(p, '/');
    at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
    if (at) {
        colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p)
                r->user = strndup(p, (size_t)(colon - p));
            r->password = strndup(colon + 1, (size_t)(at - colon - 1));
        } else {
            r->password = strndup(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    colon = strchr(p, ':');
    if (colon && (!slash || colon < slash)) {
        r->host = strndup(p, (size_t)(colon - p));
        long port = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
            snprintf(why, why_len, "redis url: bad port");
            return CS_ERR_INVALID;
        }
        r->port = (int)port;
    } else {
        r->host = slash ? strndup(p, (size_t)(slash - p)) : strdup(p);
    }
    if (slash && slash[1]) {
        long db = strtol(slash + 1, &end, 10);
        if (*end || db < 0 || db > 100000) {
            snprintf(why, why_len, "redis url: the path must be a database number");
            return CS_ERR_INVALID;
        }
        r->db = (int)db;
    }
    if (!r->host || !r->host[0]) {
        snprintf(why, why_len, "redis url needs a host");
        return CS_ERR_INVALID;
    }
    return CS_OK;
}

enum cs_status cs_redis_open(const struct cs_tier_config *cfg, const char *ns,
                             struct cs_remote *out, char *why, size_t why_len)
{
    struct redis *r = calloc(1, sizeof *r);
    enum cs_status st;

    if (!r) {
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    pthread_mutex_init(&r->lock, NULL);
    st = parse_url(r, cfg->url, why, why_len);
    if (st == CS_OK) {
        if (cfg->prefix)
            r->prefix = strdup(cfg->prefix);
        else if (asprintf(&r->prefix, "cstash:%s:", ns) < 0)
            r->prefix = NULL;
        if (!r->prefix) {
            snprintf(why, why_len, "out of memory");
            st = CS_ERR_NOMEM;
        }
    }
    if (st != CS_OK) {
        redis_destroy(r);
        return st;
    }
    r->max_object = cfg->max_object_size ? cfg->max_object_size : DEFAULT_MAX_OBJECT;
    r->ttl_s = cfg->ttl_s;
    r->connect_timeout = (struct timeval){.tv_sec = cfg->connect_timeout_s};
    r->timeout = (struct timeval){.tv_sec = cfg->timeout_s};
    out->ops = &redis_ops;
    out->state = r;
    return CS_OK;
}
