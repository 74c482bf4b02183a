/* The content-addressed file store of the Rust path: every output file
 * is kept once, by the sha256 of its content, raw in the local cache (so
 * a hit can hard-link it into target/) and zstd-sealed on the remote.
 *
 * A hard link shares the inode with target/, so something writing into
 * target/ in place (binutils' strip on a file with several links does)
 * would write into the cache too: every restore first checks the cached
 * file against its name (its sha256) and drops it when they differ, so a
 * changed file is never handed out again. A cached file is linked into
 * one place at a time (a link count of 1 before): a second checkout gets
 * a copy, so a write in one checkout never reaches another, and a
 * restore's new mtime does not make cargo in the other rebuild. */
#ifndef CS_CLIENT_RUST_STORE_H
#define CS_CLIENT_RUST_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "client/rust_result.h"
#include "client/session.h"

/* Stores the file at path, whose content is data (with sha256 sha):
 * locally by a hard link to it (a copy across file systems), remotely by
 * PUT. Errors are counted in the session; nothing is returned because a
 * store that fails only costs a later miss. */
void cs_rust_store_add(struct cs_session *ss, const char *path, const struct cs_bytes *data,
                       const uint8_t sha[CS_SHA256_LEN], uint32_t mode);

/* Makes target the output o: the verified local file hard-linked (else
 * copied), fetched from the remote first when it is not local. Its mtime
 * is set to now, as a fresh compile's would be. *from_remote tells where
 * it came from. CS_ERR_NOT_FOUND when neither store has a good copy. */
enum cs_status cs_rust_store_restore(struct cs_session *ss, const struct cs_rust_output *o,
                                     const char *target, bool *from_remote);

#endif
