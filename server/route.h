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

/* The protocol kind of a GET or HEAD, as far as the router can tell from the
 * key and the front end (for hits and misses by kind in the metrics):
 *   s3      through the S3 front end
 *   ac      Bazel's action cache: a key ending in "ac/<64 hex>"
 *   cas     Bazel's CAS: a key ending in "cas/<64 hex>"
 *   gradle  Gradle's build cache: a last segment of 32 hex digits
 *   webdav  sccache and OpenDAL's WebDAV layout: "a/b/c/abc..."
 *   other   anything else (ccache's layouts among them) */
enum cs_proto {
    CS_PROTO_AC,
    CS_PROTO_CAS,
    CS_PROTO_GRADLE,
    CS_PROTO_WEBDAV,
    CS_PROTO_S3,
    CS_PROTO_OTHER,
    CS_PROTO_COUNT
};

/* The kind of a plain (not S3) request for key (len bytes, decoded). A few
 * byte compares: it runs on every GET. */
enum cs_proto cs_route_proto(const char *key, size_t len);
/* "ac", "cas", "gradle", "webdav", "s3", "other". */
const char *cs_proto_name(enum cs_proto p);

/* url is the raw (still percent-encoded) path without the query string.
 * A path may name a collection ("/ns/", "/ns/a/b/"): then key holds "a/b"
 * and collection is set; object methods refuse such routes.
 * Errors: CS_ERR_NOT_FOUND (no such namespace), CS_ERR_BAD_KEY; either way
 * reason (reason_len bytes) gets a one-line explanation. */
enum cs_status cs_route_parse(const struct cs_config *cfg, const char *url, struct cs_route *r,
                              char *reason, size_t reason_len);

#endif
