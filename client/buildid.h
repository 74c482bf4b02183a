/* The GNU build-id of an ELF file: the linker's hash of what it wrote
 * (ld --build-id, on by default in Debian's gcc), found in a PT_NOTE
 * segment. Two files with one build-id are one build. */
#ifndef CS_CLIENT_BUILDID_H
#define CS_CLIENT_BUILDID_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/status.h"

#define CS_BUILD_ID_MAX 64 /* bytes; sha1 gives 20 */

/* Reads n bytes at off into buf; returns how many it read, or -1. */
typedef ssize_t (*cs_build_id_read)(void *ctx, void *buf, size_t n, off_t off);

/* The build-id, as lower-case hex into hex (2 * CS_BUILD_ID_MAX + 1
 * bytes), of the ELF file read through rd. CS_ERR_NOT_FOUND when it is
 * not an ELF file of this machine's byte order or has no build-id; the
 * headers and notes read are bounded (a hostile file costs a few reads). */
enum cs_status cs_build_id_parse(cs_build_id_read rd, void *ctx, char *hex);
/* The same for the file at path. */
enum cs_status cs_build_id_of(const char *path, char *hex);

#endif
