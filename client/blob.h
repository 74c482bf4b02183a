/* The two things cstash stores, each one zstd-compressed blob, the same
 * bytes locally and remotely:
 *  - a result: object file, dependency file, stdout and stderr;
 *  - a manifest (direct mode): for one (compiler, arguments, source), the
 *    include files seen on each miss with their stat data and hashes, and
 *    the result key each set of contents led to.
 * Decoders treat their input as hostile: anything malformed is a miss. */
#ifndef CS_CLIENT_BLOB_H
#define CS_CLIENT_BLOB_H

#include <stdint.h>

#include "client/util.h"
#include "common/hash.h"

/* The envelope of every blob: magic, raw length, one zstd frame (level 1).
 * Unsealing checks the magic and the length and refuses more than 4 GiB. */
enum cs_status cs_blob_seal(const char magic[4], const struct cs_bytes *raw, struct cs_bytes *out);
enum cs_status cs_blob_unseal(const char magic[4], const uint8_t *data, size_t len,
                              struct cs_bytes *raw);

enum cs_section { CS_SEC_OBJECT = 1, CS_SEC_DEP = 2, CS_SEC_STDOUT = 3, CS_SEC_STDERR = 4 };

struct cs_result {
    struct cs_bytes sec[5]; /* indexed by enum cs_section */
    bool has[5];
};
enum cs_status cs_result_encode(const struct cs_result *r, struct cs_bytes *out);
enum cs_status cs_result_decode(const uint8_t *data, size_t len, struct cs_result *r);
void cs_result_free(struct cs_result *r);

struct cs_manifest_file {
    char *path;
    uint64_t size;
    int64_t mtime, ctime; /* ns */
    uint8_t hash[CS_SHA256_LEN];
};
struct cs_manifest_entry {
    uint8_t result_key[CS_SHA256_LEN];
    uint32_t nfiles;
    struct cs_manifest_file *files;
};
struct cs_manifest {
    uint32_t n;
    struct cs_manifest_entry *e; /* newest first */
};
#define CS_MANIFEST_MAX_ENTRIES 32

enum cs_status cs_manifest_encode(const struct cs_manifest *m, struct cs_bytes *out);
enum cs_status cs_manifest_decode(const uint8_t *data, size_t len, struct cs_manifest *m);
/* Puts e first (taking its files), dropping the oldest beyond the cap and
 * any older entry with the same result key. */
enum cs_status cs_manifest_add(struct cs_manifest *m, struct cs_manifest_entry *e);
void cs_manifest_free(struct cs_manifest *m);

#endif
