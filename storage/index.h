/* The object index: one sqlite3 (WAL) row per stored key, under the data
 * directory. Objects on disk are named by hash, so the index is what knows
 * their names: it answers WebDAV listings and collection questions (and,
 * later, quotas and LRU order).
 *
 * Writes are queued and applied by one writer thread in group commits, so
 * PUT and DELETE never wait for sqlite and the GET path never touches it.
 * Readers that must see their own writes (a listing right after a PUT)
 * call cs_index_sync first.
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
 * holds data and, after each commit, the committed totals. On failure why
 * gets a one-line reason. */
enum cs_status cs_index_open(const char *path, struct cs_usage *usage, struct cs_index **out,
                             char *why, size_t why_len);
/* Applies everything queued, stops the writer and closes the file. */
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
    uint64_t size;            /* body bytes */
    uint64_t dsize;           /* bytes on disk */
    time_t mtime;
    int64_t created_ms;       /* 0: now; also the first atime */
    const uint8_t *etag;      /* 32 bytes, or NULL */
    bool durable;             /* commit with fsync (the caller syncs before answering) */
    struct cs_usage_ns *pending_ns;  /* NULL, or bytes to take off its pending count */
    uint64_t pending;                /* once the row is committed */
};

/* Queued writes; they never fail from the caller's view (a failed write
 * is logged: the index is reconciled with the disk later). */
void cs_index_put(struct cs_index *idx, const struct cs_index_record *rec);
/* A collection marker (MKCOL): dir ends with '/'. */
void cs_index_put_collection(struct cs_index *idx, const char *ns, const char *dir,
                             size_t dir_len);
void cs_index_remove(struct cs_index *idx, const char *ns, const char *key, size_t key_len);
/* Removes the row only if it is still the version created at created_ms:
 * eviction and fsck must not drop a row a new PUT just wrote. */
void cs_index_remove_if(struct cs_index *idx, const char *ns, const char *key, size_t key_len,
                        int64_t created_ms);
void cs_index_set_dsize(struct cs_index *idx, const char *ns, const char *key, size_t key_len,
                        uint64_t dsize);

/* Records a read of an object for LRU order. Costs no sqlite and no lock
 * shared with other threads: touches are buffered per thread and written
 * by the writer every ~200 ms; a key read again by the same thread within
 * half a second is not recorded twice. digest: the object's name hash. */
void cs_index_touch(struct cs_index *idx, const char *ns, const char *key, size_t key_len,
                    const uint8_t digest[32]);
/* Touches lost because the writer fell behind (bounded buffers). */
uint64_t cs_index_touches_dropped(const struct cs_index *idx);

/* Waits until every write queued before this call is committed. */
void cs_index_sync(struct cs_index *idx);
/* The same, including every touch recorded before the call. */
void cs_index_sync_touches(struct cs_index *idx);

/* One entry of a listing. name is not NUL-terminated; for children it is
 * the child's name (no slash), for cs_index_walk the full key. */
struct cs_index_entry {
    const char *name;
    size_t name_len;
    enum cs_index_kind kind;
    uint64_t size;
    time_t mtime;
    const uint8_t *etag;   /* 32 bytes (sha256 of the body), NULL for collections */
    uint64_t dsize;        /* bytes on disk */
};

/* Resumable position in a listing: the last key seen. */
struct cs_index_cursor {
    char key[1100];
    size_t key_len;
    bool started;
    bool inclusive;  /* next key may equal key (after a skipped subtree) */
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

/* Up to max objects of ns, least recently used first. */
enum cs_status cs_index_oldest(struct cs_index *idx, const char *ns, size_t max,
                               cs_index_victim_cb cb, void *arg);

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
enum cs_status cs_index_scan_all(struct cs_index *idx, struct cs_index_scan_cursor *cur,
                                 size_t max, cs_index_row_cb cb, void *arg);

#endif
