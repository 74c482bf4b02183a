/* Who is asking: verifies parsed credentials against a config's users.
 *
 * Bearer tokens and Basic passwords that equal a token are checked by
 * their sha256 (cheap). Basic passwords checked against a crypt(3) hash
 * (deliberately slow: 10-100 ms) are remembered in a verification cache
 * keyed by a salted sha256 of (user, password), so only the first request
 * of a client pays for the hash. Failures are remembered too (a client
 * with a wrong password in its config must not cost a hash per request);
 * a different password is a different key, so guessing is not helped.
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
};

/* cfg must outlive the auth object. */
enum cs_status cs_auth_new(const struct cs_config *cfg, struct cs_auth **out);
void cs_auth_free(struct cs_auth *a);

enum cs_auth_result cs_auth_verify(struct cs_auth *a, const struct cs_credentials *c, int *uid);

/* crypt(3) verifications run so far (the slow path; tests and stats). */
uint64_t cs_auth_hash_checks(const struct cs_auth *a);

/* For the hash-password command: a new yescrypt hash of password. NULL on
 * failure; the caller frees. */
char *cs_auth_hash_password(const char *password);

#endif
