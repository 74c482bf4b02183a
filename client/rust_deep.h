/* What a linked crate takes without being told: rustc finds the crates
 * below its --extern files in the -L dependency= dirs and links all of
 * them. Their content is not in the direct dependencies' (rustc's crate
 * hash and the .rmeta leave out native libraries: a -sys crate two levels
 * down whose bundled C library changed leaves the crates above it byte for
 * byte the same), so a crate that links (and a staticlib) is keyed by the
 * deep hash of that tree.
 *
 * Every crate cstash runs rustc for, or restores, records under the sha256
 * of each of its output files: its outputs' sha256s, and each --extern it
 * was built against by sha256 and by path (in the roots' form). The walk
 * takes each dependency by its path in this call's tree, and an .rmeta by
 * the .rlib beside it (cargo hands libraries their dependencies' .rmeta,
 * which is the same in builds whose .rlib differ): what the linker will
 * read, hashed now. cargo starts a crate that links only after every crate
 * below it has finished, so the files and records are there. Records are
 * local (kind D): each machine writes its own as it builds or restores,
 * also with CSTASH_READONLY (they are bookkeeping, not results). */
#ifndef CS_CLIENT_RUST_DEEP_H
#define CS_CLIENT_RUST_DEEP_H

#include <stddef.h>
#include <stdint.h>

#include "client/rust_paths.h"
#include "client/session.h"
#include "common/hash.h"

/* paths: the --extern files in the roots' form (cs_rust_norm_path). */
void cs_rust_deep_record(struct cs_session *ss, const uint8_t (*outs)[CS_SHA256_LEN], size_t nout,
                         const uint8_t (*exts)[CS_SHA256_LEN], char *const *paths, size_t next);
/* The deep hash of the tree below the --extern files (paths as given,
 * shas their content) into out. CS_ERR_NOT_FOUND when a crate in it has
 * no record (built without this cache, or its record was evicted). */
enum cs_status cs_rust_deep_hash(struct cs_session *ss, const struct cs_rust_roots *r,
                                 const uint8_t (*exts)[CS_SHA256_LEN], char *const *paths,
                                 size_t next, uint8_t out[CS_SHA256_LEN]);

#endif
