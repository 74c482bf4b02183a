/* Routing: admin space, namespaces, keys, and the reasons given. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "server/listen.h"
#include "server/route.h"
#include "tests/unit/check_main.h"

static struct cs_config *cfg;
static struct cs_config_errors errs;

static void setup(void)
{
    const char *text = "namespaces = ( { name = \"default\"; read = [ \"*\" ]; },\n"
                       "               { name = \"team-a\"; read = [ \"*\" ]; } );\n";
    ck_assert_int_eq(cs_config_load_string(text, "route.conf", &cfg, &errs), CS_OK);
}

static void teardown(void)
{
    cs_config_free(cfg);
    cs_config_errors_clear(&errs);
}

START_TEST(objects)
{
    struct cs_route r;
    char reason[256];

    ck_assert_int_eq(cs_route_parse(cfg, "/default/ab/cdef", &r, reason, sizeof reason), CS_OK);
    ck_assert_int_eq(r.kind, CS_ROUTE_OBJECT);
    ck_assert_str_eq(r.ns->name, "default");
    ck_assert_str_eq(r.key, "ab/cdef");
    ck_assert_uint_eq(r.key_len, 7);
    ck_assert_int_eq(cs_route_parse(cfg, "/team-a/a%20b/c+d", &r, reason, sizeof reason), CS_OK);
    ck_assert_str_eq(r.ns->name, "team-a");
    ck_assert_str_eq(r.key, "a b/c+d");
}
END_TEST

START_TEST(admin)
{
    struct cs_route r;
    char reason[256];

    ck_assert_int_eq(cs_route_parse(cfg, "/_/health", &r, reason, sizeof reason), CS_OK);
    ck_assert_int_eq(r.kind, CS_ROUTE_ADMIN);
    ck_assert_str_eq(r.admin, "health");
    ck_assert_ptr_null(r.ns);
    ck_assert_int_eq(cs_route_parse(cfg, "/_", &r, reason, sizeof reason), CS_OK);
    ck_assert_str_eq(r.admin, "");
}
END_TEST

START_TEST(errors)
{
    struct cs_route r;
    char reason[256];

    ck_assert_int_eq(cs_route_parse(cfg, "/nope/key", &r, reason, sizeof reason), CS_ERR_NOT_FOUND);
    ck_assert_str_eq(reason, "unknown namespace 'nope'");
    ck_assert_ptr_null(r.ns);
    /* a hostile name is not echoed back */
    ck_assert_int_eq(cs_route_parse(cfg, "/%0d%0a/key", &r, reason, sizeof reason),
                     CS_ERR_NOT_FOUND);
    ck_assert_str_eq(reason, "unknown namespace");
    ck_assert_int_eq(cs_route_parse(cfg, "/", &r, reason, sizeof reason), CS_ERR_NOT_FOUND);
    /* the namespace root and trailing slashes name collections (WebDAV) */
    ck_assert_int_eq(cs_route_parse(cfg, "/default", &r, reason, sizeof reason), CS_OK);
    ck_assert(r.collection);
    ck_assert_uint_eq(r.key_len, 0);
    ck_assert_int_eq(cs_route_parse(cfg, "/default/", &r, reason, sizeof reason), CS_OK);
    ck_assert(r.collection);
    ck_assert_uint_eq(r.key_len, 0);
    ck_assert_int_eq(cs_route_parse(cfg, "/default/a/b%20c/", &r, reason, sizeof reason), CS_OK);
    ck_assert(r.collection);
    ck_assert_str_eq(r.key, "a/b c");
    ck_assert_int_eq(cs_route_parse(cfg, "/default/a//", &r, reason, sizeof reason),
                     CS_ERR_BAD_KEY);
    ck_assert_int_eq(cs_route_parse(cfg, "/default//", &r, reason, sizeof reason), CS_ERR_BAD_KEY);
    ck_assert_int_eq(cs_route_parse(cfg, "*", &r, reason, sizeof reason), CS_ERR_BAD_KEY);
    ck_assert_int_eq(r.kind, CS_ROUTE_OBJECT);
    ck_assert_ptr_null(r.ns);
    ck_assert_int_eq(cs_route_parse(cfg, "/default/a/../b", &r, reason, sizeof reason),
                     CS_ERR_BAD_KEY);
    ck_assert_str_eq(reason, "key contains a '.' or '..' segment");
}
END_TEST

static bool v4_loopback(const char *text)
{
    struct sockaddr_in in = {.sin_family = AF_INET};

    ck_assert_int_eq(inet_pton(AF_INET, text, &in.sin_addr), 1);
    return cs_addr_is_loopback((const struct sockaddr *)&in);
}

static bool v6_loopback(const char *text)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

    ck_assert_int_eq(inet_pton(AF_INET6, text, &in6.sin6_addr), 1);
    return cs_addr_is_loopback((const struct sockaddr *)&in6);
}

/* /_/ns/<name> purges are taken from this host only: which addresses count. */
START_TEST(loopback_addresses)
{
    ck_assert(v4_loopback("127.0.0.1"));
    ck_assert(v4_loopback("127.255.0.9"));
    ck_assert(!v4_loopback("128.0.0.1"));
    ck_assert(!v4_loopback("10.0.0.1"));
    ck_assert(!v4_loopback("0.0.0.0"));
    ck_assert(v6_loopback("::1"));
    ck_assert(v6_loopback("::ffff:127.0.0.1"));
    ck_assert(!v6_loopback("::ffff:192.168.1.1"));
    ck_assert(!v6_loopback("fe80::1"));
    ck_assert(!v6_loopback("::"));
    ck_assert(!cs_addr_is_loopback(NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("route");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, objects);
    tcase_add_test(tc, admin);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, loopback_addresses);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
