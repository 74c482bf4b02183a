/* Failed password checks per client address: see auth_limit.h. */
#include "autoconfig.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/auth_limit.h"

#define SLOTS 4096 /* a power of two */
#define PROBES 8
#define WINDOW_MS 60000

struct slot {
    uint8_t key[9]; /* family tag, then 4 (IPv4) or 8 (IPv6 /64) bytes */
    bool used;
    double tokens;   /* failures still allowed */
    int64_t last_ms; /* when tokens was brought up to date */
};

struct cs_auth_limit {
    pthread_mutex_t lock;
    double capacity;
    double per_ms; /* tokens regained per millisecond */
    struct slot slots[SLOTS];
    atomic_uint_fast64_t failures, refused;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum cs_status cs_auth_limit_new(unsigned failures, struct cs_auth_limit **out)
{
    struct cs_auth_limit *l = calloc(1, sizeof *l);

    if (!l)
        return CS_ERR_NOMEM;
    pthread_mutex_init(&l->lock, NULL);
    l->capacity = failures ? failures : 1;
    l->per_ms = l->capacity / WINDOW_MS;
    atomic_init(&l->failures, 0);
    atomic_init(&l->refused, 0);
    *out = l;
    return CS_OK;
}

void cs_auth_limit_free(struct cs_auth_limit *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* IPv4 (also mapped into IPv6) by address, IPv6 by its /64: one host
 * usually has a whole /64. false for other families. */
static bool key_of(const struct sockaddr *sa, uint8_t key[9])
{
    memset(key, 0, 9);
    if (sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            key[0] = 4;
            memcpy(key + 1, a->s6_addr + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a->s6_addr, 8);
        }
        return true;
    }
    return false;
}

static size_t hash_of(const uint8_t key[9])
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 9; i++)
        h = (h ^ key[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

/* The address's slot, brought up to date (lock held). A new address takes
 * a free slot or the least recently seen of its probes, with a full budget. */
static struct slot *slot_for(struct cs_auth_limit *l, const uint8_t key[9], int64_t now)
{
    size_t h = hash_of(key), i;
    struct slot *victim = NULL, *s;

    for (i = 0; i < PROBES; i++) {
        s = &l->slots[(h + i) & (SLOTS - 1)];
        if (s->used && memcmp(s->key, key, 9) == 0) {
            s->tokens += (double)(now - s->last_ms) * l->per_ms;
            if (s->tokens > l->capacity)
                s->tokens = l->capacity;
            s->last_ms = now;
            return s;
        }
        if (!victim || !s->used || (victim->used && s->last_ms < victim->last_ms))
            victim = s;
    }
    memcpy(victim->key, key, 9);
    victim->used = true;
    victim->tokens = l->capacity;
    victim->last_ms = now;
    return victim;
}

/* The address's tokens now, or capacity for an unknown address. */
static bool has_token(struct cs_auth_limit *l, const uint8_t key[9], bool take, unsigned *retry_s)
{
    struct slot *s;
    bool allow;

    pthread_mutex_lock(&l->lock);
    s = slot_for(l, key, now_ms());
    allow = s->tokens >= 1.0;
    if (allow && take)
        s->tokens -= 1.0;
    else if (!allow)
        *retry_s = (unsigned)((1.0 - s->tokens) / l->per_ms / 1000.0) + 1;
    pthread_mutex_unlock(&l->lock);
    if (!allow)
        atomic_fetch_add_explicit(&l->refused, 1, memory_order_relaxed);
    return allow;
}

bool cs_auth_limit_allow(struct cs_auth_limit *l, const struct sockaddr *addr, unsigned *retry_s)
{
    uint8_t key[9];

    return !addr || !key_of(addr, key) || has_token(l, key, false, retry_s);
}

bool cs_auth_limit_begin(struct cs_auth_limit *l, const struct sockaddr *addr, unsigned *retry_s)
{
    uint8_t key[9];

    /* spent now: hashes in flight at once count against the budget */
    return !addr || !key_of(addr, key) || has_token(l, key, true, retry_s);
}

void cs_auth_limit_end(struct cs_auth_limit *l, const struct sockaddr *addr,
                       enum cs_auth_limit_outcome how)
{
    uint8_t key[9];
    struct slot *s;

    if (how == CS_AUTH_LIMIT_WRONG)
        atomic_fetch_add_explicit(&l->failures, 1, memory_order_relaxed);
    if (how != CS_AUTH_LIMIT_RIGHT || !addr || !key_of(addr, key))
        return; /* its token stays spent */
    pthread_mutex_lock(&l->lock);
    s = slot_for(l, key, now_ms());
    s->tokens = s->tokens + 1.0 > l->capacity ? l->capacity : s->tokens + 1.0;
    pthread_mutex_unlock(&l->lock);
}

uint64_t cs_auth_limit_failures(const struct cs_auth_limit *l)
{
    return atomic_load_explicit(&l->failures, memory_order_relaxed);
}

uint64_t cs_auth_limit_refused(const struct cs_auth_limit *l)
{
    return atomic_load_explicit(&l->refused, memory_order_relaxed);
}
