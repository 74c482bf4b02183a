/* Finding the real compiler (skipping cstash itself on PATH) and its
 * identity: resolved path, size and mtime, plus the output of
 * -dumpfullversion -dumpmachine, cached per identity in the cache dir so a
 * hit never runs the compiler. */
#ifndef CS_CLIENT_COMPILER_H
#define CS_CLIENT_COMPILER_H

#include "client/util.h"

struct cs_compiler {
    char *path;      /* what we exec */
    char *identity;  /* "resolved-path size mtime_ns" */
};

/* Resolves name (a path, or a command looked up on PATH, skipping any file
 * that is this program). CS_ERR_NOT_FOUND when there is none. */
enum cs_status cs_compiler_find(const char *name, struct cs_compiler *c);
/* Appends the compiler's version text to out, from cache_dir/compilers or
 * by running it (and then caching). */
enum cs_status cs_compiler_version(const struct cs_compiler *c, const char *cache_dir,
                                   struct cs_bytes *out);
void cs_compiler_free(struct cs_compiler *c);

#endif
