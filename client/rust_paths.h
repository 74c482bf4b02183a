/* The roots of a rustc call and the placeholders that stand for them: the
 * working dir and the target profile dir (<target>/<profile>, where deps/
 * and build/ are). Paths in the key and in the stored texts (stderr, the
 * .d file) name them as \001C and \001T, so two checkouts at different
 * paths share entries; a literal \001 is doubled. */
#ifndef CS_CLIENT_RUST_PATHS_H
#define CS_CLIENT_RUST_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/util.h"

struct cs_rust_roots {
    char *cwd;    /* absolute, normalised */
    char *target; /* NULL: no --out-dir */
};

/* Whether abs is root or lies under it (root "/" or empty never matches). */
bool cs_rust_under(const char *abs, const char *root);
/* p in the key's form, malloc'd: a relative path as written; an absolute
 * one under the target dir \001T/..., under the working dir \001C/...,
 * under basedir (may be NULL) relative to the working dir, else as written.
 * Nothing is normalised lexically: "dir/../x" is what rustc opened, through
 * any symlink dir is. */
char *cs_rust_norm_path(const struct cs_rust_roots *r, const char *p, const char *basedir);
/* The inverse for this call: a path to open, malloc'd; NULL for a
 * placeholder it does not know (or on OOM). */
char *cs_rust_denorm_path(const struct cs_rust_roots *r, const char *s);
/* Appends text with every root (at a path boundary) replaced and \001
 * doubled. */
enum cs_status cs_rust_norm_text(const struct cs_rust_roots *r, const uint8_t *p, size_t n,
                                 struct cs_bytes *out);
/* The inverse: CS_ERR_INVALID on a placeholder that is not ours. */
enum cs_status cs_rust_denorm_text(const struct cs_rust_roots *r, const struct cs_bytes *in,
                                   struct cs_bytes *out);
/* Whether a root can be carried by plain text replacement: JSON and make
 * escape some characters, and the escaped form would not be found. */
bool cs_rust_plain_path(const char *p);

#endif
