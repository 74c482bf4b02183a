/* The memory tier's cache (server/hot.c): bounded in bytes, least
 * recently used out first, a stale version never found, and a pinned copy
 * kept alive until its last unpin (ASan sees a use after free otherwise). */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/hot.h"
#include "tests/unit/check_main.h"

#define BODY 1000

static void name_of(unsigned i, uint8_t digest[CS_SHA256_LEN])
{
    memset(digest, 0, CS_SHA256_LEN);
    memcpy(digest + 2, &i, sizeof i); /* bytes the buckets use */
    digest[0] = (uint8_t)i;
}

static struct MHD_Response *response(unsigned i)
{
    char *body = malloc(BODY);
    struct MHD_Response *r;
    char tag[32];

    ck_assert_ptr_nonnull(body);
    memset(body, 'a' + (int)(i % 26), BODY);
    r = MHD_create_response_from_buffer(BODY, body, MHD_RESPMEM_MUST_FREE);
    ck_assert_ptr_nonnull(r);
    snprintf(tag, sizeof tag, "\"%u\"", i);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, tag);
    return r;
}

static void keep(struct cs_hot *h, unsigned i, unsigned version)
{
    uint8_t d[CS_SHA256_LEN];
    struct MHD_Response *r = response(i);
    struct cs_hot_ref *ref;

    name_of(i, d);
    ref = cs_hot_keep(h, d, version, r, BODY);
    ck_assert_ptr_nonnull(ref);
    cs_hot_unpin(ref);
}

static bool held(struct cs_hot *h, unsigned i, unsigned version)
{
    uint8_t d[CS_SHA256_LEN];
    struct MHD_Response *r;
    struct cs_hot_ref *ref;
    uint64_t size = 0;

    name_of(i, d);
    ref = cs_hot_find(h, d, version, &r, &size);
    if (ref) {
        ck_assert_uint_eq(size, BODY);
        cs_hot_unpin(ref);
    }
    return ref != NULL;
}

START_TEST(bounded_lru)
{
    struct cs_hot *h;
    struct cs_hot_stats st;
    unsigned i;

    /* room for 100 copies of 1000 + 768 bytes */
    ck_assert_int_eq(cs_hot_new(100 * 1768, 32 * 1024, &h), CS_OK);
    for (i = 0; i < 100; i++)
        keep(h, i, 7);
    ck_assert(held(h, 0, 7)); /* 0 is now the most recent */
    for (i = 100; i < 150; i++)
        keep(h, i, 7);
    cs_hot_stats(h, &st);
    ck_assert_uint_le(st.bytes, 100 * 1768);
    ck_assert_uint_eq(st.objects, 100);
    ck_assert(held(h, 0, 7));  /* used: kept */
    ck_assert(!held(h, 1, 7)); /* the least recently used went first */
    ck_assert(!held(h, 50, 7));
    ck_assert(held(h, 51, 7));
    ck_assert(held(h, 149, 7));
    cs_hot_free(h);
}
END_TEST

START_TEST(stale_versions)
{
    struct cs_hot *h;
    struct cs_hot_stats st;

    ck_assert_int_eq(cs_hot_new(1 << 20, 32 * 1024, &h), CS_OK);
    keep(h, 1, 3);
    ck_assert(!held(h, 1, 4)); /* the object changed: dropped */
    ck_assert(!held(h, 1, 3)); /* and gone for the old version too */
    cs_hot_stats(h, &st);
    ck_assert_uint_eq(st.stale, 1);
    ck_assert_uint_eq(st.objects, 0);
    keep(h, 1, 4);
    keep(h, 1, 5); /* a newer read replaces the copy */
    cs_hot_stats(h, &st);
    ck_assert_uint_eq(st.objects, 1);
    ck_assert(held(h, 1, 5));
    cs_hot_free(h);
}
END_TEST

START_TEST(too_large)
{
    struct cs_hot *h;
    uint8_t d[CS_SHA256_LEN];
    struct MHD_Response *r = response(9);

    ck_assert_int_eq(cs_hot_new(1 << 20, 500, &h), CS_OK);
    name_of(9, d);
    ck_assert_ptr_null(cs_hot_keep(h, d, 1, r, BODY)); /* over object_max: the caller's */
    MHD_destroy_response(r);
    cs_hot_free(h);
}
END_TEST

START_TEST(pinned_copy_outlives_its_eviction)
{
    struct cs_hot *h;
    uint8_t d[CS_SHA256_LEN];
    struct MHD_Response *r = response(0), *found;
    struct cs_hot_ref *kept, *again;
    uint64_t size;
    unsigned i;

    ck_assert_int_eq(cs_hot_new(10 * 1768, 32 * 1024, &h), CS_OK);
    name_of(0, d);
    kept = cs_hot_keep(h, d, 1, r, BODY); /* pinned: not yet queued */
    ck_assert_ptr_nonnull(kept);
    again = cs_hot_find(h, d, 1, &found, &size); /* a second request pins it too */
    ck_assert_ptr_nonnull(again);
    ck_assert_ptr_eq(found, r);
    for (i = 1; i < 40; i++) /* pushed out while pinned */
        keep(h, i, 1);
    ck_assert(!held(h, 0, 1));
    ck_assert_str_eq(MHD_get_response_header(r, MHD_HTTP_HEADER_ETAG), "\"0\"");
    cs_hot_unpin(kept);
    ck_assert_str_eq(MHD_get_response_header(r, MHD_HTTP_HEADER_ETAG), "\"0\"");
    cs_hot_unpin(again); /* freed here */
    cs_hot_unpin(NULL);
    cs_hot_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hot");
    TCase *tc = tcase_create("cache");

    tcase_add_test(tc, bounded_lru);
    tcase_add_test(tc, stale_versions);
    tcase_add_test(tc, too_large);
    tcase_add_test(tc, pinned_copy_outlives_its_eviction);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
