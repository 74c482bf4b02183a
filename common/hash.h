/* SHA-256 and hex encoding (common/hex.c). Two implementations of the
 * SHA-256 calls, chosen at link time: common/sha256.c, our own (the SHA
 * extensions when the CPU has them, else portable C; no libcrypto, for the
 * cstash client's start-up), and common/sha256_openssl.c (cstashd, which
 * links libcrypto anyway and hashes bodies faster with it on older CPUs). */
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
 * (no heap) and may be copied to hash a common prefix once. Not
 * thread-safe per context. */
struct cs_sha256 {
    union {
        struct {
            uint32_t state[8];
            uint64_t total; /* bytes hashed so far */
            uint8_t buf[64];
        } own;                /* common/sha256.c */
        uint64_t openssl[14]; /* common/sha256_openssl.c: a SHA256_CTX (112 bytes) */
    } u;
};
void cs_sha256_init(struct cs_sha256 *h);
void cs_sha256_update(struct cs_sha256 *h, const void *data, size_t len);
void cs_sha256_final(struct cs_sha256 *h, uint8_t out[CS_SHA256_LEN]);

/* For tests and benchmarks: chooses the block function again, the
 * portable one if asked, else the fastest this CPU runs, and returns its
 * name ("portable", "sha-ni"; "openssl" for that build, which ignores the
 * argument). Not to be called while other threads hash. */
const char *cs_sha256_impl(bool portable);

/* Writes 2*len hex digits and a NUL. */
void cs_hex_encode(const uint8_t *in, size_t len, char *out);

/* Value of one hex digit (either case), or -1. */
int cs_hex_digit(char c);

/* Decodes exactly 2*len hex digits (either case); false on anything else. */
bool cs_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t len);

#endif
