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
    const char *ns;  /* namespace name, NUL-terminated */
    const char *key; /* decoded key */
    size_t key_len;
    uint8_t digest[CS_SHA256_LEN]; /* sha256(ns || NUL || key): the name in storage */
};

/* Fills id and computes its digest. Thread-safe. */
void cs_object_id_init(struct cs_object_id *id, const char *ns, const char *key, size_t key_len);

#define CS_CONTENT_TYPE_MAX 127
/* Opaque bytes kept with an object (the S3 front end's metadata). */
#define CS_OBJECT_META_MAX 4096

/* An object opened for reading. The caller owns what it holds (fd, body,
 * meta) and gives it back with cs_object_release. */
struct cs_object {
    int fd;          /* -1 when body holds all of it; else open (cs_object_release) */
    uint64_t offset; /* where the body starts in fd */
    uint64_t size;   /* bytes of body */
    time_t mtime;
    uint8_t etag[CS_SHA256_LEN];                /* sha256 of the body */
    char content_type[CS_CONTENT_TYPE_MAX + 1]; /* as stored; "" when none was given */
    void *body;           /* the whole body when size <= read_max, else NULL (cs_object_release) */
    bool zstd;            /* fd holds the body as one zstd frame (body, when set, is raw) */
    uint64_t stored_size; /* bytes from offset in fd: size, or the compressed size */
    uint8_t *meta;        /* the object's metadata, NULL when none (cs_object_release) */
    size_t meta_len;      /* bytes of meta, at most CS_OBJECT_META_MAX; 0 when none */
};

/* Frees obj->body and obj->meta and closes obj->fd when it is open, and
 * resets them (NULL, -1, NULL/0): a second call does nothing. Touches
 * only obj. */
void cs_object_release(struct cs_object *obj);

/* An upload in progress. Each backend puts this first in its own upload
 * struct and converts back in put_write/commit/abort. */
struct cs_upload {
    const struct cs_backend_ops *ops; /* the backend that made it */
};

struct cs_put_options {
    bool durable;             /* data and directory entry on stable storage before commit returns */
    bool nowait;              /* CS_ERR_WOULD_BLOCK rather than wait for eviction to make room */
    uint64_t size_hint;       /* expected length, 0 when unknown (chunked) */
    const char *content_type; /* NULL or at most CS_CONTENT_TYPE_MAX bytes */
    const uint8_t *expect_sha256; /* NULL, or the digest the body must have */
    int compress_level;           /* 0: stored as sent; else zstd at rest at this level,
                                     when the start of the body shows it pays */
    const void *meta; /* NULL, or meta_len bytes kept with the object; copied at put_begin */
    size_t meta_len;  /* at most CS_OBJECT_META_MAX (else CS_ERR_INVALID); 0: none */
    /* Bytes the caller removes once this upload commits (S3 multipart
     * parts becoming the object): not charged against the hard limit, so a
     * completion does not need room for its parts twice. 0: none. */
    uint64_t quota_credit;
};

/* Flags of open and exists. CS_NOWAIT: answer only from what is at hand
 * (the disk), and give CS_ERR_WOULD_BLOCK, having done nothing, where the
 * answer needs a remote tier; the caller asks again without the flag from
 * a thread that may wait (server/work.c). */
#define CS_NOWAIT 1u
/* A flag of put_write: the last bytes of the body. */
#define CS_PUT_END 2u
/* A flag of open: the open is not an access (no LRU touch, no refresh of a
 * remote tier's copy): listings that read headers use it. */
#define CS_NOTOUCH 4u

struct cs_backend_ops {
    const char *name;
    /* CS_ERR_NOT_FOUND on a miss. Bodies up to read_max bytes are read
     * into out->body and the file is closed: one read for small objects.
     * The metadata comes back in out->meta whatever read_max. On error out
     * holds nothing to release. */
    enum cs_status (*open)(void *state, const struct cs_object_id *id, size_t read_max,
                           unsigned flags, struct cs_object *out);
    /* CS_OK when the object exists, CS_ERR_NOT_FOUND when not. */
    enum cs_status (*exists)(void *state, const struct cs_object_id *id, unsigned flags);
    /* Starts an upload that stays invisible until commit. */
    enum cs_status (*put_begin)(void *state, const struct cs_object_id *id,
                                const struct cs_put_options *opt, struct cs_upload **out);
    /* Appends len bytes of body. flags CS_NOWAIT: the call does not wait
     * for quota; CS_ERR_WOULD_BLOCK then says the bytes are taken but some
     * wait to be written, and put_flush (which may wait) must come before
     * anything else. CS_PUT_END: the body ends here (len may be 0), so
     * that the commit writes no body bytes. */
    enum cs_status (*put_write)(struct cs_upload *up, const void *data, size_t len, unsigned flags);
    /* Writes the bytes that wait for quota, waiting for it if need be. */
    enum cs_status (*put_flush)(struct cs_upload *up);
    /* Replaces the upload's metadata before commit, with exactly the
     * length given at put_begin (CS_ERR_INVALID otherwise): the MD5 and
     * trailer checksums are known only once the body has been read, while
     * the body's offset in the file is fixed at begin. Touches only memory:
     * allowed at any point before commit, also while bytes wait for quota. */
    enum cs_status (*put_meta)(struct cs_upload *up, const void *meta, size_t len);
    /* Makes the upload visible atomically and frees the handle, success or
     * not. *created tells a new key from an overwrite. CS_ERR_DIGEST when
     * the body does not have the expected digest: nothing is stored. */
    enum cs_status (*put_commit)(struct cs_upload *up, bool *created);
    /* Drops the upload and frees the handle; nothing is left behind. */
    void (*put_abort)(struct cs_upload *up);
    enum cs_status (*remove)(void *state, const struct cs_object_id *id, bool durable);
    /* Copies or moves one object to another key. overwrite false and an
     * existing destination give CS_ERR_EXISTS. *created as for put_commit. */
    enum cs_status (*copy)(void *state, const struct cs_object_id *from,
                           const struct cs_object_id *to, bool overwrite, bool durable,
                           bool *created);
    enum cs_status (*move)(void *state, const struct cs_object_id *from,
                           const struct cs_object_id *to, bool overwrite, bool durable,
                           bool *created);
    void (*destroy)(void *state);
    /* A backend wrapping another (the tiers around the disk) gives the
     * wrapped one, for the disk's own functions (disk.h); NULL otherwise. */
    const struct cs_backend *(*lower)(void *state);
};

struct cs_backend {
    const struct cs_backend_ops *ops;
    void *state;
};

#endif
