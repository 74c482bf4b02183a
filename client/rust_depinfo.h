/* rustc's dep-info file: the files a crate was built from and the env
 * vars it read with env!/option_env! ("# env-dep:" lines). */
#ifndef CS_CLIENT_RUST_DEPINFO_H
#define CS_CLIENT_RUST_DEPINFO_H

#include "client/util.h"

struct cs_rust_depinfo {
    struct cs_strv files; /* as rustc wrote them (relative to the working dir or absolute) */
    struct cs_strv env;   /* "NAME=VALUE" (rustc's escaping) or "NAME" when unset */
};

/* Parses "target: dep dep..." (spaces escaped as "\\ "), the rules that
 * follow, and "# env-dep:" lines. CS_ERR_INVALID when the first rule has
 * no target. */
enum cs_status cs_rust_depinfo_parse(const char *text, struct cs_rust_depinfo *d);
void cs_rust_depinfo_free(struct cs_rust_depinfo *d);
/* An env var as dep-info writes it: "NAME=VALUE" with \\n, \\r and \\\\
 * escaped, or "NAME" when unset. malloc'd; NULL on OOM. */
char *cs_rust_env_dep_text(const char *name);

#endif
