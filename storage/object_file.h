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
 * Version 3 (an object with metadata, m > 0 bytes) is version 2 with
 *  48  m, 4 bytes little-endian (1..CS_OBJECT_META_MAX)
 *  52  content type, n bytes
 *  52 + n  the metadata, m opaque bytes (the S3 front end's)
 * and the body at 52 + n + m, plain (raw size = its length) or zstd.
 * Plain bodies without metadata keep version 1, and compressed ones
 * version 2, so a data dir without compression or metadata reads the same
 * with older builds. The header holds no key: a file can be linked to
 * another name (COPY) as it is, metadata included. */
#ifndef CS_OBJECT_FILE_H
#define CS_OBJECT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "storage/backend.h"

/* The shortest header (version 1, no content type); the longest without
 * metadata bytes (version 3's fixed part and the longest content type):
 * what a GET reads first, the metadata being read only when there is some;
 * and the longest. */
#define CS_OBJECT_HDR_FIXED 40
#define CS_OBJECT_HDR_PREFIX_MAX (52 + CS_CONTENT_TYPE_MAX)
#define CS_OBJECT_HDR_MAX (CS_OBJECT_HDR_PREFIX_MAX + CS_OBJECT_META_MAX)

/* A header being made for an upload (inline in it: the metadata can be
 * replaced until commit, and the whole header is written in one pwrite). */
struct cs_object_header {
    uint8_t bytes[CS_OBJECT_HDR_MAX];
    size_t len; /* bytes of header: where the body starts */
};

/* Starts the header of a new object with its content type (ct_len at most
 * CS_CONTENT_TYPE_MAX), its metadata (meta_len at most CS_OBJECT_META_MAX;
 * 0: none) and, when the body may be compressed, room for the version 2
 * fields. With metadata the header is version 3 and its length is final. */
void cs_object_header_init(struct cs_object_header *h, const char *content_type, size_t ct_len,
                           const void *meta, size_t meta_len, bool zstd_room);
/* Gives up the room for compression (the body is stored plain): true when
 * the header got shorter, so the body must start earlier. */
bool cs_object_header_plain(struct cs_object_header *h);
/* Records the body's length (raw_size bytes) where the header has a field
 * for it (version 3 always, version 2 when compressed); for a plain body. */
void cs_object_header_set_size(struct cs_object_header *h, uint64_t raw_size);
/* Marks the body as one zstd frame of raw_size bytes decompressed. */
void cs_object_header_set_zstd(struct cs_object_header *h, uint64_t raw_size);
/* Replaces the metadata with len bytes: CS_ERR_INVALID unless len is the
 * length given to init (the body's place in the file is fixed). */
enum cs_status cs_object_header_set_meta(struct cs_object_header *h, const void *meta, size_t len);
/* Where the body's sha256 goes, CS_SHA256_LEN bytes. */
uint8_t *cs_object_header_etag(struct cs_object_header *h);

/* Checks a header read from the start of a file of file_size bytes (avail
 * bytes of it at h) and fills out's etag, content_type, offset, size,
 * stored_size, zstd and meta_len, with meta NULL; CS_ERR_IO when it is
 * damaged (a metadata length over CS_OBJECT_META_MAX or past the end of
 * the file too). The metadata bytes need not be within avail: see
 * cs_object_meta_load. Leaves fd and body. */
enum cs_status cs_object_header_parse(const uint8_t *h, size_t avail, uint64_t file_size,
                                      struct cs_object *out);
/* Gives out (parsed from h) its own copy of the metadata: from h when its
 * avail bytes hold it, else read from fd. Nothing to do, and no
 * allocation, when out->meta_len is 0. CS_ERR_IO on a short read. */
enum cs_status cs_object_meta_load(int fd, const uint8_t *h, size_t avail, struct cs_object *out);

/* The header (size, ETag, type, metadata length) of file rel under dir_fd
 * and the identity of the file (*st), without reading the body or the
 * metadata (out->meta is NULL; open reads it): CS_ERR_NOT_FOUND when there
 * is no such file. out's fd and body are left alone. */
enum cs_status cs_object_file_meta(int dir_fd, const char *rel, struct cs_object *out,
                                   struct stat *st);
/* The body's sha256 in the header of file rel under dir_fd. */
enum cs_status cs_object_file_etag(int dir_fd, const char *rel, uint8_t etag[CS_SHA256_LEN]);

#endif
