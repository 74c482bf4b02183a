/* cstash --why-miss: what a compile's key was made of, kept in readable
 * form per output (DIR/why/<sha256 of the absolute output path>), and the
 * differences between the last miss and the closest entry recorded before
 * it. Recording never fails a compile: trouble is logged and ignored. */
#ifndef CS_CLIENT_WHYMISS_H
#define CS_CLIENT_WHYMISS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/args.h"
#include "client/blob.h"
#include "client/session.h"
#include "client/util.h"
#include "common/hash.h"

/* What went into one C/C++ compile's key; every pointer borrowed. */
struct cs_why_inputs {
    const char *compiler; /* the path run */
    const char *identity; /* cs_compiler.identity */
    const struct cs_bytes *version;
    const struct cs_args *a; /* hashed arguments, source, output, debug, output_in_key */
    const char *cwd;         /* normalised: relative paths are made absolute against it */
    const char *compiler_cwd;
    const char *const *env; /* the hashed environment variables' names */
    size_t nenv;
    const uint8_t *source_hash; /* NULL when the source was not hashed on its own */
    /* The headers: the entry of m whose result key is key if there is
     * one, else includes, hashed here. */
    const struct cs_manifest *m;
    const struct cs_strv *includes;
    const uint8_t *key; /* the result key */
};

enum cs_why_kind {
    CS_WHY_HIT,         /* delivered from the local or the remote cache */
    CS_WHY_MISS_STORED, /* compiled and stored */
    CS_WHY_MISS         /* compiled, not stored (read-only) */
};

/* Records one C/C++ compile. A hit whose key is the last one recorded for
 * its output costs one small read and writes nothing. */
void cs_why_note(struct cs_session *ss, const struct cs_why_inputs *in, enum cs_why_kind kind);

/* For other compilers (rust.c): an entry is "tag value" lines, built by
 * the caller with cs_why_add. Tags the comparison knows: compiler,
 * version, identity, arg, env, envdep (read by the code: env!), part NAME
 * (one value), and hashed files (cs_why_add with a hash): source, header,
 * file, extern, native-lib, native-dir, crate-dir, link-arg, target-spec. */
struct cs_why_lines {
    struct cs_strv v;
    size_t bytes;   /* of the lines so far */
    bool truncated; /* lines were left out: the entry is full */
    bool broken;    /* a line could not be added: record nothing */
};
/* Adds "tag [HEX ]value"; hash may be NULL. Lines past the size of an
 * entry are left out (one "truncated" line says so); a value over 4 KiB
 * is kept as its start, length and hash. */
void cs_why_add(struct cs_why_lines *l, const char *tag, const uint8_t *hash, const char *value);
void cs_why_lines_free(struct cs_why_lines *l);
/* Fills lines for one compile; called only when something is recorded. */
typedef enum cs_status (*cs_why_build_fn)(void *ctx, struct cs_why_lines *lines);
/* Adds "env NAME=VALUE" (tag "env" or "envdep"; value NULL: unset). A
 * name that looks like a secret's (TOKEN, SECRET, PASSW...) keeps only a
 * hash of its value. */
void cs_why_add_env(struct cs_why_lines *l, const char *tag, const char *name, const char *value);
/* Records one compile under name (an absolute output path, or any name a
 * caller gives its compiles) and key. Returns whether the record was
 * written (a hit already recorded writes nothing). */
bool cs_why_record(struct cs_session *ss, const char *name, const uint8_t *key,
                   cs_why_build_fn build, void *ctx, enum cs_why_kind kind);
/* Makes `cstash --why-miss OUTPUT` (absolute) read the record of name. */
void cs_why_alias(struct cs_session *ss, const char *output, const char *name);

/* cstash --why-miss [OUTPUT] (NULL: the last miss in this cache dir).
 * Prints one line per difference; returns the exit status (1, after a
 * message naming the output, when there is no record of its miss). */
int cs_why_main(const char *output);

#endif
