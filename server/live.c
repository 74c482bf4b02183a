/* Policy snapshots with a grace period: see live.h. */
#include "autoconfig.h"

#include <stdlib.h>

#include "server/live.h"

enum cs_status cs_policy_new(struct cs_config *cfg, struct cs_policy **out)
{
    struct cs_policy *p = calloc(1, sizeof *p);
    enum cs_status st;

    if (!p)
        return CS_ERR_NOMEM;
    st = cs_auth_new(cfg, &p->auth);
    if (st != CS_OK) {
        free(p);
        return st;
    }
    p->cfg = cfg;
    *out = p;
    return CS_OK;
}

void cs_policy_free(struct cs_policy *p)
{
    if (!p)
        return;
    cs_auth_free(p->auth);
    cs_config_free(p->cfg);
    free(p);
}

void cs_live_init(struct cs_live *l, struct cs_policy *first)
{
    atomic_init(&l->current, first);
    atomic_init(&l->epoch, 0);
    atomic_init(&l->active[0], 0);
    atomic_init(&l->active[1], 0);
    l->retired = NULL;
    l->retired_parity = 0;
}

void cs_live_destroy(struct cs_live *l)
{
    cs_policy_free(l->retired);
    l->retired = NULL;
    cs_policy_free(atomic_load(&l->current));
    atomic_store(&l->current, NULL);
}

const struct cs_policy *cs_live_enter(struct cs_live *l, unsigned *ticket)
{
    for (;;) {
        unsigned e = atomic_load(&l->epoch);
        atomic_fetch_add(&l->active[e & 1], 1);
        /* Counted before the epoch moved on: the reloader will wait for us. */
        if (atomic_load(&l->epoch) == e) {
            *ticket = e & 1;
            return atomic_load(&l->current);
        }
        atomic_fetch_sub(&l->active[e & 1], 1);
    }
}

void cs_live_leave(struct cs_live *l, unsigned ticket)
{
    atomic_fetch_sub_explicit(&l->active[ticket], 1, memory_order_release);
}

unsigned cs_live_active(struct cs_live *l)
{
    return atomic_load(&l->active[0]) + atomic_load(&l->active[1]);
}

bool cs_live_publish(struct cs_live *l, struct cs_policy *p)
{
    unsigned e;

    if (!cs_live_reclaim(l))
        return false;
    e = atomic_load(&l->epoch);
    l->retired = atomic_exchange(&l->current, p);
    l->retired_parity = e & 1;
    /* Requests entering from now count in the other parity and see p. */
    atomic_store(&l->epoch, e + 1);
    cs_live_reclaim(l);
    return true;
}

bool cs_live_reclaim(struct cs_live *l)
{
    if (!l->retired)
        return true;
    if (atomic_load_explicit(&l->active[l->retired_parity], memory_order_acquire) != 0)
        return false;
    cs_policy_free(l->retired);
    l->retired = NULL;
    return true;
}
