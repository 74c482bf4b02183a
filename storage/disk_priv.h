/* Internals shared by the disk backend's files: disk.c (objects),
 * evict.c (LRU eviction) and fsck.c (reconcile, purge). Not for use
 * outside storage/. */
#ifndef CS_DISK_PRIV_H
#define CS_DISK_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage/backend.h"
#include "storage/index.h"
#include "storage/usage.h"

/* "ab/<64 hex>" relative to objects/. */
#define CS_DISK_DIR_LEN 2
#define CS_DISK_REL_PATH_LEN (CS_DISK_DIR_LEN + 1 + CS_SHA256_HEX_LEN + 1)

/* Striped locks by object name: a file change and the index write that
 * records it happen under the object's lock, so the index sees the
 * changes of one key in the order its files saw them. */
#define CS_DISK_KEY_LOCKS 256

struct cs_evictor;
struct cs_zpool;

struct cs_disk {
    char *root;
    int root_fd;
    int objects_fd;
    int tmp_fd;
    int lock_fd;
    uint64_t block;    /* file system block: on-disk sizes round up to it */
    bool track_access; /* record GETs for LRU order */
    struct cs_index *index;
    struct cs_usage usage;
    struct cs_evictor *evictor; /* NULL without background work */
    pthread_t fsck_thread;
    bool fsck_started;
    atomic_bool stopping;   /* background work gives up */
    struct cs_zpool *zpool; /* compression contexts for zstd at rest */
    pthread_mutex_t key_locks[CS_DISK_KEY_LOCKS];
};

/* The lock of the object named digest (see CS_DISK_KEY_LOCKS). */
pthread_mutex_t *cs_disk_key_lock(struct cs_disk *d, const uint8_t digest[CS_SHA256_LEN]);
/* The body's sha256 in the header of object file rel ("ab/<hex>"). */
enum cs_status cs_disk_file_etag(struct cs_disk *d, const char *rel, uint8_t etag[CS_SHA256_LEN]);

void cs_disk_rel_path(const uint8_t digest[CS_SHA256_LEN], char out[CS_DISK_REL_PATH_LEN]);
/* Bytes a file of file_size bytes takes on disk. */
uint64_t cs_disk_dsize(const struct cs_disk *d, uint64_t file_size);

/* The eviction thread: started by cs_disk_open, stopped before the index
 * closes. kick asks for a round now (cheap: a flag and a signal). */
enum cs_status cs_evictor_start(struct cs_disk *d, struct cs_evictor **out);
void cs_evictor_kick(struct cs_evictor *ev);
void cs_evictor_stop(struct cs_evictor *ev);
/* One eviction round in the calling thread; returns objects evicted. */
uint64_t cs_evict_round(struct cs_disk *d);

/* Reconcile the index with the files (see cs_disk_fsck). */
struct cs_fsck_report;
enum cs_status cs_disk_fsck_run(struct cs_disk *d, bool throttle, struct cs_fsck_report *out);
struct cs_purge_report;
enum cs_status cs_disk_purge_run(struct cs_disk *d, const char *ns, struct cs_purge_report *out);

#endif
