/* A bounded pool of threads for request work that may block: a remote
 * tier, a password hash, an fsync, a purge, a long listing. The event
 * threads of libmicrohttpd hand such work here and serve other
 * connections meanwhile (server/http_work.c suspends the connection and
 * resumes it when the work is done).
 *
 * The queue is bounded: a request that finds it full is refused (503 with
 * Retry-After) rather than waiting in memory without limit. A place is
 * reserved before the work is handed over, so the handing over itself
 * cannot fail once the connection is suspended. */
#ifndef CS_WORK_H
#define CS_WORK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"

/* One piece of work, embedded in the state it works on (its owner). run
 * is called once, in a worker thread; the owner must stay alive until run
 * returns, and run must not use w after it hands the owner back. */
struct cs_work {
    void (*run)(struct cs_work *w);
    struct cs_work *next; /* the queue's */
};

struct cs_work_pool;

struct cs_work_stats {
    uint64_t queued;  /* waiting for a worker now */
    uint64_t running; /* in a worker now */
    uint64_t done;    /* since start */
    uint64_t refused; /* found the queue full (or the pool stopping) */
    bool stopping;    /* cs_work_pool_stop was called */
};

/* threads workers and a queue of at most queue_max waiting works. */
enum cs_status cs_work_pool_new(unsigned threads, unsigned queue_max, struct cs_work_pool **out);

/* A place in the queue for one work: false when the queue is full or the
 * pool is stopping (the caller refuses the request). Each true is followed
 * by exactly one cs_work_post. */
CS_MUST_CHECK bool cs_work_reserve(struct cs_work_pool *p);

/* Hands w to a worker, in the place reserved for it. */
void cs_work_post(struct cs_work_pool *p, struct cs_work *w);

void cs_work_pool_stats(struct cs_work_pool *p, struct cs_work_stats *out);

/* Refuses new work from now on, runs what is queued and joins the
 * workers. Called once, by the thread that frees the pool. */
void cs_work_pool_stop(struct cs_work_pool *p);

/* Stops the pool if it runs, and frees it. NULL is a no-op. */
void cs_work_pool_free(struct cs_work_pool *p);

#endif
