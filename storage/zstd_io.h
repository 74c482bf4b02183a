/* zstd at rest: a pool of compression contexts (they cost a few hundred
 * KiB each to set up, too much per upload) and a reader that gives the
 * raw body of an object, whether it is stored plain or compressed. */
#ifndef CS_ZSTD_IO_H
#define CS_ZSTD_IO_H

#include <stddef.h>
#include <sys/types.h>
#include <zstd.h>

#include "storage/backend.h"

#define CS_ZPOOL_MAX 32
/* The largest zstd window written or read at rest (8 MiB): a streaming
 * decompressor holds one window per GET, whatever size the frame claims.
 * Levels up to 19 stay within it by themselves; 20-22 are held to it. */
#define CS_ZSTD_WINDOW_LOG_MAX 23
/* Decompressing readers open at once, in the whole process: each holds up
 * to a window, so their number bounds the memory, whatever the number of
 * connections (32 x 8 MiB at most; 32 x 2 MiB at the default level). */
#define CS_ZSTD_STREAMS_MAX 32

struct cs_zpool;

struct cs_zpool *cs_zpool_new(void);
void cs_zpool_free(struct cs_zpool *p);
/* A context reset and set to level, or NULL when out of memory. */
ZSTD_CCtx *cs_zpool_get(struct cs_zpool *p, int level);
void cs_zpool_put(struct cs_zpool *p, ZSTD_CCtx *c);

/* A decompression context owned by the calling thread (freed when it
 * exits), or NULL when out of memory: small GETs decompress without
 * setting one up each time. */
ZSTD_DCtx *cs_thread_dctx(void);

/* Reads the raw body of an opened object from its current position.
 * Takes over obj's fd and body; obj keeps its metadata, for the caller's
 * cs_object_release, and is not otherwise used afterwards. A compressed
 * body is refused with CS_ERR_OVERLOAD while CS_ZSTD_STREAMS_MAX readers
 * decompress, and with CS_ERR_IO when its frame needs a larger window. */
struct cs_body_reader;
enum cs_status cs_body_reader_open(struct cs_object *obj, struct cs_body_reader **out);
/* The same for the tiers' copies to a remote tier: not counted against
 * CS_ZSTD_STREAMS_MAX (they are writes already acknowledged, which a cap
 * full of slow clients must not drop; the tiers' own threads and the PUTs
 * in flight bound them). */
enum cs_status cs_body_reader_open_uncapped(struct cs_object *obj, struct cs_body_reader **out);
/* Up to len bytes; 0 at the end; a negative status on error (also when a
 * compressed body decodes to other than its recorded size). */
ssize_t cs_body_reader_read(struct cs_body_reader *r, void *buf, size_t len);
void cs_body_reader_close(struct cs_body_reader *r);

#endif
