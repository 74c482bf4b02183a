/* The bounded buffer: a write over the limit fails and is remembered;
 * nothing is cut short silently (cs_buf_printf once truncated at 512). */
#include "autoconfig.h"

#include <check.h>
#include <string.h>

#include "common/buf.h"
#include "tests/unit/check_main.h"

START_TEST(printf_longer_than_512_is_whole)
{
    struct cs_buf b;
    char big[2000];

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cs_buf_init(&b, 1 << 20);
    ck_assert_int_eq(cs_buf_printf(&b, "<%s>", big), CS_OK);
    ck_assert_uint_eq(b.len, sizeof big + 1);
    ck_assert_int_eq(b.data[0], '<');
    ck_assert_int_eq(b.data[b.len - 1], '>');
    ck_assert(!b.overflow);
    cs_buf_free(&b);
}
END_TEST

START_TEST(over_the_limit_fails_and_sticks)
{
    struct cs_buf b;

    cs_buf_init(&b, 16);
    ck_assert_int_eq(cs_buf_add(&b, "0123456789", 10), CS_OK);
    /* 10 + 6 + NUL would pass 16: refused, and the buffer is as it was */
    ck_assert_int_eq(cs_buf_printf(&b, "%s", "abcdef"), CS_ERR_TOO_LARGE);
    ck_assert_uint_eq(b.len, 10);
    ck_assert_str_eq(b.data, "0123456789");
    ck_assert(b.overflow);
    /* later writes that would fit fail too: the answer is already wrong */
    ck_assert_int_eq(cs_buf_add(&b, "a", 1), CS_ERR_TOO_LARGE);
    ck_assert_uint_eq(b.len, 10);
    cs_buf_reset(&b);
    ck_assert(!b.overflow);
    ck_assert_int_eq(cs_buf_add(&b, "a", 1), CS_OK);
    ck_assert_str_eq(b.data, "a");
    cs_buf_free(&b);
}
END_TEST

START_TEST(exactly_at_the_limit)
{
    struct cs_buf b;

    cs_buf_init(&b, 8);
    ck_assert_int_eq(cs_buf_add(&b, "1234567", 7), CS_OK); /* 7 bytes and the NUL */
    ck_assert_int_eq(cs_buf_add(&b, "", 0), CS_OK);
    ck_assert_int_eq(cs_buf_add(&b, "8", 1), CS_ERR_TOO_LARGE);
    ck_assert_str_eq(b.data, "1234567");
    cs_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");

    tcase_add_test(tc, printf_longer_than_512_is_whole);
    tcase_add_test(tc, over_the_limit_fails_and_sticks);
    tcase_add_test(tc, exactly_at_the_limit);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
