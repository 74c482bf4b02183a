/* SHA-256 through OpenSSL (hardware accelerated) and hex encoding. */
#ifndef CS_HASH_H
#define CS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CS_SHA256_LEN 32
#define CS_SHA256_HEX_LEN 64

/* Hash of the concatenation of n parts; thread-safe. */
void cs_sha256_parts(const void *const *parts, const size_t *lens, size_t n,
                     uint8_t out[CS_SHA256_LEN]);

/* Writes 2*len hex digits and a NUL. */
void cs_hex_encode(const uint8_t *in, size_t len, char *out);

#endif
