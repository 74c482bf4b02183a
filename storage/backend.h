/* The storage backend interface: a table of operations plus private state,
 * like an nginx module. disk is the first implementation; redis, s3 and
 * http tiers implement the same table later. Protocol adapters call these
 * and never touch files themselves.
 *
 * Thread-safety: every operation may be called from any worker thread at
 * the same time; one upload handle (struct cs_upload) is used by one thread
 * at a time. */
#ifndef CS_BACKEND_H
#define CS_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/hash.h"
#include "common/status.h"

/* What names an object: a namespace and a validated key. */
struct cs_object_id {
    const char *ns;                  /* namespace name, NUL-terminated */
    const char *key;                 /* decoded key */
    size_t key_len;
    uint8_t digest[CS_SHA256_LEN];   /* sha256(ns || NUL || key): the name in storage */
};

/* Fills id and computes its digest. Thread-safe. */
void cs_object_id_init(struct cs_object_id *id, const char *ns, const char *key, size_t key_len);

/* An object opened for reading. The caller owns fd and closes it. */
struct cs_object {
    int fd;
    uint64_t size;
    time_t mtime;
};

struct cs_upload; /* an upload in progress: private to each backend */

struct cs_put_options {
    bool durable;          /* data and directory entry on stable storage before commit returns */
    uint64_t size_hint;    /* expected length, 0 when unknown (chunked) */
};

struct cs_backend_ops {
    const char *name;
    /* CS_ERR_NOT_FOUND on a miss. */
    enum cs_status (*open)(void *state, const struct cs_object_id *id, struct cs_object *out);
    /* Starts an upload that stays invisible until commit. */
    enum cs_status (*put_begin)(void *state, const struct cs_object_id *id,
                                const struct cs_put_options *opt, struct cs_upload **out);
    enum cs_status (*put_write)(struct cs_upload *up, const void *data, size_t len);
    /* Makes the upload visible atomically and frees the handle, success or
     * not. *created tells a new key from an overwrite. */
    enum cs_status (*put_commit)(struct cs_upload *up, bool *created);
    /* Drops the upload and frees the handle; nothing is left behind. */
    void (*put_abort)(struct cs_upload *up);
    enum cs_status (*remove)(void *state, const struct cs_object_id *id, bool durable);
    void (*destroy)(void *state);
};

struct cs_backend {
    const struct cs_backend_ops *ops;
    void *state;
};

#endif
