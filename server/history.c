/* Ring buffers of per-namespace samples: see history.h. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/history.h"

struct cs_history {
    size_t n_ns;
    unsigned interval_s;
    pthread_mutex_t lock;            /* the sampler and readers */
    int64_t due_ms;                  /* when the next sample is due */
    int64_t last_ms;                 /* when the last one was taken (or the start) */
    size_t next;                     /* ring position of the next sample */
    size_t count;                    /* samples held, up to CS_HISTORY_SAMPLES */
    struct cs_history_point *prev;   /* n_ns: the figures at the last sample */
    struct cs_history_sample *rings; /* n_ns * CS_HISTORY_SAMPLES */
};

enum cs_status cs_history_new(size_t n_ns, unsigned interval_s, int64_t now_ms,
                              struct cs_history **out)
{
    struct cs_history *h;

    if (interval_s < 1 || interval_s > 3600 || n_ns > SIZE_MAX / 2 / CS_HISTORY_SAMPLES)
        return CS_ERR_INVALID;
    h = calloc(1, sizeof *h);
    if (!h)
        return CS_ERR_NOMEM;
    pthread_mutex_init(&h->lock, NULL);
    h->n_ns = n_ns;
    h->interval_s = interval_s;
    h->due_ms = now_ms + (int64_t)interval_s * 1000;
    h->last_ms = now_ms;
    h->prev = calloc(n_ns ? n_ns : 1, sizeof *h->prev);
    h->rings = calloc(n_ns ? n_ns * CS_HISTORY_SAMPLES : 1, sizeof *h->rings);
    if (!h->prev || !h->rings) {
        cs_history_free(h);
        return CS_ERR_NOMEM;
    }
    *out = h;
    return CS_OK;
}

void cs_history_free(struct cs_history *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->lock);
    free(h->prev);
    free(h->rings);
    free(h);
}

unsigned cs_history_interval(const struct cs_history *h)
{
    return h->interval_s;
}

/* cur - prev, as one interval's count: never negative, at most UINT32_MAX. */
static uint32_t delta32(uint64_t cur, uint64_t prev)
{
    uint64_t d = cur > prev ? cur - prev : 0;

    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static uint64_t delta64(uint64_t cur, uint64_t prev)
{
    return cur > prev ? cur - prev : 0;
}

bool cs_history_tick(struct cs_history *h, int64_t now_ms, uint32_t wall_s,
                     cs_history_read_fn *read, void *arg)
{
    int64_t step = (int64_t)h->interval_s * 1000;
    size_t i;

    pthread_mutex_lock(&h->lock);
    if (now_ms < h->due_ms) {
        pthread_mutex_unlock(&h->lock);
        return false;
    }
    int64_t dt_ms = now_ms - h->last_ms;
    uint32_t dt = (uint32_t)((dt_ms + 500) / 1000);
    for (i = 0; i < h->n_ns; i++) {
        struct cs_history_point cur;
        const struct cs_history_point *p = &h->prev[i];
        struct cs_history_sample *s = &h->rings[i * CS_HISTORY_SAMPLES + h->next];
        memset(&cur, 0, sizeof cur);
        read(arg, i, &cur);
        *s = (struct cs_history_sample){.t = wall_s,
                                        .dt = dt ? dt : 1,
                                        .requests = delta32(cur.requests, p->requests),
                                        .hits = delta32(cur.hits, p->hits),
                                        .misses = delta32(cur.misses, p->misses),
                                        .puts = delta32(cur.puts, p->puts),
                                        .evictions = delta32(cur.evictions, p->evictions),
                                        .bytes_in = delta64(cur.bytes_in, p->bytes_in),
                                        .bytes_out = delta64(cur.bytes_out, p->bytes_out),
                                        .objects = cur.objects,
                                        .bytes = cur.bytes};
        h->prev[i] = cur;
    }
    h->next = (h->next + 1) % CS_HISTORY_SAMPLES;
    if (h->count < CS_HISTORY_SAMPLES)
        h->count++;
    h->last_ms = now_ms;
    /* on schedule, or (late by more than a step) one step from now */
    h->due_ms += step;
    if (h->due_ms <= now_ms)
        h->due_ms = now_ms + step;
    pthread_mutex_unlock(&h->lock);
    return true;
}

size_t cs_history_read(struct cs_history *h, size_t slot, struct cs_history_sample *out, size_t max)
{
    size_t i, n, first;

    if (slot >= h->n_ns)
        return 0;
    pthread_mutex_lock(&h->lock);
    n = h->count < max ? h->count : max;
    /* the newest n, oldest first */
    first = (h->next + CS_HISTORY_SAMPLES - n) % CS_HISTORY_SAMPLES;
    for (i = 0; i < n; i++)
        out[i] = h->rings[slot * CS_HISTORY_SAMPLES + (first + i) % CS_HISTORY_SAMPLES];
    pthread_mutex_unlock(&h->lock);
    return n;
}
