/* The object file format of the disk backend (see object_file.h): making
 * an upload's header, and checking the header of a stored file. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/object_file.h"

#define HDR_MAGIC "CSTO"
#define HDR_VERSION 1
#define HDR_VERSION_Z 2
#define HDR_VERSION_META 3
#define HDR_FIXED CS_OBJECT_HDR_FIXED
#define HDR_FIXED_Z 48
#define HDR_FIXED_META 52
#define HDR_FLAG_ZSTD 1
#define HDR_ETAG 8
#define HDR_RAW_SIZE 40
#define HDR_META_LEN 48

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void cs_object_header_init(struct cs_object_header *h, const char *content_type, size_t ct_len,
                           const void *meta, size_t meta_len, bool zstd_room)
{
    /* only the fixed part: every byte after it up to len is written below,
     * and the 4 KiB of room for metadata stay untouched when there is none */
    memset(h->bytes, 0, HDR_FIXED_META);
    memcpy(h->bytes, HDR_MAGIC, 4);
    h->bytes[4] = HDR_VERSION;
    h->bytes[5] = (uint8_t)ct_len;
    if (ct_len)
        memcpy(h->bytes + HDR_FIXED, content_type, ct_len);
    h->len = HDR_FIXED + ct_len;
    if (meta_len) {
        /* the body's offset cannot change once begun: version 3 whether
         * or not the body compresses (the flag and raw size say which) */
        h->bytes[4] = HDR_VERSION_META;
        memmove(h->bytes + HDR_FIXED_META, h->bytes + HDR_FIXED, ct_len);
        put_le(h->bytes + HDR_META_LEN, meta_len, 4);
        memcpy(h->bytes + HDR_FIXED_META + ct_len, meta, meta_len);
        h->len = HDR_FIXED_META + ct_len + meta_len;
    } else if (zstd_room) {
        /* room for the longer header, in case the body compresses */
        h->bytes[4] = HDR_VERSION_Z;
        memmove(h->bytes + HDR_FIXED_Z, h->bytes + HDR_FIXED, ct_len);
        h->len = HDR_FIXED_Z + ct_len;
    }
}

bool cs_object_header_plain(struct cs_object_header *h)
{
    size_t ct_len = h->bytes[5];

    if (h->bytes[4] != HDR_VERSION_Z)
        return false; /* version 3 keeps its layout: the flag stays clear */
    h->bytes[4] = HDR_VERSION;
    memmove(h->bytes + HDR_FIXED, h->bytes + HDR_FIXED_Z, ct_len);
    h->len = HDR_FIXED + ct_len;
    return true;
}

void cs_object_header_set_size(struct cs_object_header *h, uint64_t raw_size)
{
    if (h->bytes[4] != HDR_VERSION)
        put_le(h->bytes + HDR_RAW_SIZE, raw_size, 8);
}

void cs_object_header_set_zstd(struct cs_object_header *h, uint64_t raw_size)
{
    h->bytes[6] = HDR_FLAG_ZSTD;
    put_le(h->bytes + HDR_RAW_SIZE, raw_size, 8);
}

enum cs_status cs_object_header_set_meta(struct cs_object_header *h, const void *meta, size_t len)
{
    size_t have = h->bytes[4] == HDR_VERSION_META ? get_le(h->bytes + HDR_META_LEN, 4) : 0;

    if (len != have || (len && !meta))
        return CS_ERR_INVALID;
    if (len)
        memcpy(h->bytes + HDR_FIXED_META + h->bytes[5], meta, len);
    return CS_OK;
}

uint8_t *cs_object_header_etag(struct cs_object_header *h)
{
    return h->bytes + HDR_ETAG;
}

enum cs_status cs_object_header_parse(const uint8_t *h, size_t avail, uint64_t file_size,
                                      struct cs_object *out)
{
    size_t ct_len, fixed, meta_len = 0;

    if (avail < HDR_FIXED || memcmp(h, HDR_MAGIC, 4) != 0)
        return CS_ERR_IO;
    if (h[4] == HDR_VERSION)
        fixed = HDR_FIXED;
    else if (h[4] == HDR_VERSION_Z && avail >= HDR_FIXED_Z)
        fixed = HDR_FIXED_Z;
    else if (h[4] == HDR_VERSION_META && avail >= HDR_FIXED_META)
        fixed = HDR_FIXED_META;
    else
        return CS_ERR_IO;
    ct_len = h[5];
    if (fixed == HDR_FIXED_META) {
        /* a claim read from storage: bounded before it sizes anything */
        uint64_t m = get_le(h + HDR_META_LEN, 4);
        if (m == 0 || m > CS_OBJECT_META_MAX)
            return CS_ERR_IO;
        meta_len = (size_t)m;
    }
    if (ct_len > CS_CONTENT_TYPE_MAX || fixed + ct_len > avail ||
        fixed + ct_len + meta_len > file_size)
        return CS_ERR_IO;
    memcpy(out->etag, h + HDR_ETAG, CS_SHA256_LEN);
    memcpy(out->content_type, h + fixed, ct_len);
    out->content_type[ct_len] = '\0';
    out->offset = fixed + ct_len + meta_len;
    out->stored_size = file_size - out->offset;
    out->size = out->stored_size;
    out->zstd = false;
    out->meta = NULL;
    out->meta_len = meta_len;
    if (fixed != HDR_FIXED) {
        uint64_t raw = get_le(h + HDR_RAW_SIZE, 8);
        out->zstd = (h[6] & HDR_FLAG_ZSTD) != 0;
        if (!out->zstd && raw != out->stored_size)
            return CS_ERR_IO;
        out->size = raw;
    }
    return CS_OK;
}

enum cs_status cs_object_meta_load(int fd, const uint8_t *h, size_t avail, struct cs_object *out)
{
    uint64_t at = out->offset - out->meta_len; /* the metadata ends where the body starts */
    uint8_t *m;

    if (out->meta_len == 0)
        return CS_OK;
    m = malloc(out->meta_len);
    if (!m)
        return CS_ERR_NOMEM;
    if (at + out->meta_len <= avail)
        memcpy(m, h + at, out->meta_len);
    else if (pread(fd, m, out->meta_len, (off_t)at) != (ssize_t)out->meta_len) {
        free(m);
        return CS_ERR_IO;
    }
    out->meta = m;
    return CS_OK;
}

enum cs_status cs_object_file_meta(int dir_fd, const char *rel, struct cs_object *out,
                                   struct stat *st)
{
    uint8_t hdr[CS_OBJECT_HDR_PREFIX_MAX];
    enum cs_status rc = CS_OK;
    ssize_t n;
    int fd = openat(dir_fd, rel, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? CS_ERR_NOT_FOUND : cs_status_from_errno(errno);
    if (fstat(fd, st) < 0)
        rc = cs_status_from_errno(errno);
    else if ((n = pread(fd, hdr, sizeof hdr, 0)) < 0 ||
             cs_object_header_parse(hdr, (size_t)n, (uint64_t)st->st_size, out) != CS_OK)
        rc = CS_ERR_IO;
    close(fd);
    return rc;
}

enum cs_status cs_object_file_etag(int dir_fd, const char *rel, uint8_t etag[CS_SHA256_LEN])
{
    struct cs_object obj;
    struct stat st;
    enum cs_status rc = cs_object_file_meta(dir_fd, rel, &obj, &st);

    if (rc == CS_OK)
        memcpy(etag, obj.etag, CS_SHA256_LEN);
    return rc;
}
