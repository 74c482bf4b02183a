/* The WebDAV verbs over the virtual collections of a namespace: OPTIONS,
 * PROPFIND (Depth 0 and 1), MKCOL, DELETE of collections, MOVE and COPY.
 * A collection exists when a key lies under it or MKCOL made it; the
 * index (storage/index.h) answers those questions, the backend moves the
 * objects. Each handler fills a cs_reply that http.c turns into a
 * response. Thread-safe. */
#ifndef CS_WEBDAV_H
#define CS_WEBDAV_H

#include <stdbool.h>

#include "server/config.h"
#include "server/propfind.h"
#include "server/reply.h"
#include "server/route.h"
#include "storage/backend.h"
#include "storage/index.h"

#define CS_DAV_ALLOW "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, MKCOL, COPY, MOVE"

struct cs_dav {
    const struct cs_config *cfg;
    const struct cs_backend *backend;
    struct cs_index *index;
    size_t list_max; /* most entries in one Depth: 1 answer; more: 507 */
};

void cs_dav_options(const struct cs_dav *dav, const struct cs_route *route, struct cs_reply *out);
void cs_dav_propfind(const struct cs_dav *dav, const struct cs_route *route, const char *depth,
                     const char *body, size_t body_len, struct cs_reply *out);
void cs_dav_mkcol(const struct cs_dav *dav, const struct cs_route *route, bool has_body,
                  struct cs_reply *out);
/* DELETE of a collection path; object paths that miss land here too. */
void cs_dav_delete_collection(const struct cs_dav *dav, const struct cs_route *route,
                              struct cs_reply *out);
void cs_dav_copy_move(const struct cs_dav *dav, const struct cs_route *route, bool move,
                      const char *destination, const char *host, const char *overwrite,
                      const char *depth, struct cs_reply *out);

#endif
