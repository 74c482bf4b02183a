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

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage/usage.h"

struct cs_disk_ns {
    const char *name;
    uint64_t max_size; /* 0: only the data dir's limit applies */
};

struct cs_disk_options {
    const char *data_dir;
    uint64_t max_size; /* the whole data dir; 0: no limit */
    const struct cs_disk_ns *ns;
    size_t n_ns;
    bool track_access;  /* record reads for LRU order (else eviction is FIFO) */
    size_t index_queue; /* index writes waiting to commit, at most (0: default) */
    bool background;    /* run eviction and a throttled fsck after start (the
                           server); false for the offline commands and tests */
};

/* Opens (creating if needed) the data directory. On failure *why gets a
 * one-line explanation (static or in why_buf). */
enum cs_status cs_disk_open(const struct cs_disk_options *opt, struct cs_backend *out,
                            char *why_buf, size_t why_len);

/* The index the disk backend keeps its keys in; NULL for other backends. */
/* New max_size values (a config reload): the data dir's and those of the
 * namespaces named in ns (others keep theirs). Eviction follows at once. */
void cs_disk_set_limits(const struct cs_backend *b, uint64_t max_size, const struct cs_disk_ns *ns,
                        size_t n_ns);

struct cs_index *cs_disk_index(const struct cs_backend *b);
/* Sets an object file's mtime to now (the s3 tier's age refresh marks
 * what it has refreshed). These functions see through wrapping backends. */
void cs_disk_touch(const struct cs_backend *b, const struct cs_object_id *id);
/* Change counters of the disk's objects, for copies kept in memory
 * (server/hot.c): every change of an object's file (a PUT's rename, a
 * DELETE, COPY or MOVE, eviction, purge, fsck) moves the counter of its
 * slot after the file changed and before the change is acknowledged. A
 * copy made from a read that began with the counter at v is the file's
 * content as long as the counter still reads v. Slots are shared by
 * names (their digest's first two bytes): a change elsewhere in the slot
 * only makes a copy look stale. */
#define CS_DISK_VERSION_SLOTS 65536
struct cs_disk_versions {
    atomic_uint v[CS_DISK_VERSION_SLOTS];
};
/* NULL for other backends. */
const struct cs_disk_versions *cs_disk_versions(const struct cs_backend *b);
static inline unsigned cs_disk_version(const struct cs_disk_versions *vs,
                                       const uint8_t digest[CS_SHA256_LEN])
{
    return atomic_load_explicit(&vs->v[digest[0] | (unsigned)digest[1] << 8], memory_order_acquire);
}
/* A read served from such a copy: recorded for LRU order as a disk read
 * would be (when the data dir tracks access). */
void cs_disk_record_read(const struct cs_backend *b, const struct cs_object_id *id);
/* Space accounting per namespace; NULL for other backends. */
struct cs_usage *cs_disk_usage(const struct cs_backend *b);

/* Empties one namespace: every object and collection marker. Other
 * namespaces are untouched. Runs in the calling thread. */
struct cs_purge_report {
    uint64_t objects; /* objects removed */
    uint64_t bytes;   /* bytes on disk freed */
};
enum cs_status cs_disk_purge(const struct cs_backend *b, const char *ns,
                             struct cs_purge_report *out);

/* Reconciles index and files: rows whose file is gone are dropped, files
 * no row names (a crash between rename and index commit of a non-durable
 * PUT, or a stray file) are removed, on-disk sizes are corrected. Only
 * things older than the start of the run are touched, so it is safe while
 * the server runs. throttle: pause between batches (background use). */
struct cs_fsck_report {
    uint64_t rows;         /* index rows checked */
    uint64_t rows_dropped; /* rows without a file */
    uint64_t rows_resized; /* rows whose on-disk size was wrong */
    uint64_t files;        /* object files checked */
    uint64_t orphans;      /* object files without a row, removed */
    uint64_t orphan_bytes;
    uint64_t strays; /* files not named like objects, removed */
};
enum cs_status cs_disk_fsck(const struct cs_backend *b, bool throttle, struct cs_fsck_report *out);

/* Runs one eviction round now (tests and the purge/fsck commands). */
uint64_t cs_disk_evict(const struct cs_backend *b);

#endif
