/* The object file format of the disk backend (see object_file.h): making
 * an upload's header, and checking the header of a stored file. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "storage/object_file.h"

#define HDR_MAGIC "CSTO"
#define HDR_VERSION 1
#define HDR_VERSION_Z 2
#define HDR_FIXED CS_OBJECT_HDR_FIXED
#define HDR_FIXED_Z 48
#define HDR_FLAG_ZSTD 1
#define HDR_MAX CS_OBJECT_HDR_MAX
#define HDR_ETAG 8

void cs_object_header_init(struct cs_object_header *h, const char *content_type, size_t ct_len,
                           bool zstd_room)
{
    memset(h, 0, sizeof *h);
    memcpy(h->bytes, HDR_MAGIC, 4);
    h->bytes[4] = HDR_VERSION;
    h->bytes[5] = (uint8_t)ct_len;
    if (ct_len)
        memcpy(h->bytes + HDR_FIXED, content_type, ct_len);
    h->len = HDR_FIXED + ct_len;
    if (zstd_room) {
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
        return false;
    h->bytes[4] = HDR_VERSION;
    memmove(h->bytes + HDR_FIXED, h->bytes + HDR_FIXED_Z, ct_len);
    h->len = HDR_FIXED + ct_len;
    return true;
}

void cs_object_header_set_zstd(struct cs_object_header *h, uint64_t raw_size)
{
    h->bytes[6] = HDR_FLAG_ZSTD;
    for (int i = 0; i < 8; i++)
        h->bytes[HDR_FIXED + i] = (uint8_t)(raw_size >> (8 * i));
}

uint8_t *cs_object_header_etag(struct cs_object_header *h)
{
    return h->bytes + HDR_ETAG;
}

enum cs_status cs_object_header_parse(const uint8_t *h, size_t avail, uint64_t file_size,
                                      struct cs_object *out)
{
    size_t ct_len, fixed;

    if (avail < HDR_FIXED || memcmp(h, HDR_MAGIC, 4) != 0)
        return CS_ERR_IO;
    if (h[4] == HDR_VERSION)
        fixed = HDR_FIXED;
    else if (h[4] == HDR_VERSION_Z && avail >= HDR_FIXED_Z)
        fixed = HDR_FIXED_Z;
    else
        return CS_ERR_IO;
    ct_len = h[5];
    if (ct_len > CS_CONTENT_TYPE_MAX || fixed + ct_len > avail || fixed + ct_len > file_size)
        return CS_ERR_IO;
    memcpy(out->etag, h + HDR_ETAG, CS_SHA256_LEN);
    memcpy(out->content_type, h + fixed, ct_len);
    out->content_type[ct_len] = '\0';
    out->offset = fixed + ct_len;
    out->stored_size = file_size - out->offset;
    out->size = out->stored_size;
    out->zstd = false;
    if (fixed == HDR_FIXED_Z) {
        uint64_t raw = 0;
        for (int i = 7; i >= 0; i--)
            raw = raw << 8 | h[HDR_FIXED + i];
        out->zstd = (h[6] & HDR_FLAG_ZSTD) != 0;
        if (!out->zstd && raw != out->stored_size)
            return CS_ERR_IO;
        out->size = raw;
    }
    return CS_OK;
}

enum cs_status cs_object_file_meta(int dir_fd, const char *rel, struct cs_object *out,
                                   struct stat *st)
{
    uint8_t hdr[HDR_MAX];
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
