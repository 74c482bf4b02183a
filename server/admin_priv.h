/* Internals shared by the files of the /_/ endpoints: admin.c (dispatch,
 * JSON, purge), admin_metrics.c (Prometheus) and admin_page.c (the status
 * page). Not for use outside server/. */
#ifndef CS_ADMIN_PRIV_H
#define CS_ADMIN_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "server/admin.h"
#include "server/stats.h"

#define ADMIN_BODY_MAX (4 * 1024 * 1024)
#define TIER_STATS_MAX 256

/* The figures of one namespace, from the usage registry and the counters. */
struct ns_figures {
    const char *name;
    uint64_t objects, bytes, max_size, evictions, evicted_bytes;
    uint64_t c[CS_STAT_COUNT];
};

void admin_figures(const struct cs_admin *a, size_t slot, struct ns_figures *f);
/* Whether the caller administers namespace slot, or the one called name. */
bool admin_visible(const struct cs_admin *a, size_t slot);
bool admin_visible_name(const struct cs_admin *a, const char *name);
/* Namespaces the caller administers. */
size_t admin_visible_count(const struct cs_admin *a);
uint64_t admin_index_commits(const struct cs_admin *a);
uint64_t admin_touches_dropped(const struct cs_admin *a);

/* admin_metrics.c: GET /_/metrics */
void admin_metrics(const struct cs_admin *a, struct cs_reply *out);
/* admin_page.c: GET /_/ (for namespace admins) */
void admin_page(const struct cs_admin *a, struct cs_reply *out);
/* The page's script and style sheet (code, no figures: for anyone); false
 * when endpoint names neither. */
bool admin_page_asset(const char *endpoint, struct cs_reply *out);

#endif
