/* The access log's lines: valid JSON whatever the target holds, and the
 * client address in both families. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "server/access_log.h"
#include "server/client_kind.h"
#include "tests/unit/check_main.h"

START_TEST(line_fields)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct cs_access_entry e = {.client = (const struct sockaddr *)&a,
                                .user = "al\"ice",
                                .method = "GET",
                                .ns = "team",
                                .target = "k\\ey\x01\xff",
                                .status = 200,
                                .in = 0,
                                .out = 1024,
                                .us = 153,
                                .proto = "ccache",
                                .source = "memory",
                                .complete = true};
    char line[1024];
    size_t n;

    inet_pton(AF_INET, "10.0.255.7", &a.sin_addr);
    n = cs_access_log_format(&e, 1764640500123LL, line, sizeof line);
    ck_assert_uint_gt(n, 0);
    line[n] = '\0';
    ck_assert_str_eq(line, "{\"time\":\"2025-12-02T01:55:00.123Z\",\"client\":\"10.0.255.7\","
                           "\"user\":\"al\\\"ice\",\"method\":\"GET\",\"ns\":\"team\","
                           "\"key\":\"k\\\\ey\\u0001\\u00ff\",\"status\":200,\"in\":0,"
                           "\"out\":1024,\"us\":153,\"proto\":\"ccache\",\"source\":\"memory\"}\n");
}
END_TEST

START_TEST(nulls_ipv6_and_aborts)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    struct cs_access_entry e = {.client = (const struct sockaddr *)&a,
                                .method = "PUT",
                                .target = "/x",
                                .status = 507,
                                .in = 5,
                                .complete = false};
    char line[1024];
    size_t n;

    inet_pton(AF_INET6, "2001:db8::1", &a.sin6_addr);
    n = cs_access_log_format(&e, 0, line, sizeof line);
    ck_assert_uint_gt(n, 0);
    line[n] = '\0';
    ck_assert_str_eq(line, "{\"time\":\"1970-01-01T00:00:00.000Z\",\"client\":\"2001:db8::1\","
                           "\"user\":null,\"method\":\"PUT\",\"ns\":null,\"key\":\"/x\","
                           "\"status\":507,\"in\":5,\"out\":0,\"us\":0,\"proto\":null,"
                           "\"complete\":false}\n");
    ck_assert_uint_eq(cs_access_log_format(&e, 0, line, 40), 0); /* does not fit: no line */
}
END_TEST

START_TEST(client_kinds)
{
    static const char cas[] =
        "/ns/cas/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    ck_assert_str_eq(cs_client_kind("ccache/4.7.5", false, false, "/ns/ab/cd"), "ccache");
    ck_assert_str_eq(cs_client_kind("Gradle/8.5", false, false, "/ns/k"), "gradle");
    ck_assert_str_eq(cs_client_kind(NULL, true, false, "/ns/k"), "gradle");
    ck_assert_str_eq(cs_client_kind("rclone/v1.60", false, false, "/ns/k"), "webdav");
    ck_assert_str_eq(cs_client_kind("curl/8", false, true, "/ns/"), "webdav");
    ck_assert_str_eq(cs_client_kind("curl/8", false, false, cas), "bazel"); /* by key shape */
    ck_assert_ptr_null(cs_client_kind("curl/8", false, false, "/ns/ab/cdef"));
    ck_assert_ptr_null(cs_client_kind(NULL, false, false, NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("access_log");
    TCase *tc = tcase_create("format");

    tcase_add_test(tc, line_fields);
    tcase_add_test(tc, nulls_ipv6_and_aborts);
    tcase_add_test(tc, client_kinds);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
