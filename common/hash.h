/* SHA-256 through OpenSSL (hardware accelerated) and hex encoding. */
#ifndef CS_HASH_H
#define CS_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_SHA256_LEN 32
#define CS_SHA256_HEX_LEN 64

/* Hash of the concatenation of n parts; thread-safe. */
void cs_sha256_parts(const void *const *parts, const size_t *lens, size_t n,
                     uint8_t out[CS_SHA256_LEN]);

/* Streaming SHA-256 for bodies; the context lives on the caller's side
 * (no heap). Not thread-safe per context. */
struct cs_sha256 {
    uint64_t opaque[14]; /* holds an OpenSSL SHA256_CTX (112 bytes) */
};
void cs_sha256_init(struct cs_sha256 *h);
void cs_sha256_update(struct cs_sha256 *h, const void *data, size_t len);
void cs_sha256_final(struct cs_sha256 *h, uint8_t out[CS_SHA256_LEN]);

/* Writes 2*len hex digits and a NUL. */
void cs_hex_encode(const uint8_t *in, size_t len, char *out);

/* Value of one hex digit (either case), or -1. */
int cs_hex_digit(char c);

/* Decodes exactly 2*len hex digits (either case); false on anything else. */
bool cs_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t len);

#endif
