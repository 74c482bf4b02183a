/* Disk backend: atomic visibility, abort leaves nothing, lock, tmp cleanup. */
#include "autoconfig.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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

#include "tests/unit/disk_fixture.h"

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

struct uploader {
    struct cs_backend *b;
    struct cs_upload *up;
    enum cs_status begin, write; /* checked by the main thread */
};

static void *begin_upload(void *arg)
{
    struct uploader *u = arg;
    struct cs_object_id id;
    struct cs_put_options opt = {0};

    cs_object_id_init(&id, "ns", "k", 1);
    u->begin = u->b->ops->put_begin(u->b->state, &id, &opt, &u->up);
    u->write = u->begin == CS_OK ? u->b->ops->put_write(u->up, "part", 4, 0) : CS_ERR_IO;
    return NULL;
}

/* Uploads of different threads create their temp files in different
 * directories: a create holds its directory's lock while ext4 looks for
 * a free inode, and one shared tmp/ serialised every PUT on it. */
START_TEST(uploads_of_two_threads_use_two_tmp_dirs)
{
    struct cs_backend b;
    struct uploader u[2];
    pthread_t th;
    char why[256], tmp[400];
    unsigned dirs = 0, top_files = 0;
    DIR *dir;
    struct dirent *e;

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    for (unsigned i = 0; i < 2; i++) {
        u[i] = (struct uploader){.b = &b};
        ck_assert_int_eq(pthread_create(&th, NULL, begin_upload, &u[i]), 0);
        ck_assert_int_eq(pthread_join(th, NULL), 0);
        ck_assert_int_eq(u[i].begin, CS_OK);
        ck_assert_int_eq(u[i].write, CS_OK);
    }
    snprintf(tmp, sizeof tmp, "%s/tmp", data);
    ck_assert_uint_eq(count_files(tmp), 2);
    dir = opendir(tmp);
    ck_assert_ptr_nonnull(dir);
    while ((e = readdir(dir)) != NULL) {
        struct stat st;

        if (e->d_name[0] == '.')
            continue;
        ck_assert_int_eq(fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
        if (S_ISDIR(st.st_mode))
            dirs++;
        else
            top_files++;
    }
    closedir(dir);
    ck_assert_uint_eq(top_files, 0);
    ck_assert_uint_eq(dirs, 2);
    for (unsigned i = 0; i < 2; i++)
        b.ops->put_abort(u[i].up);
    ck_assert_uint_eq(count_files(tmp), 0);
    b.ops->destroy(b.state);
}
END_TEST

START_TEST(one_server_per_dir_and_tmp_cleanup)
{
    struct cs_backend a, b;
    char why[256], stray[400], stray_dir[400];
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
    /* and one in a thread's directory */
    snprintf(stray_dir, sizeof stray_dir, "%s/tmp/1-2", data);
    ck_assert_int_eq(mkdir(stray_dir, 0750), 0);
    ck_assert_int_lt(snprintf(stray_dir, sizeof stray_dir, "%s/tmp/1-2/3.tmp", data),
                     (int)sizeof stray_dir);
    fd = open(stray_dir, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    ck_assert_int_eq(access(stray, F_OK), -1);
    ck_assert_int_eq(access(stray_dir, F_OK), -1);
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

/* GET threads touching distinct keys fast enough to fill their buffers
 * while the index writer gathers them: the writer held touch_lock and
 * took each slot's lock while a full thread held its slot's lock and took
 * touch_lock, and every GET thread and the writer hung (seen at ~100k
 * memory-tier hits/s). A hang fails this test by its timeout. */
struct toucher {
    struct cs_index *idx;
    unsigned id;
    unsigned long touched;
};

static void *touch_fast(void *arg)
{
    struct toucher *t = arg;
    int64_t until = cs_index_now_ms() + 1500;
    char key[64];
    uint8_t digest[CS_SHA256_LEN] = {0};

    while (cs_index_now_ms() < until) {
        for (unsigned i = 0; i < 1000; i++, t->touched++) {
            int n = snprintf(key, sizeof key, "cas/%u-%lu", t->id, t->touched);
            memcpy(digest, &t->touched, sizeof t->touched); /* distinct: no dedup */
            digest[8] = (uint8_t)t->id;
            cs_index_touch(t->idx, "ns", key, (size_t)n, digest);
        }
    }
    return NULL;
}

START_TEST(touches_while_the_writer_gathers)
{
    struct cs_backend b;
    struct toucher t[4];
    pthread_t th[4];
    char why[256];
    unsigned i;

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    for (i = 0; i < 4; i++) {
        t[i] = (struct toucher){.idx = cs_disk_index(&b), .id = i};
        ck_assert_int_eq(pthread_create(&th[i], NULL, touch_fast, &t[i]), 0);
    }
    /* syncs make the writer gather while the buffers fill */
    for (int64_t until = cs_index_now_ms() + 1500; cs_index_now_ms() < until;) {
        enum cs_status st = cs_index_sync_touches(cs_disk_index(&b), 0);
        ck_assert(st == CS_OK || st == CS_ERR_WOULD_BLOCK);
        usleep(1000);
    }
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    ck_assert_uint_gt(t[0].touched, 10000);
    b.ops->destroy(b.state);
}
END_TEST

/* Rows of ns "ns" whose access time is still ms, read from the database
 * as committed. */
static int rows_with_atime(int64_t ms)
{
    char path[400];
    sqlite3 *db;
    sqlite3_stmt *st;
    int n;

    snprintf(path, sizeof path, "%s/index.sqlite", data);
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM entries WHERE ns = 'ns' AND atime = ?1", -1,
                           &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, ms);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A 1-byte object's row in ns "ns", first accessed at created_ms. */
static struct cs_index_record row_record(const char *key, size_t key_len, int64_t created_ms)
{
    return (struct cs_index_record){.ns = "ns",
                                    .key = key,
                                    .key_len = key_len,
                                    .kind = CS_INDEX_OBJECT,
                                    .size = 1,
                                    .dsize = 4096,
                                    .mtime = 1,
                                    .created_ms = created_ms};
}

/* n rows "t/<i>" first accessed at created_ms, committed. */
static void put_rows(struct cs_index *idx, unsigned n, int64_t created_ms)
{
    char key[32];

    for (unsigned i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, "t/%u", i);
        struct cs_index_record rec = row_record(key, (size_t)len, created_ms);
        ck_assert_int_eq(cs_index_put(idx, CS_INDEX_BACKGROUND, &rec, NULL), CS_OK);
    }
    ck_assert_int_eq(cs_index_sync(idx), CS_OK);
}

static void touch_rows(struct cs_index *idx, unsigned n)
{
    char key[32];
    uint8_t digest[CS_SHA256_LEN] = {0};

    for (unsigned i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, "t/%u", i);
        memcpy(digest, &i, sizeof i); /* distinct: no dedup */
        cs_index_touch(idx, "ns", key, (size_t)len, digest);
    }
}

/* The writer applies a large gather a chunk per commit, a sync's gather
 * too; the sync still takes every touch recorded before it. */
START_TEST(sync_takes_every_touch_past_a_chunk)
{
    struct cs_backend b;
    char why[256];
    unsigned n = 2 * 16384 + 100;

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    put_rows(cs_disk_index(&b), n, 1000);
    ck_assert_int_eq(rows_with_atime(1000), (int)n);
    ck_assert_int_eq(cs_index_sync_touches(cs_disk_index(&b), -1),
                     CS_OK); /* timed gather: in 5 s */
    touch_rows(cs_disk_index(&b), n);
    uint64_t commits = cs_index_commits(cs_disk_index(&b));
    ck_assert_int_eq(cs_index_sync_touches(cs_disk_index(&b), -1), CS_OK);
    ck_assert_int_eq(rows_with_atime(1000), 0);
    ck_assert_uint_ge(cs_index_commits(cs_disk_index(&b)) - commits, 3);
    ck_assert_uint_eq(cs_index_touches_dropped(cs_disk_index(&b)), 0);
    b.ops->destroy(b.state);
}
END_TEST

/* A write someone waits for goes in between the chunks of a sync's
 * gather: it does not wait for the whole gather. */
START_TEST(writes_go_between_the_chunks_of_a_sync)
{
    struct cs_backend b;
    char why[256];
    unsigned n = 6 * 16384;
    uint64_t seq;

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    struct cs_index *idx = cs_disk_index(&b);
    put_rows(idx, n, 1000);
    touch_rows(idx, n);
    ck_assert_int_eq(cs_index_sync_touches(idx, 0), CS_ERR_WOULD_BLOCK);
    struct cs_index_record rec = row_record("p/1", 3, 2000);
    rec.durable = true;
    int before = rows_with_atime(1000);
    ck_assert_int_eq(cs_index_put(idx, CS_INDEX_REQUEST, &rec, &seq), CS_OK);
    ck_assert_int_eq(cs_index_wait(idx, seq), CS_OK);
    /* committed after the chunk being applied (and, had the writer just
     * begun the next, that one), with a small chunk of its own; one more
     * chunk of slack for a test thread descheduled on a busy machine */
    int after = rows_with_atime(1000);
    ck_assert_int_gt(after, 0);
    ck_assert_int_le(before - after, 3 * 16384 + 256);
    ck_assert_int_eq(cs_index_sync_touches(idx, -1), CS_OK);
    ck_assert_int_eq(rows_with_atime(1000), 0);
    b.ops->destroy(b.state);
}
END_TEST

/* Without a sync, once enough buffers are full, the writer gathers them
 * and applies them a chunk per commit. */
START_TEST(full_buffers_are_applied_a_chunk_per_commit)
{
    struct cs_backend b;
    char why[256];
    unsigned rows = 1000, touches = 240000; /* past 128 buffers of ~1,500 */

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    struct cs_index *idx = cs_disk_index(&b);
    put_rows(idx, rows, 1000);
    ck_assert_int_eq(cs_index_sync_touches(idx, -1), CS_OK); /* timed gather: in 5 s */
    uint64_t commits = cs_index_commits(idx);
    touch_rows(idx, touches); /* the rows' keys sort all through them */
    for (int i = 0; i < 250 && rows_with_atime(1000) > 0; i++)
        usleep(100 * 1000);
    ck_assert_int_eq(rows_with_atime(1000), 0);
    ck_assert_uint_ge(cs_index_commits(idx) - commits, 128 * 1500 / 16384);
    ck_assert_uint_eq(cs_index_touches_dropped(idx), 0);
    b.ops->destroy(b.state);
}
END_TEST

/* A sync whose touches a failed commit dropped says so: eviction must not
 * take the committed order for a fresh one. */
START_TEST(sync_tells_of_touches_a_failed_commit_dropped)
{
    struct cs_backend b;
    char why[256], db_path[400];
    sqlite3 *db;

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    struct cs_index *idx = cs_disk_index(&b);
    put_rows(idx, 10, 1000);
    snprintf(db_path, sizeof db_path, "%s/index.sqlite", data);
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    touch_rows(idx, 10);
    ck_assert_int_ne(cs_index_sync_touches(idx, -1), CS_OK);
    ck_assert_uint_eq(cs_index_touches_dropped(idx), 10);
    ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    for (int i = 0; i < 100 && cs_index_health(idx) != CS_OK; i++)
        usleep(50000);
    ck_assert_int_eq(cs_index_sync_touches(idx, -1), CS_OK);
    ck_assert_int_eq(rows_with_atime(1000), 10);
    b.ops->destroy(b.state);
}
END_TEST

/* A touch record that no buffer can hold is dropped and counted, not
 * copied past the end of a fresh buffer. */
START_TEST(touch_of_a_key_larger_than_a_buffer_is_dropped)
{
    struct cs_backend b;
    char why[256];
    uint8_t digest[CS_SHA256_LEN] = {1};
    size_t len = 40000;
    char *key = malloc(len);

    ck_assert_ptr_nonnull(key);
    memset(key, 'k', len);
    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    cs_index_touch(cs_disk_index(&b), "ns", key, len, digest);
    ck_assert_uint_eq(cs_index_touches_dropped(cs_disk_index(&b)), 1);
    ck_assert_int_eq(cs_index_sync_touches(cs_disk_index(&b), -1), CS_OK);
    free(key);
    b.ops->destroy(b.state);
}
END_TEST

struct syncer {
    struct cs_index *idx;
    atomic_bool started;
    enum cs_status st;
};

static void *sync_no_limit(void *arg)
{
    struct syncer *s = arg;

    atomic_store(&s->started, true);
    s->st = cs_index_sync_touches(s->idx, -1);
    return NULL;
}

/* A sync asked while an earlier gather is applied counts on that gather's
 * touches too: when a failed commit drops them, it says so, even though
 * the next gather (its own, empty) commits. */
START_TEST(sync_tells_of_an_earlier_gather_dropped)
{
    struct cs_backend b;
    char why[256], db_path[400];
    sqlite3 *db;
    pthread_t th;

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    struct cs_index *idx = cs_disk_index(&b);
    put_rows(idx, 10, 1000);
    snprintf(db_path, sizeof db_path, "%s/index.sqlite", data);
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    touch_rows(idx, 10);
    /* the writer gathers them, and waits for the lock before it fails */
    ck_assert_int_eq(cs_index_sync_touches(idx, 0), CS_ERR_WOULD_BLOCK);
    struct syncer s = {.idx = idx};
    ck_assert_int_eq(pthread_create(&th, NULL, sync_no_limit, &s), 0);
    while (!atomic_load(&s.started))
        usleep(1000);
    for (int i = 0; i < 100 && cs_index_touches_dropped(idx) == 0; i++)
        usleep(50000);
    ck_assert_uint_eq(cs_index_touches_dropped(idx), 10);
    ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_ne(s.st, CS_OK);
    ck_assert_int_eq(rows_with_atime(1000), 10);
    b.ops->destroy(b.state);
}
END_TEST

/* Touches are gathered in large batches (many full buffers, or every few
 * seconds), not a buffer at a time: each commit of touches rewrites the
 * index pages it changes, and small ones rewrote a page per touch. */
START_TEST(touches_wait_for_a_large_gather)
{
    struct cs_backend b;
    char why[256];

    ck_assert_int_eq(open_disk(data, &b, why, sizeof why), CS_OK);
    put_rows(cs_disk_index(&b), 10, 1000);
    ck_assert_int_eq(cs_index_sync_touches(cs_disk_index(&b), -1),
                     CS_OK); /* timed gather: in 5 s */
    touch_rows(cs_disk_index(&b), 10);
    usleep(1000 * 1000);
    ck_assert_int_eq(rows_with_atime(1000), 10);
    ck_assert_int_eq(cs_index_sync_touches(cs_disk_index(&b), -1), CS_OK);
    ck_assert_int_eq(rows_with_atime(1000), 0);
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
    tcase_add_test(tc, uploads_of_two_threads_use_two_tmp_dirs);
    tcase_add_test(tc, unusable_dirs);
    tcase_add_test(tc, etag_content_type_and_cas_digest);
    tcase_add_test(tc, copy_move_and_index);
    tcase_add_test(tc, layout_1_is_upgraded);
    tcase_add_test(tc, quota_and_lru_eviction);
    tcase_add_test(tc, index_schema_1_is_upgraded);
    tcase_add_test(tc, data_dir_limit_evicts_oldest_across_namespaces);
    tcase_add_test(tc, fsck_waits_for_a_working_index);
    suite_add_tcase(s, tc);
    TCase *tt = tcase_create("touch");
    tcase_add_checked_fixture(tt, setup, teardown);
    tcase_set_timeout(tt, 30);
    tcase_add_test(tt, touches_while_the_writer_gathers);
    tcase_add_test(tt, sync_takes_every_touch_past_a_chunk);
    tcase_add_test(tt, writes_go_between_the_chunks_of_a_sync);
    tcase_add_test(tt, full_buffers_are_applied_a_chunk_per_commit);
    tcase_add_test(tt, touches_wait_for_a_large_gather);
    tcase_add_test(tt, sync_tells_of_touches_a_failed_commit_dropped);
    tcase_add_test(tt, sync_tells_of_an_earlier_gather_dropped);
    tcase_add_test(tt, touch_of_a_key_larger_than_a_buffer_is_dropped);
    suite_add_tcase(s, tt);
    return cs_run_suite(s);
}
