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
    pthread_cond_t committed;        /* waiters: committed_seq or failed_seq moved */
    pthread_cond_t room;             /* producers: a place in the queue was freed */
    struct cs_index_op *head, *tail; /* submitted, not yet taken by the writer */
    size_t n_queued;                 /* writes in head..tail */
    int64_t head_ms;                 /* when head was submitted (CLOCK_MONOTONIC) */
    bool urgent;                     /* head..tail holds a write someone waits for */
    unsigned waiters;                /* threads in cs_index_wait */
    uint64_t queued_seq;             /* the last write submitted */
    uint64_t committed_seq;          /* every write up to here is committed */
    uint64_t failed_seq;             /* the last failed commit held the writes up to here */
    enum cs_status failure;          /* and failed for this reason */
    size_t n_ops, cap;               /* writes prepared or queued and not yet freed; the cap */
    atomic_int health;               /* CS_OK or the last commit's failure, for lock-free reads */
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

/* Takes every touch recorded so far (writer thread). */
struct cs_touch_buf *cs_index_touch_gather(struct cs_index *idx);
/* Touch records in a gathered list. */
size_t cs_index_touch_count(const struct cs_touch_buf *list);
/* Applies, inside the writer's transaction, and frees a gathered list. */
enum cs_status cs_index_touch_apply(struct cs_index *idx, struct cs_touch_buf *list);
/* Frees a gathered list without applying it. */
void cs_index_touch_free(struct cs_touch_buf *list);
/* Frees every thread's buffer and the full ones (at close, writer stopped). */
void cs_index_touch_slots_free(struct cs_index *idx);

#endif
