/* zstd at rest: context pool and body reader. */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/zstd_io.h"

struct cs_zpool {
    pthread_mutex_t lock;
    ZSTD_CCtx *free[CS_ZPOOL_MAX];
    size_t n;
};

struct cs_zpool *cs_zpool_new(void)
{
    struct cs_zpool *p = calloc(1, sizeof *p);

    if (p)
        pthread_mutex_init(&p->lock, NULL);
    return p;
}

void cs_zpool_free(struct cs_zpool *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++)
        ZSTD_freeCCtx(p->free[i]);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

ZSTD_CCtx *cs_zpool_get(struct cs_zpool *p, int level)
{
    ZSTD_CCtx *c = NULL;

    pthread_mutex_lock(&p->lock);
    if (p->n)
        c = p->free[--p->n];
    pthread_mutex_unlock(&p->lock);
    if (!c)
        c = ZSTD_createCCtx();
    if (!c)
        return NULL;
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0)) ||
        (level > 19 &&
         ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, CS_ZSTD_WINDOW_LOG_MAX)))) {
        ZSTD_freeCCtx(c);
        return NULL;
    }
    return c;
}

void cs_zpool_put(struct cs_zpool *p, ZSTD_CCtx *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&p->lock);
    if (p->n < CS_ZPOOL_MAX) {
        p->free[p->n++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    ZSTD_freeCCtx(c);
}

static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void free_dctx(void *p)
{
    ZSTD_freeDCtx(p);
}

static void make_dctx_key(void)
{
    pthread_key_create(&dctx_key, free_dctx);
}

ZSTD_DCtx *cs_thread_dctx(void)
{
    ZSTD_DCtx *d;

    pthread_once(&dctx_once, make_dctx_key);
    d = pthread_getspecific(dctx_key);
    if (!d && (d = ZSTD_createDCtx()) != NULL && pthread_setspecific(dctx_key, d) != 0) {
        ZSTD_freeDCtx(d);
        d = NULL;
    }
    return d;
}

#define IN_BUF (64 * 1024)

/* The registry of decompressing readers open now (see CS_ZSTD_STREAMS_MAX). */
static atomic_uint open_streams;

static bool stream_take(void)
{
    unsigned n = atomic_load(&open_streams);

    while (n < CS_ZSTD_STREAMS_MAX)
        if (atomic_compare_exchange_weak(&open_streams, &n, n + 1))
            return true;
    return false;
}

static void stream_give(void)
{
    atomic_fetch_sub(&open_streams, 1);
}

struct cs_body_reader {
    int fd;            /* -1: body in memory */
    uint64_t pos, end; /* file offsets still to read (stored bytes) */
    uint8_t *mem;      /* the raw body, when in memory */
    uint64_t mem_pos, raw_size, raw_done;
    ZSTD_DCtx *dctx; /* compressed body */
    ZSTD_inBuffer in;
    uint8_t *in_buf;
    bool frame_done;
    bool counted; /* holds a place in open_streams */
};

static ssize_t read_file(struct cs_body_reader *r, void *buf, size_t len);

/* Reads the frame header before any byte is promised to a client: a frame
 * whose window is over the limit (written by a build before the limit, at
 * level 20 or more) is refused here, as an error, rather than cut off in
 * the middle of a body. Nothing is decompressed yet. */
static enum cs_status start_frame(struct cs_body_reader *r)
{
    ZSTD_outBuffer o = {NULL, 0, 0};
    ssize_t n;
    size_t rc;

    if (ZSTD_isError(ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, CS_ZSTD_WINDOW_LOG_MAX)))
        return CS_ERR_NOMEM;
    n = read_file(r, r->in_buf, IN_BUF);
    if (n <= 0)
        return CS_ERR_IO;
    r->in.size = (size_t)n;
    r->in.pos = 0;
    rc = ZSTD_decompressStream(r->dctx, &o, &r->in);
    if (ZSTD_isError(rc)) {
        cs_log(CS_LOG_ERROR,
               "a stored zstd frame cannot be read with bounded memory "
               "(window over %u MiB) or is damaged: %s; served as an error",
               1u << (CS_ZSTD_WINDOW_LOG_MAX - 20), ZSTD_getErrorName(rc));
        return CS_ERR_IO;
    }
    return CS_OK;
}

static enum cs_status reader_open(struct cs_object *obj, bool capped, struct cs_body_reader **out)
{
    struct cs_body_reader *r = calloc(1, sizeof *r);

    if (!r)
        goto nomem;
    r->fd = obj->body ? -1 : obj->fd;
    r->mem = obj->body;
    r->raw_size = obj->size;
    r->pos = obj->offset;
    r->end = obj->offset + (obj->zstd ? obj->stored_size : obj->size);
    if (obj->body && obj->fd >= 0)
        close(obj->fd);
    obj->fd = -1;
    obj->body = NULL;
    if (r->fd >= 0 && obj->zstd) {
        if (capped && !stream_take()) {
            cs_body_reader_close(r);
            return CS_ERR_OVERLOAD;
        }
        r->counted = capped;
        r->dctx = ZSTD_createDCtx();
        r->in_buf = malloc(IN_BUF);
        if (!r->dctx || !r->in_buf) {
            cs_body_reader_close(r);
            return CS_ERR_NOMEM;
        }
        r->in.src = r->in_buf;
        enum cs_status st = start_frame(r);
        if (st != CS_OK) {
            cs_body_reader_close(r);
            return st;
        }
    }
    *out = r;
    return CS_OK;
nomem:
    cs_object_release(obj);
    return CS_ERR_NOMEM;
}

enum cs_status cs_body_reader_open(struct cs_object *obj, struct cs_body_reader **out)
{
    return reader_open(obj, true, out);
}

enum cs_status cs_body_reader_open_uncapped(struct cs_object *obj, struct cs_body_reader **out)
{
    return reader_open(obj, false, out);
}

static ssize_t read_file(struct cs_body_reader *r, void *buf, size_t len)
{
    ssize_t n;

    if (r->pos >= r->end)
        return 0;
    if (len > r->end - r->pos)
        len = (size_t)(r->end - r->pos);
    do
        n = pread(r->fd, buf, len, (off_t)r->pos);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return CS_ERR_IO;
    if (n == 0)
        return CS_ERR_IO; /* the file is shorter than its header said */
    r->pos += (uint64_t)n;
    return n;
}

/* Output first, then input: the decompressor may hold decoded bytes from
 * the last call (start_frame's among them) before it needs more. */
static ssize_t read_zstd(struct cs_body_reader *r, void *buf, size_t len)
{
    ZSTD_outBuffer o = {buf, len, 0};

    while (o.pos == 0 && !r->frame_done) {
        size_t rc = ZSTD_decompressStream(r->dctx, &o, &r->in);
        if (ZSTD_isError(rc))
            return CS_ERR_IO;
        if (rc == 0) {
            r->frame_done = true;
        } else if (o.pos == 0 && r->in.pos == r->in.size) {
            ssize_t n = read_file(r, r->in_buf, IN_BUF);
            if (n <= 0)
                return n == 0 ? CS_ERR_IO : n; /* the frame ended early */
            r->in.size = (size_t)n;
            r->in.pos = 0;
        }
    }
    r->raw_done += o.pos;
    if (r->raw_done > r->raw_size || (o.pos == 0 && r->raw_done != r->raw_size))
        return CS_ERR_IO;
    return (ssize_t)o.pos;
}

ssize_t cs_body_reader_read(struct cs_body_reader *r, void *buf, size_t len)
{
    if (r->mem) {
        uint64_t left = r->raw_size - r->mem_pos;
        if (len > left)
            len = (size_t)left;
        memcpy(buf, r->mem + r->mem_pos, len);
        r->mem_pos += len;
        return (ssize_t)len;
    }
    if (r->dctx)
        return read_zstd(r, buf, len);
    return read_file(r, buf, len);
}

void cs_body_reader_close(struct cs_body_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->mem);
    ZSTD_freeDCtx(r->dctx);
    free(r->in_buf);
    if (r->counted)
        stream_give();
    free(r);
}
