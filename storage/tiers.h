/* Storage tiers: the local disk in front of remote tiers (s3, redis,
 * http), per namespace. The composition is itself a backend (backend.h):
 *
 *  GET/HEAD  the disk; on a miss each remote tier in order. The first that
 *            has the object streams it into the disk (the client is served
 *            from there), and a background job copies it to the remote
 *            tiers before that one: the client does not wait for them.
 *  PUT       commits to the disk, then writes through to each remote tier,
 *            at once (write = "sync") or through the tier's bounded queue
 *            (write = "async"). A remote failure never fails the PUT.
 *  DELETE    every tier.
 *
 * A tier that fails or times out is taken out of the path for its backoff
 * (a circuit breaker), then tried again with one request; each change is
 * logged once and counted. Namespaces without remote tiers cost one
 * indirect call per operation. */
#ifndef CS_TIERS_H
#define CS_TIERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/backend.h"
#include "storage/remote.h"

struct cs_tiers_ns {
    const char *name;
    const struct cs_tier_config *tiers; /* the remote tiers, in order */
    size_t n_tiers;
    int compress_level;     /* for objects filled from a remote tier */
    uint64_t max_blob_size; /* larger remote objects are not filled */
};

/* Wraps disk (which the result owns from now on, also on failure) with
 * the remote tiers of each namespace. Opens no connection yet. */
enum cs_status cs_tiers_open(struct cs_backend *disk, const struct cs_tiers_ns *ns, size_t n_ns,
                             struct cs_backend *out, char *why, size_t why_len);

/* A remote tier's counters and state. */
struct cs_tier_stats {
    const char *ns;
    const char *type;
    unsigned index;   /* 1 for the first remote tier (the disk is 0) */
    bool out_of_path; /* the breaker is open */
    uint64_t hits, misses, errors, skipped, fills, writes, write_errors, dropped, too_large,
        refreshes, breaker_opened;
    uint64_t queued; /* async jobs waiting now */
};

/* Up to max tiers' stats, in namespace then tier order; returns how many
 * there are (0 when b is not a tiers backend). */
size_t cs_tiers_stats(const struct cs_backend *b, struct cs_tier_stats *out, size_t max);

#endif
