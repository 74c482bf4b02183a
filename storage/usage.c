/* Space accounting registry: see usage.h. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "storage/usage.h"

enum cs_status cs_usage_init(struct cs_usage *u, uint64_t max_size)
{
    memset(u, 0, sizeof *u);
    u->max_size = max_size;
    atomic_init(&u->disk_full, false);
    atomic_init(&u->wanted, 0);
    return CS_OK;
}

void cs_usage_free(struct cs_usage *u)
{
    free(u->ns);
    u->ns = NULL;
    u->n = 0;
}

struct cs_usage_ns *cs_usage_find(const struct cs_usage *u, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < u->n; i++)
        if (strncmp(u->ns[i].name, name, len) == 0 && u->ns[i].name[len] == '\0')
            return &u->ns[i];
    return NULL;
}

struct cs_usage_ns *cs_usage_add(struct cs_usage *u, const char *name, size_t len,
                                 uint64_t max_size)
{
    struct cs_usage_ns *ns = cs_usage_find(u, name, len);

    if (ns) {
        ns->max_size = max_size;
        return ns;
    }
    if (len > CS_USAGE_NAME_MAX)
        return NULL;
    ns = realloc(u->ns, (u->n + 1) * sizeof *ns);
    if (!ns)
        return NULL;
    u->ns = ns;
    ns = &u->ns[u->n++];
    memcpy(ns->name, name, len);
    ns->name[len] = '\0';
    ns->max_size = max_size;
    atomic_init(&ns->objects, 0);
    atomic_init(&ns->bytes, 0);
    atomic_init(&ns->pending, 0);
    atomic_init(&ns->evictions, 0);
    atomic_init(&ns->evicted_bytes, 0);
    atomic_init(&ns->wanted, 0);
    return ns;
}

uint64_t cs_usage_ns_used(const struct cs_usage_ns *ns)
{
    int64_t pending = atomic_load_explicit(&ns->pending, memory_order_relaxed);
    uint64_t bytes = atomic_load_explicit(&ns->bytes, memory_order_relaxed);

    return pending > 0 ? bytes + (uint64_t)pending : bytes;
}

uint64_t cs_usage_total(const struct cs_usage *u)
{
    uint64_t sum = 0;
    size_t i;

    for (i = 0; i < u->n; i++)
        sum += cs_usage_ns_used(&u->ns[i]);
    return sum;
}

uint64_t cs_usage_hard_limit(uint64_t max_size)
{
    return max_size ? max_size / 100 * CS_USAGE_HARD_PERCENT + max_size % 100 : UINT64_MAX;
}

uint64_t cs_usage_low_water(uint64_t max_size)
{
    return max_size / 100 * CS_USAGE_LOW_PERCENT;
}

static void raise_to(atomic_uint_fast64_t *v, uint64_t to)
{
    uint64_t cur = atomic_load_explicit(v, memory_order_relaxed);

    while (cur < to && !atomic_compare_exchange_weak(v, &cur, to)) {
    }
}

bool cs_usage_reserve(struct cs_usage *u, struct cs_usage_ns *ns, uint64_t bytes, bool remember)
{
    /* Count first, then check: two uploads racing for the last bytes both
     * see each other and one backs off, rather than both passing. */
    atomic_fetch_add_explicit(&ns->pending, (int64_t)bytes, memory_order_relaxed);
    bool ns_over = cs_usage_ns_used(ns) > cs_usage_hard_limit(ns->max_size);
    bool dir_over = !ns_over && u->max_size && cs_usage_total(u) > cs_usage_hard_limit(u->max_size);

    if (!ns_over && !dir_over)
        return true;
    atomic_fetch_sub_explicit(&ns->pending, (int64_t)bytes, memory_order_relaxed);
    if (remember)
        raise_to(ns_over ? &ns->wanted : &u->wanted, bytes);
    return false;
}

uint64_t cs_usage_to_evict(uint64_t used, uint64_t max_size, uint64_t wanted)
{
    uint64_t low = cs_usage_low_water(max_size), hard = cs_usage_hard_limit(max_size);
    uint64_t need = used > max_size && used > low ? used - low : 0;

    if (!max_size)
        return 0;
    if (wanted && used + wanted > hard && used + wanted - hard > need)
        need = used + wanted - hard;
    return need;
}

void cs_usage_release(struct cs_usage_ns *ns, uint64_t bytes)
{
    atomic_fetch_sub_explicit(&ns->pending, (int64_t)bytes, memory_order_relaxed);
}

bool cs_usage_needs_eviction(const struct cs_usage *u)
{
    size_t i;

    if (atomic_load_explicit(&u->disk_full, memory_order_relaxed))
        return true;
    if (atomic_load_explicit(&u->wanted, memory_order_relaxed))
        return true;
    if (u->max_size && cs_usage_total(u) > u->max_size)
        return true;
    for (i = 0; i < u->n; i++)
        if (atomic_load_explicit(&u->ns[i].wanted, memory_order_relaxed) ||
            (u->ns[i].max_size && cs_usage_ns_used(&u->ns[i]) > u->ns[i].max_size))
            return true;
    return false;
}
