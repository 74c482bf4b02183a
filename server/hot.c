/* The memory tier: see hot.h. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "server/hot.h"

/* What one copy costs beside its body: the entry, libmicrohttpd's
 * response and its header strings, and malloc's own bookkeeping
 * (measured: 520-700 bytes with libmicrohttpd 0.9.75 and glibc, the most
 * with Vary and a long Content-Type). */
#define ENTRY_OVERHEAD 768

struct cs_hot_ref {
    struct cs_hot_ref *chain;       /* next in the bucket */
    struct cs_hot_ref *prev, *next; /* LRU list, most recent first */
    struct MHD_Response *resp;
    uint64_t size;
    unsigned version;
    unsigned pins; /* requests that will queue resp */
    bool dropped;  /* out of the cache; freed at the last unpin */
    uint8_t digest[CS_SHA256_LEN];
};

/* One thread's cache: used by its owner only, except the counters, which
 * the owner writes (load and store, no locked instruction) and anyone
 * reads, and the list link, which the registry's lock guards. */
struct cache {
    struct cache *next_cache;
    struct cs_hot_ref **buckets;
    size_t mask;
    struct cs_hot_ref lru; /* sentinel: lru.next is the most recent */
    uint64_t bytes;
    atomic_uint_fast64_t n_hits, n_kept, n_stale, n_objects, n_bytes;
};

struct cs_hot {
    uint64_t id;
    uint64_t max_bytes, object_max;
    size_t n_buckets;
    pthread_mutex_t lock; /* guards caches, taken once per thread */
    struct cache *caches;
};

/* Tells registries apart for the per-thread cache. */
static atomic_uint_fast64_t hot_ids = 1;
static __thread struct cache *tls_cache;
static __thread uint64_t tls_cache_owner;

static void bump(atomic_uint_fast64_t *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static void set(atomic_uint_fast64_t *c, uint64_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}

enum cs_status cs_hot_new(uint64_t bytes_per_thread, uint64_t object_max, struct cs_hot **out)
{
    struct cs_hot *h = calloc(1, sizeof *h);
    uint64_t most = bytes_per_thread / ENTRY_OVERHEAD;

    if (!h)
        return CS_ERR_NOMEM;
    h->id = atomic_fetch_add(&hot_ids, 1);
    h->max_bytes = bytes_per_thread;
    h->object_max = object_max;
    /* about two entries a bucket when full of the smallest objects */
    h->n_buckets = 64;
    while (h->n_buckets < most / 2 && h->n_buckets < ((size_t)1 << 24))
        h->n_buckets *= 2;
    pthread_mutex_init(&h->lock, NULL);
    *out = h;
    return CS_OK;
}

static size_t bucket_of(const struct cache *c, const uint8_t digest[CS_SHA256_LEN])
{
    uint64_t x;

    memcpy(&x, digest + 2, sizeof x); /* bytes 0-1 name the disk's counter slot */
    return (size_t)x & c->mask;
}

static void free_entry(struct cs_hot_ref *e)
{
    MHD_destroy_response(e->resp);
    free(e);
}

/* Out of the cache; freed now unless a request still has it pinned. */
static void drop_entry(struct cache *c, struct cs_hot_ref *e)
{
    struct cs_hot_ref **p = &c->buckets[bucket_of(c, e->digest)];
    uint64_t cost = e->size + ENTRY_OVERHEAD;

    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    e->prev->next = e->next;
    e->next->prev = e->prev;
    c->bytes -= cost;
    set(&c->n_objects, atomic_load_explicit(&c->n_objects, memory_order_relaxed) - 1);
    set(&c->n_bytes, c->bytes);
    if (e->pins == 0)
        free_entry(e);
    else
        e->dropped = true;
}

void cs_hot_unpin(struct cs_hot_ref *ref)
{
    if (ref && --ref->pins == 0 && ref->dropped)
        free_entry(ref);
}

void cs_hot_free(struct cs_hot *h)
{
    if (!h)
        return;
    while (h->caches) {
        struct cache *c = h->caches;
        h->caches = c->next_cache;
        while (c->lru.next != &c->lru) {
            struct cs_hot_ref *e = c->lru.next;
            e->pins = 0; /* the daemons have stopped: no request is left */
            drop_entry(c, e);
        }
        free(c->buckets);
        free(c);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static struct cache *cache_for(struct cs_hot *h)
{
    struct cache *c;

    if (tls_cache && tls_cache_owner == h->id)
        return tls_cache;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->buckets = calloc(h->n_buckets, sizeof(struct cs_hot_ref *));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->mask = h->n_buckets - 1;
    c->lru.next = c->lru.prev = &c->lru;
    pthread_mutex_lock(&h->lock);
    c->next_cache = h->caches;
    h->caches = c;
    pthread_mutex_unlock(&h->lock);
    tls_cache = c;
    tls_cache_owner = h->id;
    return c;
}

static struct cs_hot_ref *lookup(struct cache *c, const uint8_t digest[CS_SHA256_LEN])
{
    struct cs_hot_ref *e = c->buckets[bucket_of(c, digest)];

    while (e && memcmp(e->digest, digest, CS_SHA256_LEN) != 0)
        e = e->chain;
    return e;
}

struct cs_hot_ref *cs_hot_find(struct cs_hot *h, const uint8_t digest[CS_SHA256_LEN],
                               unsigned version, struct MHD_Response **resp, uint64_t *size)
{
    struct cache *c = cache_for(h);
    struct cs_hot_ref *e = c ? lookup(c, digest) : NULL;

    if (!e)
        return NULL;
    if (e->version != version) {
        drop_entry(c, e);
        bump(&c->n_stale, 1);
        return NULL;
    }
    if (c->lru.next != e) { /* to the front */
        e->prev->next = e->next;
        e->next->prev = e->prev;
        e->next = c->lru.next;
        e->prev = &c->lru;
        c->lru.next->prev = e;
        c->lru.next = e;
    }
    bump(&c->n_hits, 1);
    e->pins++;
    *resp = e->resp;
    *size = e->size;
    return e;
}

struct cs_hot_ref *cs_hot_keep(struct cs_hot *h, const uint8_t digest[CS_SHA256_LEN],
                               unsigned version, struct MHD_Response *resp, uint64_t size)
{
    uint64_t cost = size + ENTRY_OVERHEAD;
    struct cache *c;
    struct cs_hot_ref *e;
    size_t b;

    if (size > h->object_max || cost > h->max_bytes / 8 || !(c = cache_for(h)))
        return NULL;
    if ((e = lookup(c, digest)) != NULL) /* a copy made by an older read */
        drop_entry(c, e);
    while (c->bytes + cost > h->max_bytes && c->lru.prev != &c->lru)
        drop_entry(c, c->lru.prev);
    e = malloc(sizeof *e);
    if (!e)
        return NULL;
    e->resp = resp;
    e->size = size;
    e->version = version;
    e->pins = 1;
    e->dropped = false;
    memcpy(e->digest, digest, CS_SHA256_LEN);
    b = bucket_of(c, digest);
    e->chain = c->buckets[b];
    c->buckets[b] = e;
    e->next = c->lru.next;
    e->prev = &c->lru;
    c->lru.next->prev = e;
    c->lru.next = e;
    c->bytes += cost;
    bump(&c->n_kept, 1);
    bump(&c->n_objects, 1);
    set(&c->n_bytes, c->bytes);
    return e;
}

void cs_hot_stats(struct cs_hot *h, struct cs_hot_stats *out)
{
    const struct cache *c;

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&h->lock);
    for (c = h->caches; c; c = c->next_cache) {
        out->hits += atomic_load_explicit(&c->n_hits, memory_order_relaxed);
        out->kept += atomic_load_explicit(&c->n_kept, memory_order_relaxed);
        out->stale += atomic_load_explicit(&c->n_stale, memory_order_relaxed);
        out->objects += atomic_load_explicit(&c->n_objects, memory_order_relaxed);
        out->bytes += atomic_load_explicit(&c->n_bytes, memory_order_relaxed);
    }
    pthread_mutex_unlock(&h->lock);
}
