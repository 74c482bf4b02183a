/* Object metadata in the disk backend (the S3 front end's opaque bytes in
 * a version 3 header): round trips by each read path, limits, put_meta,
 * zstd, the old headers left byte for byte, damage, COPY/MOVE, CS_NOTOUCH
 * and the tier layer. */
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
#include "storage/tiers.h"
#include "storage/zstd_io.h"
#include "tests/unit/check_main.h"
#include "tests/unit/disk_fixture.h"

/* Stores body with metadata (meta may be NULL with meta_len 0). */
static enum cs_status put_meta_obj(struct cs_backend *b, const struct cs_object_id *id,
                                   const void *body, size_t len, const void *meta, size_t meta_len,
                                   int level)
{
    struct cs_put_options opt = {.size_hint = len,
                                 .content_type = "text/plain",
                                 .compress_level = level,
                                 .meta = meta,
                                 .meta_len = meta_len};
    struct cs_upload *up;
    bool created;
    enum cs_status st = b->ops->put_begin(b->state, id, &opt, &up);

    if (st != CS_OK)
        return st;
    ck_assert_int_eq(b->ops->put_write(up, body, len, CS_PUT_END), CS_OK);
    return b->ops->put_commit(up, &created);
}

/* Some bytes of metadata, different for each seed. */
static void fill_meta(uint8_t *m, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        m[i] = (uint8_t)(i * 7 + seed);
}

static void check_meta(const struct cs_object *obj, const void *meta, size_t len)
{
    ck_assert_uint_eq(obj->meta_len, len);
    if (len == 0) {
        ck_assert_ptr_null(obj->meta);
        return;
    }
    ck_assert_ptr_nonnull(obj->meta);
    ck_assert_int_eq(memcmp(obj->meta, meta, len), 0);
}

/* Opens id with read_max and checks body (in memory or at the fd's
 * offset, whichever the open chose; want_mem says which it must be),
 * metadata and content type. */
static void expect_obj(struct cs_backend *b, const struct cs_object_id *id, size_t read_max,
                       bool want_mem, const uint8_t *body, size_t len, const void *meta,
                       size_t meta_len)
{
    struct cs_object obj;

    ck_assert_int_eq(b->ops->open(b->state, id, read_max, 0, &obj), CS_OK);
    ck_assert_uint_eq(obj.size, len);
    ck_assert_str_eq(obj.content_type, "text/plain");
    check_meta(&obj, meta, meta_len);
    if (want_mem) {
        ck_assert_ptr_nonnull(obj.body);
        ck_assert_int_eq(obj.fd, -1);
        ck_assert(len == 0 || memcmp(obj.body, body, len) == 0);
    } else {
        uint8_t *got = malloc(len + 1);
        ck_assert_ptr_nonnull(got);
        ck_assert_ptr_null(obj.body);
        ck_assert_int_ge(obj.fd, 0);
        ck_assert(!obj.zstd);
        ck_assert_int_eq(pread(obj.fd, got, len + 1, (off_t)obj.offset), (ssize_t)len);
        ck_assert(len == 0 || memcmp(got, body, len) == 0);
        free(got);
    }
    cs_object_release(&obj);
    ck_assert_ptr_null(obj.meta);
    ck_assert_uint_eq(obj.meta_len, 0);
}

/* The object file of id, read whole; *len gets its length. Caller frees. */
static uint8_t *read_file_of(const struct cs_object_id *id, size_t *len)
{
    char path[600], hex[CS_SHA256_HEX_LEN + 1];
    struct stat st;
    uint8_t *buf;
    int fd;

    cs_hex_encode(id->digest, CS_SHA256_LEN, hex);
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", data, hex, hex);
    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

/* Writes len bytes at off of id's file. */
static void patch_file_of(const struct cs_object_id *id, off_t off, const void *bytes, size_t len)
{
    char path[600], hex[CS_SHA256_HEX_LEN + 1];
    int fd;

    cs_hex_encode(id->digest, CS_SHA256_LEN, hex);
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", data, hex, hex);
    fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, bytes, len, off), (ssize_t)len);
    close(fd);
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Every read path gives the metadata back: one pread of a small file, the
 * fd of a large one (metadata within the first header read, and past it),
 * and a small body behind a long header (read whole after the header). */
START_TEST(meta_round_trip_by_each_read_path)
{
    struct cs_backend b;
    struct cs_object_id id;
    char why[256];
    uint8_t meta[CS_OBJECT_META_MAX], *big = malloc(200000);
    const uint8_t small[] = "a small body";
    size_t i;

    ck_assert_ptr_nonnull(big);
    for (i = 0; i < 200000; i++)
        big[i] = (uint8_t)(i % 253);
    fill_meta(meta, sizeof meta, 1);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);

    cs_object_id_init(&id, "ns", "small", 5);
    ck_assert_int_eq(put_meta_obj(&b, &id, small, sizeof small, meta, 16, 0), CS_OK);
    expect_obj(&b, &id, 65536, true, small, sizeof small, meta, 16); /* one pread */
    expect_obj(&b, &id, 0, false, small, sizeof small, meta, 16);    /* header, then fd */

    cs_object_id_init(&id, "ns", "large", 5);
    ck_assert_int_eq(put_meta_obj(&b, &id, big, 200000, meta, 16, 0), CS_OK);
    expect_obj(&b, &id, 32768, false, big, 200000, meta, 16); /* meta in the first read */
    ck_assert_int_eq(put_meta_obj(&b, &id, big, 200000, meta, sizeof meta, 0), CS_OK);
    expect_obj(&b, &id, 32768, false, big, 200000, meta, sizeof meta); /* meta read after */

    cs_object_id_init(&id, "ns", "long-header", 11);
    ck_assert_int_eq(put_meta_obj(&b, &id, small, sizeof small, meta, sizeof meta, 0), CS_OK);
    expect_obj(&b, &id, 1000, true, small, sizeof small, meta, sizeof meta);

    cs_object_id_init(&id, "ns", "empty", 5); /* an empty body keeps its metadata too */
    ck_assert_int_eq(put_meta_obj(&b, &id, "", 0, meta, 3, 0), CS_OK);
    expect_obj(&b, &id, 0, true, small, 0, meta, 3);
    b.ops->destroy(b.state);
    free(big);
}
END_TEST

START_TEST(meta_limits)
{
    struct cs_backend b;
    struct cs_object_id id;
    struct cs_put_options opt = {.meta = NULL, .meta_len = 1};
    struct cs_upload *up;
    char why[256], tmp[400];
    uint8_t meta[CS_OBJECT_META_MAX + 1];
    size_t flen;
    uint8_t *file;

    fill_meta(meta, sizeof meta, 2);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "k", 1);
    ck_assert_int_eq(put_meta_obj(&b, &id, "body", 4, meta, CS_OBJECT_META_MAX + 1, 0),
                     CS_ERR_INVALID);
    ck_assert_int_eq(b.ops->put_begin(b.state, &id, &opt, &up), CS_ERR_INVALID); /* no bytes */
    ck_assert_int_eq(b.ops->exists(b.state, &id, 0), CS_ERR_NOT_FOUND);
    snprintf(tmp, sizeof tmp, "%s/tmp", data);
    ck_assert_uint_eq(count_files(tmp), 0); /* refused before any temp file */

    ck_assert_int_eq(put_meta_obj(&b, &id, "body", 4, meta, CS_OBJECT_META_MAX, 0), CS_OK);
    expect_obj(&b, &id, 0, false, (const uint8_t *)"body", 4, meta, CS_OBJECT_META_MAX);
    expect_obj(&b, &id, 4096, true, (const uint8_t *)"body", 4, meta, CS_OBJECT_META_MAX);

    /* length 0 is no metadata, whatever the pointer: a version 1 header */
    ck_assert_int_eq(put_meta_obj(&b, &id, "body", 4, meta, 0, 0), CS_OK);
    expect_obj(&b, &id, 4096, true, (const uint8_t *)"body", 4, NULL, 0);
    file = read_file_of(&id, &flen);
    ck_assert_uint_eq(file[4], 1);
    ck_assert_uint_eq(flen, 40 + strlen("text/plain") + 4);
    free(file);
    b.ops->destroy(b.state);
}
END_TEST

START_TEST(put_meta_replaces_with_the_same_length_only)
{
    struct cs_backend b;
    struct cs_object_id id;
    uint8_t first[64], second[64];
    struct cs_put_options opt = {
        .content_type = "text/plain", .meta = first, .meta_len = sizeof first};
    struct cs_put_options none = {.content_type = "text/plain", .size_hint = 3};
    struct cs_upload *up;
    bool created;
    char why[256];

    fill_meta(first, sizeof first, 3);
    fill_meta(second, sizeof second, 4);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "k", 1);
    ck_assert_int_eq(b.ops->put_begin(b.state, &id, &opt, &up), CS_OK);
    memset(first, 0xee, sizeof first); /* copied at put_begin: the caller's buffer is free */
    ck_assert_int_eq(b.ops->put_meta(up, second, sizeof second - 1), CS_ERR_INVALID);
    ck_assert_int_eq(b.ops->put_meta(up, second, sizeof second + 1), CS_ERR_INVALID);
    ck_assert_int_eq(b.ops->put_meta(up, NULL, 0), CS_ERR_INVALID);
    ck_assert_int_eq(b.ops->put_write(up, "the body", 8, 0), CS_OK);
    ck_assert_int_eq(b.ops->put_meta(up, second, sizeof second), CS_OK); /* after the body */
    ck_assert_int_eq(b.ops->put_write(up, NULL, 0, CS_PUT_END), CS_OK);
    ck_assert_int_eq(b.ops->put_commit(up, &created), CS_OK);
    ck_assert(created);
    fill_meta(first, sizeof first, 3);
    expect_obj(&b, &id, 0, false, (const uint8_t *)"the body", 8, second, sizeof second);
    expect_obj(&b, &id, 65536, true, (const uint8_t *)"the body", 8, second, sizeof second);

    /* an upload begun without metadata can only be given none */
    ck_assert_int_eq(b.ops->put_begin(b.state, &id, &none, &up), CS_OK);
    ck_assert_int_eq(b.ops->put_meta(up, second, 1), CS_ERR_INVALID);
    ck_assert_int_eq(b.ops->put_meta(up, NULL, 0), CS_OK);
    ck_assert_int_eq(b.ops->put_write(up, "new", 3, 0), CS_OK);
    ck_assert_int_eq(b.ops->put_commit(up, &created), CS_OK);
    expect_obj(&b, &id, 65536, true, (const uint8_t *)"new", 3, NULL, 0);
    b.ops->destroy(b.state);
}
END_TEST

/* A compressible body with metadata is compressed under version 3 (the
 * probe still decides), an incompressible one stays plain in version 3. */
START_TEST(meta_with_zstd)
{
    struct cs_backend b;
    struct cs_object_id id;
    struct cs_object obj;
    struct cs_body_reader *r;
    char why[256];
    uint8_t meta[100], *body = malloc(300000), *got = malloc(300001), *file;
    size_t len = 300000, i, at = 0, flen;
    ssize_t n;
    unsigned x = 1;

    ck_assert_ptr_nonnull(body);
    ck_assert_ptr_nonnull(got);
    for (i = 0; i < len; i++)
        body[i] = (uint8_t)(i % 251);
    fill_meta(meta, sizeof meta, 5);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "z", 1);
    ck_assert_int_eq(put_meta_obj(&b, &id, body, len, meta, sizeof meta, 3), CS_OK);
    file = read_file_of(&id, &flen);
    ck_assert_uint_eq(file[4], 3);
    ck_assert_uint_eq(file[6] & 1, 1);
    ck_assert_uint_eq(le(file + 40, 8), len);
    ck_assert_uint_eq(le(file + 48, 4), sizeof meta);
    ck_assert_uint_lt(flen, len / 10);
    free(file);
    /* streamed from the fd */
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_OK);
    ck_assert(obj.zstd);
    ck_assert_uint_eq(obj.size, len);
    check_meta(&obj, meta, sizeof meta);
    ck_assert_int_eq(cs_body_reader_open(&obj, &r), CS_OK);
    check_meta(&obj, meta, sizeof meta); /* the reader takes fd and body, not the metadata */
    while ((n = cs_body_reader_read(r, got + at, len + 1 - at)) > 0)
        at += (size_t)n;
    ck_assert_int_eq(n, 0);
    cs_body_reader_close(r);
    cs_object_release(&obj);
    ck_assert_uint_eq(at, len);
    ck_assert_int_eq(memcmp(got, body, len), 0);
    /* decompressed into memory */
    ck_assert_int_eq(b.ops->open(b.state, &id, len, 0, &obj), CS_OK);
    ck_assert_int_eq(obj.fd, -1);
    ck_assert_int_eq(memcmp(obj.body, body, len), 0);
    check_meta(&obj, meta, sizeof meta);
    cs_object_release(&obj);

    /* random bytes do not pay: plain, still version 3, raw size = length */
    for (i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        body[i] = (uint8_t)(x >> 16);
    }
    ck_assert_int_eq(put_meta_obj(&b, &id, body, len, meta, sizeof meta, 3), CS_OK);
    file = read_file_of(&id, &flen);
    ck_assert_uint_eq(file[4], 3);
    ck_assert_uint_eq(file[6] & 1, 0);
    ck_assert_uint_eq(le(file + 40, 8), len);
    ck_assert_uint_eq(flen, 52 + strlen("text/plain") + sizeof meta + len);
    free(file);
    expect_obj(&b, &id, 32768, false, body, len, meta, sizeof meta);
    b.ops->destroy(b.state);
    free(body);
    free(got);
}
END_TEST

/* Objects without metadata keep exactly the version 1 and 2 headers. */
START_TEST(no_meta_keeps_old_headers_byte_for_byte)
{
    struct cs_backend b;
    struct cs_object_id id;
    char why[256];
    const char *ct = "text/plain";
    size_t ctl = strlen(ct), len = 300000, flen, i;
    uint8_t expect[48 + 127], sha[CS_SHA256_LEN], *body = malloc(len), *file;
    struct cs_sha256 h;

    ck_assert_ptr_nonnull(body);
    for (i = 0; i < len; i++)
        body[i] = (uint8_t)(i % 251);
    cs_sha256_init(&h);
    cs_sha256_update(&h, body, len);
    cs_sha256_final(&h, sha);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "k", 1);

    /* version 1: CSTO 1 n 0 0, sha256, type, body */
    ck_assert_int_eq(put_meta_obj(&b, &id, body, len, NULL, 0, 0), CS_OK);
    memset(expect, 0, sizeof expect);
    memcpy(expect, "CSTO\1", 5);
    expect[5] = (uint8_t)ctl;
    memcpy(expect + 8, sha, CS_SHA256_LEN);
    memcpy(expect + 40, ct, ctl);
    file = read_file_of(&id, &flen);
    ck_assert_uint_eq(flen, 40 + ctl + len);
    ck_assert_int_eq(memcmp(file, expect, 40 + ctl), 0);
    ck_assert_int_eq(memcmp(file + 40 + ctl, body, len), 0);
    free(file);

    /* version 2: CSTO 2 n 1 0, sha256, raw size, type, frame */
    ck_assert_int_eq(put_meta_obj(&b, &id, body, len, NULL, 0, 3), CS_OK);
    memset(expect, 0, sizeof expect);
    memcpy(expect, "CSTO\2", 5);
    expect[5] = (uint8_t)ctl;
    expect[6] = 1;
    memcpy(expect + 8, sha, CS_SHA256_LEN);
    for (i = 0; i < 8; i++)
        expect[40 + i] = (uint8_t)((uint64_t)len >> (8 * i));
    memcpy(expect + 48, ct, ctl);
    file = read_file_of(&id, &flen);
    ck_assert_int_eq(memcmp(file, expect, 48 + ctl), 0);
    ck_assert_uint_eq(le(file + 48 + ctl, 4), 0xFD2FB528u); /* the frame starts right after */
    free(file);
    b.ops->destroy(b.state);
    free(body);
}
END_TEST

/* A damaged metadata length is an error from open, never an over-read. */
START_TEST(damaged_meta_length_is_an_error)
{
    static const uint32_t bad[] = {0, CS_OBJECT_META_MAX + 1, 0xffffffffu, 4000, 20};
    struct cs_backend b;
    struct cs_object_id id;
    struct cs_object obj;
    char why[256];
    uint8_t meta[10], *big = calloc(1, 100000);
    size_t i;

    ck_assert_ptr_nonnull(big);
    fill_meta(meta, sizeof meta, 6);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "small", 5);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t v[4] = {(uint8_t)bad[i], (uint8_t)(bad[i] >> 8), (uint8_t)(bad[i] >> 16),
                        (uint8_t)(bad[i] >> 24)};
        /* 4000: past the end of this small file; 20: within it, but then
         * the body's length no longer matches the raw size */
        ck_assert_int_eq(put_meta_obj(&b, &id, "0123456789abcdef", 16, meta, sizeof meta, 0),
                         CS_OK);
        patch_file_of(&id, 48, v, sizeof v);
        ck_assert_int_eq(b.ops->open(b.state, &id, 65536, 0, &obj), CS_ERR_IO);
        ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_ERR_IO);
    }
    /* a large file: the header is read first, the metadata after */
    cs_object_id_init(&id, "ns", "large", 5);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t v[4] = {(uint8_t)bad[i], (uint8_t)(bad[i] >> 8), (uint8_t)(bad[i] >> 16),
                        (uint8_t)(bad[i] >> 24)};
        ck_assert_int_eq(put_meta_obj(&b, &id, big, 100000, meta, sizeof meta, 0), CS_OK);
        patch_file_of(&id, 48, v, sizeof v);
        ck_assert_int_eq(b.ops->open(b.state, &id, 32768, 0, &obj), CS_ERR_IO);
    }
    /* a compressed body has no raw size to check the length against: the
     * bound alone refuses a length over CS_OBJECT_META_MAX */
    cs_object_id_init(&id, "ns", "zstd", 4);
    {
        static const uint8_t over[4] = {(CS_OBJECT_META_MAX + 1) & 0xff,
                                        (CS_OBJECT_META_MAX + 1) >> 8, 0, 0};
        unsigned x = 1;
        size_t flen;
        uint8_t *file;
        for (i = 0; i < 100000; i++) { /* 3 bits a byte: compresses, but not to nothing */
            x = x * 1103515245u + 12345u;
            big[i] = (uint8_t)('a' + ((x >> 16) & 7));
        }
        ck_assert_int_eq(put_meta_obj(&b, &id, big, 100000, meta, sizeof meta, 3), CS_OK);
        file = read_file_of(&id, &flen);
        ck_assert_uint_eq(file[6] & 1, 1);
        ck_assert_uint_gt(flen, 2 * CS_OBJECT_META_MAX);
        free(file);
        patch_file_of(&id, 48, over, sizeof over);
        ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_ERR_IO);
        ck_assert_int_eq(b.ops->open(b.state, &id, 200000, 0, &obj), CS_ERR_IO);
    }
    /* a file cut short inside its metadata */
    cs_object_id_init(&id, "ns", "cut", 3);
    ck_assert_int_eq(put_meta_obj(&b, &id, "body", 4, big, 3000, 0), CS_OK);
    {
        char path[600], hex[CS_SHA256_HEX_LEN + 1];
        cs_hex_encode(id.digest, CS_SHA256_LEN, hex);
        snprintf(path, sizeof path, "%s/objects/%.2s/%s", data, hex, hex);
        ck_assert_int_eq(truncate(path, 1000), 0);
    }
    ck_assert_int_eq(b.ops->open(b.state, &id, 65536, 0, &obj), CS_ERR_IO);
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_ERR_IO);
    b.ops->destroy(b.state);
    free(big);
}
END_TEST

START_TEST(copy_and_move_keep_meta)
{
    struct cs_backend b;
    struct cs_object_id a, c, m;
    char why[256];
    uint8_t meta[200];
    bool created;

    fill_meta(meta, sizeof meta, 7);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&a, "ns", "a", 1);
    cs_object_id_init(&c, "ns2", "copy", 4);
    cs_object_id_init(&m, "ns", "moved", 5);
    ck_assert_int_eq(put_meta_obj(&b, &a, "body", 4, meta, sizeof meta, 0), CS_OK);
    ck_assert_int_eq(b.ops->copy(b.state, &a, &c, false, false, &created), CS_OK);
    expect_obj(&b, &c, 4096, true, (const uint8_t *)"body", 4, meta, sizeof meta);
    ck_assert_int_eq(b.ops->move(b.state, &a, &m, false, false, &created), CS_OK);
    expect_obj(&b, &m, 0, false, (const uint8_t *)"body", 4, meta, sizeof meta);
    ck_assert_int_eq(b.ops->exists(b.state, &a, 0), CS_ERR_NOT_FOUND);
    b.ops->destroy(b.state);
}
END_TEST

static bool first_victim(void *arg, const struct cs_index_victim *v)
{
    char *out = arg;

    snprintf(out, 16, "%.*s", (int)v->key_len, v->key);
    return true;
}

/* The least recently used key of ns (after the touches so far). */
static void oldest_key(struct cs_backend *b, char out[16])
{
    ck_assert_int_eq(cs_index_sync_touches(cs_disk_index(b), -1), CS_OK);
    out[0] = '\0';
    ck_assert_int_eq(cs_index_oldest(cs_disk_index(b), "ns", NULL, 1, first_victim, out), CS_OK);
}

/* An open with CS_NOTOUCH (a listing reading headers) is not an access. */
START_TEST(notouch_open_leaves_lru_order)
{
    struct cs_backend b;
    struct cs_object_id a, c;
    struct cs_object obj;
    char why[256], oldest[16];

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&a, "ns", "a", 1);
    cs_object_id_init(&c, "ns", "c", 1);
    ck_assert_int_eq(put_meta_obj(&b, &a, "aa", 2, "m", 1, 0), CS_OK);
    usleep(20000); /* distinct creation times, the first access times */
    ck_assert_int_eq(put_meta_obj(&b, &c, "cc", 2, "m", 1, 0), CS_OK);
    ck_assert_int_eq(cs_index_sync(cs_disk_index(&b)), CS_OK);
    oldest_key(&b, oldest);
    ck_assert_str_eq(oldest, "a");
    usleep(20000); /* a touch now would be later than c's creation (a coarse clock) */
    ck_assert_int_eq(b.ops->open(b.state, &a, 4096, CS_NOTOUCH, &obj), CS_OK);
    check_meta(&obj, "m", 1);
    cs_object_release(&obj);
    oldest_key(&b, oldest);
    ck_assert_str_eq(oldest, "a");
    ck_assert_int_eq(b.ops->open(b.state, &a, 4096, 0, &obj), CS_OK);
    cs_object_release(&obj);
    oldest_key(&b, oldest);
    ck_assert_str_eq(oldest, "c");
    b.ops->destroy(b.state);
}
END_TEST

/* Through the tier layer: put_meta reaches the disk's upload, for a
 * namespace with a remote tier (wrapped upload; its write-through sends
 * the body without the metadata, to a tier that refuses connections) and
 * one without (the disk's own upload). */
START_TEST(tiers_pass_put_meta_through)
{
    static char url[] = "http://127.0.0.1:1"; /* nothing listens: write-through fails */
    struct cs_tier_config http = {
        .type = CS_TIER_HTTP, .url = url, .connect_timeout_s = 1, .timeout_s = 1};
    const struct cs_tiers_ns ns[] = {{.name = "ns", .tiers = &http, .n_tiers = 1}, {.name = "ns2"}};
    struct cs_backend disk, b;
    char why[256];
    const char *names[] = {"ns", "ns2"};
    uint8_t first[32], second[32];
    size_t i;

    fill_meta(first, sizeof first, 8);
    fill_meta(second, sizeof second, 9);
    ck_assert_int_eq(open_disk(data, &disk, why, sizeof why), CS_OK);
    ck_assert_int_eq(cs_tiers_open(&disk, ns, 2, &b, why, sizeof why), CS_OK);
    for (i = 0; i < 2; i++) {
        struct cs_put_options opt = {
            .content_type = "text/plain", .meta = first, .meta_len = sizeof first};
        struct cs_object_id id;
        struct cs_upload *up;
        bool created;
        cs_object_id_init(&id, names[i], "k", 1);
        ck_assert_int_eq(b.ops->put_begin(b.state, &id, &opt, &up), CS_OK);
        ck_assert_int_eq(b.ops->put_write(up, "body", 4, CS_PUT_END), CS_OK);
        ck_assert_int_eq(b.ops->put_meta(up, second, 3), CS_ERR_INVALID);
        ck_assert_int_eq(b.ops->put_meta(up, second, sizeof second), CS_OK);
        ck_assert_int_eq(b.ops->put_commit(up, &created), CS_OK);
        expect_obj(&b, &id, 4096, true, (const uint8_t *)"body", 4, second, sizeof second);
        expect_obj(&b, &id, 0, false, (const uint8_t *)"body", 4, second, sizeof second);
    }
    b.ops->destroy(b.state);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("disk_meta");
    TCase *tc = tcase_create("disk_meta");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, meta_round_trip_by_each_read_path);
    tcase_add_test(tc, meta_limits);
    tcase_add_test(tc, put_meta_replaces_with_the_same_length_only);
    tcase_add_test(tc, meta_with_zstd);
    tcase_add_test(tc, no_meta_keeps_old_headers_byte_for_byte);
    tcase_add_test(tc, damaged_meta_length_is_an_error);
    tcase_add_test(tc, copy_and_move_keep_meta);
    tcase_add_test(tc, notouch_open_leaves_lru_order);
    tcase_add_test(tc, tiers_pass_put_meta_through);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
