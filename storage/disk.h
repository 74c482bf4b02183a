/* Local-disk backend. Layout under the data directory:
 *   FORMAT            "cstash-data 1": refuses to run on a future layout
 *   cstashd.lock      flock'ed by the running server: one server per data dir
 *   objects/ab/<64 hex>      the object named by sha256(namespace, key)
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

#endif
