/* One remote tier as the tier layer (tiers.c) runs it: its circuit
 * breaker, its write-through of the disk's copy of an object, and its
 * bounded background queue (async writes, fills, refreshes) with the
 * thread that works it off. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "storage/tiers_priv.h"
#include "storage/zstd_io.h"

/* Consecutive failures that take a tier out of the path. One would let a
 * single dropped connection cost 30 s of misses; many would let a dead
 * backend cost every client a timeout. */
#define BREAKER_FAILURES 3
/* Async jobs still waiting at shutdown get this long. */
#define SHUTDOWN_DRAIN_MS 5000
/* Objects up to this size are read into memory to be sent to a tier. */
#define SEND_FROM_MEMORY (256 * 1024)
#define READ_BUF (64 * 1024)

/* --- circuit breaker ------------------------------------------------------- */

static void now_plus(struct timespec *t, unsigned s)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += s;
}

static bool passed(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Whether a request may go to the tier now. After the backoff, one
 * request (the probe) goes; the others keep skipping until it answers. */
bool cs_tier_allow(struct cs_tier *t)
{
    bool allow;

    pthread_mutex_lock(&t->br.lock);
    allow = t->br.state == CS_BREAKER_CLOSED;
    if (t->br.state == CS_BREAKER_OPEN && passed(&t->br.retry_at)) {
        t->br.state = CS_BREAKER_PROBING;
        allow = true;
    }
    pthread_mutex_unlock(&t->br.lock);
    if (!allow)
        atomic_fetch_add(&t->skipped, 1);
    return allow;
}

bool cs_tier_may_allow(struct cs_tier *t)
{
    bool may;

    pthread_mutex_lock(&t->br.lock);
    /* probing: a miss of the key being probed waits for that fetch */
    may = t->br.state != CS_BREAKER_OPEN || passed(&t->br.retry_at);
    pthread_mutex_unlock(&t->br.lock);
    return may;
}

static void breaker_result(struct cs_tier *t, bool ok)
{
    enum cs_breaker_state was;

    pthread_mutex_lock(&t->br.lock);
    was = t->br.state;
    if (ok) {
        t->br.failures = 0;
        t->br.state = CS_BREAKER_CLOSED;
    } else if (was == CS_BREAKER_PROBING || ++t->br.failures >= BREAKER_FAILURES) {
        t->br.state = CS_BREAKER_OPEN;
        now_plus(&t->br.retry_at, t->br.backoff_s);
    }
    atomic_store(&t->br.open, t->br.state != CS_BREAKER_CLOSED);
    pthread_mutex_unlock(&t->br.lock);
    if (ok && was != CS_BREAKER_CLOSED) {
        cs_log(CS_LOG_WARN, "ns=%s tier %u (%s) answers again: back in the path", t->ns, t->index,
               t->remote.ops->type);
    } else if (!ok && was == CS_BREAKER_CLOSED && t->br.state == CS_BREAKER_OPEN) {
        atomic_fetch_add(&t->breaker_opened, 1);
        cs_log(CS_LOG_WARN,
               "ns=%s tier %u (%s) failed %u times in a row: out of the path, "
               "retried every %us (clients see misses; PUTs are kept on the disk)",
               t->ns, t->index, t->remote.ops->type, BREAKER_FAILURES, t->br.backoff_s);
    } else if (!ok && was == CS_BREAKER_PROBING) {
        cs_log(CS_LOG_DEBUG, "ns=%s tier %u (%s) still failing: retried in %us", t->ns, t->index,
               t->remote.ops->type, t->br.backoff_s);
    }
}

/* Counts the outcome of a remote call; local errors do not count against
 * the tier. */
void cs_tier_record(struct cs_tier *t, enum cs_status st)
{
    if (st == CS_OK || st == CS_ERR_NOT_FOUND)
        breaker_result(t, true);
    else if (st == CS_ERR_UNAVAILABLE)
        breaker_result(t, false);
}

/* --- sending an object from the disk to a tier ------------------------------ */

static ssize_t source_read(void *ctx, void *buf, size_t len)
{
    return cs_body_reader_read(ctx, buf, len);
}

/* Sends the disk's copy of id to tier t. CS_ERR_NOT_FOUND when the disk
 * no longer has it (evicted, deleted, replaced meanwhile). */
static enum cs_status send_to_tier(struct cs_tier *t, const struct cs_object_id *id)
{
    struct cs_object obj;
    struct cs_remote_meta meta;
    struct cs_body_reader *reader;
    struct cs_remote_source rs = {source_read, NULL};
    enum cs_status st = t->disk->ops->open(t->disk->state, id, SEND_FROM_MEMORY, 0, &obj);

    if (st != CS_OK)
        return st;
    if (t->max_object && obj.size > t->max_object) {
        cs_object_release(&obj);
        atomic_fetch_add(&t->too_large, 1);
        return CS_ERR_TOO_LARGE;
    }
    memset(&meta, 0, sizeof meta);
    meta.size = obj.size;
    meta.has_sha256 = true;
    memcpy(meta.sha256, obj.etag, CS_SHA256_LEN);
    memcpy(meta.content_type, obj.content_type, sizeof meta.content_type);
    if (obj.meta_len > 0 && obj.meta_len <= CS_REMOTE_META_MAX) { /* else it stays here */
        memcpy(meta.blob, obj.meta, obj.meta_len);
        meta.blob_len = obj.meta_len;
    }
    st = cs_body_reader_open_uncapped(&obj, &reader);
    cs_object_release(&obj); /* the reader took fd and body; the metadata is copied */
    if (st != CS_OK)
        return st;
    rs.ctx = reader;
    st = t->remote.ops->put(t->remote.state, id, &meta, &rs);
    cs_body_reader_close(reader);
    return st;
}

/* A write to tier t (now or from the queue), with its accounting. */
void cs_tier_write_through(struct cs_tier *t, const struct cs_object_id *id, bool fill)
{
    enum cs_status st;

    if (!cs_tier_allow(t))
        return;
    st = send_to_tier(t, id);
    cs_tier_record(t, st);
    if (st == CS_OK)
        atomic_fetch_add(fill ? &t->fills : &t->writes, 1);
    else if (st != CS_ERR_NOT_FOUND && st != CS_ERR_TOO_LARGE)
        atomic_fetch_add(&t->write_errors, 1);
}

/* --- the background queue -------------------------------------------------- */

struct cs_tier_job {
    enum cs_tier_job_kind kind;
    char *key; /* owned */
    size_t key_len;
};

bool cs_tier_enqueue(struct cs_tier *t, enum cs_tier_job_kind kind, const struct cs_object_id *id)
{
    struct cs_tier_job j = {
        .kind = kind, .key = malloc(id->key_len ? id->key_len : 1), .key_len = id->key_len};
    bool ok = false;

    if (j.key) {
        memcpy(j.key, id->key, id->key_len);
        pthread_mutex_lock(&t->qlock);
        if (t->count < t->cap && !t->stopping) {
            t->jobs[(t->head + t->count++) % t->cap] = j;
            pthread_cond_signal(&t->qcond);
            ok = true;
        }
        pthread_mutex_unlock(&t->qlock);
    }
    if (!ok) {
        free(j.key);
        atomic_fetch_add(&t->dropped, 1);
    }
    return ok;
}

static void run_job(struct cs_tier *t, const struct cs_tier_job *j)
{
    struct cs_object_id id;
    enum cs_status st;

    cs_object_id_init(&id, t->ns, j->key, j->key_len);
    switch (j->kind) {
    case CS_TIER_WRITE:
    case CS_TIER_FILL: cs_tier_write_through(t, &id, j->kind == CS_TIER_FILL); break;
    case CS_TIER_REFRESH:
        if (!cs_tier_allow(t))
            break;
        st = t->remote.ops->refresh(t->remote.state, &id);
        cs_tier_record(t, st);
        if (st == CS_OK)
            atomic_fetch_add(&t->refreshes, 1);
        else if (st == CS_ERR_NOT_FOUND)
            cs_tier_write_through(t, &id, true); /* expired there: send it again */
        break;
    }
}

static void *worker(void *arg)
{
    struct cs_tier *t = arg;
    struct timespec deadline = {0};
    bool draining = false;

    pthread_mutex_lock(&t->qlock);
    for (;;) {
        while (t->count == 0 && !t->stopping)
            pthread_cond_wait(&t->qcond, &t->qlock);
        if (t->stopping && !draining) {
            draining = true;
            now_plus(&deadline, SHUTDOWN_DRAIN_MS / 1000);
        }
        if (t->count == 0 || (draining && passed(&deadline)))
            break;
        struct cs_tier_job j = t->jobs[t->head];
        t->head = (t->head + 1) % t->cap;
        t->count--;
        t->busy = true;
        pthread_mutex_unlock(&t->qlock);
        run_job(t, &j);
        free(j.key);
        pthread_mutex_lock(&t->qlock);
        t->busy = false;
    }
    if (t->count)
        cs_log(CS_LOG_WARN, "ns=%s tier %u (%s): %zu queued writes dropped at shutdown", t->ns,
               t->index, t->remote.ops->type, t->count);
    while (t->count) {
        free(t->jobs[t->head].key);
        t->head = (t->head + 1) % t->cap;
        t->count--;
    }
    pthread_mutex_unlock(&t->qlock);
    return NULL;
}

void cs_tier_close(struct cs_tier *t)
{
    if (t->thread_started) {
        pthread_mutex_lock(&t->qlock);
        t->stopping = true;
        pthread_cond_broadcast(&t->qcond);
        pthread_mutex_unlock(&t->qlock);
        pthread_join(t->thread, NULL);
    }
    if (t->remote.ops)
        t->remote.ops->destroy(t->remote.state);
    free(t->jobs);
    pthread_mutex_destroy(&t->qlock);
    pthread_cond_destroy(&t->qcond);
    pthread_mutex_destroy(&t->br.lock);
}

enum cs_status cs_tier_init(struct cs_tier *t, const struct cs_backend *disk, const char *ns,
                            unsigned index, const struct cs_tier_config *c, char *why,
                            size_t why_len)
{
    enum cs_status st;
    int rc;

    pthread_mutex_init(&t->qlock, NULL);
    pthread_cond_init(&t->qcond, NULL);
    pthread_mutex_init(&t->br.lock, NULL);
    t->disk = disk;
    t->ns = ns;
    t->index = index;
    t->write_async = c->write_async;
    t->max_object = c->max_object_size;
    t->refresh_age_s = c->refresh_age_s;
    t->br.backoff_s = c->backoff_s ? c->backoff_s : 30;
    t->cap = c->queue ? c->queue : 10000;
    t->jobs = calloc(t->cap, sizeof *t->jobs);
    if (!t->jobs) {
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    switch (c->type) {
    case CS_TIER_S3: st = cs_s3_open(c, ns, &t->remote, why, why_len); break;
    case CS_TIER_REDIS: st = cs_redis_open(c, ns, &t->remote, why, why_len); break;
    case CS_TIER_HTTP: st = cs_upstream_open(c, ns, &t->remote, why, why_len); break;
    default:
        snprintf(why, why_len, "tier %u: only the first tier can be the disk", index);
        return CS_ERR_INVALID;
    }
    if (st != CS_OK)
        return st;
    rc = pthread_create(&t->thread, NULL, worker, t);
    if (rc != 0) {
        snprintf(why, why_len, "cannot start a tier thread: %s", strerror(rc));
        return CS_ERR_IO;
    }
    t->thread_started = true;
    return CS_OK;
}
