/* The disk backend's object file format: a small header, then the body.
 * Private to storage/ (disk*.c, and fsck.c should it read headers).
 *
 *   0  "CSTO"   magic
 *   4  1        header version
 *   5  n        content-type length (0..127)
 *   6  0 0      reserved
 *   8  sha256 of the body (the ETag; for Bazel CAS keys, the key itself)
 *  40  content type, n bytes
 * The body starts at 40 + n. The header is written last, at commit, when
 * the digest is known; the file becomes visible only after that.
 * Version 2 (zstd at rest) is the same, with
 *   6  flags    bit 0: the body is one zstd frame
 *  40  raw size, 8 bytes little-endian: the body's length decompressed
 *  48  content type, n bytes
 * Plain bodies keep version 1, so a data dir without compression reads
 * the same with older builds. The header holds no key: a file can be
 * linked to another name (COPY) as it is. */
#ifndef CS_OBJECT_FILE_H
#define CS_OBJECT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "storage/backend.h"

/* The shortest header (version 1, no content type), and the longest. */
#define CS_OBJECT_HDR_FIXED 40
#define CS_OBJECT_HDR_MAX (48 + CS_CONTENT_TYPE_MAX)

/* A header being made for an upload. */
struct cs_object_header {
    uint8_t bytes[CS_OBJECT_HDR_MAX];
    size_t len; /* bytes of header: where the body starts */
};

/* Starts the header of a new object with its content type (ct_len at most
 * CS_CONTENT_TYPE_MAX) and, when the body may be compressed, room for the
 * version 2 fields. */
void cs_object_header_init(struct cs_object_header *h, const char *content_type, size_t ct_len,
                           bool zstd_room);
/* Gives up the room for compression (the body is stored plain): true when
 * the header got shorter, so the body must start earlier. */
bool cs_object_header_plain(struct cs_object_header *h);
/* Marks the body as one zstd frame of raw_size bytes decompressed. */
void cs_object_header_set_zstd(struct cs_object_header *h, uint64_t raw_size);
/* Where the body's sha256 goes, CS_SHA256_LEN bytes. */
uint8_t *cs_object_header_etag(struct cs_object_header *h);

/* Checks a header read from the start of a file of file_size bytes (avail
 * bytes of it at h) and fills out's etag, content_type, offset, size,
 * stored_size and zstd; CS_ERR_IO when it is damaged. Leaves fd and body. */
enum cs_status cs_object_header_parse(const uint8_t *h, size_t avail, uint64_t file_size,
                                      struct cs_object *out);

/* The header (size, ETag, type) of file rel under dir_fd and the identity
 * of the file (*st), without reading the body: CS_ERR_NOT_FOUND when there
 * is no such file. out's fd and body are left alone. */
enum cs_status cs_object_file_meta(int dir_fd, const char *rel, struct cs_object *out,
                                   struct stat *st);
/* The body's sha256 in the header of file rel under dir_fd. */
enum cs_status cs_object_file_etag(int dir_fd, const char *rel, uint8_t etag[CS_SHA256_LEN]);

#endif
