/* Failed password checks per client address. A Basic password that is not
 * in the verification cache costs a deliberately slow hash; without a
 * limit, one address sending wrong passwords keeps the event threads
 * hashing and every other client waits. Each address has a budget of
 * failures per minute (a token bucket); past it, uncached passwords from
 * that address are refused with 429 and Retry-After, without a hash.
 * Passwords verified before (cached) and tokens still work from there.
 *
 * A fixed-size table: an address is its IPv4 address or its IPv6 /64.
 * Many addresses push each other out, which only forgets their failures.
 * Thread-safe; only the slow path takes its lock. */
#ifndef CS_AUTH_LIMIT_H
#define CS_AUTH_LIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/status.h"

struct cs_auth_limit;

/* failures: a budget of this many failed checks per minute per address. */
enum cs_status cs_auth_limit_new(unsigned failures, struct cs_auth_limit **out);
void cs_auth_limit_free(struct cs_auth_limit *l);

/* Whether a client at addr may have a password hashed at all now (its
 * budget is not spent): a cheap refusal on the event thread, taking
 * nothing. false: *retry_s as for _begin (and the refusal is counted). */
bool cs_auth_limit_allow(struct cs_auth_limit *l, const struct sockaddr *addr, unsigned *retry_s);
/* A password hash for a client at addr is about to run: it takes one from
 * the address's budget at once, so that hashes in flight at the same time
 * count (true). false: the budget is spent; *retry_s says in how many
 * seconds it may be tried (and the refusal is counted). A NULL addr
 * (unknown) is always allowed. Each true is followed by one _end. */
bool cs_auth_limit_begin(struct cs_auth_limit *l, const struct sockaddr *addr, unsigned *retry_s);
/* How a hash that began ended. */
enum cs_auth_limit_outcome {
    CS_AUTH_LIMIT_RIGHT, /* a right password, or a hash that did not run: given back */
    CS_AUTH_LIMIT_WRONG, /* a wrong password: stays spent, and is counted */
};
void cs_auth_limit_end(struct cs_auth_limit *l, const struct sockaddr *addr,
                       enum cs_auth_limit_outcome how);

/* Failed checks, and requests refused for being over the budget. */
uint64_t cs_auth_limit_failures(const struct cs_auth_limit *l);
uint64_t cs_auth_limit_refused(const struct cs_auth_limit *l);

#endif
