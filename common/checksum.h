/* S3 flexible checksums (x-amz-checksum-*): CRC32, CRC32C, CRC64NVME, SHA1
 * and SHA256, computed incrementally over a body as it streams, the final
 * value given as the big-endian bytes and as the base64 S3 carries in its
 * headers and aws-chunked trailers. Pure; every function is thread-safe
 * for distinct contexts (the CRC tables are built once, under pthread_once). */
#ifndef CS_CHECKSUM_H
#define CS_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

enum cs_checksum_alg {
    CS_CHECKSUM_CRC32,     /* zlib's CRC-32 (reflected 0xEDB88320) */
    CS_CHECKSUM_CRC32C,    /* Castagnoli (reflected 0x82F63B78) */
    CS_CHECKSUM_CRC64NVME, /* reflected 0x9A6C9329AC4BC9B5, as AWS uses */
    CS_CHECKSUM_SHA1,
    CS_CHECKSUM_SHA256,
};

#define CS_CHECKSUM_MAX_LEN 32    /* raw bytes of the longest (SHA256) */
#define CS_CHECKSUM_B64_MAX 44    /* base64 of 32 bytes, without the NUL */
#define CS_CHECKSUM_HEADER_MAX 24 /* "x-amz-checksum-crc64nvme" */

/* The algorithm named by name[0..len) ("CRC32", "crc64nvme", ...: any case).
 * False for anything else. */
bool cs_checksum_alg_from_name(const char *name, size_t len, enum cs_checksum_alg *out);

/* The algorithm of a header name "x-amz-checksum-<alg>" (any case). */
bool cs_checksum_alg_from_header(const char *name, size_t len, enum cs_checksum_alg *out);

const char *cs_checksum_alg_name(enum cs_checksum_alg alg); /* "CRC32" */
const char *cs_checksum_header(enum cs_checksum_alg alg);   /* "x-amz-checksum-crc32" */
size_t cs_checksum_len(enum cs_checksum_alg alg);           /* 4, 4, 8, 20 or 32 */

struct cs_checksum {
    enum cs_checksum_alg alg;
    union {
        uint32_t crc32;
        uint64_t crc64;
        uint64_t sha1[12]; /* holds an OpenSSL SHA_CTX (96 bytes) */
        struct cs_sha256 sha256;
    } u;
};

void cs_checksum_init(struct cs_checksum *c, enum cs_checksum_alg alg);
void cs_checksum_update(struct cs_checksum *c, const void *data, size_t len);
/* The value as big-endian bytes; returns cs_checksum_len(). The context is
 * finished: init it again before reuse. */
size_t cs_checksum_final(struct cs_checksum *c, uint8_t out[CS_CHECKSUM_MAX_LEN]);
/* The value as base64 with padding, NUL-terminated. */
void cs_checksum_final_base64(struct cs_checksum *c, char out[CS_CHECKSUM_B64_MAX + 1]);

/* The raw CRCs, for callers that keep their own state: start from 0, feed
 * any slices, the return value after the last slice is the checksum. */
uint32_t cs_crc32_update(uint32_t crc, const void *data, size_t len);
uint32_t cs_crc32c_update(uint32_t crc, const void *data, size_t len);
uint64_t cs_crc64nvme_update(uint64_t crc, const void *data, size_t len);

#endif
