/* Local-disk backend. Layout under the data directory:
 *   FORMAT            "cstash-data 2": refuses to run on a future layout;
 *                     layout 1 (bare bodies) is upgraded by dropping its objects
 *   index.sqlite      the object index (keys, sizes, times): storage/index.h
 *   cstashd.lock      flock'ed by the running server: one server per data dir
 *   objects/ab/<64 hex>      the object named by sha256(namespace, key): a
 *                     small header (body sha256, content type), then the body
 *   tmp/              uploads in progress; emptied at start-up
 * An upload is written to tmp/ and renamed into objects/, so a reader sees
 * the old object or the new one, never a part. */
#ifndef CS_DISK_H
#define CS_DISK_H

#include "storage/backend.h"

/* Opens (creating if needed) the data directory. On failure *why gets a
 * one-line explanation (static or in why_buf). */
enum cs_status cs_disk_open(const char *data_dir, struct cs_backend *out, char *why_buf,
                            size_t why_len);

/* The index the disk backend keeps its keys in; NULL for other backends. */
struct cs_index *cs_disk_index(const struct cs_backend *b);

#endif
