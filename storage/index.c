/* sqlite3 index with a single writer thread and a small pool of read
 * connections. Keys are stored as BLOBs so that ordering is plain byte
 * order (memcmp), which the prefix and skip-scan queries rely on.
 *
 * Space accounting lives in the same file: triggers keep a per-namespace
 * usage row in step with the entries, in the same transaction, so the
 * totals are exact after any restart and are read in one query rather
 * than summed over a million rows. */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "storage/index.h"
#include "storage/index_priv.h"

#define SCHEMA_VERSION "2"
/* The writer wakes at least this often to gather GET touches. */
#define TOUCH_FLUSH_MS 200
/* Per-thread touch buffer, and how many full ones may wait for the
 * writer before touches are dropped (LRU order is a hint, not data). */
#define TOUCH_BUF_BYTES (32 * 1024)
#define TOUCH_FULL_MAX 256
/* A key read again within this time by the same thread is not touched
 * again: a hot object costs two index writes a second, not one per GET. */
#define TOUCH_DEDUP_MS 500
#define TOUCH_DEDUP_SLOTS 1024
/* Writes waiting to commit, by default. Each costs its key and ~120 bytes. */
#define QUEUE_CAP_DEFAULT 65536
/* How long a client's write waits for room in a full queue: short, since
 * it waits on an event thread (other requests on that thread wait too). */
#define QUEUE_WAIT_MS 100
/* A failed commit is retried this often. */
#define RETRY_MS 250
/* At shutdown, how long a failing commit is tried again. */
#define CLOSE_RETRY_MS 5000
/* How long the writer waits for sqlite's lock: another process writing the
 * index (an operator's sqlite3 shell) is a failure to retry, and a long
 * wait would stretch each retry and the shutdown. */
#define WRITER_BUSY_MS 1000

enum op_type { OP_PUT, OP_REMOVE, OP_REMOVE_IF, OP_SET_DSIZE, OP_COLLECT };

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

/* Touches: each thread appends to its own buffer under its own mutex,
 * which only the writer also takes (every TOUCH_FLUSH_MS): no lock is
 * shared by the GET threads. Record: u8 ns_len, u16 key_len, i64 ms, ns, key. */
#define TOUCH_REC_FIXED (1 + 2 + 8)
struct cs_touch_buf {
    struct cs_touch_buf *next;
    size_t used;
    unsigned char data[TOUCH_BUF_BYTES];
};

struct cs_touch_slot {
    pthread_mutex_t lock;
    struct cs_touch_buf *buf;
    struct cs_touch_slot *next;
    uint64_t recent_tag[TOUCH_DEDUP_SLOTS]; /* owner thread only */
    int64_t recent_ms[TOUCH_DEDUP_SLOTS];
};

/* Tells index instances apart for the per-thread touch slot. */
static atomic_uint_fast64_t index_ids = 1;
static __thread struct cs_touch_slot *tls_slot;
static __thread uint64_t tls_slot_owner;

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entries("
    "  ns TEXT NOT NULL, key BLOB NOT NULL, kind INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, mtime INTEGER NOT NULL, atime INTEGER NOT NULL, etag BLOB,"
    "  dsize INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (ns, key)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(k, v) VALUES ('schema', '" SCHEMA_VERSION "');";

/* Schema 1 (issue 3) had no on-disk size, no creation time and atime in
 * seconds. dsize is estimated from the body size (header without content
 * type, 4 KiB blocks) until fsck measures the file. */
static const char upgrade_1_sql[] =
    "ALTER TABLE entries ADD COLUMN dsize INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE entries ADD COLUMN created INTEGER NOT NULL DEFAULT 0;"
    "UPDATE entries SET dsize = CASE kind WHEN 0 THEN (size + 40 + 4095) / 4096 * 4096 "
    "ELSE 0 END, created = mtime * 1000, atime = atime * 1000;"
    "UPDATE meta SET v = '2' WHERE k = 'schema';";

/* LRU order (objects only: collection markers are never evicted) and the
 * usage totals, kept by triggers in the same transaction as the rows. */
static const char accounting_sql[] =
    "CREATE INDEX IF NOT EXISTS entries_lru ON entries(ns, atime) WHERE kind = 0;"
    "CREATE TABLE IF NOT EXISTS usage(ns TEXT PRIMARY KEY, objects INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS usage_insert AFTER INSERT ON entries BEGIN"
    "  INSERT OR IGNORE INTO usage(ns, objects, bytes) VALUES (new.ns, 0, 0);"
    "  UPDATE usage SET objects = objects + (new.kind = 0), bytes = bytes + new.dsize"
    "    WHERE ns = new.ns;"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS usage_delete AFTER DELETE ON entries BEGIN"
    "  UPDATE usage SET objects = objects - (old.kind = 0), bytes = bytes - old.dsize"
    "    WHERE ns = old.ns;"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS usage_update AFTER UPDATE OF kind, dsize ON entries BEGIN"
    "  UPDATE usage SET objects = objects - (old.kind = 0) + (new.kind = 0),"
    "    bytes = bytes - old.dsize + new.dsize WHERE ns = new.ns;"
    " END;";

enum cs_status cs_index_db_open(const char *path, int flags, sqlite3 **out, char *why,
                                size_t why_len)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        snprintf(why, why_len, "cannot open index %s: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return CS_ERR_IO;
    }
    /* Readers wait a little for a checkpoint rather than fail. */
    sqlite3_busy_timeout(db, 5000);
    *out = db;
    return CS_OK;
}

/* What a failed sqlite call means for the writes it was to record. */
enum cs_status cs_index_sqlite_status(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return CS_OK;
    case SQLITE_FULL: return CS_ERR_NO_SPACE;
    case SQLITE_NOMEM: return CS_ERR_NOMEM;
    default: return CS_ERR_INDEX;
    }
}

enum cs_status cs_index_exec(sqlite3 *db, const char *sql, char *why, size_t why_len)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

    if (rc != SQLITE_OK) {
        snprintf(why, why_len, "index: %s", err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        enum cs_status st = cs_index_sqlite_status(sqlite3_extended_errcode(db));
        return st == CS_OK ? CS_ERR_INDEX : st;
    }
    return CS_OK;
}

int64_t cs_index_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *op_name(enum op_type t)
{
    switch (t) {
    case OP_PUT: return "a store";
    case OP_REMOVE:
    case OP_REMOVE_IF: return "a removal";
    case OP_SET_DSIZE: return "a size";
    case OP_COLLECT: break;
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

/* --- touches ----------------------------------------------------------- */

static struct cs_touch_slot *touch_slot_for(struct cs_index *idx)
{
    struct cs_touch_slot *slot;

    if (tls_slot && tls_slot_owner == idx->id)
        return tls_slot;
    slot = calloc(1, sizeof *slot);
    if (!slot)
        return NULL;
    slot->buf = malloc(sizeof *slot->buf);
    if (!slot->buf) {
        free(slot);
        return NULL;
    }
    slot->buf->used = 0;
    slot->buf->next = NULL;
    pthread_mutex_init(&slot->lock, NULL);
    pthread_mutex_lock(&idx->touch_lock);
    slot->next = idx->slots;
    idx->slots = slot;
    pthread_mutex_unlock(&idx->touch_lock);
    tls_slot = slot;
    tls_slot_owner = idx->id;
    return slot;
}

/* The slot's buffer is full: hand it to the writer and start a new one.
 * Called with slot->lock held. */
static bool touch_swap(struct cs_index *idx, struct cs_touch_slot *slot)
{
    struct cs_touch_buf *fresh;
    bool handed = false;

    pthread_mutex_lock(&idx->touch_lock);
    if (idx->n_full < TOUCH_FULL_MAX) {
        fresh = malloc(sizeof *fresh);
        if (fresh) {
            slot->buf->next = idx->full;
            idx->full = slot->buf;
            idx->n_full++;
            fresh->used = 0;
            fresh->next = NULL;
            slot->buf = fresh;
            handed = true;
        }
    }
    pthread_mutex_unlock(&idx->touch_lock);
    if (handed) {
        pthread_mutex_lock(&idx->lock);
        pthread_cond_signal(&idx->work);
        pthread_mutex_unlock(&idx->lock);
    }
    return handed;
}

void cs_index_touch(struct cs_index *idx, const char *ns, const char *key, size_t key_len,
                    const uint8_t digest[32])
{
    struct cs_touch_slot *slot = touch_slot_for(idx);
    size_t ns_len = strlen(ns), need = TOUCH_REC_FIXED + ns_len + key_len;
    int64_t now = cs_index_now_ms();
    uint64_t tag;
    size_t h;

    if (!slot || ns_len > 255 || key_len > 65535)
        return;
    memcpy(&tag, digest, sizeof tag);
    h = (size_t)(tag % TOUCH_DEDUP_SLOTS);
    if (slot->recent_tag[h] == tag && now - slot->recent_ms[h] < TOUCH_DEDUP_MS)
        return;
    slot->recent_tag[h] = tag;
    slot->recent_ms[h] = now;
    pthread_mutex_lock(&slot->lock);
    if (slot->buf->used + need > TOUCH_BUF_BYTES && !touch_swap(idx, slot)) {
        pthread_mutex_unlock(&slot->lock);
        atomic_fetch_add_explicit(&idx->touches_dropped, 1, memory_order_relaxed);
        return;
    }
    unsigned char *p = slot->buf->data + slot->buf->used;
    uint16_t kl = (uint16_t)key_len;
    p[0] = (unsigned char)ns_len;
    memcpy(p + 1, &kl, 2);
    memcpy(p + 3, &now, 8);
    memcpy(p + TOUCH_REC_FIXED, ns, ns_len);
    memcpy(p + TOUCH_REC_FIXED + ns_len, key, key_len);
    slot->buf->used += need;
    pthread_mutex_unlock(&slot->lock);
}

/* Takes every touch recorded so far: the full buffers and each thread's
 * current one (swapped for an empty buffer). */
struct cs_touch_buf *cs_index_touch_gather(struct cs_index *idx)
{
    struct cs_touch_buf *list;
    struct cs_touch_slot *slot;

    pthread_mutex_lock(&idx->touch_lock);
    list = idx->full;
    idx->full = NULL;
    idx->n_full = 0;
    for (slot = idx->slots; slot; slot = slot->next) {
        struct cs_touch_buf *fresh = NULL;
        pthread_mutex_lock(&slot->lock);
        if (slot->buf->used > 0 && (fresh = malloc(sizeof *fresh)) != NULL) {
            fresh->used = 0;
            fresh->next = NULL;
            slot->buf->next = list;
            list = slot->buf;
            slot->buf = fresh;
        }
        pthread_mutex_unlock(&slot->lock);
    }
    pthread_mutex_unlock(&idx->touch_lock);
    return list;
}

/* A touch record's parts. */
static void touch_parse(const unsigned char *p, size_t *ns_len, uint16_t *key_len, int64_t *ms)
{
    *ns_len = p[0];
    memcpy(key_len, p + 1, 2);
    memcpy(ms, p + 3, 8);
}

/* Orders records by namespace and key, so the updates walk the table in
 * key order instead of jumping across it. */
static int touch_cmp(const void *a, const void *b)
{
    const unsigned char *p = *(const unsigned char *const *)a;
    const unsigned char *q = *(const unsigned char *const *)b;
    size_t pn, qn;
    uint16_t pk, qk;
    int64_t pm, qm;
    int c;

    touch_parse(p, &pn, &pk, &pm);
    touch_parse(q, &qn, &qk, &qm);
    c = memcmp(p + TOUCH_REC_FIXED, q + TOUCH_REC_FIXED, pn + pk < qn + qk ? pn + pk : qn + qk);
    if (c == 0)
        c = (pn + pk > qn + qk) - (pn + pk < qn + qk);
    return c;
}

/* A failure here fails the whole transaction: sqlite may have rolled it
 * back already (disk full), and later statements must not run outside it. */
static enum cs_status touch_update(struct cs_index *idx, const unsigned char *p)
{
    sqlite3_stmt *st = idx->st_touch;
    enum cs_status rc = CS_OK;
    size_t ns_len;
    uint16_t key_len;
    int64_t ms;

    touch_parse(p, &ns_len, &key_len, &ms);
    sqlite3_bind_text(st, 1, (const char *)p + TOUCH_REC_FIXED, (int)ns_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, p + TOUCH_REC_FIXED + ns_len, key_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ms);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = cs_index_sqlite_status(sqlite3_extended_errcode(idx->wdb));
        if (rc == CS_OK)
            rc = CS_ERR_INDEX;
    }
    sqlite3_reset(st);
    return rc;
}

size_t cs_index_touch_count(const struct cs_touch_buf *list)
{
    size_t n = 0;

    for (; list; list = list->next) {
        size_t off = 0;
        while (off + TOUCH_REC_FIXED <= list->used) {
            size_t ns_len;
            uint16_t key_len;
            int64_t ms;
            touch_parse(list->data + off, &ns_len, &key_len, &ms);
            off += TOUCH_REC_FIXED + ns_len + key_len;
            n++;
        }
    }
    return n;
}

void cs_index_touch_free(struct cs_touch_buf *list)
{
    while (list) {
        struct cs_touch_buf *next = list->next;
        free(list);
        list = next;
    }
}

/* Applies and frees the gathered buffers. Records that do not fit in the
 * sort array (out of memory) are dropped: LRU order is a hint. A failed
 * update stops the rest (the transaction fails): they are counted as
 * dropped. */
enum cs_status cs_index_touch_apply(struct cs_index *idx, struct cs_touch_buf *list)
{
    const unsigned char **recs = NULL;
    size_t n = 0, cap = 0, i;
    struct cs_touch_buf *b;

    for (b = list; b; b = b->next) {
        size_t off = 0;
        while (off + TOUCH_REC_FIXED <= b->used) {
            size_t ns_len;
            uint16_t key_len;
            int64_t ms;
            if (n == cap) {
                size_t grown_cap = cap ? cap * 2 : 1024;
                const unsigned char **grown = realloc(recs, grown_cap * sizeof *recs);
                if (!grown)
                    break;
                recs = grown;
                cap = grown_cap;
            }
            recs[n++] = b->data + off;
            touch_parse(b->data + off, &ns_len, &key_len, &ms);
            off += TOUCH_REC_FIXED + ns_len + key_len;
        }
    }
    if (n > 0)
        qsort(recs, n, sizeof *recs, touch_cmp);
    enum cs_status rc = CS_OK;
    for (i = 0; i < n && rc == CS_OK; i++)
        rc = touch_update(idx, recs[i]);
    free(recs);
    cs_index_touch_free(list);
    return rc;
}

void cs_index_touch_slots_free(struct cs_index *idx)
{
    while (idx->slots) {
        struct cs_touch_slot *next = idx->slots->next;
        free(idx->slots->buf);
        pthread_mutex_destroy(&idx->slots->lock);
        free(idx->slots);
        idx->slots = next;
    }
    while (idx->full) {
        struct cs_touch_buf *next = idx->full->next;
        free(idx->full);
        idx->full = next;
    }
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

/* One transaction for the batch and the touches. Nothing of it counts
 * unless all of it commits: on failure it is rolled back and the caller
 * keeps the batch for the next attempt (the touches are dropped, LRU
 * order being a hint). */
static enum cs_status run_batch(struct cs_index *idx, const struct cs_index_op *batch, bool collect,
                                char *why, size_t why_len)
{
    struct cs_touch_buf *touches = collect ? cs_index_touch_gather(idx) : NULL;
    const struct cs_index_op *op;
    bool durable = false;
    char ignored[256];
    enum cs_status st;

    if (!batch && !touches)
        return CS_OK;
    for (op = batch; op; op = op->next)
        durable |= op->durable;
    /* A durable write is acknowledged after this commit: its row must
     * survive a power loss as its file does. */
    st = durable ? cs_index_exec(idx->wdb, "PRAGMA synchronous=FULL", why, why_len) : CS_OK;
    if (st == CS_OK)
        st = cs_index_exec(idx->wdb, "BEGIN", why, why_len);
    for (op = batch; op && st == CS_OK; op = op->next)
        if ((st = apply(idx, op)) != CS_OK)
            snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
    if (touches) {
        size_t n = cs_index_touch_count(touches);
        if (st == CS_OK && (st = cs_index_touch_apply(idx, touches)) != CS_OK)
            snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
        else if (st != CS_OK)
            cs_index_touch_free(touches);
        if (st != CS_OK)
            atomic_fetch_add_explicit(&idx->touches_dropped, n, memory_order_relaxed);
    }
    if (st == CS_OK)
        st = cs_index_exec(idx->wdb, "COMMIT", why, why_len);
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

static void wait_ms(struct cs_index *idx, pthread_cond_t *cond, int64_t ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
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
    int64_t last_collect, last_report;
    uint64_t failures;
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
        if (op->type == OP_COLLECT)
            continue;
        cs_log(CS_LOG_ERROR, "index: not recorded: %s of '%.*s' in '%.*s'", op_name(op->type),
               (int)(op->key_len > 200 ? 200 : op->key_len), op->data + op->ns_len, (int)op->ns_len,
               op->data);
        n++;
    }
}

/* Group commit: everything queued while the last transaction ran goes
 * into the next one. Under load batches grow by themselves; when idle a
 * single write commits at once (no fsync in WAL with synchronous=NORMAL).
 * A failed commit keeps its writes and is retried every RETRY_MS. */
void *cs_index_writer_main(void *arg)
{
    struct cs_index *idx = arg;
    struct writer w = {.batch = NULL, .tail = &w.batch, .last_collect = cs_index_now_ms()};

    pthread_mutex_lock(&idx->lock);
    for (;;) {
        if (w.failing) {
            /* new writes do not hurry a retry: the failure is not theirs */
            int64_t until = cs_index_now_ms() + RETRY_MS, left;
            bool stop = idx->stop;
            while ((left = until - cs_index_now_ms()) > 0 && idx->stop == stop)
                wait_ms(idx, &idx->work, left);
        } else if (!idx->head && !idx->stop && atomic_load(&idx->n_full) == 0) {
            wait_ms(idx, &idx->work, TOUCH_FLUSH_MS);
        }
        if (idx->head) {
            *w.tail = idx->head;
            w.tail = &idx->tail->next;
            w.seq = idx->queued_seq;
            idx->head = idx->tail = NULL;
        }
        bool stop = idx->stop;
        pthread_mutex_unlock(&idx->lock);

        int64_t now = cs_index_now_ms();
        bool collect = stop || now - w.last_collect >= TOUCH_FLUSH_MS;
        const struct cs_index_op *op;
        for (op = w.batch; op && !collect; op = op->next)
            collect = op->type == OP_COLLECT;
        collect |= atomic_load(&idx->n_full) > 0;
        if (collect)
            w.last_collect = now;
        char why[320] = "index";
        enum cs_status st = run_batch(idx, w.batch, collect, why, sizeof why);
        struct cs_index_op *done = NULL;
        if (st == CS_OK) {
            done = w.batch;
            w.batch = NULL;
            w.tail = &w.batch;
        }
        release_ops(idx, done);

        pthread_mutex_lock(&idx->lock);
        attempt_done(idx, &w, st, why);
        if (stop && !w.close_deadline)
            w.close_deadline = cs_index_now_ms() + CLOSE_RETRY_MS;
        if (stop && !idx->head && (!w.failing || cs_index_now_ms() >= w.close_deadline))
            break;
    }
    pthread_mutex_unlock(&idx->lock);
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
    if (idx->tail)
        idx->tail->next = op;
    else
        idx->head = op;
    idx->tail = op;
    if (op->type != OP_COLLECT) {
        size_t b = key_bucket(op->data, op->ns_len, op->data + op->ns_len, op->key_len);
        op->key_next = idx->pending_keys[b];
        idx->pending_keys[b] = op;
        op->keyed = true;
    }
    seq = ++idx->queued_seq;
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
    while (idx->committed_seq < seq && idx->failed_seq < seq)
        pthread_cond_wait(&idx->committed, &idx->lock);
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

enum cs_status cs_index_sync_touches(struct cs_index *idx)
{
    struct cs_index_op *op = NULL;
    enum cs_status st = prepare(idx, CS_INDEX_BACKGROUND, OP_COLLECT, "", "", 0, &op);
    uint64_t seq;

    if (st != CS_OK)
        return st;
    seq = cs_index_submit(idx, op);
    return cs_index_wait(idx, seq);
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

uint64_t cs_index_touches_dropped(const struct cs_index *idx)
{
    return atomic_load_explicit(&idx->touches_dropped, memory_order_relaxed);
}

/* --- readers --------------------------------------------------------- */

static sqlite3 *reader_get(struct cs_index *idx)
{
    sqlite3 *db = NULL;
    char why[256];

    pthread_mutex_lock(&idx->pool_lock);
    if (idx->n_readers > 0)
        db = idx->readers[--idx->n_readers];
    pthread_mutex_unlock(&idx->pool_lock);
    if (db)
        return db;
    if (cs_index_db_open(idx->path, SQLITE_OPEN_READONLY, &db, why, sizeof why) != CS_OK) {
        cs_log(CS_LOG_ERROR, "%s", why);
        return NULL;
    }
    return db;
}

static void reader_put(struct cs_index *idx, sqlite3 *db)
{
    pthread_mutex_lock(&idx->pool_lock);
    if (idx->n_readers < READERS_MAX) {
        idx->readers[idx->n_readers++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&idx->pool_lock);
    if (db)
        sqlite3_close(db);
}

/* Upper bound of the keys that start with prefix: the shortest string
 * greater than all of them, or 0 bytes when there is none (all 0xff). */
static size_t prefix_upper(const char *prefix, size_t len, char *out)
{
    memcpy(out, prefix, len);
    while (len > 0) {
        unsigned char c = (unsigned char)out[len - 1];
        if (c != 0xff) {
            out[len - 1] = (char)(c + 1);
            return len;
        }
        len--;
    }
    return 0;
}

/* The first entries of ns from the cursor on, below an upper bound when
 * there is one. Four plain statements rather than one with CASE or OR,
 * which would keep sqlite from using the primary key as a range. */
static const char *const next_sql[2][2] = {
    {"SELECT key, kind, size, mtime, etag, dsize FROM entries WHERE ns = ?1 AND key > ?2 "
     "ORDER BY key LIMIT ?5",
     "SELECT key, kind, size, mtime, etag, dsize FROM entries WHERE ns = ?1 AND key > ?2 AND key < "
     "?3 "
     "ORDER BY key LIMIT ?5"},
    {"SELECT key, kind, size, mtime, etag, dsize FROM entries WHERE ns = ?1 AND key >= ?2 "
     "ORDER BY key LIMIT ?5",
     "SELECT key, kind, size, mtime, etag, dsize FROM entries WHERE ns = ?1 AND key >= ?2 AND key "
     "< ?3 "
     "ORDER BY key LIMIT ?5"},
};

struct scan {
    sqlite3 *db;
    sqlite3_stmt *st[2]; /* [inclusive] */
    char upper[1100];
    size_t upper_len;
};

static enum cs_status scan_begin(struct cs_index *idx, struct scan *s, const char *prefix,
                                 size_t prefix_len)
{
    int bounded, i;

    s->upper_len = prefix_len < sizeof s->upper ? prefix_upper(prefix, prefix_len, s->upper) : 0;
    bounded = s->upper_len > 0;
    s->st[0] = s->st[1] = NULL;
    s->db = reader_get(idx);
    if (!s->db)
        return CS_ERR_IO;
    for (i = 0; i < 2; i++) {
        if (sqlite3_prepare_v2(s->db, next_sql[i][bounded], -1, &s->st[i], NULL) != SQLITE_OK) {
            cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(s->db));
            sqlite3_finalize(s->st[0]);
            reader_put(idx, s->db);
            return CS_ERR_IO;
        }
    }
    return CS_OK;
}

static void scan_end(struct cs_index *idx, struct scan *s)
{
    sqlite3_finalize(s->st[0]);
    sqlite3_finalize(s->st[1]);
    reader_put(idx, s->db);
}

/* Runs the query from the cursor (or from start when the cursor has not
 * started); SQLITE_ROW leaves the row in *row. */
static int scan_step(struct scan *s, const char *ns, const struct cs_index_cursor *cur,
                     const char *start, size_t start_len, int limit, sqlite3_stmt **row)
{
    bool inclusive = cur->started ? cur->inclusive : true;
    sqlite3_stmt *st = s->st[inclusive];

    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    if (cur->started) /* a copy: the cursor moves while the statement runs */
        sqlite3_bind_blob(st, 2, cur->key, (int)cur->key_len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_blob(st, 2, start, (int)start_len, SQLITE_STATIC);
    if (s->upper_len)
        sqlite3_bind_blob(st, 3, s->upper, (int)s->upper_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, limit);
    *row = st;
    return sqlite3_step(st);
}

static void read_entry(sqlite3_stmt *st, struct cs_index_entry *e)
{
    e->name = sqlite3_column_blob(st, 0);
    e->name_len = (size_t)sqlite3_column_bytes(st, 0);
    e->kind =
        sqlite3_column_int(st, 1) == CS_INDEX_COLLECTION ? CS_INDEX_COLLECTION : CS_INDEX_OBJECT;
    e->size = (uint64_t)sqlite3_column_int64(st, 2);
    e->mtime = (time_t)sqlite3_column_int64(st, 3);
    e->etag = sqlite3_column_bytes(st, 4) == 32 ? sqlite3_column_blob(st, 4) : NULL;
    e->dsize = (uint64_t)sqlite3_column_int64(st, 5);
}

static void cursor_set(struct cs_index_cursor *cur, const char *key, size_t len, bool inclusive)
{
    if (len > sizeof cur->key)
        len = sizeof cur->key;
    memcpy(cur->key, key, len);
    cur->key_len = len;
    cur->started = true;
    cur->inclusive = inclusive;
}

enum cs_status cs_index_children(struct cs_index *idx, const char *ns, const char *dir,
                                 size_t dir_len, struct cs_index_cursor *cur, size_t max,
                                 cs_index_entry_cb cb, void *arg)
{
    struct scan s;
    size_t n = 0;
    enum cs_status st;

    if (cur->done)
        return CS_OK;
    st = scan_begin(idx, &s, dir, dir_len);
    if (st != CS_OK)
        return st;
    if (!cur->started) {
        /* skip dir's own marker ("a/b/"): start strictly after it */
        cursor_set(cur, dir, dir_len, dir_len == 0);
    }
    while (n < max) {
        sqlite3_stmt *row;
        int rc = scan_step(&s, ns, cur, dir, dir_len, 1, &row);
        if (rc != SQLITE_ROW) {
            if (rc != SQLITE_DONE) {
                cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(s.db));
                st = CS_ERR_IO;
            }
            cur->done = true;
            break;
        }
        struct cs_index_entry e;
        read_entry(row, &e);
        const char *rest = e.name + dir_len;
        size_t rest_len = e.name_len - dir_len;
        const char *slash = memchr(rest, '/', rest_len);
        if (slash) {
            /* a key deeper down: the child is a collection; skip its subtree
             * by seeking to "<dir><child>0" ('0' follows '/') */
            char next[1100];
            size_t child_len = (size_t)(slash - rest);
            if (dir_len + child_len + 1 > sizeof next) {
                cur->done = true;
                break;
            }
            memcpy(next, e.name, dir_len + child_len);
            next[dir_len + child_len] = '0';
            e.name = rest;
            e.name_len = child_len;
            e.kind = CS_INDEX_COLLECTION;
            e.size = 0;
            n++;
            bool more = cb(arg, &e);
            cursor_set(cur, next, dir_len + child_len + 1, true);
            if (!more)
                break;
        } else {
            cursor_set(cur, e.name, e.name_len, false);
            e.name = rest;
            e.name_len = rest_len;
            n++;
            if (!cb(arg, &e))
                break;
        }
    }
    scan_end(idx, &s);
    return st;
}

enum cs_status cs_index_walk(struct cs_index *idx, const char *ns, const char *prefix,
                             size_t prefix_len, struct cs_index_cursor *cur, size_t max,
                             cs_index_entry_cb cb, void *arg)
{
    struct scan s;
    enum cs_status st;
    int rc;
    size_t n = 0;

    if (cur->done)
        return CS_OK;
    st = scan_begin(idx, &s, prefix, prefix_len);
    if (st != CS_OK)
        return st;
    sqlite3_stmt *row;
    rc = scan_step(&s, ns, cur, prefix, prefix_len, (int)max, &row);
    while (rc == SQLITE_ROW) {
        struct cs_index_entry e;
        read_entry(row, &e);
        cursor_set(cur, e.name, e.name_len, false);
        n++;
        if (!cb(arg, &e))
            break;
        rc = sqlite3_step(row);
    }
    if (rc == SQLITE_DONE && n < max)
        cur->done = true;
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(s.db));
        st = CS_ERR_IO;
        cur->done = true;
    }
    scan_end(idx, &s);
    return st;
}

enum cs_status cs_index_collection_exists(struct cs_index *idx, const char *ns, const char *dir,
                                          size_t dir_len, bool *exists, time_t *mtime)
{
    struct scan s;
    struct cs_index_cursor cur = {.started = false};
    enum cs_status st = scan_begin(idx, &s, dir, dir_len);
    int rc;

    if (st != CS_OK)
        return st;
    sqlite3_stmt *row;
    rc = scan_step(&s, ns, &cur, dir, dir_len, 1, &row);
    *exists = rc == SQLITE_ROW;
    if (*exists && mtime)
        *mtime = (time_t)sqlite3_column_int64(row, 3);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(s.db));
        st = CS_ERR_IO;
    }
    scan_end(idx, &s);
    return st;
}

/* A statement on a pooled read connection; read_end gives both back. */
static enum cs_status read_begin(struct cs_index *idx, const char *sql, sqlite3 **db,
                                 sqlite3_stmt **st)
{
    *st = NULL;
    *db = reader_get(idx);
    if (!*db)
        return CS_ERR_IO;
    if (sqlite3_prepare_v2(*db, sql, -1, st, NULL) != SQLITE_OK) {
        cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(*db));
        reader_put(idx, *db);
        return CS_ERR_IO;
    }
    return CS_OK;
}

/* Finishes a read_begin statement; step is its last sqlite3_step result. */
static enum cs_status read_end(struct cs_index *idx, sqlite3 *db, sqlite3_stmt *st, int step)
{
    enum cs_status rc = CS_OK;

    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(db));
        rc = CS_ERR_IO;
    }
    sqlite3_finalize(st);
    reader_put(idx, db);
    return rc;
}

/* Least recently used objects of ns, oldest first. The LRU index holds
 * (ns, atime) and the primary key after it, so (atime, key) order is the
 * index's own and resuming after a cursor is a seek. */
enum cs_status cs_index_oldest(struct cs_index *idx, const char *ns,
                               struct cs_index_lru_cursor *cur, size_t max, cs_index_victim_cb cb,
                               void *arg)
{
    static const char sql[2][200] = {
        "SELECT key, dsize, created, atime FROM entries "
        "WHERE ns = ?1 AND kind = 0 ORDER BY atime, key LIMIT ?2",
        "SELECT key, dsize, created, atime FROM entries "
        "WHERE ns = ?1 AND kind = 0 AND (atime, key) > (?3, ?4) ORDER BY atime, key LIMIT ?2",
    };
    bool after = cur && cur->started;
    sqlite3 *db;
    sqlite3_stmt *st;
    int step = SQLITE_DONE;

    if (read_begin(idx, sql[after], &db, &st) != CS_OK)
        return CS_ERR_IO;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    if (after) { /* copies: the cursor moves while the statement runs */
        sqlite3_bind_int64(st, 3, cur->atime_ms);
        sqlite3_bind_blob(st, 4, cur->key, (int)cur->key_len, SQLITE_TRANSIENT);
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct cs_index_victim v = {
            .key = sqlite3_column_blob(st, 0),
            .key_len = (size_t)sqlite3_column_bytes(st, 0),
            .dsize = (uint64_t)sqlite3_column_int64(st, 1),
            .created_ms = sqlite3_column_int64(st, 2),
            .atime_ms = sqlite3_column_int64(st, 3),
        };
        bool more = cb(arg, &v); /* false: not taken, the cursor stays */
        if (more && cur && v.key_len <= sizeof cur->key) {
            cur->started = true;
            cur->atime_ms = v.atime_ms;
            memcpy(cur->key, v.key, v.key_len);
            cur->key_len = v.key_len;
        }
        if (!more)
            break;
    }
    return read_end(idx, db, st, step);
}

enum cs_status cs_index_row_created(struct cs_index *idx, const char *ns, const char *key,
                                    size_t key_len, int64_t *created_ms)
{
    static const char sql[] = "SELECT created FROM entries WHERE ns = ?1 AND key = ?2";
    sqlite3 *db;
    sqlite3_stmt *st;
    int step;
    enum cs_status rc;

    if (read_begin(idx, sql, &db, &st) != CS_OK)
        return CS_ERR_IO;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key, (int)key_len, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *created_ms = sqlite3_column_int64(st, 0);
    rc = read_end(idx, db, st, step);
    return rc == CS_OK && step == SQLITE_DONE ? CS_ERR_NOT_FOUND : rc;
}

/* Every entry of every namespace in (ns, key) order, from the cursor on. */
enum cs_status cs_index_scan_all(struct cs_index *idx, struct cs_index_scan_cursor *cur, size_t max,
                                 cs_index_row_cb cb, void *arg)
{
    static const char sql[] = "SELECT ns, key, kind, dsize, created FROM entries "
                              "WHERE (ns, key) > (?1, ?2) ORDER BY ns, key LIMIT ?3";
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t n = 0;
    int step;

    if (cur->done)
        return CS_OK;
    if (read_begin(idx, sql, &db, &st) != CS_OK)
        return CS_ERR_IO;
    /* copies: the cursor moves while the statement runs */
    sqlite3_bind_text(st, 1, cur->ns, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, cur->key, (int)cur->key_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ns = (const char *)sqlite3_column_text(st, 0);
        struct cs_index_row r = {
            .ns = ns ? ns : "",
            .key = sqlite3_column_blob(st, 1),
            .key_len = (size_t)sqlite3_column_bytes(st, 1),
            .kind = sqlite3_column_int(st, 2) == CS_INDEX_COLLECTION ? CS_INDEX_COLLECTION
                                                                     : CS_INDEX_OBJECT,
            .dsize = (uint64_t)sqlite3_column_int64(st, 3),
            .created_ms = sqlite3_column_int64(st, 4),
        };
        n++;
        snprintf(cur->ns, sizeof cur->ns, "%s", r.ns);
        cur->key_len = r.key_len < sizeof cur->key ? r.key_len : sizeof cur->key;
        memcpy(cur->key, r.key, cur->key_len);
        if (!cb(arg, &r))
            break;
    }
    enum cs_status rc = read_end(idx, db, st, step);
    if (rc != CS_OK || (step == SQLITE_DONE && n < max))
        cur->done = true;
    return rc;
}

/* --- open / close ------------------------------------------------------ */

static enum cs_status upgrade_schema(struct cs_index *idx, char *why, size_t why_len)
{
    sqlite3_stmt *st;
    char version[16] = "";
    enum cs_status rc;

    if (sqlite3_prepare_v2(idx->wdb, "SELECT v FROM meta WHERE k = 'schema'", -1, &st, NULL) !=
        SQLITE_OK) {
        snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
        return CS_ERR_IO;
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(version, sizeof version, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (strcmp(version, SCHEMA_VERSION) == 0)
        return CS_OK;
    if (strcmp(version, "1") != 0) {
        snprintf(why, why_len,
                 "index %s has schema '%s', this cstashd knows 1 and " SCHEMA_VERSION
                 ": written by a newer version?",
                 idx->path, version);
        return CS_ERR_INVALID;
    }
    rc = cs_index_exec(idx->wdb, "BEGIN", why, why_len);
    if (rc == CS_OK)
        rc = cs_index_exec(idx->wdb, upgrade_1_sql, why, why_len);
    if (rc == CS_OK)
        rc = cs_index_exec(idx->wdb, "COMMIT", why, why_len);
    else
        cs_index_exec(idx->wdb, "ROLLBACK", why, why_len);
    if (rc == CS_OK)
        cs_log(CS_LOG_INFO, "index %s upgraded to schema " SCHEMA_VERSION, idx->path);
    return rc;
}

/* The usage table appears with schema 2: fill it once from the rows. The
 * emptiness test comes first, on its own: inside the INSERT sqlite would
 * still walk every row at each start. */
static enum cs_status fill_usage(struct cs_index *idx, char *why, size_t why_len)
{
    sqlite3_stmt *st;
    bool empty;

    if (sqlite3_prepare_v2(idx->wdb, "SELECT 1 FROM usage LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
        return CS_ERR_IO;
    }
    empty = sqlite3_step(st) != SQLITE_ROW;
    sqlite3_finalize(st);
    if (!empty)
        return CS_OK;
    return cs_index_exec(idx->wdb,
                         "INSERT INTO usage(ns, objects, bytes) "
                         "SELECT ns, sum(kind = 0), sum(dsize) FROM entries GROUP BY ns;",
                         why, why_len);
}

/* Namespaces that hold data but are no longer configured still count
 * against the data dir's max_size: the registry gets them too. */
static enum cs_status register_namespaces(struct cs_index *idx, char *why, size_t why_len)
{
    sqlite3_stmt *st;

    if (!idx->usage)
        return CS_OK;
    if (sqlite3_prepare_v2(idx->wdb, "SELECT ns FROM usage", -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
        return CS_ERR_IO;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ns = (const char *)sqlite3_column_text(st, 0);
        if (ns && !cs_usage_find(idx->usage, ns, strlen(ns)) &&
            !cs_usage_add(idx->usage, ns, strlen(ns), 0)) {
            sqlite3_finalize(st);
            snprintf(why, why_len, "index: out of memory");
            return CS_ERR_NOMEM;
        }
    }
    sqlite3_finalize(st);
    cs_index_usage_refresh(idx);
    return CS_OK;
}

static enum cs_status prepare_writer(struct cs_index *idx, char *why, size_t why_len)
{
    static const char put_sql[] =
        "INSERT INTO entries(ns, key, kind, size, mtime, atime, etag, dsize, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?6) "
        "ON CONFLICT(ns, key) DO UPDATE SET kind = excluded.kind, size = excluded.size, "
        "mtime = excluded.mtime, atime = excluded.atime, etag = excluded.etag, "
        "dsize = excluded.dsize, created = excluded.created";
    static const char *const sql[] = {
        put_sql,
        "DELETE FROM entries WHERE ns = ?1 AND key = ?2",
        "DELETE FROM entries WHERE ns = ?1 AND key = ?2 AND created = ?3",
        "UPDATE entries SET dsize = ?3 WHERE ns = ?1 AND key = ?2",
        "UPDATE entries SET atime = ?3 WHERE ns = ?1 AND key = ?2 AND atime < ?3",
        "SELECT ns, objects, bytes FROM usage",
    };
    sqlite3_stmt **out[] = {&idx->st_put,       &idx->st_remove, &idx->st_remove_if,
                            &idx->st_set_dsize, &idx->st_touch,  &idx->st_usage};
    enum cs_status st;
    size_t i;

    /* The writer reads pages through a memory map (no read() per page
     * miss) and keeps more of them: touches update rows and LRU-index
     * entries all over the file. */
    st = cs_index_exec(idx->wdb,
                       "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                       "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-16384;",
                       why, why_len);
    if (st == CS_OK)
        st = cs_index_exec(idx->wdb, schema_sql, why, why_len);
    if (st == CS_OK)
        st = upgrade_schema(idx, why, why_len);
    if (st == CS_OK)
        st = cs_index_exec(idx->wdb, accounting_sql, why, why_len);
    if (st == CS_OK)
        st = fill_usage(idx, why, why_len);
    if (st != CS_OK)
        return st;
    for (i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        if (sqlite3_prepare_v2(idx->wdb, sql[i], -1, out[i], NULL) != SQLITE_OK) {
            snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
            return CS_ERR_IO;
        }
    }
    return register_namespaces(idx, why, why_len);
}

enum cs_status cs_index_open(const char *path, struct cs_usage *usage, size_t queue_cap,
                             struct cs_index **out, char *why, size_t why_len)
{
    struct cs_index *idx = calloc(1, sizeof *idx);
    enum cs_status st;

    if (!idx)
        return CS_ERR_NOMEM;
    idx->id = atomic_fetch_add(&index_ids, 1);
    idx->usage = usage;
    idx->cap = queue_cap ? queue_cap : QUEUE_CAP_DEFAULT;
    atomic_init(&idx->health, CS_OK);
    atomic_init(&idx->n_full, 0);
    atomic_init(&idx->touches_dropped, 0);
    pthread_mutex_init(&idx->lock, NULL);
    pthread_mutex_init(&idx->pool_lock, NULL);
    pthread_mutex_init(&idx->touch_lock, NULL);
    pthread_cond_init(&idx->work, NULL);
    pthread_cond_init(&idx->committed, NULL);
    pthread_cond_init(&idx->room, NULL);
    idx->path = strdup(path);
    if (!idx->path) {
        cs_index_close(idx);
        return CS_ERR_NOMEM;
    }
    st =
        cs_index_db_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &idx->wdb, why, why_len);
    if (st == CS_OK)
        st = prepare_writer(idx, why, why_len);
    if (st == CS_OK)
        sqlite3_busy_timeout(idx->wdb, WRITER_BUSY_MS);
    if (st == CS_OK && pthread_create(&idx->writer, NULL, cs_index_writer_main, idx) != 0) {
        snprintf(why, why_len, "index: cannot start the writer thread");
        st = CS_ERR_NOMEM;
    }
    if (st != CS_OK) {
        cs_index_close(idx);
        return st;
    }
    idx->writer_started = true;
    *out = idx;
    return CS_OK;
}

void cs_index_close(struct cs_index *idx)
{
    size_t i;

    if (!idx)
        return;
    if (idx->writer_started) {
        pthread_mutex_lock(&idx->lock);
        idx->stop = true;
        pthread_cond_signal(&idx->work);
        pthread_cond_broadcast(&idx->room);
        pthread_mutex_unlock(&idx->lock);
        pthread_join(idx->writer, NULL);
    }
    for (i = 0; i < idx->n_readers; i++)
        sqlite3_close(idx->readers[i]);
    sqlite3_finalize(idx->st_put);
    sqlite3_finalize(idx->st_remove);
    sqlite3_finalize(idx->st_remove_if);
    sqlite3_finalize(idx->st_set_dsize);
    sqlite3_finalize(idx->st_touch);
    sqlite3_finalize(idx->st_usage);
    sqlite3_close(idx->wdb);
    cs_index_touch_slots_free(idx);
    pthread_cond_destroy(&idx->work);
    pthread_cond_destroy(&idx->committed);
    pthread_cond_destroy(&idx->room);
    pthread_mutex_destroy(&idx->lock);
    pthread_mutex_destroy(&idx->pool_lock);
    pthread_mutex_destroy(&idx->touch_lock);
    free(idx->path);
    free(idx);
}
