/* S3 checksums. The CRCs are table-driven, slicing-by-8 (eight table lookups
 * per 8 input bytes): well over 1 GB/s per core without depending on zlib or
 * on CPU features, which keeps one code path to test. SHA1 and SHA256 are
 * OpenSSL's (the low-level SHA1_* calls, deprecated in OpenSSL 3, for the
 * same reason as in hash.c: no heap context, no provider fetch). */
#include "autoconfig.h"

#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "common/checksum.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"

_Static_assert(sizeof(((struct cs_checksum *)0)->u.sha1) >= sizeof(SHA_CTX),
               "cs_checksum too small for SHA_CTX");

#define CRC32_POLY 0xEDB88320u
#define CRC32C_POLY 0x82F63B78u
#define CRC64NVME_POLY 0x9A6C9329AC4BC9B5ull

static uint32_t crc32_tab[8][256], crc32c_tab[8][256];
static uint64_t crc64_tab[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build32(uint32_t tab[8][256], uint32_t poly)
{
    for (unsigned i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        tab[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
}

static void build64(uint64_t tab[8][256], uint64_t poly)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        tab[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
}

static void build_tables(void)
{
    build32(crc32_tab, CRC32_POLY);
    build32(crc32c_tab, CRC32C_POLY);
    build64(crc64_tab, CRC64NVME_POLY);
}

/* Little-endian load, whatever the host: the reflected CRCs consume the
 * lowest-addressed byte first. */
static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t slice32(const uint32_t tab[8][256], uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v = load_le64(p) ^ crc;
        crc = tab[7][v & 0xff] ^ tab[6][(v >> 8) & 0xff] ^ tab[5][(v >> 16) & 0xff] ^
              tab[4][(v >> 24) & 0xff] ^ tab[3][(v >> 32) & 0xff] ^ tab[2][(v >> 40) & 0xff] ^
              tab[1][(v >> 48) & 0xff] ^ tab[0][v >> 56];
    }
    for (; n; n--, p++)
        crc = (crc >> 8) ^ tab[0][(crc ^ *p) & 0xff];
    return ~crc;
}

uint32_t cs_crc32_update(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&tables_once, build_tables);
    return slice32(crc32_tab, crc, data, len);
}

uint32_t cs_crc32c_update(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&tables_once, build_tables);
    return slice32(crc32c_tab, crc, data, len);
}

uint64_t cs_crc64nvme_update(uint64_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;

    pthread_once(&tables_once, build_tables);
    crc = ~crc;
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t v = load_le64(p) ^ crc;
        crc = crc64_tab[7][v & 0xff] ^ crc64_tab[6][(v >> 8) & 0xff] ^
              crc64_tab[5][(v >> 16) & 0xff] ^ crc64_tab[4][(v >> 24) & 0xff] ^
              crc64_tab[3][(v >> 32) & 0xff] ^ crc64_tab[2][(v >> 40) & 0xff] ^
              crc64_tab[1][(v >> 48) & 0xff] ^ crc64_tab[0][v >> 56];
    }
    for (; len; len--, p++)
        crc = (crc >> 8) ^ crc64_tab[0][(crc ^ *p) & 0xff];
    return ~crc;
}

static const struct {
    const char *name, *header;
    size_t len;
} algs[] = {
    [CS_CHECKSUM_CRC32] = {"CRC32", "x-amz-checksum-crc32", 4},
    [CS_CHECKSUM_CRC32C] = {"CRC32C", "x-amz-checksum-crc32c", 4},
    [CS_CHECKSUM_CRC64NVME] = {"CRC64NVME", "x-amz-checksum-crc64nvme", 8},
    [CS_CHECKSUM_SHA1] = {"SHA1", "x-amz-checksum-sha1", 20},
    [CS_CHECKSUM_SHA256] = {"SHA256", "x-amz-checksum-sha256", 32},
};
#define NALGS (sizeof algs / sizeof algs[0])

bool cs_checksum_alg_from_name(const char *name, size_t len, enum cs_checksum_alg *out)
{
    for (size_t i = 0; i < NALGS; i++) {
        if (strlen(algs[i].name) == len && strncasecmp(algs[i].name, name, len) == 0) {
            *out = (enum cs_checksum_alg)i;
            return true;
        }
    }
    return false;
}

bool cs_checksum_alg_from_header(const char *name, size_t len, enum cs_checksum_alg *out)
{
    static const char prefix[] = "x-amz-checksum-";
    const size_t plen = sizeof prefix - 1;

    if (len <= plen || strncasecmp(name, prefix, plen) != 0)
        return false;
    return cs_checksum_alg_from_name(name + plen, len - plen, out);
}

const char *cs_checksum_alg_name(enum cs_checksum_alg alg)
{
    return (size_t)alg < NALGS ? algs[alg].name : "?";
}

const char *cs_checksum_header(enum cs_checksum_alg alg)
{
    return (size_t)alg < NALGS ? algs[alg].header : "?";
}

size_t cs_checksum_len(enum cs_checksum_alg alg)
{
    return (size_t)alg < NALGS ? algs[alg].len : 0;
}

void cs_checksum_init(struct cs_checksum *c, enum cs_checksum_alg alg)
{
    memset(c, 0, sizeof *c);
    c->alg = alg;
    if (alg == CS_CHECKSUM_SHA1)
        SHA1_Init((SHA_CTX *)c->u.sha1);
    else if (alg == CS_CHECKSUM_SHA256)
        cs_sha256_init(&c->u.sha256);
}

void cs_checksum_update(struct cs_checksum *c, const void *data, size_t len)
{
    switch (c->alg) {
    case CS_CHECKSUM_CRC32: c->u.crc32 = cs_crc32_update(c->u.crc32, data, len); break;
    case CS_CHECKSUM_CRC32C: c->u.crc32 = cs_crc32c_update(c->u.crc32, data, len); break;
    case CS_CHECKSUM_CRC64NVME: c->u.crc64 = cs_crc64nvme_update(c->u.crc64, data, len); break;
    case CS_CHECKSUM_SHA1: SHA1_Update((SHA_CTX *)c->u.sha1, data, len); break;
    case CS_CHECKSUM_SHA256: cs_sha256_update(&c->u.sha256, data, len); break;
    }
}

size_t cs_checksum_final(struct cs_checksum *c, uint8_t out[CS_CHECKSUM_MAX_LEN])
{
    switch (c->alg) {
    case CS_CHECKSUM_CRC32:
    case CS_CHECKSUM_CRC32C:
        for (int i = 0; i < 4; i++)
            out[i] = (uint8_t)(c->u.crc32 >> (24 - 8 * i));
        return 4;
    case CS_CHECKSUM_CRC64NVME:
        for (int i = 0; i < 8; i++)
            out[i] = (uint8_t)(c->u.crc64 >> (56 - 8 * i));
        return 8;
    case CS_CHECKSUM_SHA1: SHA1_Final(out, (SHA_CTX *)c->u.sha1); return 20;
    case CS_CHECKSUM_SHA256: cs_sha256_final(&c->u.sha256, out); return 32;
    }
    return 0;
}

void cs_checksum_final_base64(struct cs_checksum *c, char out[CS_CHECKSUM_B64_MAX + 1])
{
    uint8_t raw[CS_CHECKSUM_MAX_LEN];
    size_t n = cs_checksum_final(c, raw);

    cs_base64_encode(raw, n, out);
}
