/* The compiler's version text, part of every key of a C compile: from the
 * cache dir, else the remote's text checked against the compiler's own,
 * else the compiler's own.
 *
 * The remote's text is only a hint. Its blob can only be bound to the
 * compiler's path, size and mtime, which two compilers on two machines
 * can share (wrapper scripts, images with normalised times), and even a
 * byte-identical ELF file can print another text on another machine (a
 * copy of ccache named gcc, any wrapper that finds its compiler on PATH:
 * review of f041d48, which took a text bound to the build-id on trust).
 * So the compiler runs all the same, in parallel with the lookups the hint
 * allows, and nothing built on the hint may reach the build, run the
 * compiler or the preprocessor, or be stored as this compiler's before
 * cs_version_confirm says the two texts are one. (A remote hit is still
 * copied into the cache dir under the hint's key: the remote's own blob
 * at the remote's key, which only a compiler with that text computes.)
 * A new or emptied cache dir (CI) so pays for the compiler's run only
 * where it is longer than the remote lookups. */
#ifndef CS_CLIENT_VERSION_H
#define CS_CLIENT_VERSION_H

#include <stdbool.h>

#include "client/compiler.h"
#include "client/exec.h"
#include "client/session.h"

enum cs_version_state {
    CS_VERSION_OWN, /* the compiler's own text (or from the cache dir, which holds only those) */
    CS_VERSION_PENDING, /* the remote's, the compiler still running */
    CS_VERSION_WRONG,   /* the remote's, and the compiler said otherwise (or could not say) */
};

struct cs_version {
    struct cs_bytes text;
    enum cs_version_state state;
    struct cs_child probe; /* running while PENDING */
};

/* Fills v (zeroed by the caller) for compiler c. CS_OK with v->state OWN
 * or PENDING; an error when the compiler cannot say. */
enum cs_status cs_version_find(struct cs_version *v, struct cs_session *ss,
                               const struct cs_compiler *c);
/* Whether v->text is the compiler's own, waiting for the compiler when
 * PENDING (once: the state is then OWN or WRONG). A confirmed text, or
 * the compiler's own when they differ, is kept in the cache dir. */
bool cs_version_confirm(struct cs_version *v, struct cs_session *ss, const struct cs_compiler *c);
/* Reaps a compiler still running and frees the text. */
void cs_version_free(struct cs_version *v, struct cs_session *ss, const struct cs_compiler *c);

#endif
