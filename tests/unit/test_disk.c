/* Disk backend: atomic visibility, abort leaves nothing, lock, tmp cleanup. */
#include "autoconfig.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "storage/disk.h"
#include "storage/index.h"
#include "storage/zstd_io.h"
#include "tests/unit/check_main.h"

static char root[] = "/tmp/cstash-test-disk-XXXXXX";
static char data[300];

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(data, sizeof data, "%s/data", root);
}

static void teardown(void)
{
    char cmd[400];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(root, "/tmp/cstash-test-disk-XXXXXX");
}

/* The backend as the tests use it: namespaces "ns" and "ns2", no limits,
 * no background threads. */
static enum cs_status open_disk(const char *dir, struct cs_backend *b, char *why, size_t len)
{
    static const struct cs_disk_ns ns[] = {{"ns", 0}, {"ns2", 0}};
    struct cs_disk_options opt = {.data_dir = dir, .ns = ns, .n_ns = 2, .track_access = true};

    return cs_disk_open(&opt, b, why, len);
}

static unsigned count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void put(struct cs_backend *b, const struct cs_object_id *id, const char *body,
                bool expect_created)
{
    struct cs_put_options opt = {.durable = true, .size_hint = strlen(body)};
    struct cs_upload *up;
    bool created = !expect_created;

    ck_assert_int_eq(b->ops->put_begin(b->state, id, &opt, &up), CS_OK);
    ck_assert_int_eq(b->ops->put_write(up, body, strlen(body), 0), CS_OK);
    ck_assert_int_eq(b->ops->put_commit(up, &created), CS_OK);
    ck_assert(created == expect_created);
}

static void expect_body(struct cs_backend *b, const struct cs_object_id *id, const char *body)
{
    struct cs_object obj;
    char buf[256];

    /* large-object path: header parsed, body read from the fd at its offset */
    ck_assert_int_eq(b->ops->open(b->state, id, 0, 0, &obj), CS_OK);
    ck_assert_uint_eq(obj.size, strlen(body));
    ck_assert_ptr_null(obj.body);
    ck_assert_int_eq(pread(obj.fd, buf, sizeof buf, (off_t)obj.offset), (ssize_t)strlen(body));
    ck_assert_int_eq(memcmp(buf, body, strlen(body)), 0);
    cs_object_release(&obj);
    /* small-object path: one read, body handed over in memory */
    ck_assert_int_eq(b->ops->open(b->state, id, 4096, 0, &obj), CS_OK);
    ck_assert_int_eq(obj.fd, -1);
    ck_assert_uint_eq(obj.size, strlen(body));
    ck_assert_int_eq(memcmp(obj.body, body, strlen(body)), 0);
    cs_object_release(&obj);
}

START_TEST(put_get_delete)
{
    struct cs_backend b;
    struct cs_object_id id, other;
    struct cs_object obj;
    char why[256];

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "ab/cdef", 7);
    cs_object_id_init(&other, "ns2", "ab/cdef", 7);
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_ERR_NOT_FOUND);
    put(&b, &id, "first", true);
    expect_body(&b, &id, "first");
    put(&b, &id, "second version", false);
    expect_body(&b, &id, "second version");
    /* same key, other namespace: a different object */
    ck_assert_int_eq(b.ops->open(b.state, &other, 0, 0, &obj), CS_ERR_NOT_FOUND);
    ck_assert_int_eq(b.ops->remove(b.state, &id, false), CS_OK);
    ck_assert_int_eq(b.ops->remove(b.state, &id, false), CS_ERR_NOT_FOUND);
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_ERR_NOT_FOUND);
    b.ops->destroy(b.state);
}
END_TEST

/* The layout is part of the data format: objects/<first 2 hex>/<64 hex>,
 * one level of 256 directories (two levels cost 40% of PUT throughput). */
START_TEST(layout_on_disk)
{
    struct cs_backend b;
    struct cs_object_id id;
    char why[256], hex[CS_SHA256_HEX_LEN + 1], path[600], objects[400];

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "some/key", 8);
    put(&b, &id, "body", true);
    cs_hex_encode(id.digest, CS_SHA256_LEN, hex);
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", data, hex, hex);
    ck_assert_msg(access(path, F_OK) == 0, "%s missing", path);
    snprintf(objects, sizeof objects, "%s/objects/%.2s", data, hex);
    ck_assert_uint_eq(count_files(objects), 1);
    b.ops->destroy(b.state);
}
END_TEST

START_TEST(invisible_until_commit_and_abort_leaves_nothing)
{
    struct cs_backend b;
    struct cs_object_id id;
    struct cs_object obj;
    struct cs_put_options opt = {0};
    struct cs_upload *up;
    char why[256], tmp[400];

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "k", 1);
    put(&b, &id, "old", true);
    ck_assert_int_eq(b.ops->put_begin(b.state, &id, &opt, &up), CS_OK);
    ck_assert_int_eq(b.ops->put_write(up, "partial new", 11, 0), CS_OK);
    expect_body(&b, &id, "old"); /* readers see the old object, not the part */
    snprintf(tmp, sizeof tmp, "%s/tmp", data);
    ck_assert_uint_eq(count_files(tmp), 1);
    b.ops->put_abort(up);
    ck_assert_uint_eq(count_files(tmp), 0);
    expect_body(&b, &id, "old");
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_OK);
    cs_object_release(&obj);
    b.ops->destroy(b.state);
}
END_TEST

START_TEST(one_server_per_dir_and_tmp_cleanup)
{
    struct cs_backend a, b;
    char why[256], stray[400];
    int fd;

    ck_assert_int_eq(open_disk(data, &a, why, sizeof why), CS_OK);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_ERR_BUSY);
    ck_assert_ptr_nonnull(strstr(why, "in use by another cstashd"));
    a.ops->destroy(a.state);
    /* a crash leaves an unfinished upload behind: the next start removes it */
    snprintf(stray, sizeof stray, "%s/tmp/1-2-3.tmp", data);
    fd = open(stray, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    ck_assert_int_eq(access(stray, F_OK), -1);
    b.ops->destroy(b.state);
}
END_TEST

START_TEST(unusable_dirs)
{
    struct cs_backend b;
    char why[256], file[400], path[450];
    int fd;

    snprintf(file, sizeof file, "%s/plainfile", root);
    fd = open(file, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(path, sizeof path, "%s/sub", file);
    ck_assert_int_ne(open_disk(path, &b, why, sizeof why), CS_OK);
    ck_assert_ptr_nonnull(strstr(why, "cannot create data dir"));
    /* a data dir of some other format is refused */
    ck_assert_int_eq(mkdir(data, 0755), 0);
    snprintf(path, sizeof path, "%s/FORMAT", data);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_eq(write(fd, "cstash-data 99\n", 15), 15);
    close(fd);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(why, "FORMAT"));
}
END_TEST

static bool count_entry(void *arg, const struct cs_index_entry *e)
{
    (void)e;
    (*(unsigned *)arg)++;
    return true;
}

static unsigned index_children(struct cs_backend *b, const char *ns, const char *dir)
{
    struct cs_index_cursor cur = {.started = false};
    unsigned n = 0;

    ck_assert_int_eq(cs_index_sync(cs_disk_index(b)), CS_OK);
    while (!cur.done)
        ck_assert_int_eq(
            cs_index_children(cs_disk_index(b), ns, dir, strlen(dir), &cur, 2, count_entry, &n),
            CS_OK);
    return n;
}

START_TEST(etag_content_type_and_cas_digest)
{
    struct cs_backend b;
    struct cs_object_id id;
    struct cs_object obj;
    struct cs_upload *up;
    uint8_t want[CS_SHA256_LEN], wrong[CS_SHA256_LEN] = {0};
    const void *parts[1] = {"hello"};
    size_t lens[1] = {5};
    struct cs_put_options opt = {.content_type = "application/x-test", .expect_sha256 = want};
    char why[256];
    bool created;

    cs_sha256_parts(parts, lens, 1, want);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "cas/x", 5);
    ck_assert_int_eq(b.ops->put_begin(b.state, &id, &opt, &up), CS_OK);
    ck_assert_int_eq(b.ops->put_write(up, "hello", 5, 0), CS_OK);
    ck_assert_int_eq(b.ops->put_commit(up, &created), CS_OK);
    ck_assert_int_eq(b.ops->open(b.state, &id, 0, 0, &obj), CS_OK);
    cs_object_release(&obj);
    ck_assert_str_eq(obj.content_type, "application/x-test");
    ck_assert_int_eq(memcmp(obj.etag, want, CS_SHA256_LEN), 0);
    /* a body that does not hash to the expected digest is not stored */
    opt.expect_sha256 = wrong;
    ck_assert_int_eq(b.ops->put_begin(b.state, &id, &opt, &up), CS_OK);
    ck_assert_int_eq(b.ops->put_write(up, "evil!", 5, 0), CS_OK);
    ck_assert_int_eq(b.ops->put_commit(up, &created), CS_ERR_DIGEST);
    expect_body(&b, &id, "hello");
    b.ops->destroy(b.state);
}
END_TEST

START_TEST(copy_move_and_index)
{
    struct cs_backend b;
    struct cs_object_id a, c, m;
    char why[256];
    bool created;

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&a, "ns", "d/a", 3);
    cs_object_id_init(&c, "ns", "d/c", 3);
    cs_object_id_init(&m, "ns", "e/m", 3);
    put(&b, &a, "payload", true);
    ck_assert_int_eq(b.ops->copy(b.state, &a, &c, false, false, &created), CS_OK);
    ck_assert(created);
    ck_assert_int_eq(b.ops->copy(b.state, &a, &c, false, false, &created), CS_ERR_EXISTS);
    /* a copy is independent: overwriting the source leaves it alone */
    put(&b, &a, "new payload", false);
    expect_body(&b, &c, "payload");
    ck_assert_int_eq(b.ops->move(b.state, &c, &m, true, false, &created), CS_OK);
    ck_assert_int_eq(b.ops->exists(b.state, &c, 0), CS_ERR_NOT_FOUND);
    expect_body(&b, &m, "payload");
    ck_assert_uint_eq(index_children(&b, "ns", ""), 2);   /* d/ and e/ */
    ck_assert_uint_eq(index_children(&b, "ns", "d/"), 1); /* a */
    ck_assert_uint_eq(index_children(&b, "other", ""), 0);
    ck_assert_int_eq(b.ops->remove(b.state, &m, false), CS_OK);
    ck_assert_uint_eq(index_children(&b, "ns", ""), 1);
    b.ops->destroy(b.state);
    /* the index survives a restart */
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    ck_assert_uint_eq(index_children(&b, "ns", "d/"), 1);
    b.ops->destroy(b.state);
}
END_TEST

START_TEST(layout_1_is_upgraded)
{
    struct cs_backend b;
    char why[256], path[450];
    int fd;

    ck_assert_int_eq(mkdir(data, 0755), 0);
    snprintf(path, sizeof path, "%s/FORMAT", data);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_eq(write(fd, "cstash-data 1\n", 14), 14);
    close(fd);
    snprintf(path, sizeof path, "%s/objects", data);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/objects/ab", data);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/objects/ab/old", data);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    close(fd);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    ck_assert_int_eq(access(path, F_OK), -1);
    snprintf(path, sizeof path, "%s/tmp", data);
    ck_assert_uint_eq(count_files(path), 0);
    b.ops->destroy(b.state);
}
END_TEST

/* --- zstd at rest ------------------------------------------------------------ */

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

/* While the index cannot commit (another process holds its lock), fsck
 * refuses to run: files whose rows wait to be written would look like
 * objects without a row. Once commits work, it runs and finds nothing. */
START_TEST(fsck_waits_for_a_working_index)
{
    struct cs_backend b;
    struct cs_object_id id;
    struct cs_fsck_report r;
    char why[256], db_path[400];
    sqlite3 *db;
    int i;

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_object_id_init(&id, "ns", "kept", 4);
    put(&b, &id, "one", true);
    snprintf(db_path, sizeof db_path, "%s/index.sqlite", data);
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    cs_object_id_init(&id, "ns", "waiting", 7);
    {
        struct cs_put_options opt = {.size_hint = 3};
        struct cs_upload *up;
        bool created;
        ck_assert_int_eq(b.ops->put_begin(b.state, &id, &opt, &up), CS_OK);
        ck_assert_int_eq(b.ops->put_write(up, "two", 3, 0), CS_OK);
        ck_assert_int_eq(b.ops->put_commit(up, &created), CS_OK); /* not durable: queued */
    }
    for (i = 0; i < 100 && cs_index_health(cs_disk_index(&b)) == CS_OK; i++)
        usleep(50000);
    ck_assert_int_ne(cs_index_health(cs_disk_index(&b)), CS_OK);
    usleep(2100000); /* old enough for fsck to judge the file */
    ck_assert_int_ne(cs_disk_fsck(&b, false, &r), CS_OK);
    ck_assert_uint_eq(r.orphans, 0);
    ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    for (i = 0; i < 100 && cs_index_health(cs_disk_index(&b)) != CS_OK; i++)
        usleep(50000);
    ck_assert_int_eq(cs_disk_fsck(&b, false, &r), CS_OK);
    ck_assert_uint_eq(r.orphans, 0);
    expect_body(&b, &id, "two");
    b.ops->destroy(b.state);
}
END_TEST

static void put_key(struct cs_backend *b, const char *ns, const char *key, enum cs_status want)
{
    struct cs_object_id id;
    struct cs_put_options opt = {.size_hint = 100};
    struct cs_upload *up;
    char body[100];
    bool created;

    memset(body, 'x', sizeof body);
    cs_object_id_init(&id, ns, key, strlen(key));
    ck_assert_int_eq(b->ops->put_begin(b->state, &id, &opt, &up), want);
    if (want != CS_OK)
        return;
    ck_assert_int_eq(b->ops->put_write(up, body, sizeof body, 0), CS_OK);
    ck_assert_int_eq(b->ops->put_commit(up, &created), CS_OK);
}

static bool has_key(struct cs_backend *b, const char *ns, const char *key)
{
    struct cs_object_id id;

    cs_object_id_init(&id, ns, key, strlen(key));
    return b->ops->exists(b->state, &id, 0) == CS_OK;
}

static void read_key(struct cs_backend *b, const char *ns, const char *key)
{
    struct cs_object_id id;
    struct cs_object obj;

    cs_object_id_init(&id, ns, key, strlen(key));
    ck_assert_int_eq(b->ops->open(b->state, &id, 4096, 0, &obj), CS_OK);
    cs_object_release(&obj);
}

/* Ten one-block objects in a namespace of max_size 40000 (hard limit
 * 42000): the eleventh is refused, and eviction takes the least recently
 * used, not the oldest written. */
START_TEST(quota_and_lru_eviction)
{
    static const struct cs_disk_ns ns[] = {{"small", 40000}, {"big", 0}};
    struct cs_disk_options opt = {.data_dir = data, .ns = ns, .n_ns = 2, .track_access = true};
    struct cs_backend b;
    struct cs_usage *u;
    char why[256], key[16];
    int i;

    ck_assert_int_eq(cs_disk_open(&opt, &b, why, sizeof why), CS_OK);
    u = cs_disk_usage(&b);
    for (i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put_key(&b, "small", key, CS_OK);
        put_key(&b, "big", key, CS_OK);
        usleep(20000); /* distinct creation times */
    }
    ck_assert_int_eq(cs_index_sync(cs_disk_index(&b)), CS_OK);
    ck_assert_uint_eq(atomic_load(&cs_usage_find(u, "small", 5)->objects), 10);
    ck_assert_uint_gt(cs_usage_ns_used(cs_usage_find(u, "small", 5)), 40000);
    /* over the hard limit, and no evictor to wait for: refused at once */
    put_key(&b, "small", "k10", CS_ERR_QUOTA);
    put_key(&b, "big", "k10", CS_OK);
    read_key(&b, "small", "k0");
    read_key(&b, "small", "k1");
    ck_assert_uint_ge(cs_disk_evict(&b), 1);
    ck_assert(has_key(&b, "small", "k0"));
    ck_assert(has_key(&b, "small", "k1"));
    ck_assert(!has_key(&b, "small", "k2"));
    ck_assert(has_key(&b, "small", "k9"));
    ck_assert_uint_le(cs_usage_ns_used(cs_usage_find(u, "small", 5)), 40000 * 95 / 100);
    ck_assert_uint_eq(atomic_load(&cs_usage_find(u, "small", 5)->evictions),
                      10 - atomic_load(&cs_usage_find(u, "small", 5)->objects));
    for (i = 0; i < 11; i++) { /* the other namespace is untouched */
        snprintf(key, sizeof key, "k%d", i);
        ck_assert(has_key(&b, "big", key));
    }
    b.ops->destroy(b.state);

    /* the totals come back from the index after a restart, without a scan */
    ck_assert_int_eq(cs_disk_open(&opt, &b, why, sizeof why), CS_OK);
    u = cs_disk_usage(&b);
    ck_assert_uint_eq(atomic_load(&cs_usage_find(u, "big", 3)->objects), 11);
    ck_assert_uint_lt(atomic_load(&cs_usage_find(u, "small", 5)->objects), 10);
    b.ops->destroy(b.state);
}
END_TEST

/* The data dir's own max_size: eviction takes the least recently used
 * object across namespaces. */
START_TEST(data_dir_limit_evicts_oldest_across_namespaces)
{
    static const struct cs_disk_ns ns[] = {{"a", 0}, {"b", 0}};
    struct cs_disk_options opt = {
        .data_dir = data, .max_size = 40000, .ns = ns, .n_ns = 2, .track_access = true};
    struct cs_backend b;
    char why[256], key[16];
    int i;

    ck_assert_int_eq(cs_disk_open(&opt, &b, why, sizeof why), CS_OK);
    for (i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put_key(&b, "a", key, CS_OK);
        usleep(20000);
    }
    for (i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put_key(&b, "b", key, CS_OK);
        usleep(20000);
    }
    read_key(&b, "a", "k0");
    ck_assert_uint_ge(cs_disk_evict(&b), 1);
    ck_assert(has_key(&b, "a", "k0"));  /* read last */
    ck_assert(!has_key(&b, "a", "k1")); /* the least recently used of all */
    ck_assert(has_key(&b, "b", "k0"));
    ck_assert_uint_le(cs_usage_total(cs_disk_usage(&b)), 40000 * 95 / 100);
    b.ops->destroy(b.state);
}
END_TEST

/* An index written by schema 1 (issue 3) is upgraded in place: sizes on
 * disk estimated, usage totals filled; fsck then drops its row, whose
 * object file does not exist. */
START_TEST(index_schema_1_is_upgraded)
{
    struct cs_backend b;
    struct cs_fsck_report r;
    sqlite3 *db;
    char why[256], path[450];
    int fd;

    ck_assert_int_eq(mkdir(data, 0755), 0);
    snprintf(path, sizeof path, "%s/FORMAT", data);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_eq(write(fd, "cstash-data 2\n", 14), 14);
    close(fd);
    snprintf(path, sizeof path, "%s/index.sqlite", data);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
                     "INSERT INTO meta VALUES ('schema', '1');"
                     "CREATE TABLE entries(ns TEXT NOT NULL, key BLOB NOT NULL, kind INTEGER "
                     "NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL, atime INTEGER "
                     "NOT NULL, etag BLOB, PRIMARY KEY (ns, key)) WITHOUT ROWID;"
                     "INSERT INTO entries VALUES ('ns', CAST('a/b' AS BLOB), 0, 100, 1000, 1000,"
                     " NULL);"
                     "INSERT INTO entries VALUES ('ns', CAST('d/' AS BLOB), 1, 0, 1000, 1000,"
                     " NULL);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    struct cs_usage_ns *u = cs_usage_find(cs_disk_usage(&b), "ns", 2);
    ck_assert_ptr_nonnull(u);
    ck_assert_uint_eq(atomic_load(&u->objects), 1);
    ck_assert_uint_eq(atomic_load(&u->bytes), 4096);
    ck_assert_uint_eq(index_children(&b, "ns", ""), 2); /* a/ and d/ */
    ck_assert_int_eq(cs_disk_fsck(&b, false, &r), CS_OK);
    ck_assert_uint_eq(r.rows, 1);
    ck_assert_uint_eq(r.rows_dropped, 1);
    ck_assert_uint_eq(atomic_load(&u->objects), 0);
    ck_assert_uint_eq(atomic_load(&u->bytes), 0);
    ck_assert_uint_eq(index_children(&b, "ns", ""), 1); /* the MKCOL marker stays */
    b.ops->destroy(b.state);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("disk");
    TCase *tc = tcase_create("disk");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, put_get_delete);
    tcase_add_test(tc, layout_on_disk);
    tcase_add_test(tc, invisible_until_commit_and_abort_leaves_nothing);
    tcase_add_test(tc, one_server_per_dir_and_tmp_cleanup);
    tcase_add_test(tc, unusable_dirs);
    tcase_add_test(tc, etag_content_type_and_cas_digest);
    tcase_add_test(tc, copy_move_and_index);
    tcase_add_test(tc, layout_1_is_upgraded);
    tcase_add_test(tc, quota_and_lru_eviction);
    tcase_add_test(tc, index_schema_1_is_upgraded);
    tcase_add_test(tc, data_dir_limit_evicts_oldest_across_namespaces);
    tcase_add_test(tc, zstd_round_trip);
    tcase_add_test(tc, zstd_cas_and_quota);
    tcase_add_test(tc, zstd_damage_is_an_error);
    tcase_add_test(tc, zstd_ultra_levels_keep_the_window);
    tcase_add_test(tc, zstd_large_window_is_refused);
    tcase_add_test(tc, fsck_waits_for_a_working_index);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
