/* The local cache: blobs in DIR/<k0>/<k1k2>/<rest of key>.<R|M>, written
 * atomically (temp file + rename) so parallel compiles never see a part.
 * Use order is the file's mtime, refreshed on every hit; when a shard
 * (one of 16) outgrows its share of maxsize, the compile that noticed
 * deletes that shard's oldest files — a bounded amount of work. */
#ifndef CS_CLIENT_LOCAL_H
#define CS_CLIENT_LOCAL_H

#include <stdint.h>

#include "client/stats.h"
#include "client/util.h"
#include "common/hash.h"

/* F: a file by the sha256 of its content, stored raw so it can be
 * hard-linked (the Rust path's outputs). */
enum cs_kind {
    CS_KIND_RESULT = 'R',
    CS_KIND_MANIFEST = 'M',
    CS_KIND_FILE = 'F',
    CS_KIND_DEEP = 'D' /* a Rust crate's deep hash, by its output's sha256 (rust_store.h) */
};

/* DIR/<k0>/<k1k2>/<rest>.<kind>, malloc'd; NULL on OOM. */
char *cs_local_path(const char *dir, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind);
/* The shard (0..15) a key's blobs and size are in. */
unsigned cs_local_shard(const uint8_t key[CS_SHA256_LEN]);
/* Accounts a blob put in place by other means (a hard link) in its
 * shard's stats and cleans the shard when it is over maxsize / 16. */
enum cs_status cs_local_account(const char *dir, const uint8_t key[CS_SHA256_LEN], int64_t files,
                                int64_t bytes, uint64_t maxsize);
/* Adds delta (sizes and counters) to one shard in one update and cleans
 * the shard when it is over maxsize / 16. */
enum cs_status cs_local_account_shard(const char *dir, unsigned shard, const struct cs_stats *delta,
                                      uint64_t maxsize);

/* Appends the blob to out; CS_ERR_NOT_FOUND on a miss. Refreshes its age. */
enum cs_status cs_local_get(const char *dir, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind,
                            struct cs_bytes *out);
/* Stores a blob and accounts its size in the shard's stats; cleans the
 * shard when it is over maxsize / 16. */
enum cs_status cs_local_put(const char *dir, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind,
                            const void *data, size_t len, uint64_t maxsize);
/* Stores a blob and adds what it changed (files 0 or 1, bytes) to d for
 * the caller to account in cs_local_shard(key) (cs_local_account_shard). */
enum cs_status cs_local_write(const char *dir, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind,
                              const void *data, size_t len, struct cs_stats *d);
/* Cleans one shard down to limit bytes (oldest first) and recounts it. */
enum cs_status cs_local_clean_shard(const char *dir, unsigned shard, uint64_t limit);
/* Removes every blob (--clear); stats counters are kept. */
enum cs_status cs_local_clear(const char *dir);
/* Removes files older than an hour from DIR/tmp (a killed compile's
 * dependency files). Best effort. */
void cs_local_sweep_tmp(const char *dir);

#endif
