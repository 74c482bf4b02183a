/* Internals of the index, shared by its files. Not for use outside
 * storage/index*.c: the rest of the program sees storage/index.h.
 *
 *   index.c         the schema, its upgrade, opening and closing
 *   index_writer.c  the write queue and the writer thread's group commits
 *   index_touch.c   GET touches: per-thread buffers the writer gathers
 *   index_query.c   reads on a pool of read-only connections
 *
 * index.c starts and stops the writer and frees what the others hold; the
 * writer applies the touches; index_query.c needs only the connection
 * helpers of index.c. */
#ifndef CS_INDEX_PRIV_H
#define CS_INDEX_PRIV_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/index.h"

#define READERS_MAX 8
/* The writer gathers GET touches once this many buffers are full (about
 * 400 to 1,500 touches each, by key length), or TOUCH_COLLECT_MS after the
 * last gather: a large gather sorted by key dirties each index page once
 * for many touches, where small ones rewrote a page per touch
 * (bench/results/2026-12-02-touch). */
#define TOUCH_COLLECT_FULL 128
#define TOUCH_COLLECT_MS 5000
/* At most this many gathered touches go into one transaction, so that the
 * writes queued behind a large gather wait for one chunk, not for all; a
 * transaction someone waits for (a durable write, a listing's sync)
 * carries at most TOUCH_CHUNK_HURRY (enough that a steady stream of them
 * still drains a gather; a durable commit fsyncs every page the touches
 * change). */
#define TOUCH_CHUNK 16384
#define TOUCH_CHUNK_HURRY 256
/* Buckets of the table of keys with writes on their way (a power of two). */
#define PENDING_BUCKETS 4096

struct cs_touch_slot; /* one thread's touches (index_touch.c) */
struct cs_touch_buf;  /* a buffer of touch records (index_touch.c) */

struct cs_index {
    char *path;
    uint64_t id; /* tells this index from an earlier one at the same address */
    struct cs_usage *usage;
    sqlite3 *wdb; /* owned by the writer thread after open */
    sqlite3_stmt *st_put, *st_remove, *st_remove_if, *st_set_dsize, *st_touch, *st_usage;
    pthread_t writer;
    bool writer_started;

    pthread_mutex_t lock;            /* guards the queue, its counters, failure and stop */
    pthread_cond_t work;             /* writer: something to do */
    pthread_cond_t committed;        /* waiters: a seq or touch_sync_done moved */
    pthread_cond_t room;             /* producers: a place in the queue was freed */
    struct cs_index_op *head, *tail; /* submitted, not yet taken by the writer */
    size_t n_queued;                 /* writes in head..tail */
    int64_t head_ms;                 /* when head was submitted (CLOCK_MONOTONIC) */
    bool urgent;                     /* head..tail holds a write someone waits for */
    unsigned waiters;                /* threads in cs_index_wait */
    uint64_t queued_seq;             /* the last write submitted */
    /* cs_index_sync_touches tickets: asked by callers, and answered by the
     * writer once a gather taken after the ask is applied or dropped. */
    uint64_t touch_sync_asked, touch_sync_done;
    /* Touches were last dropped (a failed commit) while tickets up to
     * touch_fail_upto were asked: those syncs get touch_fail_st. */
    uint64_t touch_fail_upto;
    enum cs_status touch_fail_st;
    uint64_t committed_seq; /* every write up to here is committed */
    uint64_t failed_seq;    /* the last failed commit held the writes up to here */
    enum cs_status failure; /* and failed for this reason */
    size_t n_ops, cap;      /* writes prepared or queued and not yet freed; the cap */
    atomic_int health;      /* CS_OK or the last commit's failure, for lock-free reads */
    /* Submitted writes not yet committed, by key (chained in buckets): lets
     * eviction tell a key's committed row is its latest version. */
    struct cs_index_op *pending_keys[PENDING_BUCKETS];
    bool closing; /* background writers no longer wait for room */
    bool stop;

    pthread_mutex_t touch_lock; /* guards slots and full (not the slots' buffers) */
    struct cs_touch_slot *slots;
    struct cs_touch_buf *full;
    atomic_size_t n_full; /* written under touch_lock; the writer peeks without it */
    atomic_uint_fast64_t touches_dropped;
    atomic_uint_fast64_t commits; /* transactions the writer committed */

    pthread_mutex_t pool_lock; /* guards readers[] */
    sqlite3 *readers[READERS_MAX];
    size_t n_readers;
};

/* --- index.c: connections and statements ------------------------------ */

/* Opens a connection (flags: sqlite3_open_v2's); why says why it failed. */
enum cs_status cs_index_db_open(const char *path, int flags, sqlite3 **out, char *why,
                                size_t why_len);
/* What a failed sqlite call means for the writes it was to record. */
enum cs_status cs_index_sqlite_status(int rc);
/* Runs sql on db; on failure why says why. */
enum cs_status cs_index_exec(sqlite3 *db, const char *sql, char *why, size_t why_len);

/* --- index_writer.c ---------------------------------------------------- */

/* The writer thread (arg: the index), started by cs_index_open and stopped
 * by cs_index_close through idx->stop. */
void *cs_index_writer_main(void *arg);
/* Publishes the committed totals to the usage registry. Writer thread, or
 * cs_index_open before the writer starts. */
void cs_index_usage_refresh(struct cs_index *idx);

/* --- index_touch.c ----------------------------------------------------- */

/* Touches the writer has gathered, sorted by namespace and key, and not
 * all applied yet. Owned by the writer thread; zeroed is empty. */
struct cs_touch_run {
    struct cs_touch_buf *bufs;  /* where the records live */
    const unsigned char **recs; /* recs[next..n) are still to apply, sorted */
    size_t n, next, cap;
    size_t committed; /* recs[..committed) are in a committed transaction */
};

/* Takes every touch recorded so far into run, sorting what is left of it
 * (writer thread). Records the sort array cannot hold (out of memory) are
 * dropped and counted. */
void cs_index_touch_gather(struct cs_index *idx, struct cs_touch_run *run);
/* Touches of run still to apply. */
static inline size_t cs_index_touch_left(const struct cs_touch_run *run)
{
    return run->n - run->next;
}
/* Applies up to max of run's touches inside the writer's transaction. */
enum cs_status cs_index_touch_apply(struct cs_index *idx, struct cs_touch_run *run, size_t max);
/* The writer's transaction committed: what it applied counts, and a run
 * applied to its end is emptied. */
void cs_index_touch_committed(struct cs_touch_run *run);
/* Empties run, counting every touch not in a committed transaction as
 * dropped (a failed transaction rolled them back: LRU order is a hint,
 * and a retry is not made larger by them). */
void cs_index_touch_drop(struct cs_index *idx, struct cs_touch_run *run);
/* Frees every thread's buffer and the full ones (at close, writer stopped). */
void cs_index_touch_slots_free(struct cs_index *idx);

#endif
