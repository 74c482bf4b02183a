/* The object index: one sqlite3 (WAL) row per stored key, under the data
 * directory. Objects on disk are named by hash, so the index is what knows
 * their names: it answers WebDAV listings and collection questions (and,
 * later, quotas and LRU order).
 *
 * Writes are queued and applied by one writer thread in group commits, so
 * non-durable PUT and DELETE never wait for sqlite and the GET path never
 * touches it. Readers that must see their own writes (a listing right
 * after a PUT) call cs_index_sync first.
 *
 * Thread-safety: every function may be called from any thread, except
 * cs_index_open/cs_index_close. */
#ifndef CS_INDEX_H
#define CS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/status.h"
#include "storage/usage.h"

struct cs_index;

/* Opens or creates the index file at path, upgrades an older schema and
 * starts the writer thread. usage (may be NULL) gets every namespace that
 * holds data and, after each commit, the committed totals. queue_cap
 * bounds the writes waiting to commit (0: the default, 65536). On failure
 * why gets a one-line reason. */
enum cs_status cs_index_open(const char *path, struct cs_usage *usage, size_t queue_cap,
                             struct cs_index **out, char *why, size_t why_len);
/* Commits everything queued (retrying a failing commit for a few seconds,
 * then saying in the log what was lost), stops the writer and closes the
 * file. */
void cs_index_close(struct cs_index *idx);

/* Kinds of entries. A collection marker is a key ending in '/', left by
 * MKCOL: it keeps an empty collection alive. */
enum cs_index_kind { CS_INDEX_OBJECT = 0, CS_INDEX_COLLECTION = 1 };

/* Milliseconds since the epoch (coarse clock): atime and created. */
int64_t cs_index_now_ms(void);

/* A row to store (insert or replace). */
struct cs_index_record {
    const char *ns;
    const char *key;
    size_t key_len;
    enum cs_index_kind kind;
    uint64_t size;  /* body bytes */
    uint64_t dsize; /* bytes on disk */
    time_t mtime;
    int64_t created_ms;             /* 0: when submitted; also the first atime */
    const uint8_t *etag;            /* 32 bytes, or NULL */
    bool durable;                   /* commit with fsync (the caller waits before answering) */
    struct cs_usage_ns *pending_ns; /* NULL, or bytes to take off its pending count */
    uint64_t pending;               /* once the row is committed (the op owns them) */
};

/* Writes are queued and committed by the writer thread in groups. The
 * queue is bounded (cs_index_open's queue_cap), and a write is prepared
 * (memory and a place in the queue) before the caller changes any file,
 * then submitted once the file is in place: a write that cannot be
 * recorded is refused before anything is destroyed.
 *
 * A commit that fails (disk full, sqlite busy or broken) is retried by the
 * writer until it succeeds; meanwhile cs_index_health says why, request
 * writes are refused with that status, and waiters on the failed writes
 * get it. Reads go on. */
enum cs_index_mode {
    CS_INDEX_REQUEST,    /* a client's write: refused while commits fail, waits
                            briefly for room in the queue (then CS_ERR_OVERLOAD) */
    CS_INDEX_BACKGROUND, /* eviction, fsck, purge: queued whatever the health,
                            waits for room as long as it takes */
};

struct cs_index_op;

/* Prepares a write: CS_OK and *out, or (nothing queued) CS_ERR_NO_SPACE or
 * CS_ERR_INDEX while commits fail, CS_ERR_OVERLOAD when the queue stayed
 * full, CS_ERR_NOMEM. The caller then submits or cancels *out. */
CS_MUST_CHECK
enum cs_status cs_index_prepare_put(struct cs_index *idx, enum cs_index_mode mode,
                                    const struct cs_index_record *rec, struct cs_index_op **out);
/* A row removal; created_ms 0 removes whatever version is there, else only
 * the version created then (eviction and fsck must not drop a row that a
 * new PUT just wrote). */
CS_MUST_CHECK
enum cs_status cs_index_prepare_remove(struct cs_index *idx, enum cs_index_mode mode,
                                       const char *ns, const char *key, size_t key_len,
                                       int64_t created_ms, struct cs_index_op **out);
/* Queues a prepared write (it cannot fail now) and gives its sequence
 * number for cs_index_wait. Writes commit in the order they are submitted. */
uint64_t cs_index_submit(struct cs_index *idx, struct cs_index_op *op);
/* Drops a prepared write; a pending count it holds is released. */
void cs_index_cancel(struct cs_index *idx, struct cs_index_op *op);

/* Prepare and submit in one step, for writes that follow no file change
 * (or whose file change is harmless without them). seq may be NULL. */
CS_MUST_CHECK
enum cs_status cs_index_put(struct cs_index *idx, enum cs_index_mode mode,
                            const struct cs_index_record *rec, uint64_t *seq);
/* A collection marker (MKCOL): dir ends with '/'. */
CS_MUST_CHECK
enum cs_status cs_index_put_collection(struct cs_index *idx, const char *ns, const char *dir,
                                       size_t dir_len, bool durable, uint64_t *seq);
CS_MUST_CHECK
enum cs_status cs_index_remove(struct cs_index *idx, enum cs_index_mode mode, const char *ns,
                               const char *key, size_t key_len, int64_t created_ms, uint64_t *seq);
/* fsck's correction of a row's on-disk size (background). */
CS_MUST_CHECK
enum cs_status cs_index_set_dsize(struct cs_index *idx, const char *ns, const char *key,
                                  size_t key_len, uint64_t dsize);

/* Waits until write seq is committed: CS_OK, or the failure of the commit
 * that held it (the writer keeps retrying it). */
CS_MUST_CHECK
enum cs_status cs_index_wait(struct cs_index *idx, uint64_t seq);
/* Waits until every write submitted before this call is committed; at once
 * the failure status while commits fail (a reader then sees what is
 * committed). */
CS_MUST_CHECK
enum cs_status cs_index_sync(struct cs_index *idx);
/* The same, including every touch recorded before the call (or the failure
 * for which they were dropped); waits at most max_wait_ms (no limit when
 * negative), then CS_ERR_WOULD_BLOCK while the writer goes on applying
 * them. */
CS_MUST_CHECK
enum cs_status cs_index_sync_touches(struct cs_index *idx, int64_t max_wait_ms);
/* Shutdown begins: background writers waiting for room in the queue give
 * up (CS_ERR_INDEX), so the threads that would make room can be joined. */
void cs_index_begin_close(struct cs_index *idx);
/* Whether a write of this key is submitted and not yet committed. Asked
 * under the object's lock (storage/disk.c), under which every write of
 * the key is submitted, so the answer holds while the lock is. */
bool cs_index_pending(struct cs_index *idx, const char *ns, const char *key, size_t key_len);
/* The committed row's creation time (its version); CS_ERR_NOT_FOUND when
 * there is no row. */
enum cs_status cs_index_row_created(struct cs_index *idx, const char *ns, const char *key,
                                    size_t key_len, int64_t *created_ms);
/* CS_OK, or why commits fail now (lock-free: the PUT path asks). */
enum cs_status cs_index_health(const struct cs_index *idx);

/* Records a read of an object for LRU order. Costs no sqlite and no lock
 * shared with other threads: touches are buffered per thread and written
 * by the writer every ~200 ms; a key read again by the same thread within
 * half a second is not recorded twice. digest: the object's name hash. */
void cs_index_touch(struct cs_index *idx, const char *ns, const char *key, size_t key_len,
                    const uint8_t digest[32]);
/* Touches lost because the writer fell behind (bounded buffers). */
uint64_t cs_index_touches_dropped(const struct cs_index *idx);
/* Transactions the writer has committed (each holds a group of writes). */
uint64_t cs_index_commits(const struct cs_index *idx);

/* One entry of a listing. name is not NUL-terminated; for children it is
 * the child's name (no slash), for cs_index_walk the full key. */
struct cs_index_entry {
    const char *name;
    size_t name_len;
    enum cs_index_kind kind;
    uint64_t size;
    time_t mtime;
    const uint8_t *etag; /* 32 bytes (sha256 of the body), NULL for collections */
    uint64_t dsize;      /* bytes on disk */
};

/* Resumable position in a listing: the last key seen. */
struct cs_index_cursor {
    char key[1100];
    size_t key_len;
    bool started;
    bool inclusive; /* next key may equal key (after a skipped subtree) */
    bool done;
};

typedef bool (*cs_index_entry_cb)(void *arg, const struct cs_index_entry *e);

/* The direct children of collection dir ("" for the namespace root, else
 * "a/b/" with its trailing slash), in key order, at most max per call,
 * resuming at *cur. A child is a collection when keys lie under it. Cost:
 * one index seek per child, however many keys lie below. The callback
 * returns false to stop early. */
enum cs_status cs_index_children(struct cs_index *idx, const char *ns, const char *dir,
                                 size_t dir_len, struct cs_index_cursor *cur, size_t max,
                                 cs_index_entry_cb cb, void *arg);

/* Every entry whose key starts with prefix, in key order, at most max per
 * call, resuming at *cur. */
enum cs_status cs_index_walk(struct cs_index *idx, const char *ns, const char *prefix,
                             size_t prefix_len, struct cs_index_cursor *cur, size_t max,
                             cs_index_entry_cb cb, void *arg);

/* Whether collection dir (with trailing slash) exists: some key lies under
 * it or MKCOL made it. *mtime gets the time of one of its entries. */
enum cs_status cs_index_collection_exists(struct cs_index *idx, const char *ns, const char *dir,
                                          size_t dir_len, bool *exists, time_t *mtime);

/* A candidate for eviction. */
struct cs_index_victim {
    const char *key;
    size_t key_len;
    uint64_t dsize;
    int64_t created_ms;
    int64_t atime_ms;
};
typedef bool (*cs_index_victim_cb)(void *arg, const struct cs_index_victim *v);

/* Where a walk in LRU order got to: the last (atime, key) seen. */
struct cs_index_lru_cursor {
    bool started;
    int64_t atime_ms;
    char key[1100];
    size_t key_len;
};

/* Up to max objects of ns, least recently used first (keys that start
 * with a control byte are pinned and never given: protocol state such as
 * S3's open multipart uploads, which only its owner removes), after *cur when
 * cur is given (and then moved to the last one cb took: cb returns false
 * for one it does not take, and the walk stops there). */
enum cs_status cs_index_oldest(struct cs_index *idx, const char *ns,
                               struct cs_index_lru_cursor *cur, size_t max, cs_index_victim_cb cb,
                               void *arg);

/* One row of a whole-index scan (fsck). */
struct cs_index_row {
    const char *ns;
    const char *key;
    size_t key_len;
    enum cs_index_kind kind;
    uint64_t dsize;
    int64_t created_ms;
};
typedef bool (*cs_index_row_cb)(void *arg, const struct cs_index_row *r);

struct cs_index_scan_cursor {
    char ns[72];
    char key[1100];
    size_t key_len;
    bool done;
};

/* Every row of every namespace in (ns, key) order, at most max per call,
 * resuming at *cur (zeroed to start). */
enum cs_status cs_index_scan_all(struct cs_index *idx, struct cs_index_scan_cursor *cur, size_t max,
                                 cs_index_row_cb cb, void *arg);

#endif
