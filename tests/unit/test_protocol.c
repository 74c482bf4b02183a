/* Parsers of outside input for the protocols: base64 in both alphabets,
 * Authorization, PROPFIND bodies, Destination headers, href encoding. */
#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "server/credentials.h"
#include "server/destination.h"
#include "server/propfind.h"
#include "tests/unit/check_main.h"

static struct cs_config *cfg;
static struct cs_config_errors errs;

static void setup(void)
{
    const char *text = "namespaces = ( { name = \"default\"; read = [ \"*\" ]; },\n"
                       "               { name = \"team-a\"; read = [ \"*\" ]; } );\n";
    ck_assert_int_eq(cs_config_load_string(text, "protocol.conf", &cfg, &errs), CS_OK);
}

static void teardown(void)
{
    cs_config_free(cfg);
    cs_config_errors_clear(&errs);
}

static const char *decode(const char *in)
{
    static char out[256];
    size_t n;

    if (!cs_base64_decode(in, strlen(in), (uint8_t *)out, sizeof out - 1, &n))
        return NULL;
    out[n] = '\0';
    return out;
}

START_TEST(base64_both_alphabets)
{
    /* "?\?>" encodes to "Pz8+" (standard) and "Pz8-" (URL-safe) */
    ck_assert_str_eq(decode("Pz8+"), "?\?>");
    ck_assert_str_eq(decode("Pz8-"), "?\?>");
    ck_assert_str_eq(decode("Pz8/"), "?\?\x3f");
    ck_assert_str_eq(decode("Pz8_"), "?\?\x3f");
    ck_assert_str_eq(decode("dXNlcjpwYXNz"), "user:pass");
    ck_assert_str_eq(decode("YQ=="), "a");
    ck_assert_str_eq(decode("YQ"), "a"); /* unpadded, as some clients send */
    ck_assert_str_eq(decode(""), "");
    ck_assert_ptr_null(decode("Y"));   /* one leftover character */
    ck_assert_ptr_null(decode("YQ=")); /* padding without a full quantum */
    ck_assert_ptr_null(decode("Y==="));
    ck_assert_ptr_null(decode("YR=="));     /* non-zero leftover bits */
    ck_assert_ptr_null(decode("Pz8+Pz8_")); /* mixed alphabets */
    ck_assert_ptr_null(decode("dXN lcg=="));
    ck_assert_ptr_null(decode("dXN\nlcg=="));
}
END_TEST

START_TEST(authorization)
{
    struct cs_credentials c;
    const char *why = NULL;

    ck_assert_int_eq(cs_credentials_parse(NULL, &c, &why), CS_OK);
    ck_assert_int_eq(c.scheme, CS_CRED_NONE);
    ck_assert_int_eq(cs_credentials_parse("Basic dXNlcjpwYXNz", &c, &why), CS_OK);
    ck_assert_int_eq(c.scheme, CS_CRED_BASIC);
    ck_assert_str_eq(c.user, "user");
    ck_assert_str_eq(c.secret, "pass");
    /* Bazel: URL-safe alphabet; "ci:a>b?c" → "Y2k6YT5iP2M=" / "Y2k6YT5iP2M" */
    ck_assert_int_eq(cs_credentials_parse("basic Y2k6YT5iP2M=", &c, &why), CS_OK);
    ck_assert_str_eq(c.secret, "a>b?c");
    ck_assert_int_eq(cs_credentials_parse("Basic Pz8+Pz8_OnA=", &c, &why), CS_ERR_INVALID);
    ck_assert_int_eq(cs_credentials_parse("Basic Pz8-Pz8-OnA", &c, &why), CS_OK);
    ck_assert_str_eq(c.user, "?\?>?\?>");
    ck_assert_str_eq(c.secret, "p");
    /* password with a colon: only the first colon separates */
    ck_assert_int_eq(cs_credentials_parse("Basic dTpwOnE=", &c, &why), CS_OK);
    ck_assert_str_eq(c.user, "u");
    ck_assert_str_eq(c.secret, "p:q");
    ck_assert_int_eq(cs_credentials_parse("Basic bm9jb2xvbg==", &c, &why), CS_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(why, "':'"));
    ck_assert_int_eq(cs_credentials_parse("Basic !!!", &c, &why), CS_ERR_INVALID);
    ck_assert_int_eq(cs_credentials_parse("Bearer  tok-123.abc ", &c, &why), CS_OK);
    ck_assert_int_eq(c.scheme, CS_CRED_BEARER);
    ck_assert_str_eq(c.secret, "tok-123.abc");
    ck_assert_int_eq(cs_credentials_parse("Bearer a b", &c, &why), CS_ERR_INVALID);
    ck_assert_int_eq(cs_credentials_parse("Bearer ", &c, &why), CS_ERR_INVALID);
    ck_assert_int_eq(cs_credentials_parse("Digest x", &c, &why), CS_ERR_INVALID);
    ck_assert_int_eq(cs_credentials_parse("Basicx", &c, &why), CS_ERR_INVALID);
    cs_credentials_clear(&c);
    ck_assert_int_eq(c.secret[0], 0);
}
END_TEST

START_TEST(propfind_bodies)
{
    struct cs_propfind_request r;
    char why[256];

    ck_assert_int_eq(cs_propfind_parse("", 0, &r, why, sizeof why), CS_OK);
    ck_assert_int_eq(r.kind, CS_PROPFIND_ALLPROP);
    const char *all =
        "<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>";
    ck_assert_int_eq(cs_propfind_parse(all, strlen(all), &r, why, sizeof why), CS_OK);
    ck_assert_int_eq(r.kind, CS_PROPFIND_ALLPROP);
    const char *names = "<propfind xmlns=\"DAV:\"><propname/></propfind>";
    ck_assert_int_eq(cs_propfind_parse(names, strlen(names), &r, why, sizeof why), CS_OK);
    ck_assert_int_eq(r.kind, CS_PROPFIND_PROPNAME);
    const char *prop = "<d:propfind xmlns:d=\"DAV:\" xmlns:o=\"urn:o\"><d:prop>"
                       "<d:getetag/><o:checksums/></d:prop></d:propfind>";
    ck_assert_int_eq(cs_propfind_parse(prop, strlen(prop), &r, why, sizeof why), CS_OK);
    ck_assert_int_eq(r.kind, CS_PROPFIND_PROP);
    ck_assert_uint_eq(r.n_props, 2);
    ck_assert_str_eq(r.props[0].ns, "DAV:");
    ck_assert_str_eq(r.props[0].name, "getetag");
    ck_assert_str_eq(r.props[1].ns, "urn:o");
    const char *bad[] = {
        "<D:propfind xmlns:D=\"DAV:\">",                    /* unclosed */
        "<propfind><allprop/></propfind>",                  /* not in DAV: */
        "<D:propfind xmlns:D=\"DAV:\"><D:x/></D:propfind>", /* unknown kind */
        "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",       /* DTD */
        "garbage",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(cs_propfind_parse(bad[i], strlen(bad[i]), &r, why, sizeof why) ==
                          CS_ERR_INVALID,
                      "accepted: %s", bad[i]);
}
END_TEST

START_TEST(destinations)
{
    struct cs_route src, dst;
    char why[256];

    ck_assert_int_eq(cs_route_parse(cfg, "/default/a/b", &src, why, sizeof why), CS_OK);
    ck_assert_int_eq(
        cs_destination_parse(cfg, "http://h:1/default/x%20y", "h:1", &src, &dst, why, sizeof why),
        CS_OK);
    ck_assert_str_eq(dst.key, "x y");
    ck_assert_int_eq(cs_destination_parse(cfg, "/default/c/", "h:1", &src, &dst, why, sizeof why),
                     CS_OK);
    ck_assert(dst.collection);
    ck_assert_int_eq(
        cs_destination_parse(cfg, "HTTPS://H:1/default/q?x#y", "h:1", &src, &dst, why, sizeof why),
        CS_OK);
    ck_assert_str_eq(dst.key, "q");
    ck_assert_int_eq(
        cs_destination_parse(cfg, "http://evil/default/x", "h:1", &src, &dst, why, sizeof why),
        CS_ERR_CONFLICT);
    ck_assert_int_eq(
        cs_destination_parse(cfg, "http://h:1/team-a/x", "h:1", &src, &dst, why, sizeof why),
        CS_ERR_PERM);
    ck_assert_int_eq(cs_destination_parse(cfg, "/nope/x", "h:1", &src, &dst, why, sizeof why),
                     CS_ERR_PERM);
    ck_assert_int_eq(cs_destination_parse(cfg, "/_/health", "h:1", &src, &dst, why, sizeof why),
                     CS_ERR_PERM);
    ck_assert_int_eq(cs_destination_parse(cfg, "/default/", "h:1", &src, &dst, why, sizeof why),
                     CS_ERR_PERM);
    ck_assert_int_eq(
        cs_destination_parse(cfg, "/default/a/../../team-a/x", "h:1", &src, &dst, why, sizeof why),
        CS_ERR_INVALID);
    ck_assert_int_eq(
        cs_destination_parse(cfg, "/default/%2e%2e/x", "h:1", &src, &dst, why, sizeof why),
        CS_ERR_INVALID);
    ck_assert_int_eq(
        cs_destination_parse(cfg, "file:///etc/passwd", "h:1", &src, &dst, why, sizeof why),
        CS_ERR_INVALID);
    ck_assert_int_eq(cs_destination_parse(cfg, NULL, "h:1", &src, &dst, why, sizeof why),
                     CS_ERR_INVALID);
    ck_assert_int_eq(
        cs_destination_parse(cfg, "http://h:1/default/x", NULL, &src, &dst, why, sizeof why),
        CS_ERR_CONFLICT);
}
END_TEST

START_TEST(hrefs)
{
    struct cs_buf b;

    cs_buf_init(&b, 1024);
    cs_href_encode(&b, "a b/é+%~_.-", strlen("a b/é+%~_.-"));
    ck_assert_str_eq(b.data, "a%20b/%C3%A9%2B%25~_.-");
    cs_buf_free(&b);
    cs_buf_init(&b, 8);
    cs_buf_add(&b, "0123456789", 10);
    ck_assert(b.overflow);
    cs_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("protocol");
    TCase *tc = tcase_create("protocol");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, base64_both_alphabets);
    tcase_add_test(tc, authorization);
    tcase_add_test(tc, propfind_bodies);
    tcase_add_test(tc, destinations);
    tcase_add_test(tc, hrefs);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
