/* The memory tier: small objects kept in memory as responses ready to
 * send (headers and body), so a GET hit of a hot object skips the open,
 * fstat, read and close, and the making of a response.
 *
 * Each event thread has a cache of its own (no lock is shared by the
 * threads, and a response is only ever queued by the thread that made
 * it), bounded in bytes, least recently used out first. A copy is
 * trusted only while the disk's change counter of its name still reads
 * what it read before the disk was read (storage/disk.h,
 * cs_disk_versions): a PUT, DELETE, COPY, MOVE, eviction, purge or fsck
 * of the name moves the counter before it is acknowledged, so a copy is
 * never served after the change it missed. */
#ifndef CS_HOT_H
#define CS_HOT_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/hash.h"
#include "common/status.h"

struct cs_hot;
/* A copy pinned by a request between the call that chose it and the one
 * that queues it: the cache may drop the copy meanwhile (a change of the
 * object, room for others), but frees it only once it is unpinned. */
struct cs_hot_ref;

struct cs_hot_stats {
    uint64_t hits;    /* GETs and HEADs answered from memory */
    uint64_t kept;    /* responses taken in */
    uint64_t stale;   /* copies found outdated and dropped */
    uint64_t objects; /* held now */
    uint64_t bytes;   /* held now, with a fixed allowance per object */
};

/* A registry of per-thread caches of at most bytes_per_thread each, for
 * objects of at most object_max bytes. */
enum cs_status cs_hot_new(uint64_t bytes_per_thread, uint64_t object_max, struct cs_hot **out);
/* Destroys every cache and the responses they hold: after the daemons
 * have stopped. NULL is allowed. */
void cs_hot_free(struct cs_hot *h);

/* The calling thread's copy of digest, pinned, when it was kept at
 * version; NULL otherwise (a stale copy is dropped). *resp is the
 * copy's response, which stays the cache's: queue it, never destroy it,
 * then unpin. *size: its body's length. */
struct cs_hot_ref *cs_hot_find(struct cs_hot *h, const uint8_t digest[CS_SHA256_LEN],
                               unsigned version, struct MHD_Response **resp, uint64_t *size);

/* Offers the calling thread's cache resp, a complete 200 answer of size
 * body bytes read while the disk's counter of digest read version. When
 * the cache takes it, resp becomes the cache's and the copy comes back
 * pinned, as from cs_hot_find. NULL (too large, out of memory): resp
 * stays the caller's. */
struct cs_hot_ref *cs_hot_keep(struct cs_hot *h, const uint8_t digest[CS_SHA256_LEN],
                               unsigned version, struct MHD_Response *resp, uint64_t size);

/* Ends a pin, on the thread that took it (once the response is queued,
 * libmicrohttpd holds a reference of its own). NULL is allowed. */
void cs_hot_unpin(struct cs_hot_ref *ref);

/* Sums over the threads; any thread. */
void cs_hot_stats(struct cs_hot *h, struct cs_hot_stats *out);

#endif
