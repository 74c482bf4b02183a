/* Request counters per namespace: hits, misses, PUTs, bytes in and out;
 * hits and misses by protocol kind; request durations per method (a
 * histogram of fixed buckets); and, server-wide, requests refused by
 * status (401, 403, 413, 429, 507).
 *
 * Each thread counts into its own block (no cache line or lock is shared
 * by the threads on the GET path, and nothing is allocated per request:
 * a thread's block is made on its first count); a reader sums the blocks.
 * The figures are exact once the threads are idle and never go backwards.
 * Every function is thread-safe. */
#ifndef CS_STATS_H
#define CS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "server/route.h"

enum cs_stat {
    CS_STAT_HITS,           /* GET/HEAD answered from storage (200, 304) */
    CS_STAT_MISSES,         /* GET/HEAD of a missing object (404) */
    CS_STAT_PUTS,           /* objects stored (201, 204) */
    CS_STAT_BYTES_IN,       /* body bytes of stored PUTs */
    CS_STAT_BYTES_OUT,      /* body bytes of GET hits */
    CS_STAT_DROPPED_WRITES, /* PUTs of readers answered 202 and not stored (read_only_puts) */
    CS_STAT_COUNT
};

/* The methods request durations are kept for. */
enum cs_stat_method {
    CS_SM_GET,
    CS_SM_HEAD,
    CS_SM_PUT,
    CS_SM_DELETE,
    CS_SM_OTHER, /* OPTIONS, PROPFIND, MKCOL, COPY, MOVE, S3 POST, unknown */
    CS_SM_COUNT
};

/* Upper bounds of the duration buckets in microseconds (Prometheus "le"),
 * ascending; a last bucket takes the rest (+Inf). */
#define CS_STAT_BUCKETS 16
extern const uint64_t cs_stat_bucket_us[CS_STAT_BUCKETS];

/* Refused requests, by the status they got. */
enum cs_refusal {
    CS_REFUSED_401, /* no or wrong credentials */
    CS_REFUSED_403, /* no right */
    CS_REFUSED_413, /* body over max_blob_size */
    CS_REFUSED_429, /* password failures over limits.auth_failures */
    CS_REFUSED_507, /* quota or disk full */
    CS_REFUSED_COUNT
};

/* One namespace's figures, summed over the threads. */
struct cs_stats_ns {
    uint64_t c[CS_STAT_COUNT];
    uint64_t kind_hits[CS_PROTO_COUNT], kind_misses[CS_PROTO_COUNT];
    uint64_t requests; /* every request with a duration, all methods */
    /* per method: requests in each bucket (not cumulative; the last is
     * over the last bound), and the sum of their durations */
    uint64_t dur[CS_SM_COUNT][CS_STAT_BUCKETS + 1];
    uint64_t dur_count[CS_SM_COUNT];
    uint64_t dur_sum_us[CS_SM_COUNT];
};

struct cs_stats;

/* Counters for n_ns namespaces (slots 0..n_ns-1). */
enum cs_status cs_stats_new(size_t n_ns, struct cs_stats **out);
void cs_stats_free(struct cs_stats *s);

void cs_stats_add(struct cs_stats *s, size_t ns_slot, enum cs_stat which, uint64_t n);
/* A GET or HEAD's outcome: a hit or a miss, of protocol kind. */
void cs_stats_lookup(struct cs_stats *s, size_t ns_slot, enum cs_proto kind, bool hit);
/* A request answered with status after us microseconds; ns_slot may be
 * CS_STATS_NO_NS (a request of no namespace: only a refusal is counted). */
#define CS_STATS_NO_NS ((size_t)-1)
void cs_stats_request(struct cs_stats *s, size_t ns_slot, enum cs_stat_method m, uint64_t us,
                      unsigned status);

/* Sums every thread's block for one namespace. */
void cs_stats_sum(struct cs_stats *s, size_t ns_slot, uint64_t out[CS_STAT_COUNT]);
void cs_stats_sum_ns(struct cs_stats *s, size_t ns_slot, struct cs_stats_ns *out);
void cs_stats_refused(struct cs_stats *s, uint64_t out[CS_REFUSED_COUNT]);

/* The status a refusal counter counts, and its name in the metrics. */
unsigned cs_refusal_status(enum cs_refusal r);
const char *cs_refusal_name(enum cs_refusal r);
const char *cs_stat_method_name(enum cs_stat_method m);

#endif
