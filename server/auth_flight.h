/* One password hash per credential at a time. A burst of requests with
 * the same uncached Basic password (a parallel build starting after a
 * restart) would otherwise hash it once per request, and spend the
 * client address's failure budget on a right password: the first request
 * hashes, the others wait for it and then find it in the verification
 * cache. A fixed table of credentials being hashed (by digest); when it is
 * full, a hash simply runs without company.
 *
 * Called from worker threads only: the waits are bounded by one hash. */
#ifndef CS_AUTH_FLIGHT_H
#define CS_AUTH_FLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/hash.h"
#include "common/status.h"

struct cs_auth_flight;

enum cs_status cs_auth_flight_new(struct cs_auth_flight **out);
void cs_auth_flight_free(struct cs_auth_flight *f);

/* What cs_auth_flight_begin said: another caller hashed the credential
 * while this one waited (look it up again), or the table was full (hash
 * anyway); any other value is the caller's place, for cs_auth_flight_end. */
#define CS_FLIGHT_WAITED (-2)
#define CS_FLIGHT_UNTRACKED (-1)

/* Whether the caller is to hash the credential named key (a place, or
 * CS_FLIGHT_UNTRACKED), or waited for another caller who did. */
int cs_auth_flight_begin(struct cs_auth_flight *f, const uint8_t key[CS_SHA256_LEN]);
/* The hash of the place begin gave is done: its waiters look again. */
void cs_auth_flight_end(struct cs_auth_flight *f, int place);

#endif
