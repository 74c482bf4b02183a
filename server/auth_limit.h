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

/* Whether a client at addr may have its password hashed now; if not,
 * *retry_s says in how many seconds it may (and the refusal is counted).
 * A NULL addr (unknown) is always allowed. */
bool cs_auth_limit_allow(struct cs_auth_limit *l, const struct sockaddr *addr, unsigned *retry_s);
/* A hashed password from addr was wrong. */
void cs_auth_limit_failed(struct cs_auth_limit *l, const struct sockaddr *addr);

/* Failed checks, and requests refused for being over the budget. */
uint64_t cs_auth_limit_failures(const struct cs_auth_limit *l);
uint64_t cs_auth_limit_refused(const struct cs_auth_limit *l);

#endif
