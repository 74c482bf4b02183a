/* S3 flexible checksums: the catalogue check values, a bit-at-a-time
 * reference for the table-driven CRCs, incremental == one-shot, the base64
 * forms S3 carries, algorithm names, and a throughput line for the record. */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/checksum.h"
#include "tests/unit/check_main.h"

static const char check_input[] = "123456789";

START_TEST(check_values)
{
    ck_assert_uint_eq(cs_crc32_update(0, check_input, 9), 0xCBF43926u);
    ck_assert_uint_eq(cs_crc32c_update(0, check_input, 9), 0xE3069283u);
    ck_assert(cs_crc64nvme_update(0, check_input, 9) == 0xAE8B14860A799888ull);
    ck_assert_uint_eq(cs_crc32_update(0, "", 0), 0);
}
END_TEST

static const char *b64_of(enum cs_checksum_alg alg, const void *data, size_t len)
{
    static char out[CS_CHECKSUM_B64_MAX + 1];
    struct cs_checksum c;

    cs_checksum_init(&c, alg);
    cs_checksum_update(&c, data, len);
    cs_checksum_final_base64(&c, out);
    return out;
}

START_TEST(base64_forms)
{
    /* base64 of the big-endian bytes, as x-amz-checksum-* carries them */
    ck_assert_str_eq(b64_of(CS_CHECKSUM_CRC32, check_input, 9), "y/Q5Jg==");
    ck_assert_str_eq(b64_of(CS_CHECKSUM_CRC32C, check_input, 9), "4waSgw==");
    ck_assert_str_eq(b64_of(CS_CHECKSUM_CRC64NVME, check_input, 9), "rosUhgp5mIg=");
    ck_assert_str_eq(b64_of(CS_CHECKSUM_SHA1, check_input, 9), "98O8HYCOBHMq32eZZczDTKeuNEE=");
    ck_assert_str_eq(b64_of(CS_CHECKSUM_SHA256, check_input, 9),
                     "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=");
    ck_assert_str_eq(b64_of(CS_CHECKSUM_CRC32, "Hello, World!", 13), "7ErD0A==");
    /* the AWS trailer example: 66560 bytes of 'a' */
    char *a = malloc(66560);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', 66560);
    ck_assert_str_eq(b64_of(CS_CHECKSUM_CRC32C, a, 66560), "sOO8/Q==");
    ck_assert_str_eq(b64_of(CS_CHECKSUM_CRC32, a, 66560), "sK4Y7A==");
    free(a);
    uint8_t raw[CS_CHECKSUM_MAX_LEN];
    struct cs_checksum c;
    cs_checksum_init(&c, CS_CHECKSUM_CRC64NVME);
    cs_checksum_update(&c, check_input, 9);
    ck_assert_uint_eq(cs_checksum_final(&c, raw), 8);
    ck_assert_uint_eq(raw[0], 0xAE);
    ck_assert_uint_eq(raw[7], 0x88);
}
END_TEST

/* Bit-at-a-time reflected CRCs: independent of the tables under test. */
static uint64_t crc_ref(uint64_t poly, int bits, const uint8_t *p, size_t n)
{
    uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1, crc = mask;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
    }
    return ~crc & mask;
}

START_TEST(reference_and_incremental)
{
    enum { N = 4099 };
    uint8_t *buf = malloc(N);
    ck_assert_ptr_nonnull(buf);
    uint32_t x = 17; /* a fixed LCG: the same bytes every run */
    for (size_t i = 0; i < N; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(x >> 24);
    }
    /* every length up to 64, at every alignment up to 8, then the whole */
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; n < 64; n++) {
            ck_assert_uint_eq(cs_crc32_update(0, buf + off, n),
                              crc_ref(0xEDB88320u, 32, buf + off, n));
            ck_assert_uint_eq(cs_crc32c_update(0, buf + off, n),
                              crc_ref(0x82F63B78u, 32, buf + off, n));
            ck_assert(cs_crc64nvme_update(0, buf + off, n) ==
                      crc_ref(0x9A6C9329AC4BC9B5ull, 64, buf + off, n));
        }
    }
    ck_assert(cs_crc64nvme_update(0, buf, N) == crc_ref(0x9A6C9329AC4BC9B5ull, 64, buf, N));
    for (int alg = CS_CHECKSUM_CRC32; alg <= CS_CHECKSUM_SHA256; alg++) {
        char whole[CS_CHECKSUM_B64_MAX + 1], parts[CS_CHECKSUM_B64_MAX + 1];
        strcpy(whole, b64_of((enum cs_checksum_alg)alg, buf, N));
        for (size_t step = 1; step <= 17; step += 4) {
            struct cs_checksum c;
            cs_checksum_init(&c, (enum cs_checksum_alg)alg);
            for (size_t i = 0; i < N; i += step)
                cs_checksum_update(&c, buf + i, i + step <= N ? step : N - i);
            cs_checksum_final_base64(&c, parts);
            ck_assert_str_eq(parts, whole);
        }
    }
    free(buf);
}
END_TEST

START_TEST(names)
{
    enum cs_checksum_alg a;

    ck_assert(cs_checksum_alg_from_name("crc64nvme", 9, &a) && a == CS_CHECKSUM_CRC64NVME);
    ck_assert(cs_checksum_alg_from_name("Crc32C", 6, &a) && a == CS_CHECKSUM_CRC32C);
    ck_assert(cs_checksum_alg_from_name("CRC32", 5, &a) && a == CS_CHECKSUM_CRC32);
    ck_assert(cs_checksum_alg_from_name("sha1", 4, &a) && a == CS_CHECKSUM_SHA1);
    ck_assert(cs_checksum_alg_from_name("SHA256", 6, &a) && a == CS_CHECKSUM_SHA256);
    ck_assert(!cs_checksum_alg_from_name("CRC3", 4, &a));
    ck_assert(!cs_checksum_alg_from_name("CRC32X", 6, &a));
    ck_assert(!cs_checksum_alg_from_name("MD5", 3, &a));
    ck_assert(cs_checksum_alg_from_header("X-Amz-Checksum-CRC32", 20, &a) &&
              a == CS_CHECKSUM_CRC32);
    ck_assert(!cs_checksum_alg_from_header("x-amz-checksum-", 15, &a));
    ck_assert(!cs_checksum_alg_from_header("x-amz-checksum-mode", 19, &a));
    ck_assert_str_eq(cs_checksum_header(CS_CHECKSUM_CRC64NVME), "x-amz-checksum-crc64nvme");
    ck_assert_str_eq(cs_checksum_alg_name(CS_CHECKSUM_SHA1), "SHA1");
    ck_assert_uint_eq(cs_checksum_len(CS_CHECKSUM_SHA1), 20);
}
END_TEST

/* Not an assertion: the MB/s of each algorithm, for the record. */
START_TEST(throughput)
{
    enum { N = 16 << 20 };
    uint8_t *buf = calloc(1, N);
    ck_assert_ptr_nonnull(buf);
    for (int alg = CS_CHECKSUM_CRC32; alg <= CS_CHECKSUM_SHA256; alg++) {
        struct cs_checksum c;
        struct timespec t0, t1;
        uint8_t out[CS_CHECKSUM_MAX_LEN];
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cs_checksum_init(&c, (enum cs_checksum_alg)alg);
        for (int i = 0; i < 4; i++)
            cs_checksum_update(&c, buf, N);
        cs_checksum_final(&c, out);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("checksum %-9s %7.0f MB/s\n", cs_checksum_alg_name((enum cs_checksum_alg)alg),
               4.0 * N / 1e6 / s);
    }
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checksum");
    TCase *tc = tcase_create("checksum");
    tcase_add_test(tc, check_values);
    tcase_add_test(tc, base64_forms);
    tcase_add_test(tc, reference_and_incremental);
    tcase_add_test(tc, names);
    tcase_add_test(tc, throughput);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
