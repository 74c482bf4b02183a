/* Local-disk backend: objects are files named by the hash of their id. */
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
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/disk.h"

#define DISK_FORMAT "cstash-data 1\n"

struct disk {
    char *root;
    int root_fd;
    int objects_fd;
    int tmp_fd;
    int lock_fd;
};

struct cs_upload {
    struct disk *disk;
    int fd;
    bool durable;
    uint8_t digest[CS_SHA256_LEN];
    char tmp_name[64];
};

/* "ab/<64 hex>" relative to objects/. One level of 256 directories: a
 * second level (65536 directories) made every new key dirty a different
 * directory block and cost ~40% of PUT throughput; ext4's hashed
 * directories hold millions of entries each without trouble. */
#define DIR_LEN 2
#define REL_PATH_LEN (DIR_LEN + 1 + CS_SHA256_HEX_LEN + 1)

static void rel_path(const uint8_t digest[CS_SHA256_LEN], char out[REL_PATH_LEN])
{
    cs_hex_encode(digest, CS_SHA256_LEN, out + DIR_LEN + 1);
    memcpy(out, out + DIR_LEN + 1, DIR_LEN);
    out[DIR_LEN] = '/';
}

/* close(2) that does not report EINTR: on Linux the fd is gone either way,
 * and retrying could close an fd another thread just opened. */
static int close_fd(int fd)
{
    int rc = close(fd);
    return rc < 0 && errno == EINTR ? 0 : rc;
}

static enum cs_status disk_open_object(void *state, const struct cs_object_id *id,
                                       struct cs_object *out)
{
    struct disk *d = state;
    char path[REL_PATH_LEN];
    struct stat st;
    int fd;

    rel_path(id->digest, path);
    fd = openat(d->objects_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? CS_ERR_NOT_FOUND : cs_status_from_errno(errno);
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return cs_status_from_errno(err);
    }
    out->fd = fd;
    out->size = (uint64_t)st.st_size;
    out->mtime = st.st_mtime;
    return CS_OK;
}

static enum cs_status disk_put_begin(void *state, const struct cs_object_id *id,
                                     const struct cs_put_options *opt, struct cs_upload **out)
{
    /* Per-thread sequence: unique names without a counter shared by threads. */
    static __thread unsigned long seq;
    struct disk *d = state;
    struct cs_upload *up = calloc(1, sizeof *up);

    if (!up)
        return CS_ERR_NOMEM;
    up->disk = d;
    up->durable = opt->durable;
    memcpy(up->digest, id->digest, CS_SHA256_LEN);
    snprintf(up->tmp_name, sizeof up->tmp_name, "%d-%ld-%lu.tmp", (int)getpid(),
             (long)syscall(SYS_gettid), ++seq);
    up->fd = openat(d->tmp_fd, up->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (up->fd < 0) {
        int err = errno;
        free(up);
        return cs_status_from_errno(err);
    }
    *out = up;
    return CS_OK;
}

static enum cs_status disk_put_write(struct cs_upload *up, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(up->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cs_status_from_errno(errno);
        }
        p += n;
        len -= (size_t)n;
    }
    return CS_OK;
}

static void upload_free(struct cs_upload *up, bool unlink_tmp)
{
    if (up->fd >= 0)
        close_fd(up->fd);
    if (unlink_tmp)
        unlinkat(up->disk->tmp_fd, up->tmp_name, 0);
    free(up);
}

static enum cs_status fsync_dir_at(int base_fd, const char *rel)
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
static enum cs_status make_parent(struct disk *d, const char *path, bool durable)
{
    char dir[DIR_LEN + 1];

    memcpy(dir, path, DIR_LEN);
    dir[DIR_LEN] = '\0';
    if (mkdirat(d->objects_fd, dir, 0755) < 0 && errno != EEXIST)
        return cs_status_from_errno(errno);
    return durable ? fsync_dir_at(d->objects_fd, ".") : CS_OK;
}

/* Moves the finished temp file into place. RENAME_NOREPLACE tells a new
 * key (201) from an overwrite (204) without a separate, racy stat. */
static enum cs_status move_into_place(struct cs_upload *up, const char *path, bool *created)
{
    struct disk *d = up->disk;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        if (renameat2(d->tmp_fd, up->tmp_name, d->objects_fd, path, RENAME_NOREPLACE) == 0) {
            *created = true;
            return CS_OK;
        }
        if (errno == EEXIST || errno == EINVAL || errno == ENOSYS) {
            /* EINVAL/ENOSYS: file system without RENAME_NOREPLACE */
            bool existed = errno == EEXIST || faccessat(d->objects_fd, path, F_OK, 0) == 0;
            if (renameat(d->tmp_fd, up->tmp_name, d->objects_fd, path) == 0) {
                *created = !existed;
                return CS_OK;
            }
        }
        if (errno != ENOENT || attempt > 0)
            return cs_status_from_errno(errno);
        enum cs_status st = make_parent(d, path, up->durable);
        if (st != CS_OK)
            return st;
    }
    return CS_ERR_IO;
}

static enum cs_status disk_put_commit(struct cs_upload *up, bool *created)
{
    char path[REL_PATH_LEN];
    enum cs_status st = CS_OK;

    if (up->durable && fdatasync(up->fd) < 0)
        st = cs_status_from_errno(errno);
    if (close_fd(up->fd) < 0 && st == CS_OK)
        st = cs_status_from_errno(errno);
    up->fd = -1;
    if (st != CS_OK) {
        upload_free(up, true);
        return st;
    }
    rel_path(up->digest, path);
    st = move_into_place(up, path, created);
    if (st != CS_OK) {
        upload_free(up, true);
        return st;
    }
    if (up->durable) {
        path[DIR_LEN] = '\0';
        st = fsync_dir_at(up->disk->objects_fd, path);
    }
    upload_free(up, false);
    return st;
}

static void disk_put_abort(struct cs_upload *up)
{
    upload_free(up, true);
}

static enum cs_status disk_remove(void *state, const struct cs_object_id *id, bool durable)
{
    struct disk *d = state;
    char path[REL_PATH_LEN];

    rel_path(id->digest, path);
    if (unlinkat(d->objects_fd, path, 0) < 0)
        return errno == ENOENT || errno == ENOTDIR ? CS_ERR_NOT_FOUND : cs_status_from_errno(errno);
    if (durable) {
        path[DIR_LEN] = '\0';
        return fsync_dir_at(d->objects_fd, path);
    }
    return CS_OK;
}

static void disk_destroy(void *state)
{
    struct disk *d = state;

    if (!d)
        return;
    if (d->objects_fd >= 0)
        close(d->objects_fd);
    if (d->tmp_fd >= 0)
        close(d->tmp_fd);
    if (d->root_fd >= 0)
        close(d->root_fd);
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* releases the flock */
    free(d->root);
    free(d);
}

static const struct cs_backend_ops disk_ops = {
    .name = "disk",
    .open = disk_open_object,
    .put_begin = disk_put_begin,
    .put_write = disk_put_write,
    .put_commit = disk_put_commit,
    .put_abort = disk_put_abort,
    .remove = disk_remove,
    .destroy = disk_destroy,
};

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

/* Leftovers of a crash: uploads that never committed. Safe because the
 * lock says no other server uses this directory. */
static void clean_tmp(struct disk *d)
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
        if (unlinkat(d->tmp_fd, e->d_name, 0) == 0)
            removed++;
    }
    closedir(dir);
    if (removed)
        cs_log(CS_LOG_INFO, "removed %u unfinished upload(s) from %s/tmp", removed, d->root);
}

static enum cs_status check_format(struct disk *d, char *why, size_t why_len)
{
    char buf[64];
    int fd = openat(d->root_fd, "FORMAT", O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0 && errno == ENOENT) {
        fd = openat(d->root_fd, "FORMAT", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, DISK_FORMAT, strlen(DISK_FORMAT)) < 0) {
            snprintf(why, why_len, "cannot write to data dir %s: %s", d->root, strerror(errno));
            if (fd >= 0)
                close(fd);
            return cs_status_from_errno(errno);
        }
        close(fd);
        return CS_OK;
    }
    if (fd < 0) {
        snprintf(why, why_len, "cannot read %s/FORMAT: %s", d->root, strerror(errno));
        return cs_status_from_errno(errno);
    }
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    if (strcmp(buf, DISK_FORMAT) != 0) {
        snprintf(why, why_len, "%s/FORMAT is not \"cstash-data 1\": data dir from another "
                               "version or program", d->root);
        return CS_ERR_INVALID;
    }
    return CS_OK;
}

static enum cs_status open_layout(struct disk *d, char *why, size_t why_len)
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

enum cs_status cs_disk_open(const char *data_dir, struct cs_backend *out, char *why,
                            size_t why_len)
{
    struct disk *d = calloc(1, sizeof *d);
    enum cs_status st;

    if (!d)
        return CS_ERR_NOMEM;
    d->root_fd = d->objects_fd = d->tmp_fd = d->lock_fd = -1;
    d->root = strdup(data_dir);
    if (!d->root) {
        free(d);
        return CS_ERR_NOMEM;
    }
    st = open_layout(d, why, why_len);
    if (st != CS_OK) {
        disk_destroy(d);
        return st;
    }
    clean_tmp(d);
    out->ops = &disk_ops;
    out->state = d;
    return CS_OK;
}
