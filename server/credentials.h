/* Parsing of the Authorization header: Basic (either base64 alphabet) and
 * Bearer. Only parsing lives here; checking secrets is the auth module's
 * job. */
#ifndef CS_CREDENTIALS_H
#define CS_CREDENTIALS_H

#include <stddef.h>

#include "common/status.h"

#define CS_CRED_USER_MAX 128
/* Tokens such as JWTs run to a few KiB; clients send up to 16 KiB of
 * headers (limits.header_size bounds the whole request head). */
#define CS_CRED_SECRET_MAX 8192
/* crypt(3) (libxcrypt) takes passphrases shorter than 512 bytes: a longer
 * Basic password can only be a token. */
#define CS_PASSWORD_HASH_MAX 511

enum cs_cred_scheme { CS_CRED_NONE, CS_CRED_BASIC, CS_CRED_BEARER };

struct cs_credentials {
    enum cs_cred_scheme scheme;
    char user[CS_CRED_USER_MAX + 1];     /* Basic only */
    char secret[CS_CRED_SECRET_MAX + 1]; /* Basic password or Bearer token */
    size_t secret_len;
};

/* header may be NULL (no Authorization: scheme NONE, CS_OK). Malformed
 * values give CS_ERR_INVALID and a static one-line *reason. The secret
 * is wiped by cs_credentials_clear. */
enum cs_status cs_credentials_parse(const char *header, struct cs_credentials *out,
                                    const char **reason);
void cs_credentials_clear(struct cs_credentials *c);

#endif
