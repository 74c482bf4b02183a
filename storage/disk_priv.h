/* Internals of the disk backend: its state and the helpers its files
 * share. Not for use outside storage/.
 *
 * Dependencies point one way. disk.c (the backend) uses this header;
 * evict.c (LRU eviction) and fsck.c (reconcile, purge) use it too, and
 * call no function of disk.c: what they need of the disk is here, inline.
 * The disk calls them only through their narrow interfaces, evict.h
 * (start, kick, stop, one round) and fsck.h (start, stop, run, purge),
 * and never touches their state. */
#ifndef CS_DISK_PRIV_H
#define CS_DISK_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/hash.h"
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
struct cs_fsck_task;
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
    struct cs_fsck_task *fsck;  /* the fsck after start; NULL without background work */
    atomic_bool stopping;   /* background work gives up */
    struct cs_zpool *zpool; /* compression contexts for zstd at rest */
    pthread_mutex_t key_locks[CS_DISK_KEY_LOCKS];
};

/* The lock of the object named digest (see CS_DISK_KEY_LOCKS). */
static inline pthread_mutex_t *cs_disk_key_lock(struct cs_disk *d,
                                                const uint8_t digest[CS_SHA256_LEN])
{
    return &d->key_locks[digest[CS_SHA256_LEN - 1] % CS_DISK_KEY_LOCKS];
}

/* "ab/<64 hex>" relative to objects/. One level of 256 directories: a
 * second level (65536 directories) made every new key dirty a different
 * directory block and cost ~40% of PUT throughput; ext4's hashed
 * directories hold millions of entries each without trouble. */
static inline void cs_disk_rel_path(const uint8_t digest[CS_SHA256_LEN],
                                    char out[CS_DISK_REL_PATH_LEN])
{
    cs_hex_encode(digest, CS_SHA256_LEN, out + CS_DISK_DIR_LEN + 1);
    memcpy(out, out + CS_DISK_DIR_LEN + 1, CS_DISK_DIR_LEN);
    out[CS_DISK_DIR_LEN] = '/';
}

/* Bytes a file of file_size bytes takes on disk. */
static inline uint64_t cs_disk_dsize(const struct cs_disk *d, uint64_t file_size)
{
    return (file_size + d->block - 1) / d->block * d->block;
}

#endif
