/* Request counters per namespace: hits, misses, PUTs, bytes in and out.
 *
 * Each worker thread counts into its own block (no cache line or lock is
 * shared by the threads on the GET path); a reader sums the blocks. The
 * figures are exact once the threads are idle and never go backwards. */
#ifndef CS_STATS_H
#define CS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

enum cs_stat {
    CS_STAT_HITS,           /* GET/HEAD answered from storage (200, 304) */
    CS_STAT_MISSES,         /* GET/HEAD of a missing object (404) */
    CS_STAT_PUTS,           /* objects stored (201, 204) */
    CS_STAT_BYTES_IN,       /* body bytes of stored PUTs */
    CS_STAT_BYTES_OUT,      /* body bytes of GET hits */
    CS_STAT_DROPPED_WRITES, /* PUTs of readers answered 202 and not stored (read_only_puts) */
    CS_STAT_COUNT
};

struct cs_stats;

/* Counters for n_ns namespaces (slots 0..n_ns-1). */
enum cs_status cs_stats_new(size_t n_ns, struct cs_stats **out);
void cs_stats_free(struct cs_stats *s);

void cs_stats_add(struct cs_stats *s, size_t ns_slot, enum cs_stat which, uint64_t n);
/* Sums every thread's block for one namespace. */
void cs_stats_sum(struct cs_stats *s, size_t ns_slot, uint64_t out[CS_STAT_COUNT]);

#endif
