/* Local-disk backend: objects are files named by the hash of their id.
 * This file is the backend's table of operations, the operations on
 * stored objects (open, exists, remove, copy, move) and the functions of
 * disk.h. Uploads are in disk_put.c, the data directory in disk_dir.c,
 * the file format in object_file.c; disk_priv.h says how they depend on
 * each other. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/disk.h"
#include "storage/disk_priv.h"
#include "storage/evict.h"
#include "storage/fsck.h"
#include "storage/index.h"
#include "storage/object_file.h"
#include "storage/zstd_io.h"

static const struct cs_backend_ops disk_ops;

/* An open that fails after the file was opened: fd is closed and what out
 * got (the metadata) is given back, so the caller has nothing to release. */
static enum cs_status open_fails(int fd, struct cs_object *out, enum cs_status st)
{
    close(fd);
    free(out->meta);
    out->meta = NULL;
    out->meta_len = 0;
    out->fd = -1;
    out->body = NULL;
    return st;
}

static enum cs_status corrupt(int fd, const struct cs_object_id *id, struct cs_object *out)
{
    char hex[CS_SHA256_HEX_LEN + 1];

    cs_hex_encode(id->digest, CS_SHA256_LEN, hex);
    cs_log(CS_LOG_ERROR, "object %s (ns=%s) has a damaged header: served as an error", hex, id->ns);
    return open_fails(fd, out, CS_ERR_IO);
}

/* The metadata of the header just parsed into out, h holding its first
 * avail bytes. Tested here, not in the call: a GET of an object without
 * metadata pays one branch. */
static enum cs_status load_meta(int fd, const uint8_t *h, size_t avail,
                                const struct cs_object_id *id, struct cs_object *out)
{
    enum cs_status st;

    if (out->meta_len == 0)
        return CS_OK;
    st = cs_object_meta_load(fd, h, avail, out);
    if (st == CS_ERR_IO)
        return corrupt(fd, id, out);
    return st == CS_OK ? st : open_fails(fd, out, st);
}

/* Small objects: one read for header and body, then the body is moved to
 * the start of the buffer (or decompressed into its own) so the caller can
 * hand it on and free it; the metadata, if any, is copied out first. A
 * compressed body is decompressed into memory only when its raw size is
 * at most read_max: the raw size in the header is a claim (a 16 KiB frame
 * of zeros says 512 MiB), so a larger one is left to the streaming reader,
 * whose memory is bounded. */
static enum cs_status read_whole(int fd, uint64_t file_size, size_t read_max,
                                 const struct cs_object_id *id, struct cs_object *out)
{
    uint8_t *buf = malloc(file_size);
    enum cs_status st;
    ssize_t n;

    if (!buf)
        return open_fails(fd, out, CS_ERR_NOMEM);
    n = pread(fd, buf, file_size, 0);
    if (n != (ssize_t)file_size ||
        cs_object_header_parse(buf, (size_t)n, file_size, out) != CS_OK) {
        free(buf);
        return corrupt(fd, id, out);
    }
    if ((st = load_meta(fd, buf, (size_t)n, id, out)) != CS_OK) {
        free(buf);
        return st;
    }
    if (out->zstd && out->size > read_max) {
        free(buf);
        out->fd = fd;
        out->body = NULL;
        return CS_OK;
    }
    if (out->zstd) {
        uint8_t *raw = malloc(out->size ? out->size : 1);
        ZSTD_DCtx *dctx = cs_thread_dctx();
        size_t got = raw && dctx ? ZSTD_decompressDCtx(dctx, raw, out->size, buf + out->offset,
                                                       out->stored_size)
                                 : 0;
        free(buf);
        if (!raw || !dctx) {
            free(raw);
            return open_fails(fd, out, CS_ERR_NOMEM);
        }
        if (ZSTD_isError(got) || got != out->size) {
            free(raw);
            return corrupt(fd, id, out);
        }
        buf = raw;
    } else {
        memmove(buf, buf + out->offset, out->size);
    }
    close(fd);
    out->fd = -1;
    out->body = buf;
    return CS_OK;
}

static enum cs_status disk_open_object(void *state, const struct cs_object_id *id, size_t read_max,
                                       unsigned flags, struct cs_object *out)
{
    struct cs_disk *d = state;
    char path[CS_DISK_REL_PATH_LEN];
    uint8_t hdr[CS_OBJECT_HDR_PREFIX_MAX]; /* metadata beyond it is read only when there is some */
    struct stat st;
    ssize_t n;
    int fd;

    cs_disk_rel_path(id->digest, path);
    fd = openat(d->objects_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? CS_ERR_NOT_FOUND : cs_status_from_errno(errno);
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return cs_status_from_errno(err);
    }
    out->fd = fd;
    out->body = NULL;
    out->meta = NULL;
    out->meta_len = 0;
    out->mtime = st.st_mtime;
    if (d->track_access && !(flags & CS_NOTOUCH))
        cs_index_touch(d->index, id->ns, id->key, id->key_len, id->digest);
    if ((uint64_t)st.st_size <= read_max + CS_OBJECT_HDR_FIXED && st.st_size > 0)
        return read_whole(fd, (uint64_t)st.st_size, read_max, id, out);
    n = pread(fd, hdr, sizeof hdr, 0);
    if (n < 0 || cs_object_header_parse(hdr, (size_t)n, (uint64_t)st.st_size, out) != CS_OK)
        return corrupt(fd, id, out);
    /* small raw bodies too, behind a long header (metadata) or compressed */
    if ((out->zstd || out->meta_len) && out->size <= read_max &&
        (uint64_t)st.st_size <= 2 * read_max + CS_OBJECT_HDR_PREFIX_MAX + out->meta_len)
        return read_whole(fd, (uint64_t)st.st_size, read_max, id, out);
    return load_meta(fd, hdr, (size_t)n, id, out);
}

static enum cs_status disk_exists(void *state, const struct cs_object_id *id, unsigned flags)
{
    struct cs_disk *d = state;
    char path[CS_DISK_REL_PATH_LEN];

    (void)flags; /* the disk does not wait for anything but itself */

    cs_disk_rel_path(id->digest, path);
    if (faccessat(d->objects_fd, path, F_OK, 0) == 0)
        return CS_OK;
    return errno == ENOENT || errno == ENOTDIR ? CS_ERR_NOT_FOUND : cs_status_from_errno(errno);
}

static enum cs_status disk_remove(void *state, const struct cs_object_id *id, bool durable)
{
    struct cs_disk *d = state;
    char path[CS_DISK_REL_PATH_LEN];
    pthread_mutex_t *lock = cs_disk_key_lock(d, id->digest);
    struct cs_index_op *op;
    uint64_t seq = 0;
    int err = 0;
    enum cs_status st =
        cs_index_prepare_remove(d->index, CS_INDEX_REQUEST, id->ns, id->key, id->key_len, 0, &op);

    if (st != CS_OK)
        return st;
    cs_disk_rel_path(id->digest, path);
    pthread_mutex_lock(lock);
    if (unlinkat(d->objects_fd, path, 0) == 0)
        seq = cs_index_submit(d->index, op);
    else
        err = errno;
    cs_disk_key_unlock(d, lock, id->digest);
    if (err) {
        cs_index_cancel(d->index, op);
        return err == ENOENT || err == ENOTDIR ? CS_ERR_NOT_FOUND : cs_status_from_errno(err);
    }
    return durable ? cs_disk_make_durable(d, path, seq) : CS_OK;
}

/* Locks the objects of two names, in a fixed order (one lock if they share it). */
static void lock_pair(pthread_mutex_t *a, pthread_mutex_t *b)
{
    if (a == b) {
        pthread_mutex_lock(a);
    } else {
        pthread_mutex_lock(a < b ? a : b);
        pthread_mutex_lock(a < b ? b : a);
    }
}

static void unlock_pair(pthread_mutex_t *a, pthread_mutex_t *b)
{
    pthread_mutex_unlock(a);
    if (a != b)
        pthread_mutex_unlock(b);
}

/* The link or rename itself, under both objects' locks. */
static enum cs_status relocate_file(struct cs_disk *d, const char *src, const char *dst,
                                    bool overwrite, bool durable, bool keep_source, bool *created)
{
    static __thread unsigned long seq;
    char tmp[64];
    enum cs_status st;

    if (!keep_source)
        return cs_disk_move_into_place(d, d->objects_fd, src, dst, overwrite, durable, created);
    snprintf(tmp, sizeof tmp, "%s-%lu.link", cs_disk_thread_tag(), ++seq);
    if (linkat(d->objects_fd, src, d->tmp_fd, tmp, 0) < 0)
        return errno == ENOENT ? CS_ERR_NOT_FOUND : cs_status_from_errno(errno);
    st = cs_disk_move_into_place(d, d->tmp_fd, tmp, dst, overwrite, durable, created);
    if (st != CS_OK)
        unlinkat(d->tmp_fd, tmp, 0);
    return st;
}

/* How often a copy or move starts again when a PUT replaces its source
 * between reading the source's header and linking its file. */
#define RELOCATE_ATTEMPTS 4

/* Copy and move work on whole files: the header holds no key, and an
 * object file is never written again once visible (a PUT replaces it by
 * rename), so a copy can be a hard link and a move a rename. The row of
 * the destination is prepared from the source's header before anything
 * moves, and the file is linked only if it is still the one that header
 * came from, so the row always describes the file it names. */
static enum cs_status relocate(struct cs_disk *d, const struct cs_object_id *from,
                               const struct cs_object_id *to, bool overwrite, bool durable,
                               bool keep_source, bool *created)
{
    char src[CS_DISK_REL_PATH_LEN], dst[CS_DISK_REL_PATH_LEN];
    pthread_mutex_t *from_lock = cs_disk_key_lock(d, from->digest);
    pthread_mutex_t *to_lock = cs_disk_key_lock(d, to->digest);
    enum cs_status st = CS_ERR_BUSY;
    uint64_t seq = 0;
    int attempt;

    if (memcmp(from->digest, to->digest, CS_SHA256_LEN) == 0)
        return CS_ERR_CONFLICT; /* onto itself */
    cs_disk_rel_path(from->digest, src);
    cs_disk_rel_path(to->digest, dst);
    for (attempt = 0; attempt < RELOCATE_ATTEMPTS && st == CS_ERR_BUSY; attempt++) {
        struct cs_index_op *put_op = NULL, *rm_op = NULL;
        struct cs_object obj;
        struct stat before, now;
        uint8_t etag[CS_SHA256_LEN];
        st = cs_object_file_meta(d->objects_fd, src, &obj, &before);
        if (st != CS_OK)
            return st;
        struct cs_index_record rec = {
            .ns = to->ns,
            .key = to->key,
            .key_len = to->key_len,
            .kind = CS_INDEX_OBJECT,
            .size = obj.size,
            .dsize = cs_disk_dsize(d, (uint64_t)before.st_size),
            .mtime = time(NULL),
            .etag = obj.etag,
            .durable = durable,
        };
        st = cs_index_prepare_put(d->index, CS_INDEX_REQUEST, &rec, &put_op);
        if (st == CS_OK && !keep_source)
            st = cs_index_prepare_remove(d->index, CS_INDEX_REQUEST, from->ns, from->key,
                                         from->key_len, 0, &rm_op);
        if (st != CS_OK) {
            cs_index_cancel(d->index, put_op);
            return st;
        }
        lock_pair(from_lock, to_lock);
        if (fstatat(d->objects_fd, src, &now, AT_SYMLINK_NOFOLLOW) < 0)
            st = errno == ENOENT ? CS_ERR_NOT_FOUND : cs_status_from_errno(errno);
        else if (now.st_ino != before.st_ino || now.st_dev != before.st_dev ||
                 cs_object_file_etag(d->objects_fd, src, etag) != CS_OK ||
                 memcmp(etag, obj.etag, CS_SHA256_LEN) != 0)
            st = CS_ERR_BUSY; /* replaced meanwhile (an inode number can come back): again */
        else
            st = relocate_file(d, src, dst, overwrite, durable, keep_source, created);
        if (st == CS_OK) {
            seq = cs_index_submit(d->index, put_op);
            if (rm_op)
                seq = cs_index_submit(d->index, rm_op);
        }
        cs_disk_changed(d, from->digest);
        cs_disk_changed(d, to->digest);
        unlock_pair(from_lock, to_lock);
        if (st != CS_OK) {
            cs_index_cancel(d->index, put_op);
            cs_index_cancel(d->index, rm_op);
        }
    }
    if (st != CS_OK || !durable)
        return st;
    if (!keep_source) {
        char dir[CS_DISK_DIR_LEN + 1];
        memcpy(dir, src, CS_DISK_DIR_LEN);
        dir[CS_DISK_DIR_LEN] = '\0';
        st = cs_disk_fsync_dir_at(d->objects_fd, dir);
    }
    return st == CS_OK ? cs_disk_make_durable(d, dst, seq) : st;
}

static enum cs_status disk_copy(void *state, const struct cs_object_id *from,
                                const struct cs_object_id *to, bool overwrite, bool durable,
                                bool *created)
{
    return relocate(state, from, to, overwrite, durable, true, created);
}

static enum cs_status disk_move(void *state, const struct cs_object_id *from,
                                const struct cs_object_id *to, bool overwrite, bool durable,
                                bool *created)
{
    return relocate(state, from, to, overwrite, durable, false, created);
}

static void disk_destroy(void *state)
{
    cs_disk_dir_close(state);
}

static enum cs_status disk_put_begin(void *state, const struct cs_object_id *id,
                                     const struct cs_put_options *opt, struct cs_upload **out)
{
    enum cs_status st = cs_disk_put_begin(state, id, opt, out);

    if (st == CS_OK)
        (*out)->ops = &disk_ops; /* the handle routes the calls that take it */
    return st;
}

static const struct cs_backend_ops disk_ops = {
    .name = "disk",
    .open = disk_open_object,
    .exists = disk_exists,
    .put_begin = disk_put_begin,
    .put_write = cs_disk_put_write,
    .put_flush = cs_disk_put_flush,
    .put_meta = cs_disk_put_meta,
    .put_commit = cs_disk_put_commit,
    .put_abort = cs_disk_put_abort,
    .remove = disk_remove,
    .copy = disk_copy,
    .move = disk_move,
    .destroy = disk_destroy,
};

/* The disk under any wrapping backends. */
static const struct cs_backend *unwrap(const struct cs_backend *b)
{
    while (b->ops != &disk_ops && b->ops->lower)
        b = b->ops->lower(b->state);
    return b;
}

void cs_disk_touch(const struct cs_backend *b, const struct cs_object_id *id)
{
    char path[CS_DISK_REL_PATH_LEN];

    b = unwrap(b);
    if (b->ops != &disk_ops)
        return;
    cs_disk_rel_path(id->digest, path);
    utimensat(((struct cs_disk *)b->state)->objects_fd, path, NULL, 0);
}

const struct cs_disk_versions *cs_disk_versions(const struct cs_backend *b)
{
    b = unwrap(b);
    return b->ops == &disk_ops ? &((struct cs_disk *)b->state)->versions : NULL;
}

void cs_disk_record_read(const struct cs_backend *b, const struct cs_object_id *id)
{
    struct cs_disk *d;

    b = unwrap(b);
    if (b->ops != &disk_ops)
        return;
    d = b->state;
    if (d->track_access)
        cs_index_touch(d->index, id->ns, id->key, id->key_len, id->digest);
}

struct cs_index *cs_disk_index(const struct cs_backend *b)
{
    b = unwrap(b);
    return b->ops == &disk_ops ? ((struct cs_disk *)b->state)->index : NULL;
}

struct cs_usage *cs_disk_usage(const struct cs_backend *b)
{
    b = unwrap(b);
    return b->ops == &disk_ops ? &((struct cs_disk *)b->state)->usage : NULL;
}

void cs_disk_set_limits(const struct cs_backend *b, uint64_t max_size, const struct cs_disk_ns *ns,
                        size_t n_ns)
{
    struct cs_disk *d;
    size_t i;

    b = unwrap(b);
    if (b->ops != &disk_ops)
        return;
    d = b->state;
    atomic_store(&d->usage.max_size, max_size);
    for (i = 0; i < n_ns; i++) {
        struct cs_usage_ns *u = cs_usage_find(&d->usage, ns[i].name, strlen(ns[i].name));
        if (u)
            atomic_store(&u->max_size, ns[i].max_size);
    }
    if (d->evictor)
        cs_evictor_kick(d->evictor);
}

enum cs_status cs_disk_fsck(const struct cs_backend *b, bool throttle, struct cs_fsck_report *out)
{
    b = unwrap(b);
    if (b->ops != &disk_ops)
        return CS_ERR_INVALID;
    return cs_disk_fsck_run(b->state, throttle, out);
}

enum cs_status cs_disk_purge(const struct cs_backend *b, const char *ns,
                             struct cs_purge_report *out)
{
    b = unwrap(b);
    if (b->ops != &disk_ops)
        return CS_ERR_INVALID;
    return cs_disk_purge_run(b->state, ns, out);
}

uint64_t cs_disk_evict(const struct cs_backend *b)
{
    b = unwrap(b);
    return b->ops == &disk_ops ? cs_evict_round(b->state) : 0;
}

enum cs_status cs_disk_open(const struct cs_disk_options *opt, struct cs_backend *out, char *why,
                            size_t why_len)
{
    struct cs_disk *d;
    enum cs_status st = cs_disk_dir_open(opt, &d, why, why_len);

    if (st != CS_OK)
        return st;
    out->ops = &disk_ops;
    out->state = d;
    return CS_OK;
}
