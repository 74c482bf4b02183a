/* Size parsing and formatting. */
#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>

#include "common/size.h"
#include "tests/unit/check_main.h"

START_TEST(parse_good)
{
    static const struct {
        const char *text;
        uint64_t value;
    } cases[] = {
        {"0", 0},
        {"512", 512},
        {"1K", 1024},
        {"1k", 1024},
        {"64M", 64ull << 20},
        {"1G", 1ull << 30},
        {"1GiB", 1ull << 30},
        {"1GB", 1ull << 30},
        {"20G", 20ull << 30},
        {"3T", 3ull << 40},
        {"100B", 100},
        {"10 M", 10ull << 20},
        {"15E", 15ull << 60},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        ck_assert_msg(cs_parse_size(cases[i].text, &v) == CS_OK, "%s", cases[i].text);
        ck_assert_msg(v == cases[i].value, "%s -> %llu", cases[i].text, (unsigned long long)v);
    }
}
END_TEST

START_TEST(parse_bad)
{
    static const char *const bad[] = {
        "", "G", "-1", "1X", "1GG", "1.5G", "1Gx", "16E", "18446744073709551616", " 1", "1iB",
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        ck_assert_msg(cs_parse_size(bad[i], &v) == CS_ERR_INVALID, "'%s' accepted", bad[i]);
    }
    ck_assert_int_eq(cs_parse_size(NULL, NULL), CS_ERR_INVALID);
}
END_TEST

START_TEST(format)
{
    char buf[32];

    cs_format_size(1ull << 30, buf, sizeof buf);
    ck_assert_str_eq(buf, "1G");
    cs_format_size(1536ull << 20, buf, sizeof buf);
    ck_assert_str_eq(buf, "1536M");
    cs_format_size(100, buf, sizeof buf);
    ck_assert_str_eq(buf, "100");
    cs_format_size(0, buf, sizeof buf);
    ck_assert_str_eq(buf, "0");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("size");
    TCase *tc = tcase_create("size");

    tcase_add_test(tc, parse_good);
    tcase_add_test(tc, parse_bad);
    tcase_add_test(tc, format);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
