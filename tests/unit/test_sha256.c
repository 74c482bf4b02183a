/* Our SHA-256 (common/sha256.c), each block function it has: the FIPS 180-2
 * vectors, streaming in every split equal to one call, random inputs
 * against sha256sum and against OpenSSL (what cstashd and, before, the
 * client hashed with: the same bytes must give the same keys). */
#include "autoconfig.h"

#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <check.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hash.h"
#include "tests/unit/check_main.h"

static const char *hex_of(const void *data, size_t len)
{
    static char out[CS_SHA256_HEX_LEN + 1];
    uint8_t d[CS_SHA256_LEN];
    const void *parts[] = {data};

    cs_sha256_parts(parts, &len, 1, d);
    cs_hex_encode(d, sizeof d, out);
    return out;
}

/* _i: 0 the portable C, 1 the fastest this CPU has (may be the same). */
static void choose(int i)
{
    const char *name = cs_sha256_impl(i == 0);
    if (i == 0 || !CS_HAVE_SHA_NI)
        ck_assert_str_eq(name, "portable");
}

START_TEST(fips_vectors)
{
    choose(_i);
    ck_assert_str_eq(hex_of("", 0),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_str_eq(hex_of("abc", 3),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ck_assert_uint_eq(strlen(m448), 56);
    ck_assert_str_eq(hex_of(m448, 56),
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
                       "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    ck_assert_str_eq(hex_of(m896, 112),
                     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    char *a = malloc(1000000);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', 1000000);
    ck_assert_str_eq(hex_of(a, 1000000),
                     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* the same million in odd pieces */
    struct cs_sha256 h;
    uint8_t d[CS_SHA256_LEN];
    char hex[CS_SHA256_HEX_LEN + 1];
    cs_sha256_init(&h);
    for (size_t o = 0, k = 1; o < 1000000; o += k, k = k % 997 + 13)
        cs_sha256_update(&h, a + o, o + k > 1000000 ? 1000000 - o : k);
    cs_sha256_final(&h, d);
    cs_hex_encode(d, sizeof d, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}
END_TEST

START_TEST(every_split)
{
    choose(_i);
    uint8_t msg[300], one[CS_SHA256_LEN], two[CS_SHA256_LEN];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 131 + 7);
    for (size_t len = 0; len <= sizeof msg; len += len < 140 ? 1 : 37) {
        const void *parts[] = {msg};
        cs_sha256_parts(parts, &len, 1, one);
        for (size_t cut = 0; cut <= len; cut++) {
            /* and a copy of the context in the middle, as compile.c does */
            struct cs_sha256 h, copy;
            cs_sha256_init(&h);
            cs_sha256_update(&h, msg, cut);
            copy = h;
            cs_sha256_update(&copy, NULL, 0);
            cs_sha256_update(&copy, msg + cut, len - cut);
            cs_sha256_final(&copy, two);
            ck_assert_msg(memcmp(one, two, sizeof one) == 0, "len %zu cut %zu", len, cut);
        }
    }
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Lengths around the padding's edges, then random ones. */
static size_t length_of(int round)
{
    static const size_t edges[] = {1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 4095};
    if (round < (int)(sizeof edges / sizeof edges[0]))
        return edges[round];
    return next_random() % 20000;
}

START_TEST(random_against_sha256sum)
{
    choose(_i);
    char dir[] = "/tmp/cs-test-sha256.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/in", dir);
    uint8_t *buf = malloc(20000);
    ck_assert_ptr_nonnull(buf);
    for (int round = 0; round < 40; round++) {
        size_t len = length_of(round);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)next_random();
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
        char cmd[128], want[CS_SHA256_HEX_LEN + 1] = "";
        snprintf(cmd, sizeof cmd, "sha256sum %s", path);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(fscanf(p, "%64s", want), 1);
        ck_assert_int_eq(pclose(p), 0);
        ck_assert_msg(strcmp(hex_of(buf, len), want) == 0, "length %zu", len);
    }
    unlink(path);
    rmdir(dir);
    free(buf);
}
END_TEST

START_TEST(random_against_openssl)
{
    choose(_i);
    uint8_t *buf = malloc(70000), ours[CS_SHA256_LEN], theirs[CS_SHA256_LEN];
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < 70000; i++)
        buf[i] = (uint8_t)next_random();
    for (size_t len = 0; len < 1100; len++) {
        const void *parts[] = {buf};
        cs_sha256_parts(parts, &len, 1, ours);
        SHA256(buf, len, theirs);
        ck_assert_msg(memcmp(ours, theirs, sizeof ours) == 0, "length %zu", len);
    }
    for (int round = 0; round < 300; round++) {
        size_t len = next_random() % 70000, o = 0;
        struct cs_sha256 h;
        cs_sha256_init(&h);
        while (o < len) {
            size_t k = next_random() % 200;
            k = k > len - o ? len - o : k;
            cs_sha256_update(&h, buf + o, k);
            o += k;
        }
        cs_sha256_final(&h, ours);
        SHA256(buf, len, theirs);
        ck_assert_msg(memcmp(ours, theirs, sizeof ours) == 0, "length %zu", len);
    }
    free(buf);
}
END_TEST

START_TEST(hex_round_trip)
{
    uint8_t in[4] = {0x00, 0x9f, 0xa0, 0xff}, out[4];
    char hex[9];
    cs_hex_encode(in, 4, hex);
    ck_assert_str_eq(hex, "009fa0ff");
    ck_assert(cs_hex_decode("009FA0ff", 8, out, 4));
    ck_assert_mem_eq(in, out, 4);
    ck_assert(!cs_hex_decode("009fa0f", 7, out, 4));
    ck_assert(!cs_hex_decode("009fa0fg", 8, out, 4));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, fips_vectors, 0, 2);
    tcase_add_loop_test(tc, every_split, 0, 2);
    tcase_add_loop_test(tc, random_against_sha256sum, 0, 2);
    tcase_add_loop_test(tc, random_against_openssl, 0, 2);
    tcase_add_test(tc, hex_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    printf("sha256: fastest block function here: %s\n", cs_sha256_impl(false));
    return cs_run_suite(suite());
}
