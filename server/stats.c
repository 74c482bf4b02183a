/* Per-thread request counters: see stats.h. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "server/stats.h"

/* One thread's counters: written by that thread only (load + store, no
 * locked instruction), read by anyone. */
struct block {
    struct block *next;
    atomic_uint_fast64_t v[];
};

struct cs_stats {
    uint64_t id;
    size_t n_ns;
    pthread_mutex_t lock; /* guards the list, taken once per thread */
    struct block *blocks;
};

/* Tells stats instances apart for the per-thread block. */
static atomic_uint_fast64_t stats_ids = 1;
static __thread struct block *tls_block;
static __thread uint64_t tls_block_owner;

enum cs_status cs_stats_new(size_t n_ns, struct cs_stats **out)
{
    struct cs_stats *s = calloc(1, sizeof *s);

    if (!s)
        return CS_ERR_NOMEM;
    s->id = atomic_fetch_add(&stats_ids, 1);
    s->n_ns = n_ns;
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return CS_OK;
}

void cs_stats_free(struct cs_stats *s)
{
    if (!s)
        return;
    while (s->blocks) {
        struct block *next = s->blocks->next;
        free(s->blocks);
        s->blocks = next;
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static struct block *block_for(struct cs_stats *s)
{
    size_t i, n = s->n_ns * CS_STAT_COUNT;
    struct block *b;

    if (tls_block && tls_block_owner == s->id)
        return tls_block;
    b = malloc(sizeof *b + n * sizeof b->v[0]);
    if (!b)
        return NULL;
    for (i = 0; i < n; i++)
        atomic_init(&b->v[i], 0);
    pthread_mutex_lock(&s->lock);
    b->next = s->blocks;
    s->blocks = b;
    pthread_mutex_unlock(&s->lock);
    tls_block = b;
    tls_block_owner = s->id;
    return b;
}

void cs_stats_add(struct cs_stats *s, size_t ns_slot, enum cs_stat which, uint64_t n)
{
    struct block *b;

    if (ns_slot >= s->n_ns || !(b = block_for(s)))
        return;
    atomic_uint_fast64_t *c = &b->v[ns_slot * CS_STAT_COUNT + which];
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

void cs_stats_sum(struct cs_stats *s, size_t ns_slot, uint64_t out[CS_STAT_COUNT])
{
    struct block *b;
    size_t i;

    for (i = 0; i < CS_STAT_COUNT; i++)
        out[i] = 0;
    if (ns_slot >= s->n_ns)
        return;
    pthread_mutex_lock(&s->lock);
    for (b = s->blocks; b; b = b->next)
        for (i = 0; i < CS_STAT_COUNT; i++)
            out[i] +=
                atomic_load_explicit(&b->v[ns_slot * CS_STAT_COUNT + i], memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
}
