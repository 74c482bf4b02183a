/* Small building blocks of the cstash client: bounded byte buffers, owned
 * string vectors, whole-file reads and atomic writes, path arithmetic. */
#ifndef CS_CLIENT_UTIL_H
#define CS_CLIENT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* A growable byte buffer; owns data. Always NUL-terminated past len. */
struct cs_bytes {
    uint8_t *data;
    size_t len, cap;
};
enum cs_status cs_bytes_append(struct cs_bytes *b, const void *data, size_t len);
enum cs_status cs_bytes_append_str(struct cs_bytes *b, const char *s);
void cs_bytes_free(struct cs_bytes *b);

/* A NULL-terminated vector of strings it owns (argv for exec). */
struct cs_strv {
    char **v;
    size_t n, cap;
};
enum cs_status cs_strv_push(struct cs_strv *sv, const char *s); /* copies s */
enum cs_status cs_strv_push_own(struct cs_strv *sv, char *s);   /* takes s (NULL: NOMEM) */
void cs_strv_free(struct cs_strv *sv);

/* Reads a whole file of at most max bytes into b (appends). */
enum cs_status cs_read_file(const char *path, size_t max, struct cs_bytes *b);
/* Writes data to path through a temporary file in the same directory and
 * rename(2), so readers see the old or the new file, never a part. */
enum cs_status cs_write_file_atomic(const char *path, const void *data, size_t len);
/* The same for a compiler's output, which usually exists from the last
 * build: it is unlinked just before the rename. ext4 (auto_da_alloc) writes
 * a file out at once when a rename replaces another, 0.2-0.4 ms for an
 * object here; a rename to a free name does not. Readers see the old file,
 * no file for a moment, or the new one; never a part. */
enum cs_status cs_write_output(const char *path, const void *data, size_t len);
/* mkdir -p for the directory part of path (dirs_only: path itself). */
enum cs_status cs_mkdirs(const char *path, bool dirs_only);

/* malloc'd "a/b"; NULL on OOM. */
char *cs_path_join(const char *a, const char *b);
/* Lexically normalised absolute path of p against cwd (no symlinks
 * resolved); malloc'd. */
char *cs_path_absolute(const char *p, const char *cwd);
/* If abs (absolute, normalised) lies under base, the path of abs relative
 * to cwd (both absolute, normalised), malloc'd; else NULL. *nomem set on
 * allocation failure. */
char *cs_path_relative_under(const char *abs, const char *base, const char *cwd, bool *nomem);
/* Whether s starts with prefix. */
bool cs_starts_with(const char *s, const char *prefix);
/* The first line of p[0..n) into out (cap bytes, NUL-terminated), cut at
 * cap and with other than printable ASCII as '?': a server's one-line
 * reason, safe to print. */
void cs_first_line(const void *p, size_t n, char *out, size_t cap);
/* Nanoseconds since the epoch, wall clock. */
int64_t cs_now_ns(void);

#endif
