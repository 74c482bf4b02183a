/* Space accounting: how many bytes each namespace holds on disk, against
 * its max_size, and the same for the whole data directory.
 *
 * "bytes" is what the index has committed (exact: sqlite keeps it in the
 * same transaction as the rows). "pending" is what uploads have written
 * and the index has not yet committed; quota checks count both, so a burst
 * of PUTs cannot overshoot the hard limit while the index writer catches
 * up. Sizes are on-disk sizes (header and body, rounded up to the file
 * system's block), so they match du(1).
 *
 * The registry is filled before the server starts and never grows; the
 * counters are atomics, readable and writable from any thread. */
#ifndef CS_USAGE_H
#define CS_USAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define CS_USAGE_NAME_MAX 64
/* Eviction starts above max_size and stops at LOW_PERCENT of it; a PUT
 * that would pass HARD_PERCENT waits for eviction, then gets 507. */
#define CS_USAGE_LOW_PERCENT 95
#define CS_USAGE_HARD_PERCENT 105

struct cs_usage_ns {
    char name[CS_USAGE_NAME_MAX + 1];
    atomic_uint_fast64_t max_size; /* 0: no limit of its own; a reload may change it */
    atomic_uint_fast64_t objects;  /* committed */
    atomic_uint_fast64_t bytes;    /* committed, on disk */
    atomic_int_fast64_t pending;   /* written, not yet committed */
    atomic_uint_fast64_t evictions;
    atomic_uint_fast64_t evicted_bytes;
    /* the largest reservation refused since the last eviction round: a
     * PUT that does not fit below the hard limit while the namespace is
     * still under max_size needs room made for it all the same */
    atomic_uint_fast64_t wanted;
};

struct cs_usage {
    struct cs_usage_ns *ns;
    size_t n;
    atomic_uint_fast64_t max_size; /* whole data dir; 0: no limit */
    atomic_bool disk_full;         /* ENOSPC seen: evict to make room */
    atomic_uint_fast64_t wanted;   /* as cs_usage_ns.wanted, for the data dir's limit */
};

enum cs_status cs_usage_init(struct cs_usage *u, uint64_t max_size);
void cs_usage_free(struct cs_usage *u);

/* Adds a namespace (or updates its max_size when it is there already).
 * Only while setting up, before any thread uses the registry: it may move
 * the entries, so earlier pointers become invalid. NULL when out of memory
 * or the name is too long. */
struct cs_usage_ns *cs_usage_add(struct cs_usage *u, const char *name, size_t len,
                                 uint64_t max_size);
struct cs_usage_ns *cs_usage_find(const struct cs_usage *u, const char *name, size_t len);

/* Bytes in use, committed and pending. */
uint64_t cs_usage_ns_used(const struct cs_usage_ns *ns);
uint64_t cs_usage_total(const struct cs_usage *u);

/* Limits derived from max_size (0 = none). */
uint64_t cs_usage_hard_limit(uint64_t max_size);
uint64_t cs_usage_low_water(uint64_t max_size);

/* Counts bytes an upload is about to write. false (and nothing counted)
 * when they would take the namespace or the data dir past its hard limit;
 * with remember, the refusal is remembered (wanted) for eviction to make
 * the room. Only bytes that are here to be written may be remembered: a
 * size announced in headers is a claim, and eviction for it would let a
 * request of a few bytes empty a namespace. */
bool cs_usage_reserve(struct cs_usage *u, struct cs_usage_ns *ns, uint64_t bytes, bool remember);
void cs_usage_release(struct cs_usage_ns *ns, uint64_t bytes);

/* Whether eviction has work: something over max_size, a reservation
 * refused, or the disk full. */
bool cs_usage_needs_eviction(const struct cs_usage *u);

/* The bytes to evict for a limit: down to its low water when used is
 * over max_size, and at least enough for the largest refused reservation
 * (wanted) to fit below the hard limit. 0: nothing to do. */
uint64_t cs_usage_to_evict(uint64_t used, uint64_t max_size, uint64_t wanted);

#endif
