/* The running policy (config + auth) and its replacement on reload.
 *
 * Every request enters the live state once, gets the policy of that
 * moment and keeps it until it completes, whatever reloads happen
 * meanwhile. A reload publishes a new policy; the old one is freed once
 * the last request that could hold it has left. This is a two-counter
 * grace period: requests count themselves in the counter of the current
 * epoch's parity, a reload bumps the epoch and waits for the old parity's
 * counter to reach zero. Entering costs one atomic add on a counter that
 * also serves as the server's "requests in flight"; no lock. */
#ifndef CS_LIVE_H
#define CS_LIVE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "common/status.h"
#include "server/auth.h"
#include "server/config.h"

struct cs_policy {
    struct cs_config *cfg; /* owned */
    struct cs_auth *auth;  /* owned, built from cfg */
};

/* Takes ownership of cfg on success. */
enum cs_status cs_policy_new(struct cs_config *cfg, struct cs_policy **out);
void cs_policy_free(struct cs_policy *p);

struct cs_live {
    _Atomic(struct cs_policy *) current;
    atomic_uint epoch;
    atomic_uint active[2];     /* requests in flight, by the parity they entered in */
    struct cs_policy *retired; /* replaced, waiting for its readers; reloader only */
    unsigned retired_parity;
};

void cs_live_init(struct cs_live *l, struct cs_policy *first);
/* Frees the current policy and a retired one; no request may be inside. */
void cs_live_destroy(struct cs_live *l);

const struct cs_policy *cs_live_enter(struct cs_live *l, unsigned *ticket);
void cs_live_leave(struct cs_live *l, unsigned ticket);
unsigned cs_live_active(struct cs_live *l);

/* Publishes p (taking ownership). false, and nothing changes, while the
 * policy replaced by the previous publish still has readers: call
 * cs_live_reclaim until it returns true, then publish again. One
 * reloading thread only. */
bool cs_live_publish(struct cs_live *l, struct cs_policy *p);
/* Frees the retired policy once no request holds it; true when none is
 * left waiting. */
bool cs_live_reclaim(struct cs_live *l);

#endif
