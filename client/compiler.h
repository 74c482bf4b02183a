/* Finding the real compiler (skipping cstash itself on PATH) and its
 * identity: resolved path, size, mtime and the name it is run by, plus
 * the output of -dumpfullversion -dumpmachine, cached per identity in the
 * cache dir so a hit never runs the compiler. */
#ifndef CS_CLIENT_COMPILER_H
#define CS_CLIENT_COMPILER_H

#include "client/exec.h"
#include "client/util.h"
#include "common/hash.h"

struct cs_compiler {
    char *path;     /* what we exec */
    char *real;     /* path with every symlink resolved */
    char *identity; /* "resolved-path size mtime_ns name-run-by" */
};

/* Resolves name (a path, or a command looked up on PATH, skipping any file
 * that is this program). CS_ERR_NOT_FOUND when there is none. */
enum cs_status cs_compiler_find(const char *name, struct cs_compiler *c);
#define CS_COMPILER_VERSION_MAX (1 << 16)

/* Appends the compiler's version text to out, from cache_dir/compilers or
 * by running it (and then caching). */
enum cs_status cs_compiler_version(const struct cs_compiler *c, const char *cache_dir,
                                   struct cs_bytes *out);
/* Its parts, for a caller that also asks the remote: the key of the
 * version text (sha256 of "cstash-compiler-v1" and the identity; its hex
 * names the file in cache_dir/compilers); the cached text
 * (CS_ERR_NOT_FOUND without one); the compiler run; the text cached. */
void cs_compiler_version_key(const struct cs_compiler *c, uint8_t key[CS_SHA256_LEN]);
enum cs_status cs_compiler_version_cached(const struct cs_compiler *c, const char *cache_dir,
                                          struct cs_bytes *out);
enum cs_status cs_compiler_version_probe(const struct cs_compiler *c, struct cs_bytes *out);
/* The compiler run in two steps, so that the caller can work while it
 * runs: started (the child is then the caller's, to be finished exactly
 * once), then its text appended to out. */
enum cs_status cs_compiler_probe_start(const struct cs_compiler *c, struct cs_child *child);
enum cs_status cs_compiler_probe_finish(const struct cs_compiler *c, struct cs_child *child,
                                        struct cs_bytes *out);
void cs_compiler_version_save(const struct cs_compiler *c, const char *cache_dir, const void *text,
                              size_t len);
/* The configuration files clang may read without --config, as absolute
 * paths appended to out (most of them do not exist). clang 14 (seen here
 * with strace) derives them from the name it is run as, less a version:
 * x86_64-linux-gnu-clang-14 reads x86_64-linux-gnu-clang.cfg, else
 * x86_64-linux-gnu.cfg, from the directory of its resolved path; a name
 * without a target prefix reads none. clang 16 and later read
 * <triple>-<driver>.cfg or <driver>.cfg (clang.cfg, clang++.cfg...). Every
 * split of the name at a '-' is listed, with triple (the default target,
 * may be NULL), from both the resolved directory and the one run from,
 * so both rules are covered whatever the name. Not covered: directories
 * built into clang (CLANG_CONFIG_FILE_SYSTEM_DIR/USER_DIR, none in
 * Debian's clang 14) and the triple of a --target or -m32. cwd makes a
 * relative path absolute. */
enum cs_status cs_compiler_default_configs(const struct cs_compiler *c, const char *triple,
                                           const char *cwd, struct cs_strv *out);
void cs_compiler_free(struct cs_compiler *c);

#endif
