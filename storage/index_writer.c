/* The index's writes: a bounded queue of prepared writes, and the one
 * writer thread that commits them in groups, retries a failed commit with
 * its writes kept, and tells waiters how their writes fared. */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "storage/index.h"
#include "storage/index_priv.h"

/* How long a client's write waits for room in a full queue: short, since
 * it waits on an event thread (other requests on that thread wait too). */
#define QUEUE_WAIT_MS 100
/* Non-durable writes nobody waits for are gathered this long before a
 * commit: one transaction (and one wake-up of the writer) per few hundred
 * PUTs instead of one per PUT under load. A write someone waits for (a
 * durable one, a listing's sync), a long queue or shutdown ends it early. */
#define LINGER_MS 5
#define LINGER_MAX_OPS 1024
/* A failed commit is retried this often. */
#define RETRY_MS 250
/* At shutdown, how long a failing commit is tried again. */
#define CLOSE_RETRY_MS 5000

enum op_type { OP_PUT, OP_REMOVE, OP_REMOVE_IF, OP_SET_DSIZE };

/* One write; ns and key live in data[]. Prepared, it holds a place in the
 * queue; submitted, it belongs to the writer until committed. */
struct cs_index_op {
    struct cs_index_op *next;
    struct cs_index_op *key_next; /* submitted: the next of its key's bucket */
    bool keyed;                   /* in the pending-keys table */
    enum op_type type;
    enum cs_index_kind kind;
    bool durable;
    bool has_etag;
    uint64_t size, dsize;
    time_t mtime;
    int64_t created_ms;
    uint8_t etag[32];
    struct cs_usage_ns *pending_ns; /* bytes to take off pending once committed */
    uint64_t pending;
    size_t ns_len, key_len;
    char data[];
};

static const char *op_name(enum op_type t)
{
    switch (t) {
    case OP_PUT: return "a store";
    case OP_REMOVE:
    case OP_REMOVE_IF: return "a removal";
    case OP_SET_DSIZE: return "a size";
    }
    return "a change";
}

/* One write inside the writer's transaction. */
static enum cs_status apply(struct cs_index *idx, const struct cs_index_op *op)
{
    const char *ns = op->data, *key = op->data + op->ns_len;
    sqlite3_stmt *st;
    enum cs_status rc = CS_OK;

    switch (op->type) {
    case OP_PUT: st = idx->st_put; break;
    case OP_REMOVE: st = idx->st_remove; break;
    case OP_REMOVE_IF: st = idx->st_remove_if; break;
    case OP_SET_DSIZE: st = idx->st_set_dsize; break;
    default: return CS_OK;
    }
    sqlite3_bind_text(st, 1, ns, (int)op->ns_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key, (int)op->key_len, SQLITE_STATIC);
    if (op->type == OP_PUT) {
        sqlite3_bind_int(st, 3, (int)op->kind);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)op->size);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)op->mtime);
        sqlite3_bind_int64(st, 6, op->created_ms);
        if (op->has_etag)
            sqlite3_bind_blob(st, 7, op->etag, sizeof op->etag, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)op->dsize);
    } else if (op->type == OP_REMOVE_IF) {
        sqlite3_bind_int64(st, 3, op->created_ms);
    } else if (op->type == OP_SET_DSIZE) {
        sqlite3_bind_int64(st, 3, (sqlite3_int64)op->dsize);
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = cs_index_sqlite_status(sqlite3_extended_errcode(idx->wdb));
        if (rc == CS_OK)
            rc = CS_ERR_INDEX;
        cs_log(CS_LOG_DEBUG, "index: cannot record %s of a key in '%.*s': %s", op_name(op->type),
               (int)op->ns_len, ns, sqlite3_errmsg(idx->wdb));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* --- writer ------------------------------------------------------------ */

/* The committed totals, published to the usage registry. */
void cs_index_usage_refresh(struct cs_index *idx)
{
    sqlite3_stmt *st = idx->st_usage;

    if (!idx->usage)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ns = (const char *)sqlite3_column_text(st, 0);
        struct cs_usage_ns *u = ns ? cs_usage_find(idx->usage, ns, strlen(ns)) : NULL;
        if (!u)
            continue;
        sqlite3_int64 objects = sqlite3_column_int64(st, 1), bytes = sqlite3_column_int64(st, 2);
        atomic_store_explicit(&u->objects, objects > 0 ? (uint64_t)objects : 0,
                              memory_order_relaxed);
        atomic_store_explicit(&u->bytes, bytes > 0 ? (uint64_t)bytes : 0, memory_order_relaxed);
    }
    sqlite3_reset(st);
}

/* One transaction for the batch and a chunk of the gathered touches (all
 * of them when all is set; a small chunk when hurry is, or the batch holds
 * a durable write). Nothing of it counts unless all of it commits: on
 * failure it is rolled back and the caller keeps the batch for the next
 * attempt (the touches are dropped, LRU order being a hint). */
static enum cs_status run_batch(struct cs_index *idx, const struct cs_index_op *batch,
                                struct cs_touch_run *touches, bool all, bool hurry, char *why,
                                size_t why_len)
{
    const struct cs_index_op *op;
    bool durable = false;
    char ignored[256];
    enum cs_status st;

    if (!batch && cs_index_touch_left(touches) == 0)
        return CS_OK;
    for (op = batch; op; op = op->next)
        durable |= op->durable;
    size_t chunk = all ? SIZE_MAX : hurry || durable ? TOUCH_CHUNK_HURRY : TOUCH_CHUNK;
    /* A durable write is acknowledged after this commit: its row must
     * survive a power loss as its file does. */
    st = durable ? cs_index_exec(idx->wdb, "PRAGMA synchronous=FULL", why, why_len) : CS_OK;
    if (st == CS_OK)
        st = cs_index_exec(idx->wdb, "BEGIN", why, why_len);
    for (op = batch; op && st == CS_OK; op = op->next)
        if ((st = apply(idx, op)) != CS_OK)
            snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
    if (st == CS_OK && (st = cs_index_touch_apply(idx, touches, chunk)) != CS_OK)
        snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
    if (st == CS_OK)
        st = cs_index_exec(idx->wdb, "COMMIT", why, why_len);
    if (st == CS_OK) {
        cs_index_touch_committed(touches);
        atomic_fetch_add_explicit(&idx->commits, 1, memory_order_relaxed);
    } else {
        cs_index_touch_drop(idx, touches);
    }
    if (st != CS_OK && !sqlite3_get_autocommit(idx->wdb))
        cs_index_exec(idx->wdb, "ROLLBACK", ignored, sizeof ignored); /* the failure is st */
    if (durable &&
        cs_index_exec(idx->wdb, "PRAGMA synchronous=NORMAL", ignored, sizeof ignored) != CS_OK)
        cs_log(CS_LOG_WARN, "%s: later commits may fsync more than needed", ignored);
    if (st == CS_OK)
        cs_index_usage_refresh(idx);
    return st;
}

/* Frees committed (or abandoned) writes and gives their places back.
 * Called after usage_refresh: their bytes stop counting as pending only
 * once the committed totals include them, so they are never counted
 * nowhere. */
static size_t key_bucket(const char *ns, size_t ns_len, const char *key, size_t key_len)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < ns_len; i++)
        h = (h ^ (unsigned char)ns[i]) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL; /* no ns/key split can shift bytes across */
    for (i = 0; i < key_len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 32)) & (PENDING_BUCKETS - 1);
}

/* Takes a submitted op out of the pending-keys table (lock held). */
static void unkey(struct cs_index *idx, struct cs_index_op *op)
{
    struct cs_index_op **pp =
        &idx->pending_keys[key_bucket(op->data, op->ns_len, op->data + op->ns_len, op->key_len)];

    while (*pp && *pp != op)
        pp = &(*pp)->key_next;
    if (*pp)
        *pp = op->key_next;
    op->keyed = false;
}

static void release_ops(struct cs_index *idx, struct cs_index_op *list)
{
    struct cs_index_op *op;
    size_t n = 0;

    if (!list)
        return;
    pthread_mutex_lock(&idx->lock);
    for (op = list; op; op = op->next, n++)
        if (op->keyed)
            unkey(idx, op);
    idx->n_ops -= n;
    pthread_cond_broadcast(&idx->room);
    pthread_mutex_unlock(&idx->lock);
    while (list) {
        struct cs_index_op *next = list->next;
        if (list->pending_ns)
            cs_usage_release(list->pending_ns, list->pending);
        free(list);
        list = next;
    }
}

static size_t count_ops(const struct cs_index_op *op)
{
    size_t n = 0;

    for (; op; op = op->next)
        n++;
    return n;
}

/* The writer's conditions run on CLOCK_MONOTONIC (index.c). */
/* ms from now on CLOCK_MONOTONIC, the clock of the index's conditions. */
static struct timespec mono_after(int64_t ms)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

static void wait_ms(struct cs_index *idx, pthread_cond_t *cond, int64_t ms)
{
    struct timespec until = mono_after(ms);

    pthread_cond_timedwait(cond, &idx->lock, &until);
}

/* The writer's state between attempts: writes taken from the queue and
 * not yet committed (a failed attempt's, retried with whatever came
 * after). */
struct writer {
    struct cs_index_op *batch, **tail;
    uint64_t seq; /* the last write in batch */
    bool failing;
    int64_t close_deadline; /* stopping: give up a failing commit then */
    int64_t last_collect;   /* the last touch gather (mono_ms) */
    int64_t last_report;
    uint64_t failures;
    struct cs_touch_run touches; /* gathered, applied a chunk per commit */
    uint64_t touch_sync;         /* the sync ticket the touches answer */
};

/* After an attempt, with idx->lock held: publish its outcome. */
static void attempt_done(struct cs_index *idx, struct writer *w, enum cs_status st, const char *why)
{
    int64_t now = cs_index_now_ms();

    if (st == CS_OK) {
        idx->committed_seq = w->seq;
        if (w->failing)
            cs_log(CS_LOG_WARN,
                   "index: commits work again after %llu failed attempt(s); "
                   "writes are accepted",
                   (unsigned long long)w->failures);
        w->failing = false;
        w->failures = 0;
        atomic_store(&idx->health, CS_OK);
    } else {
        idx->failed_seq = w->seq;
        idx->failure = st;
        atomic_store(&idx->health, st);
        /* the file system is full: eviction frees room for the commit */
        if (st == CS_ERR_NO_SPACE && idx->usage)
            atomic_store(&idx->usage->disk_full, true);
        w->failures++;
        /* once when it starts, then every 10 s: each attempt fails alike */
        if (!w->failing || now - w->last_report >= 10000) {
            cs_log(CS_LOG_ERROR,
                   "%s: %zu write(s) wait to be recorded; client writes get %s "
                   "until a commit succeeds (retried every %d ms)",
                   why, count_ops(w->batch), st == CS_ERR_NO_SPACE ? "507" : "503", RETRY_MS);
            w->last_report = now;
        }
        w->failing = true;
    }
    pthread_cond_broadcast(&idx->committed);
}

/* Names the first writes lost at shutdown, so an operator knows which. */
static void log_lost(const struct cs_index_op *op)
{
    unsigned n = 0;

    for (; op && n < 10; op = op->next) {
        cs_log(CS_LOG_ERROR, "index: not recorded: %s of '%.*s' in '%.*s'", op_name(op->type),
               (int)(op->key_len > 200 ? 200 : op->key_len), op->data + op->ns_len, (int)op->ns_len,
               op->data);
        n++;
    }
}

/* Milliseconds on the monotonic clock, fine-grained: a linger lasts
 * LINGER_MS whatever the wall clock or the coarse clock's tick does. */
static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* With idx->lock held: whether the queued writes may wait for more. */
static bool may_linger(const struct cs_index *idx)
{
    return idx->head && !idx->stop && !idx->urgent && idx->waiters == 0 &&
           idx->touch_sync_asked == idx->touch_sync_done && idx->n_queued < LINGER_MAX_OPS &&
           idx->n_ops < idx->cap / 2 && atomic_load(&idx->n_full) < TOUCH_COLLECT_FULL;
}

/* With idx->lock held: gathers writes for up to LINGER_MS after the
 * oldest queued one, unless may_linger says someone needs them now. */
static void linger(struct cs_index *idx)
{
    int64_t left;

    while (may_linger(idx) && (left = idx->head_ms + LINGER_MS - mono_ms()) > 0)
        wait_ms(idx, &idx->work, left);
}

/* Group commit: everything queued while the last transaction ran, and
 * for LINGER_MS after the first write nobody waits for, goes into the
 * next one (no fsync in WAL with synchronous=NORMAL). A write someone
 * waits for commits at once, with whatever is queued. A failed commit
 * keeps its writes and is retried every RETRY_MS. */
void *cs_index_writer_main(void *arg)
{
    struct cs_index *idx = arg;
    struct writer w = {.batch = NULL, .tail = &w.batch, .last_collect = mono_ms()};

    pthread_mutex_lock(&idx->lock);
    for (;;) {
        if (w.failing) {
            /* new writes do not hurry a retry: the failure is not theirs */
            int64_t until = cs_index_now_ms() + RETRY_MS, left;
            bool stop = idx->stop;
            while ((left = until - cs_index_now_ms()) > 0 && idx->stop == stop)
                wait_ms(idx, &idx->work, left);
        } else {
            /* idle: until a write, a sync, a full set of touch buffers or
             * the next timed gather */
            int64_t left;
            while (!idx->head && !idx->stop && cs_index_touch_left(&w.touches) == 0 &&
                   idx->touch_sync_asked == w.touch_sync &&
                   atomic_load(&idx->n_full) < TOUCH_COLLECT_FULL &&
                   (left = w.last_collect + TOUCH_COLLECT_MS - mono_ms()) > 0)
                wait_ms(idx, &idx->work, left);
        }
        if (!w.failing)
            linger(idx);
        bool hurry = idx->urgent || idx->waiters > 0;
        uint64_t sync_asked = idx->touch_sync_asked;
        if (idx->head) {
            *w.tail = idx->head;
            w.tail = &idx->tail->next;
            w.seq = idx->queued_seq;
            idx->head = idx->tail = NULL;
            idx->n_queued = 0;
            idx->urgent = false;
        }
        bool stop = idx->stop;
        pthread_mutex_unlock(&idx->lock);

        /* The stop takes every touch now. Else the touches gathered are
         * applied, a chunk per commit, before more are gathered, so at
         * most one gather is held here (a sync asked meanwhile is answered
         * by the next one): full buffers beyond TOUCH_FULL_MAX are
         * dropped, never held. */
        int64_t now = mono_ms();
        bool gather =
            stop || (cs_index_touch_left(&w.touches) == 0 &&
                     (sync_asked != w.touch_sync || now - w.last_collect >= TOUCH_COLLECT_MS ||
                      atomic_load(&idx->n_full) >= TOUCH_COLLECT_FULL));
        enum cs_status dropped = CS_OK; /* why touches were dropped, if they were */
        if (gather) {
            cs_index_touch_gather(idx, &w.touches);
            w.last_collect = now;
            w.touch_sync = sync_asked;
            /* a failing index's retry is not made larger by them: under
             * disk full the writes alone may fit where they would not */
            if (w.failing && cs_index_touch_left(&w.touches) > 0) {
                cs_index_touch_drop(idx, &w.touches);
                dropped = (enum cs_status)atomic_load(&idx->health);
            }
        }
        char why[320] = "index";
        bool had_touches = cs_index_touch_left(&w.touches) > 0;
        enum cs_status st = run_batch(idx, w.batch, &w.touches, stop, hurry, why, sizeof why);
        if (st != CS_OK && had_touches)
            dropped = st; /* run_batch dropped them */
        struct cs_index_op *done = NULL;
        if (st == CS_OK) {
            done = w.batch;
            w.batch = NULL;
            w.tail = &w.batch;
        }
        release_ops(idx, done);

        pthread_mutex_lock(&idx->lock);
        if (dropped != CS_OK) { /* every sync asked so far counted on them */
            idx->touch_fail_upto = idx->touch_sync_asked;
            idx->touch_fail_st = dropped;
        }
        if (cs_index_touch_left(&w.touches) == 0) /* attempt_done wakes the syncs */
            idx->touch_sync_done = w.touch_sync;
        attempt_done(idx, &w, st, why);
        if (stop && !w.close_deadline)
            w.close_deadline = cs_index_now_ms() + CLOSE_RETRY_MS;
        if (stop && !idx->head && (!w.failing || cs_index_now_ms() >= w.close_deadline))
            break;
    }
    idx->touch_sync_done = idx->touch_sync_asked; /* nobody waits past the writer */
    pthread_cond_broadcast(&idx->committed);
    pthread_mutex_unlock(&idx->lock);
    cs_index_touch_drop(idx, &w.touches); /* empty: the stop applied or dropped them all */
    if (w.batch) {
        cs_log(CS_LOG_ERROR,
               "index: %zu acknowledged write(s) could not be recorded before "
               "shutdown (%s): their objects are removed by fsck at the next "
               "start",
               count_ops(w.batch), cs_strerror(idx->failure));
        log_lost(w.batch);
        release_ops(idx, w.batch);
    }
    return NULL;
}

static struct cs_index_op *op_new(enum op_type type, const char *ns, const char *key,
                                  size_t key_len)
{
    size_t ns_len = strlen(ns);
    struct cs_index_op *op = calloc(1, sizeof *op + ns_len + key_len);

    if (!op)
        return NULL;
    op->type = type;
    op->ns_len = ns_len;
    op->key_len = key_len;
    memcpy(op->data, ns, ns_len);
    memcpy(op->data + ns_len, key, key_len);
    return op;
}

/* Takes a place in the queue for one write. */
static enum cs_status take_slot(struct cs_index *idx, enum cs_index_mode mode)
{
    enum cs_status st = CS_OK;
    int64_t deadline = cs_index_now_ms() + QUEUE_WAIT_MS;

    pthread_mutex_lock(&idx->lock);
    if (mode == CS_INDEX_REQUEST && atomic_load(&idx->health) != CS_OK) {
        st = (enum cs_status)atomic_load(&idx->health);
    } else {
        while (idx->n_ops >= idx->cap && !idx->stop && !idx->closing) {
            int64_t left = deadline - cs_index_now_ms();
            if (mode == CS_INDEX_REQUEST && left <= 0)
                break;
            wait_ms(idx, &idx->room, mode == CS_INDEX_REQUEST ? left : 1000);
        }
        if (idx->stop || (idx->closing && idx->n_ops >= idx->cap))
            st = CS_ERR_INDEX;
        else if (idx->n_ops >= idx->cap)
            st = CS_ERR_OVERLOAD;
        else
            idx->n_ops++;
    }
    pthread_mutex_unlock(&idx->lock);
    return st;
}

static enum cs_status prepare(struct cs_index *idx, enum cs_index_mode mode, enum op_type type,
                              const char *ns, const char *key, size_t key_len,
                              struct cs_index_op **out)
{
    struct cs_index_op *op = op_new(type, ns, key, key_len);
    enum cs_status st;

    *out = NULL;
    if (!op)
        return CS_ERR_NOMEM;
    st = take_slot(idx, mode);
    if (st != CS_OK) {
        free(op);
        return st;
    }
    *out = op;
    return CS_OK;
}

enum cs_status cs_index_prepare_put(struct cs_index *idx, enum cs_index_mode mode,
                                    const struct cs_index_record *rec, struct cs_index_op **out)
{
    struct cs_index_op *op;
    enum cs_status st = prepare(idx, mode, OP_PUT, rec->ns, rec->key, rec->key_len, &op);

    if (st != CS_OK)
        return st;
    op->kind = rec->kind;
    op->size = rec->size;
    op->dsize = rec->dsize;
    op->mtime = rec->mtime;
    op->created_ms = rec->created_ms;
    op->durable = rec->durable;
    op->has_etag = rec->etag != NULL;
    if (rec->etag)
        memcpy(op->etag, rec->etag, sizeof op->etag);
    op->pending_ns = rec->pending_ns;
    op->pending = rec->pending;
    *out = op;
    return CS_OK;
}

enum cs_status cs_index_prepare_remove(struct cs_index *idx, enum cs_index_mode mode,
                                       const char *ns, const char *key, size_t key_len,
                                       int64_t created_ms, struct cs_index_op **out)
{
    enum cs_status st =
        prepare(idx, mode, created_ms ? OP_REMOVE_IF : OP_REMOVE, ns, key, key_len, out);

    if (st == CS_OK)
        (*out)->created_ms = created_ms;
    return st;
}

uint64_t cs_index_submit(struct cs_index *idx, struct cs_index_op *op)
{
    uint64_t seq;

    if (op->type == OP_PUT && op->created_ms == 0)
        op->created_ms = cs_index_now_ms();
    op->next = NULL;
    pthread_mutex_lock(&idx->lock);
    bool was_empty = !idx->head;
    if (idx->tail)
        idx->tail->next = op;
    else
        idx->head = op;
    idx->tail = op;
    if (was_empty)
        idx->head_ms = mono_ms();
    idx->n_queued++;
    if (op->durable)
        idx->urgent = true;
    size_t b = key_bucket(op->data, op->ns_len, op->data + op->ns_len, op->key_len);
    op->key_next = idx->pending_keys[b];
    idx->pending_keys[b] = op;
    op->keyed = true;
    seq = ++idx->queued_seq;
    /* a lingering writer needs no wake-up until its wait is cut short */
    if (was_empty || !may_linger(idx))
        pthread_cond_signal(&idx->work);
    pthread_mutex_unlock(&idx->lock);
    return seq;
}

void cs_index_cancel(struct cs_index *idx, struct cs_index_op *op)
{
    if (!op)
        return;
    op->next = NULL;
    release_ops(idx, op);
}

/* Prepare and submit; seq may be NULL. */
static enum cs_status queue_now(struct cs_index *idx, enum cs_status st, struct cs_index_op *op,
                                uint64_t *seq)
{
    uint64_t s = 0;

    if (st == CS_OK)
        s = cs_index_submit(idx, op);
    if (seq)
        *seq = s;
    return st;
}

enum cs_status cs_index_put(struct cs_index *idx, enum cs_index_mode mode,
                            const struct cs_index_record *rec, uint64_t *seq)
{
    struct cs_index_op *op = NULL;
    enum cs_status st = cs_index_prepare_put(idx, mode, rec, &op);

    return queue_now(idx, st, op, seq);
}

enum cs_status cs_index_put_collection(struct cs_index *idx, const char *ns, const char *dir,
                                       size_t dir_len, bool durable, uint64_t *seq)
{
    struct cs_index_record rec = {.ns = ns,
                                  .key = dir,
                                  .key_len = dir_len,
                                  .kind = CS_INDEX_COLLECTION,
                                  .mtime = time(NULL),
                                  .durable = durable};

    return cs_index_put(idx, CS_INDEX_REQUEST, &rec, seq);
}

enum cs_status cs_index_remove(struct cs_index *idx, enum cs_index_mode mode, const char *ns,
                               const char *key, size_t key_len, int64_t created_ms, uint64_t *seq)
{
    struct cs_index_op *op = NULL;
    enum cs_status st = cs_index_prepare_remove(idx, mode, ns, key, key_len, created_ms, &op);

    return queue_now(idx, st, op, seq);
}

enum cs_status cs_index_set_dsize(struct cs_index *idx, const char *ns, const char *key,
                                  size_t key_len, uint64_t dsize)
{
    struct cs_index_op *op = NULL;
    enum cs_status st = prepare(idx, CS_INDEX_BACKGROUND, OP_SET_DSIZE, ns, key, key_len, &op);

    if (st == CS_OK)
        op->dsize = dsize;
    return queue_now(idx, st, op, NULL);
}

enum cs_status cs_index_wait(struct cs_index *idx, uint64_t seq)
{
    enum cs_status st;

    pthread_mutex_lock(&idx->lock);
    if (idx->committed_seq < seq && idx->failed_seq < seq) {
        idx->waiters++;
        pthread_cond_signal(&idx->work); /* ends a linger */
        while (idx->committed_seq < seq && idx->failed_seq < seq)
            pthread_cond_wait(&idx->committed, &idx->lock);
        idx->waiters--;
    }
    st = idx->committed_seq >= seq ? CS_OK : idx->failure;
    pthread_mutex_unlock(&idx->lock);
    return st;
}

enum cs_status cs_index_sync(struct cs_index *idx)
{
    enum cs_status st = (enum cs_status)atomic_load(&idx->health);
    uint64_t target;

    if (st != CS_OK)
        return st;
    pthread_mutex_lock(&idx->lock);
    target = idx->queued_seq;
    pthread_mutex_unlock(&idx->lock);
    return cs_index_wait(idx, target);
}

/* With idx->lock held: whether touch sync ticket, and the writes up to
 * seq, are answered. */
static bool touch_sync_answered(const struct cs_index *idx, uint64_t ticket, uint64_t seq)
{
    return idx->touch_sync_done >= ticket && (idx->committed_seq >= seq || idx->failed_seq >= seq);
}

/* Not a queued write: a sync asked while the writer applies a large gather
 * would hold every write queued after it until the whole gather commits.
 * The writer answers it after applying the next gather a chunk per commit,
 * with other writes between the chunks. */
enum cs_status cs_index_sync_touches(struct cs_index *idx, int64_t max_wait_ms)
{
    enum cs_status st = (enum cs_status)atomic_load(&idx->health);
    struct timespec until = mono_after(max_wait_ms > 0 ? max_wait_ms : 0);
    uint64_t ticket, seq;
    bool timed_out = false;

    if (st != CS_OK)
        return st;
    pthread_mutex_lock(&idx->lock);
    if (idx->stop) {
        pthread_mutex_unlock(&idx->lock);
        return CS_ERR_INDEX;
    }
    seq = idx->queued_seq;
    ticket = ++idx->touch_sync_asked;
    pthread_cond_signal(&idx->work);
    while (!timed_out && !touch_sync_answered(idx, ticket, seq))
        if (max_wait_ms < 0)
            pthread_cond_wait(&idx->committed, &idx->lock);
        else
            timed_out = pthread_cond_timedwait(&idx->committed, &idx->lock, &until) == ETIMEDOUT;
    st = !touch_sync_answered(idx, ticket, seq) ? CS_ERR_WOULD_BLOCK
         : idx->committed_seq < seq             ? idx->failure
         : ticket <= idx->touch_fail_upto       ? idx->touch_fail_st
                                                : CS_OK;
    pthread_mutex_unlock(&idx->lock);
    return st;
}

void cs_index_begin_close(struct cs_index *idx)
{
    pthread_mutex_lock(&idx->lock);
    idx->closing = true;
    pthread_cond_broadcast(&idx->room);
    pthread_mutex_unlock(&idx->lock);
}

bool cs_index_pending(struct cs_index *idx, const char *ns, const char *key, size_t key_len)
{
    size_t ns_len = strlen(ns);
    const struct cs_index_op *op;
    bool found = false;

    pthread_mutex_lock(&idx->lock);
    for (op = idx->pending_keys[key_bucket(ns, ns_len, key, key_len)]; op && !found;
         op = op->key_next)
        found = op->ns_len == ns_len && op->key_len == key_len &&
                memcmp(op->data, ns, ns_len) == 0 && memcmp(op->data + ns_len, key, key_len) == 0;
    pthread_mutex_unlock(&idx->lock);
    return found;
}

enum cs_status cs_index_health(const struct cs_index *idx)
{
    return (enum cs_status)atomic_load_explicit(&idx->health, memory_order_relaxed);
}
