/* What the disk backend's unit tests share: a temp data dir per test, the
 * backend opened on it, and a PUT and a read-back that check every step.
 * Included by each test file (static inline: one copy per program). */
#ifndef CS_TEST_DISK_FIXTURE_H
#define CS_TEST_DISK_FIXTURE_H

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/disk.h"

static char root[] = "/tmp/cstash-test-disk-XXXXXX";
static char data[300];

static inline void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(data, sizeof data, "%s/data", root);
}

static inline void teardown(void)
{
    char cmd[400];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(root, "/tmp/cstash-test-disk-XXXXXX");
}

/* The backend as the tests use it: namespaces "ns" and "ns2", no limits,
 * no background threads. */
static inline enum cs_status open_disk(const char *dir, struct cs_backend *b, char *why, size_t len)
{
    static const struct cs_disk_ns ns[] = {{"ns", 0}, {"ns2", 0}};
    struct cs_disk_options opt = {.data_dir = dir, .ns = ns, .n_ns = 2, .track_access = true};

    return cs_disk_open(&opt, b, why, len);
}

/* Files under dir, in its subdirectories too (uploads keep a directory
 * per thread under tmp/): directories are not counted. */
static inline unsigned count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;

        if (e->d_name[0] == '.')
            continue;
        ck_assert_int_lt(snprintf(path, sizeof path, "%s/%s", dir, e->d_name), (int)sizeof path);
        ck_assert_int_eq(lstat(path, &st), 0);
        n += S_ISDIR(st.st_mode) ? count_files(path) : 1;
    }
    closedir(d);
    return n;
}

static inline void put(struct cs_backend *b, const struct cs_object_id *id, const char *body,
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

static inline void expect_body(struct cs_backend *b, const struct cs_object_id *id,
                               const char *body)
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

#endif
