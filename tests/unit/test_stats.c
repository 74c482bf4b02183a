/* Request counters (kinds, duration buckets, refusals), the protocol kind
 * of a key, and the history ring the status page draws. */
#include "autoconfig.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/history.h"
#include "server/route.h"
#include "server/stats.h"
#include "tests/unit/check_main.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX32 "0123456789abcdef0123456789abcdef"

static enum cs_proto proto(const char *key)
{
    return cs_route_proto(key, strlen(key));
}

START_TEST(kinds_of_keys)
{
    ck_assert_int_eq(proto("ac/" HEX64), CS_PROTO_AC);
    ck_assert_int_eq(proto("build/ac/" HEX64), CS_PROTO_AC);
    ck_assert_int_eq(proto("cas/" HEX64), CS_PROTO_CAS);
    ck_assert_int_eq(proto("x/cas/" HEX64), CS_PROTO_CAS);
    ck_assert_int_eq(proto("xac/" HEX64), CS_PROTO_OTHER);    /* not a segment */
    ck_assert_int_eq(proto("ac/" HEX64 "0"), CS_PROTO_OTHER); /* 65 digits */
    ck_assert_int_eq(proto("cas/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
                     CS_PROTO_OTHER); /* upper case is not Bazel's */
    ck_assert_int_eq(proto(HEX32), CS_PROTO_GRADLE);
    ck_assert_int_eq(proto("gradle/" HEX32), CS_PROTO_GRADLE);
    ck_assert_int_eq(proto("0/1/2/" HEX64), CS_PROTO_WEBDAV);
    ck_assert_int_eq(proto("root/0/1/2/012xyz"), CS_PROTO_WEBDAV);
    ck_assert_int_eq(proto("0/1/3/" HEX64), CS_PROTO_OTHER); /* not the name's start */
    ck_assert_int_eq(proto("ab/cdef0123456789abcdef0123456789abcde"), CS_PROTO_OTHER); /* ccache */
    ck_assert_int_eq(proto("x"), CS_PROTO_OTHER);
    ck_assert_int_eq(proto(""), CS_PROTO_OTHER);
    ck_assert_str_eq(cs_proto_name(CS_PROTO_CAS), "cas");
    ck_assert_str_eq(cs_proto_name(CS_PROTO_OTHER), "other");
}
END_TEST

START_TEST(lookups_by_kind)
{
    struct cs_stats *s;
    struct cs_stats_ns f;

    ck_assert_int_eq(cs_stats_new(2, &s), CS_OK);
    cs_stats_lookup(s, 1, CS_PROTO_AC, true);
    cs_stats_lookup(s, 1, CS_PROTO_AC, false);
    cs_stats_lookup(s, 1, CS_PROTO_CAS, true);
    cs_stats_lookup(s, 1, CS_PROTO_COUNT, true); /* ignored */
    cs_stats_lookup(s, 2, CS_PROTO_AC, true);    /* no such slot: ignored */
    cs_stats_sum_ns(s, 1, &f);
    ck_assert_uint_eq(f.c[CS_STAT_HITS], 2);
    ck_assert_uint_eq(f.c[CS_STAT_MISSES], 1);
    ck_assert_uint_eq(f.kind_hits[CS_PROTO_AC], 1);
    ck_assert_uint_eq(f.kind_misses[CS_PROTO_AC], 1);
    ck_assert_uint_eq(f.kind_hits[CS_PROTO_CAS], 1);
    cs_stats_sum_ns(s, 0, &f);
    ck_assert_uint_eq(f.c[CS_STAT_HITS], 0);
    cs_stats_free(s);
}
END_TEST

START_TEST(duration_buckets)
{
    struct cs_stats *s;
    struct cs_stats_ns f;
    uint64_t r[CS_REFUSED_COUNT];

    ck_assert_int_eq(cs_stats_new(1, &s), CS_OK);
    cs_stats_request(s, 0, CS_SM_GET, 0, 200);        /* first bucket */
    cs_stats_request(s, 0, CS_SM_GET, 100, 200);      /* le is inclusive */
    cs_stats_request(s, 0, CS_SM_GET, 101, 404);      /* second */
    cs_stats_request(s, 0, CS_SM_PUT, 99000000, 507); /* over the last bound */
    cs_stats_request(s, CS_STATS_NO_NS, CS_SM_GET, 5, 401);
    cs_stats_request(s, 0, CS_SM_HEAD, 5, 403);
    cs_stats_sum_ns(s, 0, &f);
    ck_assert_uint_eq(f.dur[CS_SM_GET][0], 2);
    ck_assert_uint_eq(f.dur[CS_SM_GET][1], 1);
    ck_assert_uint_eq(f.dur_count[CS_SM_GET], 3);
    ck_assert_uint_eq(f.dur_sum_us[CS_SM_GET], 201);
    ck_assert_uint_eq(f.dur[CS_SM_PUT][CS_STAT_BUCKETS], 1);
    ck_assert_uint_eq(f.requests, 5); /* the one of no namespace is not its */
    cs_stats_refused(s, r);
    ck_assert_uint_eq(r[CS_REFUSED_401], 1);
    ck_assert_uint_eq(r[CS_REFUSED_403], 1);
    ck_assert_uint_eq(r[CS_REFUSED_413], 0);
    ck_assert_uint_eq(r[CS_REFUSED_507], 1);
    ck_assert_uint_eq(cs_refusal_status(CS_REFUSED_429), 429);
    cs_stats_free(s);
}
END_TEST

static void *count_in_thread(void *arg)
{
    int i;

    for (i = 0; i < 1000; i++)
        cs_stats_request(arg, 0, CS_SM_GET, 300, 200);
    return NULL;
}

START_TEST(threads_sum)
{
    struct cs_stats *s;
    struct cs_stats_ns f;
    pthread_t t[4];
    int i;

    ck_assert_int_eq(cs_stats_new(1, &s), CS_OK);
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, count_in_thread, s), 0);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cs_stats_sum_ns(s, 0, &f);
    ck_assert_uint_eq(f.dur_count[CS_SM_GET], 4000);
    ck_assert_uint_eq(f.dur[CS_SM_GET][2], 4000); /* 300 us: le 500 us */
    cs_stats_free(s);
}
END_TEST

/* The figures the history reads: per slot, set by the test. */
static struct cs_history_point now_points[2];

static void read_points(void *arg, size_t slot, struct cs_history_point *out)
{
    (void)arg;
    *out = now_points[slot];
}

START_TEST(history_deltas)
{
    struct cs_history *h;
    struct cs_history_sample out[4];

    memset(now_points, 0, sizeof now_points);
    ck_assert_int_eq(cs_history_new(2, 60, 1000, &h), CS_OK);
    ck_assert_uint_eq(cs_history_interval(h), 60);
    ck_assert(!cs_history_tick(h, 60999, 100, read_points, NULL)); /* not due */
    now_points[1] = (struct cs_history_point){.requests = 10,
                                              .hits = 7,
                                              .misses = 3,
                                              .puts = 2,
                                              .bytes_in = 500,
                                              .bytes_out = 7000,
                                              .objects = 2,
                                              .bytes = 8192};
    ck_assert(cs_history_tick(h, 61000, 160, read_points, NULL));
    now_points[1].hits = 9;
    now_points[1].evictions = 1;
    now_points[1].objects = 1;
    ck_assert(cs_history_tick(h, 121000, 220, read_points, NULL));
    ck_assert_uint_eq(cs_history_read(h, 1, out, 4), 2);
    ck_assert_uint_eq(out[0].t, 160);
    ck_assert_uint_eq(out[0].dt, 60);
    ck_assert_uint_eq(out[0].hits, 7);
    ck_assert_uint_eq(out[0].requests, 10);
    ck_assert_uint_eq(out[0].bytes_out, 7000);
    ck_assert_uint_eq(out[0].objects, 2);
    ck_assert_uint_eq(out[1].hits, 2); /* what the interval added */
    ck_assert_uint_eq(out[1].misses, 0);
    ck_assert_uint_eq(out[1].evictions, 1);
    ck_assert_uint_eq(out[1].objects, 1); /* a gauge: as it is */
    ck_assert_uint_eq(cs_history_read(h, 0, out, 4), 2);
    ck_assert_uint_eq(out[1].hits, 0);
    ck_assert_uint_eq(cs_history_read(h, 2, out, 4), 0); /* no such slot */
    /* late by more than an interval: one longer sample, then on time again */
    ck_assert(cs_history_tick(h, 400000, 500, read_points, NULL));
    ck_assert_uint_eq(cs_history_read(h, 1, out, 4), 3);
    ck_assert_uint_eq(out[2].dt, 279);
    ck_assert(!cs_history_tick(h, 459999, 559, read_points, NULL));
    ck_assert(cs_history_tick(h, 460000, 560, read_points, NULL));
    cs_history_free(h);
}
END_TEST

START_TEST(history_ring_is_bounded)
{
    struct cs_history *h;
    struct cs_history_sample *out = calloc(CS_HISTORY_SAMPLES + 1, sizeof *out);
    int64_t t = 0;
    size_t i, n;

    ck_assert_ptr_nonnull(out);
    memset(now_points, 0, sizeof now_points);
    ck_assert_int_eq(cs_history_new(1, 1, 0, &h), CS_OK);
    for (i = 0; i < CS_HISTORY_SAMPLES + 10; i++) {
        t += 1000;
        now_points[0].puts = i + 1;
        now_points[0].objects = i;
        ck_assert(cs_history_tick(h, t, (uint32_t)i, read_points, NULL));
    }
    n = cs_history_read(h, 0, out, CS_HISTORY_SAMPLES + 1);
    ck_assert_uint_eq(n, CS_HISTORY_SAMPLES);
    ck_assert_uint_eq(out[0].t, 10); /* the oldest ten are gone */
    ck_assert_uint_eq(out[0].objects, 10);
    ck_assert_uint_eq(out[n - 1].t, CS_HISTORY_SAMPLES + 9);
    for (i = 0; i < n; i++)
        ck_assert_uint_eq(out[i].puts, 1);
    ck_assert_uint_eq(cs_history_read(h, 0, out, 3), 3); /* the newest three */
    ck_assert_uint_eq(out[2].t, CS_HISTORY_SAMPLES + 9);
    /* a counter that went back (never: but not a huge number either) */
    now_points[0].puts = 0;
    t += 1000;
    ck_assert(cs_history_tick(h, t, 9999, read_points, NULL));
    ck_assert_uint_eq(cs_history_read(h, 0, out, 1), 1);
    ck_assert_uint_eq(out[0].puts, 0);
    cs_history_free(h);
    free(out);
    ck_assert_int_eq(cs_history_new(1, 0, 0, &h), CS_ERR_INVALID);
    ck_assert_int_eq(cs_history_new(1, 3601, 0, &h), CS_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");

    tcase_add_test(tc, kinds_of_keys);
    tcase_add_test(tc, lookups_by_kind);
    tcase_add_test(tc, duration_buckets);
    tcase_add_test(tc, threads_sum);
    tcase_add_test(tc, history_deltas);
    tcase_add_test(tc, history_ring_is_bounded);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
