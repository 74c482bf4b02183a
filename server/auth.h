/* Who is asking: verifies parsed credentials against a config's users.
 *
 * Bearer tokens and Basic passwords that equal a token are checked by
 * their sha256 (cheap). Basic passwords checked against a crypt(3) hash
 * (deliberately slow: 10-100 ms) are remembered in a verification cache
 * keyed by a salted sha256 of (user, password), so only the first request
 * of a client pays for the hash. Failures are never cached: each distinct
 * wrong password would take a slot and push out good ones. The caller
 * limits failed hashes per client address instead (auth_limit.h), which
 * is why verification comes in a cheap and a slow part.
 *
 * The cache is read without locks (a sequence counter per entry), so a
 * warm Basic request costs one sha256 like a Bearer one. An auth object
 * belongs to one config; a reload builds a new one, which drops the
 * cache with the old users. Thread-safe. */
#ifndef CS_AUTH_H
#define CS_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"
#include "server/config.h"
#include "server/credentials.h"

struct cs_auth;

enum cs_auth_result {
    CS_AUTH_OK,        /* *uid is the user */
    CS_AUTH_ANONYMOUS, /* no credentials */
    CS_AUTH_DENIED,    /* unknown user, wrong password or token */
    CS_AUTH_SLOW,      /* cs_auth_lookup: only a password hash can tell */
};

/* cfg must outlive the auth object. */
enum cs_status cs_auth_new(const struct cs_config *cfg, struct cs_auth **out);
void cs_auth_free(struct cs_auth *a);

/* The cheap part: no credentials, tokens (also as a Basic password), and
 * Basic passwords verified before. CS_AUTH_SLOW when it takes a hash. */
enum cs_auth_result cs_auth_lookup(struct cs_auth *a, const struct cs_credentials *c, int *uid);
/* The slow part, after CS_AUTH_SLOW: the password hash (an unknown user
 * costs the same, so names cannot be probed by timing). A success is
 * cached; a failure is not. */
enum cs_auth_result cs_auth_verify_slow(struct cs_auth *a, const struct cs_credentials *c,
                                        int *uid);
/* Both parts. */
enum cs_auth_result cs_auth_verify(struct cs_auth *a, const struct cs_credentials *c, int *uid);

/* crypt(3) verifications run so far (the slow path; tests and stats). */
uint64_t cs_auth_hash_checks(const struct cs_auth *a);

/* For the hash-password command: a new yescrypt hash of password. NULL on
 * failure; the caller frees. */
char *cs_auth_hash_password(const char *password);

#endif
