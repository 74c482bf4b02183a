/* One rustc invocation through the cache (RUSTC_WRAPPER=cstash, or
 * `cstash rustc ...`). The key: rustc's identity (-vV and the sysroot,
 * cached per binary), the arguments with paths made independent of the
 * checkout, the --extern crates and -l libraries by content, the linker's
 * identity when the crate links, cargo's environment, and every file and
 * env var the dep-info pass names. A hit restores every output (hard
 * links from the content-addressed store) and replays stdout and stderr;
 * a direct hit (the input list recorded per source) runs no rustc at all.
 * Never breaks a build: any trouble ends in running rustc. */
#ifndef CS_CLIENT_RUST_H
#define CS_CLIENT_RUST_H

#include "client/compiler.h"
#include "client/session.h"

/* Whether the compiler named name (a path or a command) is rustc. */
bool cs_rust_is_rustc(const char *name);
/* argv: rustc's arguments (without rustc). Returns the exit status, or
 * does not return (exec of rustc). */
int cs_rust_main(struct cs_session *ss, const struct cs_compiler *rustc, int argc, char **argv);

#endif
