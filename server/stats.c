/* Per-thread request counters: see stats.h. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "server/stats.h"

const uint64_t cs_stat_bucket_us[CS_STAT_BUCKETS] = {
    100,   250,    500,    1000,   2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

/* A namespace's counters in a block: the cs_stat counters, hits and misses
 * by kind, then per method the buckets, the count and the sum. */
#define OFF_KIND_HITS CS_STAT_COUNT
#define OFF_KIND_MISSES (OFF_KIND_HITS + CS_PROTO_COUNT)
#define OFF_DUR (OFF_KIND_MISSES + CS_PROTO_COUNT)
#define DUR_WIDTH (CS_STAT_BUCKETS + 3) /* buckets, +Inf, count, sum */
#define PER_NS (OFF_DUR + CS_SM_COUNT * DUR_WIDTH)

/* One thread's counters: written by that thread only (load + store, no
 * locked instruction), read by anyone. The server-wide refusals follow
 * the namespaces. */
struct block {
    struct block *next;
    size_t size; /* bytes mapped */
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
        munmap(s->blocks, s->blocks->size);
        s->blocks = next;
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static size_t block_len(const struct cs_stats *s)
{
    return s->n_ns * PER_NS + CS_REFUSED_COUNT;
}

/* A thread's block is mapped pages of its own, not heap memory: no two
 * threads' counters share a cache line, and the hot path's heap stays as
 * it was (a block in the thread's malloc arena moved the requests' calloc
 * onto slower paths: +600 instructions per GET hit under callgrind). The
 * pages come zeroed: every counter starts at 0. */
static struct block *block_for(struct cs_stats *s)
{
    size_t size = sizeof(struct block) + block_len(s) * sizeof(atomic_uint_fast64_t);
    struct block *b;

    if (tls_block && tls_block_owner == s->id)
        return tls_block;
    b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED)
        return NULL;
    b->size = size;
    pthread_mutex_lock(&s->lock);
    b->next = s->blocks;
    s->blocks = b;
    pthread_mutex_unlock(&s->lock);
    tls_block = b;
    tls_block_owner = s->id;
    return b;
}

/* Only this thread writes c: a plain load and store, no locked add. */
static inline void bump(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

void cs_stats_add(struct cs_stats *s, size_t ns_slot, enum cs_stat which, uint64_t n)
{
    struct block *b;

    if (ns_slot >= s->n_ns || !(b = block_for(s)))
        return;
    bump(&b->v[ns_slot * PER_NS + which], n);
}

void cs_stats_lookup(struct cs_stats *s, size_t ns_slot, enum cs_proto kind, bool hit)
{
    struct block *b;

    if (ns_slot >= s->n_ns || (unsigned)kind >= CS_PROTO_COUNT || !(b = block_for(s)))
        return;
    atomic_uint_fast64_t *ns = &b->v[ns_slot * PER_NS];
    bump(&ns[hit ? CS_STAT_HITS : CS_STAT_MISSES], 1);
    bump(&ns[(hit ? OFF_KIND_HITS : OFF_KIND_MISSES) + kind], 1);
}

static int refusal_of(unsigned status)
{
    switch (status) {
    case 401: return CS_REFUSED_401;
    case 403: return CS_REFUSED_403;
    case 413: return CS_REFUSED_413;
    case 429: return CS_REFUSED_429;
    case 507: return CS_REFUSED_507;
    default: return -1;
    }
}

void cs_stats_request(struct cs_stats *s, size_t ns_slot, enum cs_stat_method m, uint64_t us,
                      unsigned status)
{
    int refusal = refusal_of(status);
    struct block *b;
    size_t i;

    if ((unsigned)m >= CS_SM_COUNT || !(b = block_for(s)))
        return;
    if (refusal >= 0)
        bump(&b->v[s->n_ns * PER_NS + (size_t)refusal], 1);
    if (ns_slot >= s->n_ns)
        return;
    for (i = 0; i < CS_STAT_BUCKETS && us > cs_stat_bucket_us[i]; i++)
        ;
    atomic_uint_fast64_t *d = &b->v[ns_slot * PER_NS + OFF_DUR + (size_t)m * DUR_WIDTH];
    bump(&d[i], 1);
    bump(&d[CS_STAT_BUCKETS + 1], 1);
    bump(&d[CS_STAT_BUCKETS + 2], us);
}

static uint64_t load(const struct block *b, size_t i)
{
    return atomic_load_explicit(&b->v[i], memory_order_relaxed);
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
            out[i] += load(b, ns_slot * PER_NS + i);
    pthread_mutex_unlock(&s->lock);
}

void cs_stats_sum_ns(struct cs_stats *s, size_t ns_slot, struct cs_stats_ns *out)
{
    const struct block *b;
    size_t i, m;

    *out = (struct cs_stats_ns){0};
    if (ns_slot >= s->n_ns)
        return;
    pthread_mutex_lock(&s->lock);
    for (b = s->blocks; b; b = b->next) {
        size_t base = ns_slot * PER_NS;
        for (i = 0; i < CS_STAT_COUNT; i++)
            out->c[i] += load(b, base + i);
        for (i = 0; i < CS_PROTO_COUNT; i++) {
            out->kind_hits[i] += load(b, base + OFF_KIND_HITS + i);
            out->kind_misses[i] += load(b, base + OFF_KIND_MISSES + i);
        }
        for (m = 0; m < CS_SM_COUNT; m++) {
            size_t d = base + OFF_DUR + m * DUR_WIDTH;
            for (i = 0; i <= CS_STAT_BUCKETS; i++)
                out->dur[m][i] += load(b, d + i);
            out->dur_count[m] += load(b, d + CS_STAT_BUCKETS + 1);
            out->dur_sum_us[m] += load(b, d + CS_STAT_BUCKETS + 2);
        }
    }
    pthread_mutex_unlock(&s->lock);
    for (m = 0; m < CS_SM_COUNT; m++)
        out->requests += out->dur_count[m];
}

void cs_stats_refused(struct cs_stats *s, uint64_t out[CS_REFUSED_COUNT])
{
    const struct block *b;
    size_t i;

    for (i = 0; i < CS_REFUSED_COUNT; i++)
        out[i] = 0;
    pthread_mutex_lock(&s->lock);
    for (b = s->blocks; b; b = b->next)
        for (i = 0; i < CS_REFUSED_COUNT; i++)
            out[i] += load(b, s->n_ns * PER_NS + i);
    pthread_mutex_unlock(&s->lock);
}

unsigned cs_refusal_status(enum cs_refusal r)
{
    static const unsigned status[CS_REFUSED_COUNT] = {401, 403, 413, 429, 507};

    return (unsigned)r < CS_REFUSED_COUNT ? status[r] : 0;
}

const char *cs_refusal_name(enum cs_refusal r)
{
    static const char *const name[CS_REFUSED_COUNT] = {"unauthorized", "forbidden", "too_large",
                                                       "throttled", "insufficient_storage"};

    return (unsigned)r < CS_REFUSED_COUNT ? name[r] : "?";
}

const char *cs_stat_method_name(enum cs_stat_method m)
{
    static const char *const name[CS_SM_COUNT] = {"GET", "HEAD", "PUT", "DELETE", "other"};

    return (unsigned)m < CS_SM_COUNT ? name[m] : "?";
}
