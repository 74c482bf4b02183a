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
#include <sys/statvfs.h>
#include <sys/syscall.h>
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

#define DISK_FORMAT "cstash-data 2\n"
#define DISK_FORMAT_1 "cstash-data 1\n"

/* zstd at rest: the first PROBE_BYTES of a body are compressed before
 * anything is written; when they shrink by less than 1/PROBE_GAIN the
 * whole object is stored plain (already compressed data, random bytes). */
#define PROBE_BYTES (128 * 1024)
#define PROBE_GAIN 10
#define Z_OUT_BUF (64 * 1024)
/* Bodies this small are stored plain: a frame header costs more than it saves. */
#define Z_MIN_BYTES 64

enum zmode { Z_OFF, Z_PROBING, Z_ON };

/* How long a PUT over the hard limit waits for eviction before 507. */
#define QUOTA_WAIT_MS 2000
#define QUOTA_POLL_MS 10

static const struct cs_backend_ops disk_ops;

struct disk_upload {
    struct cs_upload base;
    struct cs_disk *disk;
    int fd;
    bool durable;
    bool check_digest;
    uint8_t digest[CS_SHA256_LEN]; /* the object's name */
    uint8_t expect[CS_SHA256_LEN]; /* the body's digest it must have */
    struct cs_sha256 body_hash;
    uint64_t body_len;
    struct cs_object_header hdr;
    char tmp_name[64];
    char *ns; /* ns '\0' key, for the index */
    size_t key_len;
    struct cs_usage_ns *usage; /* NULL: namespace not accounted (cannot happen
                                  for configured ones) */
    uint64_t reserved;         /* bytes counted as pending for this upload */
    uint64_t stored_len;       /* bytes written after the header */
    enum zmode zmode;
    ZSTD_CCtx *cctx; /* from the disk's pool, while compressing */
    uint8_t *probe;  /* Z_PROBING: the body so far */
    size_t probe_len;
    bool nowait;      /* this call must not wait for quota: bytes go to pending */
    bool finished;    /* the end of the body is written (or pending) */
    uint8_t *pending; /* stored bytes that wait for quota (put_flush) */
    size_t pending_len, pending_cap;
};

/* Counts bytes an upload will write against its namespace's quota. Over
 * the hard limit, asks for eviction and waits a little for it: PUTs slow
 * down rather than fail while eviction keeps up. */
static enum cs_status reserve(struct cs_disk *d, struct disk_upload *up, uint64_t bytes, bool wait)
{
    int waited = 0;

    if (!up->usage || bytes == 0)
        return CS_OK;
    if (bytes > cs_usage_hard_limit(up->usage->max_size) ||
        bytes > cs_usage_hard_limit(d->usage.max_size))
        return CS_ERR_QUOTA; /* would never fit */
    while (!cs_usage_reserve(&d->usage, up->usage, bytes)) {
        if (!d->evictor || waited >= QUOTA_WAIT_MS)
            return CS_ERR_QUOTA;
        cs_evictor_kick(d->evictor);
        if (!wait)
            return CS_ERR_WOULD_BLOCK;
        usleep(QUOTA_POLL_MS * 1000);
        waited += QUOTA_POLL_MS;
    }
    up->reserved += bytes;
    return CS_OK;
}

/* The file system is full: evict to make room, whatever the quotas say. */
static void note_disk_full(struct cs_disk *d)
{
    if (!atomic_exchange(&d->usage.disk_full, true))
        cs_log(CS_LOG_WARN,
               "data dir %s: no space left on its file system: evicting "
               "least recently used objects",
               d->root);
    if (d->evictor)
        cs_evictor_kick(d->evictor);
}

/* close(2) that does not report EINTR: on Linux the fd is gone either way,
 * and retrying could close an fd another thread just opened. */
static int close_fd(int fd)
{
    int rc = close(fd);
    return rc < 0 && errno == EINTR ? 0 : rc;
}

static enum cs_status corrupt(int fd, const struct cs_object_id *id)
{
    char hex[CS_SHA256_HEX_LEN + 1];

    close(fd);
    cs_hex_encode(id->digest, CS_SHA256_LEN, hex);
    cs_log(CS_LOG_ERROR, "object %s (ns=%s) has a damaged header: served as an error", hex, id->ns);
    return CS_ERR_IO;
}

/* Small objects: one read for header and body, then the body is moved to
 * the start of the buffer (or decompressed into its own) so the caller can
 * hand it on and free it. A compressed body is decompressed into memory
 * only when its raw size is at most read_max: the raw size in the header
 * is a claim (a 16 KiB frame of zeros says 512 MiB), so a larger one is
 * left to the streaming reader, whose memory is bounded. */
static enum cs_status read_whole(int fd, uint64_t file_size, size_t read_max,
                                 const struct cs_object_id *id, struct cs_object *out)
{
    uint8_t *buf = malloc(file_size);
    ssize_t n;

    if (!buf) {
        close(fd);
        return CS_ERR_NOMEM;
    }
    n = pread(fd, buf, file_size, 0);
    if (n != (ssize_t)file_size ||
        cs_object_header_parse(buf, (size_t)n, file_size, out) != CS_OK) {
        free(buf);
        return corrupt(fd, id);
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
            close(fd);
            return CS_ERR_NOMEM;
        }
        if (ZSTD_isError(got) || got != out->size) {
            free(raw);
            return corrupt(fd, id);
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
    uint8_t hdr[CS_OBJECT_HDR_MAX];
    struct stat st;
    ssize_t n;
    int fd;

    (void)flags; /* the disk does not wait for anything but itself */

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
    out->mtime = st.st_mtime;
    if (d->track_access)
        cs_index_touch(d->index, id->ns, id->key, id->key_len, id->digest);
    if ((uint64_t)st.st_size <= read_max + CS_OBJECT_HDR_FIXED && st.st_size > 0)
        return read_whole(fd, (uint64_t)st.st_size, read_max, id, out);
    n = pread(fd, hdr, sizeof hdr, 0);
    if (n < 0 || cs_object_header_parse(hdr, (size_t)n, (uint64_t)st.st_size, out) != CS_OK)
        return corrupt(fd, id);
    if (out->zstd && out->size <= read_max &&
        (uint64_t)st.st_size <= 2 * read_max + CS_OBJECT_HDR_MAX)
        return read_whole(fd, (uint64_t)st.st_size, read_max, id, out); /* small raw too */
    return CS_OK;
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

static char *id_copy(const struct cs_object_id *id)
{
    size_t ns_len = strlen(id->ns);
    char *p = malloc(ns_len + 1 + id->key_len);

    if (p) {
        memcpy(p, id->ns, ns_len + 1);
        memcpy(p + ns_len + 1, id->key, id->key_len);
    }
    return p;
}

enum cs_status cs_disk_put_begin(struct cs_disk *d, const struct cs_object_id *id,
                                 const struct cs_put_options *opt, struct cs_upload **out)
{
    /* Per-thread sequence: unique names without a counter shared by threads. */
    static __thread unsigned long seq;
    size_t ct_len = opt->content_type ? strlen(opt->content_type) : 0;
    struct disk_upload *up;
    enum cs_status health = cs_index_health(d->index);

    if (ct_len > CS_CONTENT_TYPE_MAX)
        return CS_ERR_INVALID;
    if (health != CS_OK)
        return health; /* refused before the body: its row could not be recorded */
    up = calloc(1, sizeof *up);
    if (!up)
        return CS_ERR_NOMEM;
    up->disk = d;
    up->durable = opt->durable;
    if (opt->compress_level > 0) {
        up->cctx = cs_zpool_get(d->zpool, opt->compress_level);
        if (up->cctx && opt->size_hint)
            ZSTD_CCtx_setPledgedSrcSize(up->cctx, opt->size_hint);
        up->zmode = up->cctx ? Z_PROBING : Z_OFF; /* no context: stored plain */
    }
    memcpy(up->digest, id->digest, CS_SHA256_LEN);
    if (opt->expect_sha256) {
        up->check_digest = true;
        memcpy(up->expect, opt->expect_sha256, CS_SHA256_LEN);
    }
    cs_sha256_init(&up->body_hash);
    cs_object_header_init(&up->hdr, opt->content_type, ct_len, up->zmode != Z_OFF);
    up->ns = id_copy(id);
    up->key_len = id->key_len;
    up->usage = cs_usage_find(&d->usage, id->ns, strlen(id->ns));
    /* a body to be compressed is charged as its compressed bytes are written */
    if (opt->size_hint && up->zmode == Z_OFF) {
        enum cs_status st =
            reserve(d, up, cs_disk_dsize(d, up->hdr.len + opt->size_hint), !opt->nowait);
        if (st != CS_OK) {
            cs_zpool_put(d->zpool, up->cctx);
            free(up->ns);
            free(up);
            return st;
        }
    }
    snprintf(up->tmp_name, sizeof up->tmp_name, "%d-%ld-%lu.tmp", (int)getpid(),
             (long)syscall(SYS_gettid), ++seq);
    up->fd = up->ns ? openat(d->tmp_fd, up->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)
                    : -1;
    /* the body goes after the header, which is written at commit */
    if (up->fd < 0 || lseek(up->fd, (off_t)up->hdr.len, SEEK_SET) < 0) {
        int err = up->ns ? errno : ENOMEM;
        if (up->fd >= 0) {
            close(up->fd);
            unlinkat(d->tmp_fd, up->tmp_name, 0);
        }
        if (up->usage)
            cs_usage_release(up->usage, up->reserved);
        if (err == ENOSPC)
            note_disk_full(d);
        cs_zpool_put(d->zpool, up->cctx);
        free(up->ns);
        free(up);
        return cs_status_from_errno(err);
    }
    *out = &up->base;
    return CS_OK;
}

/* Chunked uploads (no size hint) reserve as they grow, a step at a time. */
#define RESERVE_STEP (1024 * 1024)

static struct disk_upload *upload_of(struct cs_upload *base)
{
    return (struct disk_upload *)base; /* base is its first member */
}

/* Reserves quota up to need bytes of file, a step ahead. */
static enum cs_status reserve_upto(struct disk_upload *up, uint64_t need, bool wait)
{
    uint64_t step;

    if (need <= up->reserved)
        return CS_OK;
    step = cs_disk_dsize(up->disk, need + RESERVE_STEP) - up->reserved;
    /* a namespace smaller than a step: only what is needed */
    if (up->usage && (step > cs_usage_hard_limit(up->usage->max_size) ||
                      step > cs_usage_hard_limit(up->disk->usage.max_size)))
        step = cs_disk_dsize(up->disk, need) - up->reserved;
    return reserve(up->disk, up, step, wait);
}

/* Keeps stored bytes that wait for quota, in order, for put_flush. Bounded
 * by what one put_write makes of its chunk (the chunk, or its compressed
 * bytes and those of the probe). */
static enum cs_status keep_pending(struct disk_upload *up, const void *data, size_t len)
{
    if (up->pending_len + len > up->pending_cap) {
        size_t cap = up->pending_cap ? up->pending_cap : 64 * 1024;
        while (cap < up->pending_len + len)
            cap *= 2;
        uint8_t *grown = realloc(up->pending, cap);
        if (!grown)
            return CS_ERR_NOMEM;
        up->pending = grown;
        up->pending_cap = cap;
    }
    memcpy(up->pending + up->pending_len, data, len);
    up->pending_len += len;
    return CS_OK;
}

static enum cs_status write_raw(struct disk_upload *up, const void *data, size_t len);

/* Appends stored bytes (plain or compressed) to the temp file, reserving
 * quota for them first: quotas count what is on disk. When the call may
 * not wait and the quota is not at hand, the bytes wait in pending. */
static enum cs_status write_stored(struct disk_upload *up, const void *data, size_t len)
{
    enum cs_status st;

    if (up->pending_len) /* behind bytes that wait: keep the order */
        return keep_pending(up, data, len);
    st = reserve_upto(up, up->hdr.len + up->stored_len + len, !up->nowait);
    if (st == CS_ERR_WOULD_BLOCK)
        return keep_pending(up, data, len);
    if (st != CS_OK)
        return st;
    return write_raw(up, data, len);
}

/* Writes bytes whose quota is reserved. */
static enum cs_status write_raw(struct disk_upload *up, const void *data, size_t len)
{
    const char *p = data;

    up->stored_len += len;
    while (len > 0) {
        ssize_t n = write(up->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSPC || errno == EDQUOT)
                note_disk_full(up->disk);
            return cs_status_from_errno(errno);
        }
        p += n;
        len -= (size_t)n;
    }
    return CS_OK;
}

/* Runs len bytes (possibly 0) through the compressor and writes what
 * comes out; end finishes the frame. */
static enum cs_status compress_chunk(struct disk_upload *up, const void *data, size_t len, bool end)
{
    uint8_t out[Z_OUT_BUF];
    ZSTD_inBuffer in = {data, len, 0};
    size_t left;

    do {
        ZSTD_outBuffer o = {out, sizeof out, 0};
        left = ZSTD_compressStream2(up->cctx, &o, &in, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left))
            return CS_ERR_IO;
        if (o.pos) {
            enum cs_status st = write_stored(up, out, o.pos);
            if (st != CS_OK)
                return st;
        }
    } while (end ? left != 0 : in.pos < in.size);
    return CS_OK;
}

/* Stops compressing: the body so far goes to the file as it came. */
static enum cs_status store_plain(struct disk_upload *up)
{
    enum cs_status st = CS_OK;

    /* nothing is written yet: the body starts after the version 1 header */
    if (cs_object_header_plain(&up->hdr) && lseek(up->fd, (off_t)up->hdr.len, SEEK_SET) < 0)
        st = cs_status_from_errno(errno);
    if (st == CS_OK && up->probe_len)
        st = write_stored(up, up->probe, up->probe_len);
    cs_zpool_put(up->disk->zpool, up->cctx);
    up->cctx = NULL;
    free(up->probe);
    up->probe = NULL;
    up->probe_len = 0;
    up->zmode = Z_OFF;
    return st;
}

/* The probe is full (or the body ended, end): compress it and look. Too
 * little gain, and the object is stored plain. The compressed probe is
 * kept in memory until the decision, so nothing is written twice. */
static enum cs_status decide_compression(struct disk_upload *up, bool end)
{
    size_t cap = ZSTD_compressBound(up->probe_len);
    uint8_t *out = malloc(cap);
    ZSTD_inBuffer in = {up->probe, up->probe_len, 0};
    ZSTD_outBuffer o = {out, cap, 0};
    size_t left;
    enum cs_status st;

    if (!out || up->probe_len < Z_MIN_BYTES) {
        free(out);
        return store_plain(up);
    }
    do
        left = ZSTD_compressStream2(up->cctx, &o, &in, end ? ZSTD_e_end : ZSTD_e_flush);
    while (!ZSTD_isError(left) && left != 0);
    if (ZSTD_isError(left) || o.pos + up->probe_len / PROBE_GAIN > up->probe_len) {
        free(out);
        return store_plain(up);
    }
    free(up->probe);
    up->probe = NULL;
    up->probe_len = 0;
    up->zmode = Z_ON;
    st = write_stored(up, out, o.pos);
    free(out);
    return st;
}

static enum cs_status finish_body(struct disk_upload *up);

/* Writes what waits for quota, waiting for it if need be. */
enum cs_status cs_disk_put_flush(struct cs_upload *base)
{
    struct disk_upload *up = upload_of(base);
    enum cs_status st;

    if (!up->pending_len)
        return CS_OK;
    st = reserve_upto(up, up->hdr.len + up->stored_len + up->pending_len, true);
    if (st == CS_OK)
        st = write_raw(up, up->pending, up->pending_len);
    free(up->pending);
    up->pending = NULL;
    up->pending_len = up->pending_cap = 0;
    return st;
}

static enum cs_status write_body(struct disk_upload *up, const void *data, size_t len);

enum cs_status cs_disk_put_write(struct cs_upload *base, const void *data, size_t len,
                                 unsigned flags)
{
    struct disk_upload *up = upload_of(base);
    enum cs_status st = cs_disk_put_flush(base); /* the caller should have; if not, wait now */

    up->nowait = (flags & CS_NOWAIT) != 0;
    if (st == CS_OK && len)
        st = write_body(up, data, len);
    if (st == CS_OK && (flags & CS_PUT_END) && !up->finished) {
        st = finish_body(up);
        up->finished = true;
    }
    up->nowait = false;
    return st == CS_OK && up->pending_len ? CS_ERR_WOULD_BLOCK : st;
}

static enum cs_status write_body(struct disk_upload *up, const void *data, size_t len)
{
    const uint8_t *p = data;

    cs_sha256_update(&up->body_hash, data, len);
    up->body_len += len;
    if (up->zmode == Z_PROBING) {
        size_t take = PROBE_BYTES - up->probe_len;
        if (take > len)
            take = len;
        if (!up->probe && !(up->probe = malloc(PROBE_BYTES)))
            return CS_ERR_NOMEM;
        memcpy(up->probe + up->probe_len, p, take);
        up->probe_len += take;
        p += take;
        len -= take;
        if (up->probe_len < PROBE_BYTES)
            return CS_OK;
        enum cs_status st = decide_compression(up, false);
        if (st != CS_OK || len == 0)
            return st;
    }
    if (up->zmode == Z_ON)
        return compress_chunk(up, p, len, false);
    return write_stored(up, p, len);
}

static void upload_free(struct disk_upload *up, bool unlink_tmp)
{
    cs_zpool_put(up->disk->zpool, up->cctx);
    free(up->probe);
    free(up->pending);
    if (up->usage && up->reserved)
        cs_usage_release(up->usage, up->reserved);
    if (up->fd >= 0)
        close_fd(up->fd);
    if (unlink_tmp)
        unlinkat(up->disk->tmp_fd, up->tmp_name, 0);
    free(up->ns);
    free(up);
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

/* Finishes the body (the last of the probe, the end of the frame), then
 * the header, now that digest, sizes and encoding are known. */
static enum cs_status finish_body(struct disk_upload *up)
{
    enum cs_status st = CS_OK;

    if (up->zmode == Z_PROBING)
        st = decide_compression(up, true);
    else if (up->zmode == Z_ON)
        st = compress_chunk(up, NULL, 0, true);
    if (st != CS_OK)
        return st;
    if (up->zmode == Z_ON)
        cs_object_header_set_zstd(&up->hdr, up->body_len);
    return CS_OK;
}

static enum cs_status write_header(struct disk_upload *up)
{
    ssize_t n;
    enum cs_status st;

    cs_sha256_final(&up->body_hash, cs_object_header_etag(&up->hdr));
    if (up->check_digest && memcmp(cs_object_header_etag(&up->hdr), up->expect, CS_SHA256_LEN) != 0)
        return CS_ERR_DIGEST;
    st = up->finished ? CS_OK : finish_body(up);
    up->finished = true;
    if (st == CS_OK)
        st = cs_disk_put_flush(&up->base);
    if (st != CS_OK)
        return st;
    n = pwrite(up->fd, up->hdr.bytes, up->hdr.len, 0);
    if (n < 0)
        return cs_status_from_errno(errno);
    return n == (ssize_t)up->hdr.len ? CS_OK : CS_ERR_IO;
}

/* The upload's reservation, made exact now that the size is known, goes
 * to the index write, which releases it once the row is committed: until
 * then the bytes stay counted as pending. Prepared before the rename, so
 * that a write the index cannot take is refused before it replaces
 * anything. */
static enum cs_status prepare_record(struct cs_disk *d, struct disk_upload *up,
                                     struct cs_index_op **op)
{
    uint64_t dsize = cs_disk_dsize(d, up->hdr.len + up->stored_len);
    struct cs_index_record rec = {
        .ns = up->ns,
        .key = up->ns + strlen(up->ns) + 1,
        .key_len = up->key_len,
        .kind = CS_INDEX_OBJECT,
        .size = up->body_len,
        .dsize = dsize,
        .mtime = time(NULL),
        .etag = cs_object_header_etag(&up->hdr),
        .durable = up->durable,
    };
    enum cs_status st;

    if (up->usage) {
        if (dsize > up->reserved)
            atomic_fetch_add_explicit(&up->usage->pending, (int64_t)(dsize - up->reserved),
                                      memory_order_relaxed);
        else
            cs_usage_release(up->usage, up->reserved - dsize);
        up->reserved = dsize;
        rec.pending_ns = up->usage;
        rec.pending = dsize;
    }
    st = cs_index_prepare_put(d->index, CS_INDEX_REQUEST, &rec, op);
    if (st == CS_OK)
        up->reserved = 0; /* the index write holds it now */
    return st;
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

enum cs_status cs_disk_put_commit(struct cs_upload *base, bool *created)
{
    struct disk_upload *up = upload_of(base);
    struct cs_disk *d = up->disk;
    char path[CS_DISK_REL_PATH_LEN];
    struct cs_index_op *op = NULL;
    pthread_mutex_t *lock = cs_disk_key_lock(d, up->digest);
    enum cs_status st = write_header(up);
    uint64_t seq = 0;

    if (st == CS_OK && up->durable && fdatasync(up->fd) < 0)
        st = cs_status_from_errno(errno);
    if (close_fd(up->fd) < 0 && st == CS_OK)
        st = cs_status_from_errno(errno);
    up->fd = -1;
    if (st == CS_OK)
        st = prepare_record(d, up, &op);
    if (st != CS_OK) {
        upload_free(up, true);
        return st;
    }
    cs_disk_rel_path(up->digest, path);
    pthread_mutex_lock(lock);
    st = cs_disk_move_into_place(d, d->tmp_fd, up->tmp_name, path, true, up->durable, created);
    if (st == CS_OK)
        seq = cs_index_submit(d->index, op);
    pthread_mutex_unlock(lock);
    if (st != CS_OK) {
        cs_index_cancel(d->index, op);
        upload_free(up, true);
        return st;
    }
    if (up->durable)
        st = cs_disk_make_durable(d, path, seq);
    if (d->evictor && cs_usage_needs_eviction(&d->usage))
        cs_evictor_kick(d->evictor);
    upload_free(up, false);
    return st;
}

void cs_disk_put_abort(struct cs_upload *base)
{
    upload_free(upload_of(base), true);
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
    pthread_mutex_unlock(lock);
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
    snprintf(tmp, sizeof tmp, "%d-%ld-%lu.link", (int)getpid(), (long)syscall(SYS_gettid), ++seq);
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
