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

struct cs_index;

/* Opens or creates the index file at path and starts the writer thread.
 * On failure why gets a one-line reason. */
enum cs_status cs_index_open(const char *path, struct cs_index **out, char *why, size_t why_len);
/* Applies everything queued, stops the writer and closes the file. */
void cs_index_close(struct cs_index *idx);

/* Kinds of entries. A collection marker is a key ending in '/', left by
 * MKCOL: it keeps an empty collection alive. */
enum cs_index_kind { CS_INDEX_OBJECT = 0, CS_INDEX_COLLECTION = 1 };

/* Queued writes; they never fail from the caller's view (a failed write
 * is logged: the index is reconciled with the disk later). */
void cs_index_put(struct cs_index *idx, const char *ns, const char *key, size_t key_len,
                  enum cs_index_kind kind, uint64_t size, time_t mtime,
                  const uint8_t etag[32]);
void cs_index_remove(struct cs_index *idx, const char *ns, const char *key, size_t key_len);

/* Waits until every write queued before this call is committed. */
void cs_index_sync(struct cs_index *idx);

/* One entry of a listing. name is not NUL-terminated; for children it is
 * the child's name (no slash), for cs_index_walk the full key. */
struct cs_index_entry {
    const char *name;
    size_t name_len;
    enum cs_index_kind kind;
    uint64_t size;
    time_t mtime;
    const uint8_t *etag;   /* 32 bytes (sha256 of the body), NULL for collections */
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

#endif
