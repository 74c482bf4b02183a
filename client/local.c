/* Local blob store of the cstash client. */
#include "autoconfig.h"

#include "client/local.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Keep a cleaned shard this far under its limit, so the next cleanup is
 * many compiles away. */
#define CLEAN_TO_PERCENT 80

char *cs_local_path(const char *dir, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind)
{
    char hex[CS_SHA256_HEX_LEN + 1];
    cs_hex_encode(key, CS_SHA256_LEN, hex);
    size_t n = strlen(dir) + CS_SHA256_HEX_LEN + 8;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%c/%.2s/%s.%c", dir, hex[0], hex + 1, hex + 3, (char)kind);
    return p;
}

unsigned cs_local_shard(const uint8_t key[CS_SHA256_LEN])
{
    return key[0] >> 4;
}

enum cs_status cs_local_get(const char *dir, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind,
                            struct cs_bytes *out)
{
    char *path = cs_local_path(dir, key, kind);
    if (!path)
        return CS_ERR_NOMEM;
    enum cs_status rc = cs_read_file(path, (size_t)4 << 30, out);
    if (rc == CS_OK)
        (void)utimensat(AT_FDCWD, path, NULL, 0); /* LRU age; a failure only ages it */
    free(path);
    return rc;
}

enum cs_status cs_local_write(const char *dir, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind,
                              const void *data, size_t len, struct cs_stats *d)
{
    char *path = cs_local_path(dir, key, kind);
    if (!path)
        return CS_ERR_NOMEM;
    struct stat old;
    bool existed = stat(path, &old) == 0;
    enum cs_status rc = cs_write_file_atomic(path, data, len);
    if (rc == CS_ERR_NOT_FOUND || rc == CS_ERR_IO) {
        if (cs_mkdirs(path, false) == CS_OK)
            rc = cs_write_file_atomic(path, data, len);
    }
    free(path);
    if (rc == CS_OK) {
        d->v[CS_ST_FILES] += existed ? 0 : 1;
        d->v[CS_ST_BYTES] += (int64_t)len - (existed ? (int64_t)old.st_size : 0);
    }
    return rc;
}

enum cs_status cs_local_put(const char *dir, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind,
                            const void *data, size_t len, uint64_t maxsize)
{
    struct cs_stats d = {0};
    enum cs_status rc = cs_local_write(dir, key, kind, data, len, &d);
    return rc == CS_OK ? cs_local_account_shard(dir, cs_local_shard(key), &d, maxsize) : rc;
}

enum cs_status cs_local_account(const char *dir, const uint8_t key[CS_SHA256_LEN], int64_t files,
                                int64_t bytes, uint64_t maxsize)
{
    struct cs_stats d = {0};
    d.v[CS_ST_FILES] = files;
    d.v[CS_ST_BYTES] = bytes;
    return cs_local_account_shard(dir, cs_local_shard(key), &d, maxsize);
}

enum cs_status cs_local_account_shard(const char *dir, unsigned shard, const struct cs_stats *delta,
                                      uint64_t maxsize)
{
    struct cs_stats now;
    enum cs_status rc = cs_stats_add(dir, shard, delta, &now);
    if (rc == CS_OK && (uint64_t)now.v[CS_ST_BYTES] > maxsize / 16)
        rc = cs_local_clean_shard(dir, shard, maxsize / 16 * CLEAN_TO_PERCENT / 100);
    return rc;
}

struct entry {
    char *path;
    int64_t mtime;
    int64_t size;
};

static int by_age(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Lists the blobs of one shard (DIR/<s>/<xx>/…). */
static enum cs_status list_shard(const char *sdir, struct entry **out, size_t *n, int64_t *total)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    *total = 0;
    DIR *top = opendir(sdir);
    if (!top)
        return errno == ENOENT ? CS_OK : cs_status_from_errno(errno);
    enum cs_status rc = CS_OK;
    struct dirent *de;
    while (rc == CS_OK && (de = readdir(top))) {
        if (strlen(de->d_name) != 2)
            continue;
        char *sub = cs_path_join(sdir, de->d_name);
        DIR *d = sub ? opendir(sub) : NULL;
        if (!sub) {
            rc = CS_ERR_NOMEM;
            break;
        }
        struct dirent *fe;
        while (d && rc == CS_OK && (fe = readdir(d))) {
            if (fe->d_name[0] == '.')
                continue;
            char *p = cs_path_join(sub, fe->d_name);
            struct stat st;
            if (!p) {
                rc = CS_ERR_NOMEM;
                break;
            }
            if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
                free(p);
                continue;
            }
            /* A temp file older than an hour is a leftover of a killed compile. */
            if (strstr(fe->d_name, ".tmp.") && st.st_mtime + 3600 > cs_now_ns() / 1000000000) {
                free(p);
                continue;
            }
            if (*n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                struct entry *e = realloc(*out, nc * sizeof *e);
                if (!e) {
                    free(p);
                    rc = CS_ERR_NOMEM;
                    break;
                }
                *out = e;
                cap = nc;
            }
            (*out)[(*n)++] =
                (struct entry){p, (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
                               (int64_t)st.st_size};
            *total += st.st_size;
        }
        if (d)
            closedir(d);
        free(sub);
    }
    closedir(top);
    return rc;
}

enum cs_status cs_local_clean_shard(const char *dir, unsigned shard, uint64_t limit)
{
    char leaf[8];
    snprintf(leaf, sizeof leaf, "%x", shard & 15);
    char *sdir = cs_path_join(dir, leaf);
    char *lockp = sdir ? cs_path_join(sdir, "clean.lock") : NULL;
    if (!lockp) {
        free(sdir);
        return CS_ERR_NOMEM;
    }
    /* One cleaner per shard; the others go on compiling. */
    int lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    free(lockp);
    if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) != 0) {
        if (lfd >= 0)
            close(lfd);
        free(sdir);
        return CS_OK;
    }
    struct entry *e;
    size_t n;
    int64_t total;
    enum cs_status rc = list_shard(sdir, &e, &n, &total);
    if (rc == CS_OK) {
        if (n > 1) /* qsort(NULL, 0, ...) is undefined */
            qsort(e, n, sizeof *e, by_age);
        size_t kept = n;
        for (size_t i = 0; i < n && (uint64_t)total > limit; i++) {
            if (unlink(e[i].path) == 0 || errno == ENOENT) {
                total -= e[i].size;
                kept--;
            }
        }
        struct cs_stats d = {0};
        d.v[CS_ST_CLEANUPS] = 1;
        rc = cs_stats_set_size(dir, shard, (int64_t)kept, total);
        if (rc == CS_OK)
            rc = cs_stats_add(dir, shard, &d, NULL);
    }
    for (size_t i = 0; i < n; i++)
        free(e[i].path);
    free(e);
    close(lfd);
    free(sdir);
    return rc;
}

enum cs_status cs_local_clear(const char *dir)
{
    for (unsigned s = 0; s < 16; s++) {
        enum cs_status rc = cs_local_clean_shard(dir, s, 0);
        if (rc != CS_OK)
            return rc;
    }
    return CS_OK;
}

void cs_local_sweep_tmp(const char *dir)
{
    char *tmp = cs_path_join(dir, "tmp");
    DIR *d = tmp ? opendir(tmp) : NULL;
    struct dirent *de;
    int64_t now = cs_now_ns() / 1000000000;
    while (d && (de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode) && st.st_mtime + 3600 < now)
            (void)unlinkat(dirfd(d), de->d_name, 0);
    }
    if (d)
        closedir(d);
    free(tmp);
}
