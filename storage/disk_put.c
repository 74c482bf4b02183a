/* Uploads to the disk backend (PUT): the body streams into tmp/ while it
 * is hashed, with quota reserved for it as it grows (or kept pending when
 * the caller may not wait), and, with zstd at rest, compressed once a
 * probe of its start shows it pays. The metadata (S3's) lives in the
 * in-memory header until then. The commit writes the header, makes
 * the index row ready, and renames the file into place under the
 * object's lock. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/disk_priv.h"
#include "storage/evict.h"
#include "storage/index.h"
#include "storage/object_file.h"
#include "storage/zstd_io.h"

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
    uint64_t credit;           /* bytes not to charge (cs_put_options.quota_credit) */
    uint64_t credited;         /* of them, bytes already covered without a charge */
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

/* bytes, else the must of them that are here to be written, remembered
 * for eviction when refused (usage.h). */
static bool try_reserve(struct cs_disk *d, struct disk_upload *up, uint64_t bytes, uint64_t must)
{
    if (cs_usage_reserve(&d->usage, up->usage, bytes, must == bytes)) {
        up->reserved += bytes;
        return true;
    }
    if (must && must < bytes && cs_usage_reserve(&d->usage, up->usage, must, true)) {
        up->reserved += must;
        return true;
    }
    return false;
}

/* Counts bytes an upload will write against its namespace's quota, of
 * which must are here to be written (the rest is reserved ahead). Over
 * the hard limit, asks for eviction and waits a little for it: PUTs slow
 * down rather than fail while eviction keeps up. */
static enum cs_status reserve(struct cs_disk *d, struct disk_upload *up, uint64_t bytes,
                              uint64_t must, bool wait)
{
    int waited = 0;
    uint64_t c = up->credit < bytes ? up->credit : bytes;

    if (up->usage &&
        (up->reserved + up->credited + bytes > cs_usage_hard_limit(up->usage->max_size) ||
         up->reserved + up->credited + bytes > cs_usage_hard_limit(d->usage.max_size)))
        return CS_ERR_QUOTA; /* would never fit, credit or not */
    /* credited bytes are counted at commit, with the rest of the object */
    up->credit -= c;
    up->credited += c;
    bytes -= c;
    must = must > c ? must - c : 0;
    if (!up->usage || bytes == 0)
        return CS_OK;
    if (must == 0) { /* only bytes ahead (an announced size, a step): taken when there is room */
        if (!try_reserve(d, up, bytes, 0) && !d->evictor)
            return CS_ERR_QUOTA; /* nothing will make room (no eviction: the offline tools) */
        return CS_OK;
    }
    while (!try_reserve(d, up, bytes, must)) {
        if (!d->evictor || waited >= QUOTA_WAIT_MS)
            return CS_ERR_QUOTA;
        cs_evictor_kick(d->evictor);
        if (!wait)
            return CS_ERR_WOULD_BLOCK;
        usleep(QUOTA_POLL_MS * 1000);
        waited += QUOTA_POLL_MS;
    }
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

/* Each thread's uploads live in tmp/<pid>-<tid>/ (made on its first
 * upload): a create takes its directory's lock for as long as ext4 looks
 * for a free inode, which after mass deletes (eviction, a purge) means
 * skipping every recently freed one. In one shared tmp/ every PUT queued
 * on that lock, spinning, and put_1k at 64 connections fell to a fifth. */
static int open_tmp(struct cs_disk *d, const char *name)
{
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    int fd = openat(d->tmp_fd, name, flags, 0644);

    if (fd >= 0 || errno != ENOENT)
        return fd;
    if (mkdirat(d->tmp_fd, cs_disk_thread_tag(), 0750) < 0 && errno != EEXIST)
        return -1;
    return openat(d->tmp_fd, name, flags, 0644);
}

enum cs_status cs_disk_put_begin(struct cs_disk *d, const struct cs_object_id *id,
                                 const struct cs_put_options *opt, struct cs_upload **out)
{
    /* Per-thread sequence: unique names without a counter shared by threads. */
    static __thread unsigned long seq;
    size_t ct_len = opt->content_type ? strlen(opt->content_type) : 0;
    struct disk_upload *up;
    enum cs_status health = cs_index_health(d->index);

    if (ct_len > CS_CONTENT_TYPE_MAX || opt->meta_len > CS_OBJECT_META_MAX ||
        (opt->meta_len && !opt->meta))
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
    cs_object_header_init(&up->hdr, opt->content_type, ct_len, opt->meta, opt->meta_len,
                          up->zmode != Z_OFF);
    up->ns = id_copy(id);
    up->key_len = id->key_len;
    up->usage = cs_usage_find(&d->usage, id->ns, strlen(id->ns));
    up->credit = opt->quota_credit;
    /* a body to be compressed is charged as its compressed bytes are
     * written. The announced size is reserved when there is room for it;
     * when there is not, the body reserves as it comes (put_write), and
     * eviction makes room for bytes that came, never for the announcement */
    if (opt->size_hint && up->zmode == Z_OFF) {
        enum cs_status st =
            reserve(d, up, cs_disk_dsize(d, up->hdr.len + opt->size_hint), 0, false);
        if (st != CS_OK) {
            cs_zpool_put(d->zpool, up->cctx);
            free(up->ns);
            free(up);
            return st;
        }
    }
    snprintf(up->tmp_name, sizeof up->tmp_name, "%s/%lu.tmp", cs_disk_thread_tag(), ++seq);
    up->fd = up->ns ? open_tmp(d, up->tmp_name) : -1;
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
    uint64_t step, covered = up->reserved + up->credited;

    if (need <= covered)
        return CS_OK;
    step = cs_disk_dsize(up->disk, need + RESERVE_STEP) - covered;
    /* a namespace with less room than a step beyond what the upload holds
     * (or less than a step at all): only what is needed */
    if (up->usage && (covered + step > cs_usage_hard_limit(up->usage->max_size) ||
                      covered + step > cs_usage_hard_limit(up->disk->usage.max_size)))
        step = cs_disk_dsize(up->disk, need) - covered;
    return reserve(up->disk, up, step, cs_disk_dsize(up->disk, need) - covered, wait);
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
    enum cs_status st = CS_OK;

    up->nowait = (flags & CS_NOWAIT) != 0;
    /* bytes still wait for quota: a caller that may wait writes them now;
     * one that may not adds these behind them (write_stored keeps order) */
    if (!up->nowait)
        st = cs_disk_put_flush(base);
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
    else
        cs_object_header_set_size(&up->hdr, up->body_len); /* version 3 records it */
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
    cs_disk_key_unlock(d, lock, up->digest);
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

/* The header is written at commit: until then the metadata is bytes in it. */
enum cs_status cs_disk_put_meta(struct cs_upload *base, const void *meta, size_t len)
{
    return cs_object_header_set_meta(&upload_of(base)->hdr, meta, len);
}

void cs_disk_put_abort(struct cs_upload *base)
{
    upload_free(upload_of(base), true);
}
