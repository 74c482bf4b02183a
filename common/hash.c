/* SHA-256 helpers. The low-level SHA256_* calls are deprecated in
 * OpenSSL 3 but kept on purpose: they need no heap context and no provider
 * fetch (which takes a lock shared by all threads), and this hash runs on
 * every GET. They still use the same accelerated implementation. */
#include "autoconfig.h"

#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/sha.h>

#include "common/hash.h"

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

void cs_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

_Static_assert(sizeof(struct cs_sha256) >= sizeof(SHA256_CTX),
               "cs_sha256 too small for SHA256_CTX");

void cs_sha256_init(struct cs_sha256 *h)
{
    SHA256_Init((SHA256_CTX *)h);
}

void cs_sha256_update(struct cs_sha256 *h, const void *data, size_t len)
{
    SHA256_Update((SHA256_CTX *)h, data, len);
}

void cs_sha256_final(struct cs_sha256 *h, uint8_t out[CS_SHA256_LEN])
{
    SHA256_Final(out, (SHA256_CTX *)h);
}

int cs_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool cs_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t len)
{
    size_t i;

    if (in_len != 2 * len)
        return false;
    for (i = 0; i < len; i++) {
        int hi = cs_hex_digit(in[2 * i]), lo = cs_hex_digit(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}
