/* Key normalisation: good keys pass unchanged, hostile ones get 400. */
#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/key.h"
#include "tests/unit/check_main.h"

static enum cs_status norm(const char *raw, char *out, size_t *len, const char **reason)
{
    return cs_key_normalize(raw, strlen(raw), out, len, reason);
}

START_TEST(good_keys)
{
    static const char *const keys[] = {
        "ab/cdef0123456789",
        "ac/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "cas/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "a/b/c/0123abc",
        "flatkey",
        "a+b",
        "...",
        "..a",
        "a..",
        ".hidden",
        ".sccache_check",
    };
    char out[CS_KEY_MAX + 1];
    size_t len, i;
    const char *reason = NULL;

    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        ck_assert_msg(norm(keys[i], out, &len, &reason) == CS_OK, "%s rejected: %s", keys[i],
                      reason);
        ck_assert_str_eq(out, keys[i]);
        ck_assert_uint_eq(len, strlen(keys[i]));
    }
}
END_TEST

START_TEST(percent_decoding)
{
    char out[CS_KEY_MAX + 1];
    size_t len;
    const char *reason = NULL;

    ck_assert_int_eq(norm("a%20b/%C3%A9t%c3%a9", out, &len, &reason), CS_OK);
    ck_assert_str_eq(out, "a b/\xc3\xa9t\xc3\xa9");
    ck_assert_int_eq(norm("100%25", out, &len, &reason), CS_OK);
    ck_assert_str_eq(out, "100%");
    ck_assert_int_eq(norm("a%2Bb+c", out, &len, &reason), CS_OK);
    ck_assert_str_eq(out, "a+b+c"); /* '+' is a plus in paths, never a space */
}
END_TEST

START_TEST(hostile_keys)
{
    static const char *const keys[] = {
        "",   "..",       ".",        "a/../b",     "a/./b",   "../etc/passwd", "a//b",  "/a",
        "a/", "%2e%2e/x", "a/%2E%2E", "a%2F..%2Fb", "a%00b",   "a%0ab",         "a%7fb", "a\tb",
        "a%", "a%4",      "a%zz",     "%",          "a/b/%2e",
    };
    char out[CS_KEY_MAX + 1];
    size_t len, i;

    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *reason = NULL;
        ck_assert_msg(norm(keys[i], out, &len, &reason) == CS_ERR_BAD_KEY, "'%s' accepted",
                      keys[i]);
        ck_assert_ptr_nonnull(reason);
    }
}
END_TEST

START_TEST(length_limits)
{
    char raw[4 * CS_KEY_MAX];
    char out[CS_KEY_MAX + 1];
    size_t len, i;
    const char *reason = NULL;

    /* segments of 199 bytes and a last one of 24: 1024 bytes, the longest valid key */
    for (i = 0; i < 1024; i++)
        raw[i] = ((i + 1) % 200 == 0) ? '/' : 'k';
    raw[1024] = '\0';
    ck_assert_int_eq(norm(raw, out, &len, &reason), CS_OK);
    ck_assert_uint_eq(len, 1024);
    raw[1024] = 'k';
    raw[1025] = '\0';
    ck_assert_int_eq(norm(raw, out, &len, &reason), CS_ERR_BAD_KEY);
    ck_assert_str_eq(reason, "key longer than 1024 bytes");
    memset(raw, 's', 256);
    raw[256] = '\0';
    ck_assert_int_eq(norm(raw, out, &len, &reason), CS_ERR_BAD_KEY);
    ck_assert_str_eq(reason, "key segment longer than 255 bytes");
    /* a long percent-encoded key that decodes within bounds is fine */
    for (i = 0; i < 300; i++)
        memcpy(raw + 3 * i, "%41", 3);
    raw[900] = '\0';
    ck_assert_int_eq(norm(raw, out, &len, &reason), CS_ERR_BAD_KEY); /* one 300-byte segment */
    raw[3 * 200] = '\0';
    ck_assert_int_eq(norm(raw, out, &len, &reason), CS_OK);
    ck_assert_uint_eq(len, 200);
}
END_TEST

START_TEST(namespace_names)
{
    ck_assert(cs_namespace_name_valid("default", 7));
    ck_assert(cs_namespace_name_valid("team-a.ci_2", 11));
    ck_assert(!cs_namespace_name_valid("_", 1));
    ck_assert(!cs_namespace_name_valid("", 0));
    ck_assert(!cs_namespace_name_valid(".x", 2));
    ck_assert(!cs_namespace_name_valid("-x", 2));
    ck_assert(!cs_namespace_name_valid("a b", 3));
    ck_assert(!cs_namespace_name_valid("a/b", 3));
    ck_assert(!cs_namespace_name_valid(
        "0123456789012345678901234567890123456789012345678901234567890123456789", 70));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("key");
    TCase *tc = tcase_create("normalize");

    tcase_add_test(tc, good_keys);
    tcase_add_test(tc, percent_decoding);
    tcase_add_test(tc, hostile_keys);
    tcase_add_test(tc, length_limits);
    tcase_add_test(tc, namespace_names);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
