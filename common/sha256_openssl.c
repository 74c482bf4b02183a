/* SHA-256 through OpenSSL: cstashd's implementation of common/hash.h (the
 * client links common/sha256.c instead). OpenSSL's AVX2 code hashes about
 * twice as fast as our portable C on CPUs without the SHA extensions, and
 * cstashd hashes every PUT body. The low-level SHA256_* calls are deprecated
 * in OpenSSL 3 but kept on purpose: they need no heap context and no
 * provider fetch (which takes a lock shared by all threads), and this hash
 * runs on every GET. */
#include "autoconfig.h"

#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/sha.h>

#include "common/hash.h"

_Static_assert(sizeof(((struct cs_sha256 *)0)->u.openssl) >= sizeof(SHA256_CTX),
               "cs_sha256 too small for SHA256_CTX");

void cs_sha256_parts(const void *const *parts, const size_t *lens, size_t n,
                     uint8_t out[CS_SHA256_LEN])
{
    SHA256_CTX ctx; /* stack context: no allocation, unlike EVP_MD_CTX_new */
    size_t i;

    SHA256_Init(&ctx);
    for (i = 0; i < n; i++)
        SHA256_Update(&ctx, parts[i], lens[i]);
    SHA256_Final(out, &ctx);
}

void cs_sha256_init(struct cs_sha256 *h)
{
    SHA256_Init((SHA256_CTX *)h->u.openssl);
}

void cs_sha256_update(struct cs_sha256 *h, const void *data, size_t len)
{
    SHA256_Update((SHA256_CTX *)h->u.openssl, data, len);
}

void cs_sha256_final(struct cs_sha256 *h, uint8_t out[CS_SHA256_LEN])
{
    SHA256_Final(out, (SHA256_CTX *)h->u.openssl);
}

const char *cs_sha256_impl(bool portable)
{
    (void)portable;
    return "openssl";
}
