/* The disk backend's zstd at rest: round trips, CAS and quotas on the
 * compressed bytes, damage, and the decompression window's bound. */
#include "autoconfig.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/disk.h"
#include "storage/index.h"
#include "storage/zstd_io.h"
#include "tests/unit/check_main.h"
#include "tests/unit/disk_fixture.h"

/* Stores body (in chunks of step bytes) with compression at level. */
static enum cs_status put_zl(struct cs_backend *b, const struct cs_object_id *id,
                             const uint8_t *body, size_t len, size_t step, bool hint,
                             const uint8_t *expect, int level)
{
    struct cs_put_options opt = {
        .size_hint = hint ? len : 0, .compress_level = level, .expect_sha256 = expect};
    struct cs_upload *up;
    bool created;
    size_t at;
    enum cs_status st = b->ops->put_begin(b->state, id, &opt, &up);

    ck_assert_int_eq(st, CS_OK);
    for (at = 0; at < len; at += step) {
        size_t n = len - at < step ? len - at : step;
        ck_assert_int_eq(b->ops->put_write(up, body + at, n, 0), CS_OK);
    }
    return b->ops->put_commit(up, &created);
}

/* The same at level 3, the default. */
static enum cs_status put_z(struct cs_backend *b, const struct cs_object_id *id,
                            const uint8_t *body, size_t len, size_t step, bool hint,
                            const uint8_t *expect)
{
    return put_zl(b, id, body, len, step, hint, expect, 3);
}

/* Reads the object back both ways (streamed from the fd, and whole into
 * memory) and compares with body. Returns whether it is stored compressed. */
static bool check_z(struct cs_backend *b, const struct cs_object_id *id, const uint8_t *body,
                    size_t len)
{
    struct cs_object obj;
    struct cs_body_reader *r;
    uint8_t *got = malloc(len + 1);
    size_t at = 0;
    ssize_t n;
    bool z;

    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(b->ops->open(b->state, id, 0, 0, &obj), CS_OK);
    ck_assert_uint_eq(obj.size, len);
    z = obj.zstd;
    if (!z)
        ck_assert_uint_eq(obj.stored_size, len);
    ck_assert_int_eq(cs_body_reader_open(&obj, &r), CS_OK);
    while ((n = cs_body_reader_read(r, got + at, len + 1 - at)) > 0)
        at += (size_t)n;
    ck_assert_int_eq(n, 0);
    cs_body_reader_close(r);
    ck_assert_uint_eq(at, len);
    ck_assert(len == 0 || memcmp(got, body, len) == 0);
    free(got);
    ck_assert_int_eq(b->ops->open(b->state, id, len + 1, 0, &obj), CS_OK);
    ck_assert_int_eq(obj.fd, -1);
    ck_assert_uint_eq(obj.size, len);
    ck_assert(len == 0 || memcmp(obj.body, body, len) == 0);
    cs_object_release(&obj);
    return z;
}

/* Compressible text and random bytes, at sizes around the probe (128 KiB),
 * in several chunkings, with and without a size hint. */
START_TEST(zstd_round_trip)
{
    static const size_t sizes[] = {0, 10, 63, 64, 5000, 131071, 131072, 131073, 1000000};
    static const size_t steps[] = {1 << 20, 4096, 777};
    struct cs_backend b;
    struct cs_object_id id;
    char why[256];
    uint8_t *text = malloc(1000000), *rnd = malloc(1000000);
    size_t i, j, k;

    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(rnd);
    for (i = 0; i < 1000000; i++) {
        text[i] = (uint8_t)("int main(void) { return 0; }\n"[i % 29]);
        rnd[i] = (uint8_t)(random() >> 7);
    }
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (j = 0; j < sizeof steps / sizeof steps[0]; j++) {
            for (k = 0; k < 2; k++) {
                char key[64];
                snprintf(key, sizeof key, "z/%zu/%zu/%zu", i, j, k);
                cs_object_id_init(&id, "ns", key, strlen(key));
                ck_assert_int_eq(put_z(&b, &id, text, sizes[i], steps[j], k, NULL), CS_OK);
                /* text compresses from 64 bytes on; tiny bodies are kept plain */
                ck_assert(check_z(&b, &id, text, sizes[i]) == (sizes[i] >= 64));
                ck_assert_int_eq(put_z(&b, &id, rnd, sizes[i], steps[j], k, NULL), CS_OK);
                ck_assert(!check_z(&b, &id, rnd, sizes[i])); /* does not pay: plain */
            }
        }
    }
    b.ops->destroy(b.state);
    free(text);
    free(rnd);
}
END_TEST

/* The digest a CAS key names is checked on the raw bytes, and quotas
 * count what is on disk (the compressed size). */
START_TEST(zstd_cas_and_quota)
{
    struct cs_backend b;
    struct cs_object_id id;
    struct cs_object obj;
    struct stat st;
    char why[256], path[600], hex[CS_SHA256_HEX_LEN + 1];
    size_t len = 1000000, i;
    uint8_t *body = malloc(len), digest[CS_SHA256_LEN], wrong[CS_SHA256_LEN] = {1};
    const void *parts[1];
    struct cs_usage_ns *u;

    ck_assert_ptr_nonnull(body);
    for (i = 0; i < len; i++)
        body[i] = (uint8_t)('a' + i % 7);
    parts[0] = body;
    cs_sha256_parts(parts, &len, 1, digest);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "cas/one", 7);
    ck_assert_int_eq(put_z(&b, &id, body, len, 65536, true, digest), CS_OK);
    ck_assert(check_z(&b, &id, body, len));
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_OK);
    cs_object_release(&obj);
    ck_assert_int_eq(memcmp(obj.etag, digest, CS_SHA256_LEN), 0); /* ETag: raw bytes */
    ck_assert_uint_lt(obj.stored_size, len / 50);
    /* a wrong digest is refused and the stored object stays */
    ck_assert_int_eq(put_z(&b, &id, body, len, 65536, true, wrong), CS_ERR_DIGEST);
    ck_assert(check_z(&b, &id, body, len));
    /* quota: the namespace is charged the file's blocks, not the raw size */
    ck_assert_int_eq(cs_index_sync(cs_disk_index(&b)), CS_OK);
    cs_hex_encode(id.digest, CS_SHA256_LEN, hex);
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", data, hex, hex);
    ck_assert_int_eq(stat(path, &st), 0);
    u = cs_usage_find(cs_disk_usage(&b), "ns", 2);
    ck_assert_uint_ge(cs_usage_ns_used(u), (uint64_t)st.st_size);
    ck_assert_uint_lt(cs_usage_ns_used(u), (uint64_t)st.st_size + 65536);
    ck_assert_uint_lt(cs_usage_ns_used(u), len / 20);
    b.ops->destroy(b.state);
    free(body);
}
END_TEST

/* A damaged compressed body is an error, never wrong bytes. */
START_TEST(zstd_damage_is_an_error)
{
    struct cs_backend b;
    struct cs_object_id id;
    struct cs_object obj;
    struct cs_body_reader *r;
    char why[256], path[600], hex[CS_SHA256_HEX_LEN + 1], buf[65536];
    size_t len = 400000, i;
    uint8_t *body = malloc(len);
    ssize_t n;
    int fd;

    ck_assert_ptr_nonnull(body);
    for (i = 0; i < len; i++)
        body[i] = (uint8_t)(i % 251);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "dmg", 3);
    ck_assert_int_eq(put_z(&b, &id, body, len, len, true, NULL), CS_OK);
    ck_assert(check_z(&b, &id, body, len));
    cs_hex_encode(id.digest, CS_SHA256_LEN, hex);
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", data, hex, hex);
    fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 60), 0); /* the frame cut short */
    close(fd);
    ck_assert_int_eq(b.ops->open(b.state, &id, len, 0, &obj), CS_ERR_IO);
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_OK);
    ck_assert_int_eq(cs_body_reader_open(&obj, &r), CS_OK);
    while ((n = cs_body_reader_read(r, buf, sizeof buf)) > 0)
        ;
    ck_assert_int_lt(n, 0);
    cs_body_reader_close(r);
    b.ops->destroy(b.state);
    free(body);
}
END_TEST

/* Level 22 would pick a 16 MiB window for a 12 MiB body; it is held to the
 * 8 MiB every streaming reader accepts, so the object reads back. */
START_TEST(zstd_ultra_levels_keep_the_window)
{
    struct cs_backend b;
    struct cs_object_id id;
    char why[256];
    size_t len = 12u << 20, i;
    uint8_t *body = malloc(len), block[4096];

    ck_assert_ptr_nonnull(body);
    for (i = 0; i < sizeof block; i++)
        block[i] = (uint8_t)(random() >> 7);
    for (i = 0; i < len; i++) /* repeats from afar: a large window would pay */
        body[i] = block[(i / 7) % sizeof block];
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "ultra", 5);
    ck_assert_int_eq(put_zl(&b, &id, body, len, 1 << 20, true, NULL, 22), CS_OK);
    ck_assert(check_z(&b, &id, body, len));
    b.ops->destroy(b.state);
    free(body);
}
END_TEST

/* A stored frame that claims a window over the limit (as one written
 * before the limit could) is refused when the reader opens, before any
 * byte is promised and without the window's memory. */
START_TEST(zstd_large_window_is_refused)
{
    struct cs_backend b;
    struct cs_object_id id;
    struct cs_object obj;
    struct cs_body_reader *r;
    char why[256], path[600], hex[CS_SHA256_HEX_LEN + 1];
    size_t len = 1u << 20, cap = ZSTD_compressBound(len), n, i;
    uint8_t *body = malloc(len), *frame = malloc(cap);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    FILE *f;

    ck_assert_ptr_nonnull(body);
    ck_assert_ptr_nonnull(frame);
    for (i = 0; i < len; i++)
        body[i] = (uint8_t)('a' + i % 13);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "wide", 4);
    ck_assert_int_eq(put_z(&b, &id, body, len, len, false, NULL), CS_OK);
    ck_assert(check_z(&b, &id, body, len));
    /* the same object with its frame swapped for one with a 128 MiB window */
    ck_assert_int_eq(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 27)), 0);
    { /* streamed, so no size is known up front and the window stays */
        ZSTD_inBuffer in = {body, len, 0};
        ZSTD_outBuffer out = {frame, cap, 0};
        size_t left;
        ck_assert_int_eq(ZSTD_isError(ZSTD_compressStream2(c, &out, &in, ZSTD_e_continue)), 0);
        do
            left = ZSTD_compressStream2(c, &out, &in, ZSTD_e_end);
        while (!ZSTD_isError(left) && left != 0);
        ck_assert_int_eq(ZSTD_isError(left), 0);
        n = out.pos;
    }
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_OK);
    cs_object_release(&obj);
    cs_hex_encode(id.digest, CS_SHA256_LEN, hex);
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", data, hex, hex);
    f = fopen(path, "r+");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, (long)obj.offset, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(frame, 1, n, f), n);
    ck_assert_int_eq(ftruncate(fileno(f), (off_t)(obj.offset + n)), 0);
    fclose(f);
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_OK);
    ck_assert(obj.zstd);
    ck_assert_int_eq(cs_body_reader_open(&obj, &r), CS_ERR_IO);
    ZSTD_freeCCtx(c);
    b.ops->destroy(b.state);
    free(body);
    free(frame);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("disk_zstd");
    TCase *tc = tcase_create("disk_zstd");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, zstd_round_trip);
    tcase_add_test(tc, zstd_cas_and_quota);
    tcase_add_test(tc, zstd_damage_is_an_error);
    tcase_add_test(tc, zstd_ultra_levels_keep_the_window);
    tcase_add_test(tc, zstd_large_window_is_refused);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
