/* Credential verification, its cache, and policy snapshots across reloads. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "server/auth.h"
#include "server/auth_limit.h"
#include "server/live.h"
#include "tests/unit/check_main.h"

static struct cs_config *load(const char *extra)
{
    struct cs_config_errors errs = {0};
    struct cs_config *cfg = NULL;
    char *hash = cs_auth_hash_password("pw");
    uint8_t t[CS_SHA256_LEN];
    char hex[CS_SHA256_HEX_LEN + 1], *text;
    const void *parts[] = {"tok"};
    size_t lens[] = {3};

    ck_assert_ptr_nonnull(hash);
    cs_sha256_parts(parts, lens, 1, t);
    cs_hex_encode(t, CS_SHA256_LEN, hex);
    ck_assert_int_ge(asprintf(&text,
                              "users = ( { name = \"u\"; password_hash = \"%s\"; },\n"
                              "          { name = \"t\"; token_sha256 = \"%s\"; } );\n"
                              "%s\nnamespaces = ( { name = \"n\"; read = [ \"u\" ]; } );\n",
                              hash, hex, extra),
                     0);
    ck_assert_int_eq(cs_config_load_string(text, "a.conf", &cfg, &errs), CS_OK);
    free(text);
    free(hash);
    return cfg;
}

static enum cs_auth_result check(struct cs_auth *a, enum cs_cred_scheme scheme, const char *user,
                                 const char *secret, int *uid)
{
    struct cs_credentials c = {.scheme = scheme};

    snprintf(c.user, sizeof c.user, "%s", user);
    snprintf(c.secret, sizeof c.secret, "%s", secret);
    c.secret_len = strlen(secret);
    return cs_auth_verify(a, &c, uid);
}

START_TEST(basic_password_is_hashed_once)
{
    struct cs_config *cfg = load("");
    struct cs_auth *a = NULL;
    int uid = -5, i;

    ck_assert_int_eq(cs_auth_new(cfg, &a), CS_OK);
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "u", "pw", &uid), CS_AUTH_OK);
    ck_assert_int_eq(uid, 0);
    ck_assert_uint_eq(cs_auth_hash_checks(a), 1);
    for (i = 0; i < 100; i++)
        ck_assert_int_eq(check(a, CS_CRED_BASIC, "u", "pw", &uid), CS_AUTH_OK);
    ck_assert_uint_eq(cs_auth_hash_checks(a), 1); /* all from the cache */
    /* a wrong password is never cached (issue 15.13: each distinct one took
     * a slot): it costs a hash each time, which the server limits per
     * client address */
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "u", "pW", &uid), CS_AUTH_DENIED);
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "u", "pW", &uid), CS_AUTH_DENIED);
    ck_assert_uint_eq(cs_auth_hash_checks(a), 3);
    /* an unknown user costs a hash too (no probing for names by timing) */
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "x", "pw", &uid), CS_AUTH_DENIED);
    ck_assert_uint_eq(cs_auth_hash_checks(a), 4);
    /* the cached entry is per (user, password): another user with u's password fails */
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "t", "pw", &uid), CS_AUTH_DENIED);
    cs_auth_free(a);
    cs_config_free(cfg);
}
END_TEST

/* Wrong secrets never enter the verification cache: a flood of distinct
 * wrong passwords leaves a verified one cached (it used to push it out). */
START_TEST(wrong_passwords_never_cached)
{
    struct cs_config *cfg = load("auth_cache_entries = 4;"); /* one set of 4 ways */
    struct cs_auth *a = NULL;
    struct cs_credentials c = {.scheme = CS_CRED_BASIC};
    char pw[32];
    int uid = -5, i;

    ck_assert_int_eq(cs_auth_new(cfg, &a), CS_OK);
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "u", "pw", &uid), CS_AUTH_OK);
    for (i = 0; i < 20; i++) {
        snprintf(pw, sizeof pw, "wrong-%d", i);
        ck_assert_int_eq(check(a, CS_CRED_BASIC, "u", pw, &uid), CS_AUTH_DENIED);
    }
    snprintf(c.user, sizeof c.user, "u");
    snprintf(c.secret, sizeof c.secret, "pw");
    c.secret_len = 2;
    ck_assert_int_eq(cs_auth_lookup(a, &c, &uid), CS_AUTH_OK); /* still cached: no hash */
    snprintf(c.secret, sizeof c.secret, "wrong-0");
    c.secret_len = strlen(c.secret);
    ck_assert_int_eq(cs_auth_lookup(a, &c, &uid), CS_AUTH_SLOW); /* not remembered */
    cs_auth_free(a);
    cs_config_free(cfg);
}
END_TEST

/* The per-address budget of failed hashes: 3 a minute here. */
START_TEST(failure_budget_per_address)
{
    struct cs_auth_limit *l = NULL;
    struct sockaddr_in one = {.sin_family = AF_INET}, two = {.sin_family = AF_INET};
    struct sockaddr_in6 v6a = {.sin6_family = AF_INET6}, v6b = {.sin6_family = AF_INET6};
    unsigned retry = 0;
    int i;

    one.sin_addr.s_addr = htonl(0x7f000001);
    two.sin_addr.s_addr = htonl(0x7f000002);
    inet_pton(AF_INET6, "2001:db8::1", &v6a.sin6_addr);
    inet_pton(AF_INET6, "2001:db8::ffff:1", &v6b.sin6_addr); /* the same /64 */
    ck_assert_int_eq(cs_auth_limit_new(3, &l), CS_OK);
    for (i = 0; i < 3; i++) {
        ck_assert(cs_auth_limit_begin(l, (struct sockaddr *)&one, &retry));
        cs_auth_limit_end(l, (struct sockaddr *)&one, CS_AUTH_LIMIT_WRONG);
    }
    ck_assert(!cs_auth_limit_begin(l, (struct sockaddr *)&one, &retry));
    ck_assert_uint_ge(retry, 1);
    ck_assert_uint_le(retry, 21); /* one failure back every 20 s */
    ck_assert(cs_auth_limit_begin(l, (struct sockaddr *)&two, &retry)); /* others unaffected */
    cs_auth_limit_end(l, (struct sockaddr *)&two, CS_AUTH_LIMIT_RIGHT);
    for (i = 0; i < 3; i++) {
        ck_assert(cs_auth_limit_begin(l, (struct sockaddr *)&v6a, &retry));
        cs_auth_limit_end(l, (struct sockaddr *)&v6a, CS_AUTH_LIMIT_WRONG);
    }
    ck_assert(!cs_auth_limit_begin(l, (struct sockaddr *)&v6b, &retry));
    ck_assert(cs_auth_limit_begin(l, NULL, &retry));
    ck_assert_uint_eq(cs_auth_limit_failures(l), 6);
    ck_assert_uint_eq(cs_auth_limit_refused(l), 2);
    cs_auth_limit_free(l);
}
END_TEST

/* Hashes that run at once spend the budget before any of them fails: a
 * burst of wrong passwords from one address in the worker pool was all
 * hashed (200 of 200) before the first failure counted. */
START_TEST(hashes_in_flight_spend_the_budget)
{
    struct cs_auth_limit *l = NULL;
    struct sockaddr_in one = {.sin_family = AF_INET};
    unsigned retry = 0;
    int i;

    one.sin_addr.s_addr = htonl(0x7f000001);
    ck_assert_int_eq(cs_auth_limit_new(3, &l), CS_OK);
    for (i = 0; i < 3; i++) /* three in flight, none done */
        ck_assert(cs_auth_limit_begin(l, (struct sockaddr *)&one, &retry));
    ck_assert(!cs_auth_limit_begin(l, (struct sockaddr *)&one, &retry));
    cs_auth_limit_end(l, (struct sockaddr *)&one, CS_AUTH_LIMIT_RIGHT); /* gives back */
    ck_assert(cs_auth_limit_begin(l, (struct sockaddr *)&one, &retry));
    ck_assert(!cs_auth_limit_begin(l, (struct sockaddr *)&one, &retry));
    ck_assert(!cs_auth_limit_allow(l, (struct sockaddr *)&one, &retry)); /* takes nothing */
    ck_assert_uint_eq(cs_auth_limit_failures(l), 0);
    cs_auth_limit_free(l);
}
END_TEST

START_TEST(tokens)
{
    struct cs_config *cfg = load("");
    struct cs_auth *a = NULL;
    int uid = -5;

    ck_assert_int_eq(cs_auth_new(cfg, &a), CS_OK);
    ck_assert_int_eq(check(a, CS_CRED_BEARER, "", "tok", &uid), CS_AUTH_OK);
    ck_assert_int_eq(uid, 1);
    ck_assert_int_eq(check(a, CS_CRED_BEARER, "", "tok2", &uid), CS_AUTH_DENIED);
    /* the token as the Basic password of its own user, not of another */
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "t", "tok", &uid), CS_AUTH_OK);
    ck_assert_int_eq(uid, 1);
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "u", "tok", &uid), CS_AUTH_DENIED);
    ck_assert_int_eq(check(a, CS_CRED_NONE, "", "", &uid), CS_AUTH_ANONYMOUS);
    ck_assert_uint_eq(cs_auth_hash_checks(a), 1); /* only u's password hash */
    cs_auth_free(a);
    cs_config_free(cfg);
}
END_TEST

START_TEST(cache_can_be_off)
{
    struct cs_config *cfg = load("auth_cache_entries = 0;");
    struct cs_auth *a = NULL;
    int uid;

    ck_assert_int_eq(cs_auth_new(cfg, &a), CS_OK);
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "u", "pw", &uid), CS_AUTH_OK);
    ck_assert_int_eq(check(a, CS_CRED_BASIC, "u", "pw", &uid), CS_AUTH_OK);
    ck_assert_uint_eq(cs_auth_hash_checks(a), 2);
    cs_auth_free(a);
    cs_config_free(cfg);
}
END_TEST

/* A request keeps the policy it entered with; the old one is freed only
 * after it leaves, and a second publish waits for that. */
START_TEST(live_grace_period)
{
    struct cs_policy *p1 = NULL, *p2 = NULL, *p3 = NULL;
    const struct cs_policy *seen;
    struct cs_live live;
    unsigned t1, t2;

    ck_assert_int_eq(cs_policy_new(load(""), &p1), CS_OK);
    ck_assert_int_eq(cs_policy_new(load(""), &p2), CS_OK);
    ck_assert_int_eq(cs_policy_new(load(""), &p3), CS_OK);
    cs_live_init(&live, p1);
    seen = cs_live_enter(&live, &t1);
    ck_assert_ptr_eq(seen, p1);
    ck_assert(cs_live_publish(&live, p2));
    ck_assert_ptr_eq(live.retired, p1); /* still held by the request */
    ck_assert(!cs_live_reclaim(&live));
    ck_assert(!cs_live_publish(&live, p3)); /* must wait */
    seen = cs_live_enter(&live, &t2);
    ck_assert_ptr_eq(seen, p2); /* new requests see the new policy */
    ck_assert_uint_eq(cs_live_active(&live), 2);
    cs_live_leave(&live, t1);
    ck_assert(cs_live_reclaim(&live));     /* p1 freed */
    ck_assert(cs_live_publish(&live, p3)); /* p2 retires, held by t2 */
    ck_assert(!cs_live_reclaim(&live));
    cs_live_leave(&live, t2);
    ck_assert(cs_live_reclaim(&live));
    ck_assert_uint_eq(cs_live_active(&live), 0);
    cs_live_destroy(&live);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, basic_password_is_hashed_once);
    tcase_add_test(tc, wrong_passwords_never_cached);
    tcase_add_test(tc, failure_budget_per_address);
    tcase_add_test(tc, hashes_in_flight_spend_the_budget);
    tcase_add_test(tc, tokens);
    tcase_add_test(tc, cache_can_be_off);
    tcase_add_test(tc, live_grace_period);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
