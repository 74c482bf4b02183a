/* The server's own endpoints under /_/:
 *   GET  /_/              the status page (HTML; its script reads stats.json)
 *   GET  /_/health        "ok"
 *   GET  /_/stats         JSON: per namespace objects, bytes, max_size, hits,
 *                         misses, puts, evictions, bytes in/out
 *   GET  /_/stats.json    the same, with requests, hits and misses by kind,
 *                         refusals and each namespace's history
 *   GET  /_/metrics       the figures in Prometheus text format, with
 *                         request-duration histograms
 *   DELETE /_/ns/<name>   purge one namespace
 * The page, stats and metrics show the namespaces the caller administers (none: 401 or 403);
 * purge needs the admin right on that namespace.
 * Each fills a cs_reply that http.c turns into a response. */
#ifndef CS_ADMIN_H
#define CS_ADMIN_H

#include <stdbool.h>

#include "server/access_log.h"
#include "server/auth_limit.h"
#include "server/config.h"
#include "server/history.h"
#include "server/hot.h"
#include "server/stats.h"
#include "server/reply.h"
#include "server/work.h"
#include "storage/backend.h"

struct cs_admin {
    const struct cs_config *cfg;
    const struct cs_backend *backend;
    struct cs_stats *stats;
    struct cs_history *history; /* NULL: no history */
    const struct cs_auth_limit *auth_limit;
    struct cs_work_pool *work;              /* NULL: no worker figures */
    struct cs_hot *hot;                     /* the memory tier; NULL: off */
    const struct cs_access_log *access_log; /* NULL: off */
    int uid;                                /* the caller: a user, or -1 (anonymous) */
};

#define CS_ADMIN_ALLOW "GET, HEAD"
#define CS_ADMIN_NS_ALLOW "DELETE"

/* Whether the endpoint's work may block (a purge): it runs in a worker. */
bool cs_admin_blocks(const char *endpoint, const char *method);

/* endpoint: the path after "/_/". */
void cs_admin_handle(const struct cs_admin *a, const char *endpoint, const char *method,
                     struct cs_reply *out);

#endif
