/* SHA-256 (FIPS 180-4) of our own, so the cstash client links no libcrypto
 * (cstashd links common/sha256_openssl.c):
 * binding libcrypto's symbols at start-up was about a third of a cache
 * hit's time. The block function uses the x86 SHA extensions when the CPU
 * has them (asked once, at the first block), else portable C; both give the
 * same digests (tests/unit/test_sha256.c checks each path). */
#include "autoconfig.h"

#include <string.h>

#include "common/hash.h"

#if CS_HAVE_SHA_NI
#include <cpuid.h>
#include <immintrin.h>
#endif
#if CS_HAVE_SHA_NI && CS_HAVE_CPU_FEATURE_ACTIVE
#include <sys/platform/x86.h>
#endif

static const uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
    return x >> n | x << (32 - n);
}

static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One round, the eight working variables named in their roles for round
 * t: instead of moving seven values per round as the standard writes it,
 * the names rotate (EIGHT); d and h are the two that change, and h becomes
 * the new a. kw is K[t] + W[t]. Inlined, all of it stays in registers. */
static inline void sha_round(uint32_t a, uint32_t b, uint32_t c, uint32_t *d, uint32_t e,
                             uint32_t f, uint32_t g, uint32_t *h, uint32_t kw)
{
    uint32_t t1 = *h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + (g ^ (e & (f ^ g))) + kw;
    *d += t1;
    *h = t1 + (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) | (c & (a | b)));
}
#define ROUND(a, b, c, d, e, f, g, h, t, wt) sha_round(a, b, c, &(d), e, f, g, &(h), k256[t] + (wt))

/* The schedule in a ring of 16 words: W(t) as read, SCHED(t) computed in
 * place, W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]. */
#define W(t) w[(t)&15]
#define SCHED(t)                                                                                   \
    (W(t) += (ror(W((t)-2), 17) ^ ror(W((t)-2), 19) ^ (W((t)-2) >> 10)) + W((t)-7) +               \
             (ror(W((t)-15), 7) ^ ror(W((t)-15), 18) ^ (W((t)-15) >> 3)))

#define EIGHT(t, wf)                                                                               \
    ROUND(a, b, c, d, e, f, g, h, (t) + 0, wf((t) + 0));                                           \
    ROUND(h, a, b, c, d, e, f, g, (t) + 1, wf((t) + 1));                                           \
    ROUND(g, h, a, b, c, d, e, f, (t) + 2, wf((t) + 2));                                           \
    ROUND(f, g, h, a, b, c, d, e, (t) + 3, wf((t) + 3));                                           \
    ROUND(e, f, g, h, a, b, c, d, (t) + 4, wf((t) + 4));                                           \
    ROUND(d, e, f, g, h, a, b, c, (t) + 5, wf((t) + 5));                                           \
    ROUND(c, d, e, f, g, h, a, b, (t) + 6, wf((t) + 6));                                           \
    ROUND(b, c, d, e, f, g, h, a, (t) + 7, wf((t) + 7))

/* n 64-byte blocks into state. Written out in full (constant indexes keep
 * the ring in registers): 470 MB/s at -O2 here, 310 with loops. */
static void blocks_portable(uint32_t state[8], const uint8_t *p, size_t n)
{
    uint32_t w[16];

    for (; n > 0; n--, p += 64) {
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 16; t++)
            w[t] = load_be32(p + 4 * t);
        EIGHT(0, W);
        EIGHT(8, W);
        EIGHT(16, SCHED);
        EIGHT(24, SCHED);
        EIGHT(32, SCHED);
        EIGHT(40, SCHED);
        EIGHT(48, SCHED);
        EIGHT(56, SCHED);
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

#if CS_HAVE_SHA_NI
/* Four rounds of group g: the schedule words in msg, the state as the SHA
 * instructions keep it (abef = A,B,E,F and cdgh = C,D,G,H). */
#define SHANI_ROUNDS(g, msg)                                                                       \
    do {                                                                                           \
        __m128i wk = _mm_add_epi32(msg, _mm_loadu_si128((const __m128i *)&k256[4 * (g)]));         \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);                                              \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));                     \
    } while (0)

/* The next four schedule words from the last sixteen (w0 oldest):
 * W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]. */
#define SHANI_NEXT(w0, w1, w2, w3)                                                                 \
    _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4)),  \
                         w3)

__attribute__((target("sha,sse4.1"))) static void blocks_shani(uint32_t state[8], const uint8_t *p,
                                                               size_t n)
{
    /* big-endian words of the message */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

    for (; n > 0; n--, p += 64) {
        const __m128i abef0 = abef, cdgh0 = cdgh;
        __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
        __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
        __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
        __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

        SHANI_ROUNDS(0, w0);
        SHANI_ROUNDS(1, w1);
        SHANI_ROUNDS(2, w2);
        SHANI_ROUNDS(3, w3);
        for (int g = 4; g < 16; g += 4) {
            w0 = SHANI_NEXT(w0, w1, w2, w3);
            SHANI_ROUNDS(g, w0);
            w1 = SHANI_NEXT(w1, w2, w3, w0);
            SHANI_ROUNDS(g + 1, w1);
            w2 = SHANI_NEXT(w2, w3, w0, w1);
            SHANI_ROUNDS(g + 2, w2);
            w3 = SHANI_NEXT(w3, w0, w1, w2);
            SHANI_ROUNDS(g + 3, w3);
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* From glibc where it can tell (what its loader read, and what
 * GLIBC_TUNABLES leaves on): the cpuid instruction traps in a VM, ~20 us
 * each here, and __get_cpuid asks it twice. */
static bool cpu_has_sha_ni(void)
{
#if CS_HAVE_CPU_FEATURE_ACTIVE
    return CPU_FEATURE_ACTIVE(SHA) && CPU_FEATURE_ACTIVE(SSE4_1) && CPU_FEATURE_ACTIVE(SSSE3);
#else
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
        return false;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
#endif
}
#endif

typedef void blocks_fn(uint32_t state[8], const uint8_t *p, size_t n);

/* The block function this CPU runs, found at the first block; racing
 * threads find the same one (relaxed atomics: no data race). */
static blocks_fn *blocks_impl;
static bool force_portable;

static blocks_fn *blocks_choose(void)
{
    blocks_fn *fn = __atomic_load_n(&blocks_impl, __ATOMIC_RELAXED);
    if (fn)
        return fn;
    fn = blocks_portable;
#if CS_HAVE_SHA_NI
    if (!__atomic_load_n(&force_portable, __ATOMIC_RELAXED) && cpu_has_sha_ni())
        fn = blocks_shani;
#endif
    __atomic_store_n(&blocks_impl, fn, __ATOMIC_RELAXED);
    return fn;
}

const char *cs_sha256_impl(bool portable)
{
    __atomic_store_n(&force_portable, portable, __ATOMIC_RELAXED);
    __atomic_store_n(&blocks_impl, (blocks_fn *)NULL, __ATOMIC_RELAXED);
    return blocks_choose() == blocks_portable ? "portable" : "sha-ni";
}

void cs_sha256_init(struct cs_sha256 *h)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(h->u.own.state, iv, sizeof iv);
    h->u.own.total = 0;
}

void cs_sha256_update(struct cs_sha256 *h, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t used = (size_t)(h->u.own.total % 64);

    if (len == 0)
        return; /* data may be NULL */
    h->u.own.total += len;
    if (used) {
        size_t take = 64 - used < len ? 64 - used : len;
        memcpy(h->u.own.buf + used, p, take);
        p += take;
        len -= take;
        if (used + take < 64)
            return;
        blocks_choose()(h->u.own.state, h->u.own.buf, 1);
    }
    if (len >= 64) {
        blocks_choose()(h->u.own.state, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    if (len)
        memcpy(h->u.own.buf, p, len);
}

void cs_sha256_final(struct cs_sha256 *h, uint8_t out[CS_SHA256_LEN])
{
    uint64_t bits = h->u.own.total * 8;
    size_t used = (size_t)(h->u.own.total % 64);
    uint8_t pad[72] = {0x80}; /* 0x80, zeros to 56 mod 64, the bit length */
    size_t padlen = used < 56 ? 56 - used : 120 - used;

    for (int i = 0; i < 8; i++)
        pad[padlen + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    cs_sha256_update(h, pad, padlen + 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h->u.own.state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h->u.own.state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h->u.own.state[i] >> 8);
        out[4 * i + 3] = (uint8_t)h->u.own.state[i];
    }
}

void cs_sha256_parts(const void *const *parts, const size_t *lens, size_t n,
                     uint8_t out[CS_SHA256_LEN])
{
    struct cs_sha256 h;

    cs_sha256_init(&h);
    for (size_t i = 0; i < n; i++)
        cs_sha256_update(&h, parts[i], lens[i]);
    cs_sha256_final(&h, out);
}
