/* URL space: /<namespace>/<key> for objects, /_/<endpoint> for the server
 * itself. Turns a raw request path into a namespace and a validated key. */
#ifndef CS_ROUTE_H
#define CS_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/status.h"
#include "server/config.h"
#include "server/key.h"

enum cs_route_kind {
    CS_ROUTE_OBJECT, /* /<ns>/<key> */
    CS_ROUTE_ADMIN,  /* /_/<endpoint> */
};

struct cs_route {
    enum cs_route_kind kind;
    const struct cs_namespace_config *ns;
    const char *admin;        /* for CS_ROUTE_ADMIN: the text after "/_/" */
    char key[CS_KEY_MAX + 1]; /* for CS_ROUTE_OBJECT: the decoded key, without the
                                 trailing slash of a collection path */
    size_t key_len;           /* 0 for the namespace root ("/ns" or "/ns/") */
    bool collection;          /* the path ended with '/', or is the root */
};

/* url is the raw (still percent-encoded) path without the query string.
 * A path may name a collection ("/ns/", "/ns/a/b/"): then key holds "a/b"
 * and collection is set; object methods refuse such routes.
 * Errors: CS_ERR_NOT_FOUND (no such namespace), CS_ERR_BAD_KEY; either way
 * reason (reason_len bytes) gets a one-line explanation. */
enum cs_status cs_route_parse(const struct cs_config *cfg, const char *url, struct cs_route *r,
                              char *reason, size_t reason_len);

#endif
