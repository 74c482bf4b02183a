/* Internals of the disk backend: its state and what its files share. Not
 * for use outside storage/.
 *
 * Dependencies point one way, down this list; nothing calls up it:
 *   disk.c         the backend: its ops table, open/exists/remove/copy/
 *                  move, and disk.h's functions
 *   disk_put.c     uploads (PUT) up to their commit
 *   disk_dir.c     the data directory: placing files, FORMAT, the lock,
 *                  tmp/, opening and closing
 *   object_file.c  the object file format (object_file.h)
 *   evict.c, fsck.c  LRU eviction; reconcile and purge. They use the
 *                  disk's state and the inline helpers of this header and
 *                  call no function of the disk*.c files.
 * The disk*.c files call eviction and fsck only through their narrow
 * interfaces, evict.h (start, kick, stop, one round) and fsck.h (start,
 * stop, run, purge), and never touch their state. */
#ifndef CS_DISK_PRIV_H
#define CS_DISK_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/hash.h"
#include "storage/backend.h"
#include "storage/disk.h"
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
    atomic_bool stopping;       /* background work gives up */
    struct cs_zpool *zpool;     /* compression contexts for zstd at rest */
    pthread_mutex_t key_locks[CS_DISK_KEY_LOCKS];
    struct cs_disk_versions versions; /* see disk.h */
};

/* The file of the object named digest has changed (or may have): after
 * the change, before it is acknowledged (disk.h, cs_disk_versions). */
static inline void cs_disk_changed(struct cs_disk *d, const uint8_t digest[CS_SHA256_LEN])
{
    atomic_fetch_add_explicit(&d->versions.v[digest[0] | (unsigned)digest[1] << 8], 1,
                              memory_order_seq_cst);
}

/* Leaves the object's lock of a section that may have changed its file. */
static inline void cs_disk_key_unlock(struct cs_disk *d, pthread_mutex_t *lock,
                                      const uint8_t digest[CS_SHA256_LEN])
{
    cs_disk_changed(d, digest);
    pthread_mutex_unlock(lock);
}

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

/* --- disk_dir.c: the data directory --------------------------------- */

/* Opens (creating if needed) the data directory of opt into a new disk,
 * with its index, and starts the background work opt asks for. On failure
 * *why says why in one line. */
enum cs_status cs_disk_dir_open(const struct cs_disk_options *opt, struct cs_disk **out, char *why,
                                size_t why_len);
/* Stops the background work, closes the index and the directory, frees d
 * (NULL: nothing to do). */
void cs_disk_dir_close(struct cs_disk *d);
/* "PID-TID" of the calling thread, for temp names unique without a shared
 * counter; made once per thread (two system calls a PUT saved). */
const char *cs_disk_thread_tag(void);
/* fsync of directory rel under base_fd. */
enum cs_status cs_disk_fsync_dir_at(int base_fd, const char *rel);
/* Moves from_fd/from into place as objects/path. RENAME_NOREPLACE tells a
 * new key (*created) from an overwrite without a separate, racy stat;
 * overwrite false and an existing path give CS_ERR_EXISTS. Creates
 * objects/ab on the first object that needs it. Called under the
 * object's lock. */
enum cs_status cs_disk_move_into_place(struct cs_disk *d, int from_fd, const char *from,
                                       const char *path, bool overwrite, bool durable,
                                       bool *created);
/* A durable change is acknowledged once the directory entry of path and
 * the index write seq are on stable storage. */
enum cs_status cs_disk_make_durable(struct cs_disk *d, const char *path, uint64_t seq);

/* --- disk_put.c: uploads -------------------------------------------- */

/* put_begin makes a handle whose ops field the caller sets; the
 * others are the backend's put_write, put_flush, put_meta, put_commit,
 * put_abort. */
enum cs_status cs_disk_put_begin(struct cs_disk *d, const struct cs_object_id *id,
                                 const struct cs_put_options *opt, struct cs_upload **out);
enum cs_status cs_disk_put_write(struct cs_upload *up, const void *data, size_t len,
                                 unsigned flags);
enum cs_status cs_disk_put_flush(struct cs_upload *up);
enum cs_status cs_disk_put_meta(struct cs_upload *up, const void *meta, size_t len);
enum cs_status cs_disk_put_commit(struct cs_upload *up, bool *created);
void cs_disk_put_abort(struct cs_upload *up);

#endif
