/* What a linked crate takes without being told: rustc finds the crates
 * below its --extern files in the -L dependency= dirs and links all of
 * them. Their content is not in the direct dependencies' (rustc's crate
 * hash leaves out native libraries: a -sys crate two levels down whose
 * bundled C library changed leaves the crates above it byte for byte the
 * same), so a crate that links (and a staticlib) is keyed by the deep hash
 * of that tree. Every crate cstash compiles or restores records, under the
 * sha256 of each of its output files, its outputs' and its --extern files'
 * sha256s; cargo starts a crate that links only after every crate below it
 * has finished, so their records are there when it needs them. Records are
 * local (kind D in the local cache): each machine writes its own as it
 * builds or restores. */
#ifndef CS_CLIENT_RUST_DEEP_H
#define CS_CLIENT_RUST_DEEP_H

#include <stddef.h>
#include <stdint.h>

#include "client/session.h"
#include "common/hash.h"

void cs_rust_deep_record(struct cs_session *ss, const uint8_t (*outs)[CS_SHA256_LEN], size_t nout,
                         const uint8_t (*exts)[CS_SHA256_LEN], size_t next);
/* The deep hash of the tree below the --extern files exts into out.
 * CS_ERR_NOT_FOUND when a crate in it has no record (built without this
 * cache, or its record was evicted). */
enum cs_status cs_rust_deep_hash(struct cs_session *ss, const uint8_t (*exts)[CS_SHA256_LEN],
                                 size_t next, uint8_t out[CS_SHA256_LEN]);

#endif
