/* Internals of the tier layer, shared by its files. Not for use outside
 * storage/tiers*.c and tier.c: the rest of the program sees tiers.h.
 *
 *   tiers.c  the tier layer: a backend (backend.h) composing the disk
 *            and the remote tiers of each namespace
 *   tier.c   one remote tier: its circuit breaker, its write-through,
 *            its background queue and thread
 *
 * Dependencies point one way: tiers.c uses tier.c; tier.c knows the
 * disk only as the backend it sends from, and nothing of tiers.c. */
#ifndef CS_TIERS_PRIV_H
#define CS_TIERS_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "storage/backend.h"
#include "storage/remote.h"

enum cs_breaker_state { CS_BREAKER_CLOSED, CS_BREAKER_OPEN, CS_BREAKER_PROBING };

/* The circuit breaker of one tier. Only disk misses and write-through
 * touch it, never a disk hit. */
struct cs_breaker {
    pthread_mutex_t lock;
    enum cs_breaker_state state;
    unsigned failures;
    struct timespec retry_at; /* CS_BREAKER_OPEN: when one request may probe */
    unsigned backoff_s;
    atomic_bool open; /* lock-free view for the stats */
};

enum cs_tier_job_kind { CS_TIER_WRITE, CS_TIER_FILL, CS_TIER_REFRESH };

struct cs_tier_job; /* a queued job (its key and kind) */

/* One remote tier of one namespace, as the tier layer runs it. */
struct cs_tier {
    struct cs_remote remote;
    const char *ns; /* the namespace's name (owned by struct ns_tiers) */
    unsigned index;
    bool write_async;
    uint64_t max_object; /* 0: no cap */
    unsigned refresh_age_s;
    struct cs_breaker br;
    /* the background queue: writes (async), fills and refreshes */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    struct cs_tier_job *jobs;
    size_t cap, head, count;
    bool busy, stopping, thread_started;
    pthread_t thread;
    const struct cs_backend *disk; /* what write-through sends from */
    atomic_uint_fast64_t hits, misses, errors, skipped, fills, writes, write_errors, dropped,
        too_large, refreshes, breaker_opened;
};

/* Whether a request may go to the tier now. After the backoff, one
 * request (the probe) goes; the others keep skipping until it answers. */
bool cs_tier_allow(struct cs_tier *t);
/* Whether cs_tier_allow would let a call through now, without taking the
 * probe of an open breaker or counting a skip. */
bool cs_tier_may_allow(struct cs_tier *t);
/* Counts the outcome st of a remote call; local errors do not count
 * against the tier. */
void cs_tier_record(struct cs_tier *t, enum cs_status st);
/* A write of the disk's copy of id to t (now, or from the queue), with
 * its accounting. */
void cs_tier_write_through(struct cs_tier *t, const struct cs_object_id *id, bool fill);
/* Queues a job for t's thread; false (and counted as dropped) when the
 * queue is full or stopping. */
bool cs_tier_enqueue(struct cs_tier *t, enum cs_tier_job_kind kind, const struct cs_object_id *id);
/* Sets up t (zeroed) as tier index of namespace ns from c, sending from
 * disk, and starts its thread. On failure *why says why and cs_tier_close
 * cleans up what was made. */
enum cs_status cs_tier_init(struct cs_tier *t, const struct cs_backend *disk, const char *ns,
                            unsigned index, const struct cs_tier_config *c, char *why,
                            size_t why_len);
/* Drains the queue for a while, stops the thread and frees t's parts. */
void cs_tier_close(struct cs_tier *t);

#endif
