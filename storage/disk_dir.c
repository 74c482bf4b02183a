/* The disk backend's data directory: moving files into objects/ (and
 * making that durable), the FORMAT file and the upgrade of layout 1, the
 * lock that keeps one server per directory, the emptying of tmp/ at
 * start-up, and opening and closing it all with the index and the
 * background work. */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/disk_priv.h"
#include "storage/evict.h"
#include "storage/fsck.h"
#include "storage/index.h"
#include "storage/zstd_io.h"

#define DISK_FORMAT "cstash-data 2\n"
#define DISK_FORMAT_1 "cstash-data 1\n"

const char *cs_disk_thread_tag(void)
{
    static __thread char tag[48];

    if (!tag[0])
        snprintf(tag, sizeof tag, "%d-%ld", (int)getpid(), (long)syscall(SYS_gettid));
    return tag;
}

enum cs_status cs_disk_fsync_dir_at(int base_fd, const char *rel)
{
    int fd = openat(base_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    enum cs_status st = CS_OK;

    if (fd < 0)
        return cs_status_from_errno(errno);
    if (fsync(fd) < 0)
        st = cs_status_from_errno(errno);
    close(fd);
    return st;
}

/* Creates objects/ab on the first object that needs it. */
static enum cs_status make_parent(struct cs_disk *d, const char *path, bool durable)
{
    char dir[CS_DISK_DIR_LEN + 1];

    memcpy(dir, path, CS_DISK_DIR_LEN);
    dir[CS_DISK_DIR_LEN] = '\0';
    if (mkdirat(d->objects_fd, dir, 0755) < 0 && errno != EEXIST)
        return cs_status_from_errno(errno);
    return durable ? cs_disk_fsync_dir_at(d->objects_fd, ".") : CS_OK;
}

/* Moves the finished temp file into place. RENAME_NOREPLACE tells a new
 * key (201) from an overwrite (204) without a separate, racy stat. */
enum cs_status cs_disk_move_into_place(struct cs_disk *d, int from_fd, const char *from,
                                       const char *path, bool overwrite, bool durable,
                                       bool *created)
{
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        if (renameat2(from_fd, from, d->objects_fd, path, RENAME_NOREPLACE) == 0) {
            *created = true;
            return CS_OK;
        }
        if (errno == EEXIST && !overwrite)
            return CS_ERR_EXISTS;
        if (errno == EEXIST || errno == EINVAL || errno == ENOSYS) {
            /* EINVAL/ENOSYS: file system without RENAME_NOREPLACE */
            bool existed = errno == EEXIST || faccessat(d->objects_fd, path, F_OK, 0) == 0;
            if (existed && !overwrite)
                return CS_ERR_EXISTS;
            if (renameat(from_fd, from, d->objects_fd, path) == 0) {
                *created = !existed;
                return CS_OK;
            }
        }
        if (errno != ENOENT || attempt > 0)
            return cs_status_from_errno(errno);
        /* ENOENT: the source is gone, or objects/ab does not exist yet */
        if (faccessat(from_fd, from, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
            return CS_ERR_NOT_FOUND;
        enum cs_status st = make_parent(d, path, durable);
        if (st != CS_OK)
            return st;
    }
    return CS_ERR_IO;
}

/* A durable write is acknowledged once its directory entry and its index
 * row are on stable storage. */
enum cs_status cs_disk_make_durable(struct cs_disk *d, const char *path, uint64_t seq)
{
    char dir[CS_DISK_DIR_LEN + 1];
    enum cs_status st;

    memcpy(dir, path, CS_DISK_DIR_LEN);
    dir[CS_DISK_DIR_LEN] = '\0';
    st = cs_disk_fsync_dir_at(d->objects_fd, dir);
    return st == CS_OK ? cs_index_wait(d->index, seq) : st;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path), i;

    if (len == 0 || len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST)
            return -1;
        buf[i] = saved;
    }
    return 0;
}

/* rm -r of parent_fd/name; returns the number of files removed. */
static unsigned remove_tree(int parent_fd, const char *name)
{
    unsigned removed = 0;
    struct dirent *e;
    DIR *dir;
    int fd;

    if (unlinkat(parent_fd, name, 0) == 0)
        return 1;
    if (errno != EISDIR && errno != EPERM)
        return 0;
    fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return 0;
    }
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            removed += remove_tree(dirfd(dir), e->d_name);
    }
    closedir(dir);
    unlinkat(parent_fd, name, AT_REMOVEDIR);
    return removed;
}

/* Leftovers of a crash: uploads that never committed, and objects of an
 * old layout set aside by upgrade_format. Safe because the lock says no
 * other server uses this directory. */
static void clean_tmp(struct cs_disk *d)
{
    int fd = dup(d->tmp_fd);
    DIR *dir;
    struct dirent *e;
    unsigned removed = 0;

    if (fd < 0)
        return;
    dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return;
    }
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        removed += remove_tree(d->tmp_fd, e->d_name);
        /* left (owned by another user, say): a thread whose tag it has
         * would fail every upload, so say so */
        if (faccessat(d->tmp_fd, e->d_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
            cs_log(CS_LOG_WARN,
                   "cannot remove %s/tmp/%s (a leftover of another user?): uploads of the "
                   "thread with that name fail until it is removed",
                   d->root, e->d_name);
    }
    closedir(dir);
    if (removed)
        cs_log(CS_LOG_INFO, "removed %u leftover file(s) from %s/tmp", removed, d->root);
}

static enum cs_status write_format(struct cs_disk *d, char *why, size_t why_len)
{
    int fd = openat(d->root_fd, "FORMAT.new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || write(fd, DISK_FORMAT, strlen(DISK_FORMAT)) != (ssize_t)strlen(DISK_FORMAT) ||
        fsync(fd) < 0 || renameat(d->root_fd, "FORMAT.new", d->root_fd, "FORMAT") < 0) {
        int err = errno;
        snprintf(why, why_len, "cannot write to data dir %s: %s", d->root, strerror(err));
        if (fd >= 0)
            close(fd);
        return cs_status_from_errno(err);
    }
    close(fd);
    return CS_OK;
}

/* Layout 1 stored bare bodies with no record of their keys: they cannot
 * be listed, typed or given an ETag, so a cache upgrade drops them (they
 * are set aside in tmp/ and removed by clean_tmp). */
static enum cs_status upgrade_format(struct cs_disk *d, char *why, size_t why_len)
{
    close(d->objects_fd);
    d->objects_fd = -1;
    if (renameat(d->root_fd, "objects", d->tmp_fd, "format1-objects") < 0 ||
        mkdirat(d->root_fd, "objects", 0750) < 0) {
        snprintf(why, why_len, "cannot upgrade data dir %s: %s", d->root, strerror(errno));
        return cs_status_from_errno(errno);
    }
    d->objects_fd = openat(d->root_fd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->objects_fd < 0) {
        snprintf(why, why_len, "cannot open %s/objects: %s", d->root, strerror(errno));
        return cs_status_from_errno(errno);
    }
    cs_log(CS_LOG_WARN,
           "data dir %s had layout 1 (objects without key names): its cached "
           "objects are dropped and the layout upgraded to 2",
           d->root);
    return write_format(d, why, why_len);
}

static enum cs_status check_format(struct cs_disk *d, char *why, size_t why_len)
{
    char buf[64];
    int fd = openat(d->root_fd, "FORMAT", O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0 && errno == ENOENT)
        return write_format(d, why, why_len);
    if (fd < 0) {
        snprintf(why, why_len, "cannot read %s/FORMAT: %s", d->root, strerror(errno));
        return cs_status_from_errno(errno);
    }
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    if (strcmp(buf, DISK_FORMAT_1) == 0)
        return upgrade_format(d, why, why_len);
    if (strcmp(buf, DISK_FORMAT) != 0) {
        snprintf(why, why_len,
                 "%s/FORMAT is not \"cstash-data 2\": data dir from another "
                 "version or program",
                 d->root);
        return CS_ERR_INVALID;
    }
    return CS_OK;
}

static enum cs_status open_layout(struct cs_disk *d, char *why, size_t why_len)
{
    const char *step;

    step = "create";
    if (make_dirs(d->root) < 0)
        goto fail;
    step = "open";
    d->root_fd = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->root_fd < 0)
        goto fail;
    step = "lock";
    d->lock_fd = openat(d->root_fd, "cstashd.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->lock_fd < 0)
        goto fail;
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            snprintf(why, why_len, "data dir %s is in use by another cstashd", d->root);
            return CS_ERR_BUSY;
        }
        goto fail;
    }
    step = "write to";
    if ((mkdirat(d->root_fd, "objects", 0750) < 0 && errno != EEXIST) ||
        (mkdirat(d->root_fd, "tmp", 0750) < 0 && errno != EEXIST))
        goto fail;
    d->objects_fd = openat(d->root_fd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    d->tmp_fd = openat(d->root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->objects_fd < 0 || d->tmp_fd < 0)
        goto fail;
    /* A probe write: fail now with a clear message, not on the first PUT. */
    int probe = openat(d->tmp_fd, ".probe", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (probe < 0)
        goto fail;
    close(probe);
    unlinkat(d->tmp_fd, ".probe", 0);
    return check_format(d, why, why_len);
fail:
    snprintf(why, why_len, "cannot %s data dir %s: %s", step, d->root, strerror(errno));
    return cs_status_from_errno(errno);
}

static enum cs_status setup_usage(struct cs_disk *d, const struct cs_disk_options *opt)
{
    struct statvfs vfs;
    size_t i;

    d->block = fstatvfs(d->root_fd, &vfs) == 0 && vfs.f_bsize >= 512 ? vfs.f_bsize : 4096;
    if (cs_usage_init(&d->usage, opt->max_size) != CS_OK)
        return CS_ERR_NOMEM;
    for (i = 0; i < opt->n_ns; i++)
        if (!cs_usage_add(&d->usage, opt->ns[i].name, strlen(opt->ns[i].name), opt->ns[i].max_size))
            return CS_ERR_NOMEM;
    return CS_OK;
}

static enum cs_status start_background(struct cs_disk *d, char *why, size_t why_len)
{
    if (cs_evictor_start(d, &d->evictor) != CS_OK) {
        snprintf(why, why_len, "cannot start the eviction thread");
        return CS_ERR_NOMEM;
    }
    if (cs_fsck_start(d, &d->fsck) != CS_OK) {
        snprintf(why, why_len, "cannot start the fsck thread");
        return CS_ERR_NOMEM;
    }
    return CS_OK;
}

void cs_disk_dir_close(struct cs_disk *d)
{
    size_t i;

    if (!d)
        return;
    atomic_store(&d->stopping, true);
    if (d->index) /* a background thread waiting for room must not hold up the joins */
        cs_index_begin_close(d->index);
    cs_fsck_stop(d->fsck);
    cs_evictor_stop(d->evictor);
    if (d->objects_fd >= 0)
        close(d->objects_fd);
    if (d->tmp_fd >= 0)
        close(d->tmp_fd);
    if (d->root_fd >= 0)
        close(d->root_fd);
    cs_index_close(d->index);
    cs_usage_free(&d->usage);
    cs_zpool_free(d->zpool);
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* releases the flock */
    for (i = 0; i < CS_DISK_KEY_LOCKS; i++)
        pthread_mutex_destroy(&d->key_locks[i]);
    free(d->root);
    free(d);
}

enum cs_status cs_disk_dir_open(const struct cs_disk_options *opt, struct cs_disk **out, char *why,
                                size_t why_len)
{
    struct cs_disk *d = calloc(1, sizeof *d);
    enum cs_status st;

    if (!d)
        return CS_ERR_NOMEM;
    d->root_fd = d->objects_fd = d->tmp_fd = d->lock_fd = -1;
    d->track_access = opt->track_access;
    for (size_t i = 0; i < CS_DISK_KEY_LOCKS; i++)
        pthread_mutex_init(&d->key_locks[i], NULL);
    atomic_init(&d->stopping, false);
    d->root = strdup(opt->data_dir);
    d->zpool = cs_zpool_new();
    if (!d->root || !d->zpool) {
        free(d->root);
        cs_zpool_free(d->zpool);
        free(d);
        return CS_ERR_NOMEM;
    }
    st = open_layout(d, why, why_len);
    if (st == CS_OK) {
        st = setup_usage(d, opt);
        if (st != CS_OK)
            snprintf(why, why_len, "out of memory");
    }
    if (st == CS_OK) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/index.sqlite", d->root);
        st = cs_index_open(path, &d->usage, opt->index_queue, &d->index, why, why_len);
    }
    if (st == CS_OK) {
        clean_tmp(d);
        if (opt->background)
            st = start_background(d, why, why_len);
    }
    if (st != CS_OK) {
        cs_disk_dir_close(d);
        return st;
    }
    *out = d;
    return CS_OK;
}
