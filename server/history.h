/* The figures of each namespace over time, for the status page's charts:
 * a ring of CS_HISTORY_SAMPLES samples per namespace (1440: 24 h at the
 * default 60 s), fixed at start, about 80 KiB per namespace. A sample
 * holds what happened in its interval (requests, hits, misses, PUTs,
 * evictions, bytes in and out) and the namespace's objects and bytes at
 * its end.
 *
 * One thread samples (the main loop, once a second asks whether a sample
 * is due); readers copy samples out. A mutex is shared by the two, never
 * by request threads on the object path. Thread-safe. */
#ifndef CS_HISTORY_H
#define CS_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define CS_HISTORY_SAMPLES 1440

/* A namespace's figures now: counters since start, and the gauges. */
struct cs_history_point {
    uint64_t requests, hits, misses, puts, evictions, bytes_in, bytes_out;
    uint64_t objects, bytes;
};

/* One interval. Counts are clamped at UINT32_MAX per interval. */
struct cs_history_sample {
    uint32_t t;  /* end of the interval: seconds since the epoch */
    uint32_t dt; /* its length in seconds (a late sample is longer) */
    uint32_t requests, hits, misses, puts, evictions;
    uint64_t bytes_in, bytes_out;
    uint64_t objects, bytes;
};

struct cs_history;

/* For n_ns namespaces, a sample every interval_s seconds (1..3600) from
 * now_ms (a monotonic clock in milliseconds) on. */
enum cs_status cs_history_new(size_t n_ns, unsigned interval_s, int64_t now_ms,
                              struct cs_history **out);
void cs_history_free(struct cs_history *h);

unsigned cs_history_interval(const struct cs_history *h);

/* Reads the namespace's figures now (called for each slot by cs_history_tick). */
typedef void cs_history_read_fn(void *arg, size_t slot, struct cs_history_point *out);

/* Takes a sample of every namespace when one is due at now_ms; wall_s is
 * the wall-clock time it is stamped with. true when it took one. When the
 * caller was late by more than an interval, one longer sample covers the
 * gap (its dt says how long). */
bool cs_history_tick(struct cs_history *h, int64_t now_ms, uint32_t wall_s,
                     cs_history_read_fn *read, void *arg);

/* Copies up to max of slot's samples into out, oldest first; returns how
 * many (0 for an unknown slot). */
size_t cs_history_read(struct cs_history *h, size_t slot, struct cs_history_sample *out,
                       size_t max);

#endif
