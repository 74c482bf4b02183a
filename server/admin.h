/* The server's own endpoints under /_/:
 *   GET  /_/health        "ok"
 *   GET  /_/stats         JSON: per namespace objects, bytes, max_size, hits,
 *                         misses, puts, evictions, bytes in/out
 *   GET  /_/metrics       the same figures in Prometheus text format
 *   DELETE /_/ns/<name>   purge one namespace (loopback clients only until
 *                         auth gives it to the namespace's admins)
 * Each fills a cs_reply that http.c turns into a response. */
#ifndef CS_ADMIN_H
#define CS_ADMIN_H

#include <stdbool.h>

#include "server/config.h"
#include "server/stats.h"
#include "server/webdav.h"
#include "storage/backend.h"

struct cs_admin {
    const struct cs_config *cfg;
    const struct cs_backend *backend;
    struct cs_stats *stats;
};

#define CS_ADMIN_ALLOW "GET, HEAD"
#define CS_ADMIN_NS_ALLOW "DELETE"

/* endpoint: the path after "/_/"; loopback: the client is on this host. */
void cs_admin_handle(const struct cs_admin *a, const char *endpoint, const char *method,
                     bool loopback, struct cs_reply *out);

#endif
