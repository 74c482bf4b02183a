/* Server endpoints under /_/: see admin.h. */
#include "autoconfig.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/admin.h"
#include "server/http_status.h"
#include "server/key.h"
#include "storage/disk.h"
#include "storage/index.h"
#include "storage/tiers.h"

#define ADMIN_BODY_MAX (4 * 1024 * 1024)

/* The figures of one namespace, from the usage registry and the counters. */
struct ns_figures {
    const char *name;
    uint64_t objects, bytes, max_size, evictions, evicted_bytes;
    uint64_t c[CS_STAT_COUNT];
};

static void figures(const struct cs_admin *a, size_t slot, struct ns_figures *f)
{
    const struct cs_namespace_config *ns = &a->cfg->namespaces[slot];
    struct cs_usage *u = cs_disk_usage(a->backend);
    const struct cs_usage_ns *un = u ? cs_usage_find(u, ns->name, strlen(ns->name)) : NULL;

    memset(f, 0, sizeof *f);
    f->name = ns->name;
    f->max_size = ns->max_size;
    if (un) {
        f->objects = atomic_load(&un->objects);
        f->bytes = cs_usage_ns_used(un);
        f->evictions = atomic_load(&un->evictions);
        f->evicted_bytes = atomic_load(&un->evicted_bytes);
    }
    cs_stats_sum(a->stats, slot, f->c);
}

/* Whether the caller administers namespace slot. */
static bool visible(const struct cs_admin *a, size_t slot)
{
    return (cs_config_rights(&a->cfg->namespaces[slot], a->uid) & CS_RIGHT_ADMIN) == CS_RIGHT_ADMIN;
}

/* Stats need the admin right on at least one namespace. */
static bool may_see_stats(const struct cs_admin *a, struct cs_reply *out)
{
    size_t i;

    for (i = 0; i < a->cfg->n_namespaces; i++)
        if (visible(a, i))
            return true;
    if (a->uid < 0)
        cs_reply_error(out, 401, "stats need credentials of a namespace admin");
    else
        cs_reply_error(out, 403, "stats are for namespace admins; you administer none");
    return false;
}

/* Index transactions committed: each records a group of writes. */
static uint64_t index_commits(const struct cs_admin *a)
{
    struct cs_index *idx = cs_disk_index(a->backend);

    return idx ? cs_index_commits(idx) : 0;
}

/* Accesses not recorded for LRU order because the index writer fell behind. */
static uint64_t touches_dropped(const struct cs_admin *a)
{
    struct cs_index *idx = cs_disk_index(a->backend);

    return idx ? cs_index_touches_dropped(idx) : 0;
}

#define TIER_STATS_MAX 256

/* Whether the caller administers the namespace called name. */
static bool visible_name(const struct cs_admin *a, const char *name)
{
    const struct cs_namespace_config *ns = cs_config_find_namespace(a->cfg, name, strlen(name));

    return ns && visible(a, (size_t)(ns - a->cfg->namespaces));
}

/* The remote tiers: "tiers":[{...}, ...] */
static void tiers_json(const struct cs_admin *a, struct cs_buf *b)
{
    struct cs_tier_stats *t = calloc(TIER_STATS_MAX, sizeof *t);
    size_t i, n = t ? cs_tiers_stats(a->backend, t, TIER_STATS_MAX) : 0;
    bool first = true;

    if (n > TIER_STATS_MAX)
        n = TIER_STATS_MAX;
    cs_buf_printf(b, ",\"tiers\":[");
    for (i = 0; i < n; i++) {
        if (!visible_name(a, t[i].ns))
            continue;
        cs_buf_printf(b,
                      "%s{\"namespace\":\"%s\",\"tier\":%u,\"type\":\"%s\",\"state\":\"%s\","
                      "\"hits\":%" PRIu64 ",\"misses\":%" PRIu64 ",\"errors\":%" PRIu64
                      ",\"skipped\":%" PRIu64 ",\"writes\":%" PRIu64 ",\"write_errors\":%" PRIu64
                      ",\"fills\":%" PRIu64 ",\"too_large\":%" PRIu64 ",\"dropped\":%" PRIu64
                      ",\"refreshes\":%" PRIu64 ",\"breaker_opened\":%" PRIu64
                      ",\"queued\":%" PRIu64 "}",
                      first ? "" : ",", t[i].ns, t[i].index, t[i].type,
                      t[i].out_of_path ? "out" : "in", t[i].hits, t[i].misses, t[i].errors,
                      t[i].skipped, t[i].writes, t[i].write_errors, t[i].fills, t[i].too_large,
                      t[i].dropped, t[i].refreshes, t[i].breaker_opened, t[i].queued);
        first = false;
    }
    cs_buf_printf(b, "]");
    free(t);
}

/* One tier metric family, a sample per tier. */
static void tier_metrics(const struct cs_admin *a, struct cs_buf *b)
{
    struct cs_tier_stats *t;
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } m[] = {
        {"cstash_tier_hits_total", "counter", "Disk misses served by this tier.",
         offsetof(struct cs_tier_stats, hits)},
        {"cstash_tier_misses_total", "counter", "Disk misses this tier did not have either.",
         offsetof(struct cs_tier_stats, misses)},
        {"cstash_tier_errors_total", "counter", "Reads that failed or timed out (seen as misses).",
         offsetof(struct cs_tier_stats, errors)},
        {"cstash_tier_skipped_total", "counter", "Requests not sent: the tier was out of the path.",
         offsetof(struct cs_tier_stats, skipped)},
        {"cstash_tier_writes_total", "counter", "Objects written through to the tier.",
         offsetof(struct cs_tier_stats, writes)},
        {"cstash_tier_write_errors_total", "counter", "Write-throughs that failed.",
         offsetof(struct cs_tier_stats, write_errors)},
        {"cstash_tier_fills_total", "counter",
         "Objects copied to the tier after a hit in a "
         "later tier.",
         offsetof(struct cs_tier_stats, fills)},
        {"cstash_tier_dropped_total", "counter", "Async writes dropped: the queue was full.",
         offsetof(struct cs_tier_stats, dropped)},
        {"cstash_tier_breaker_opened_total", "counter", "Times the tier was taken out of the path.",
         offsetof(struct cs_tier_stats, breaker_opened)},
        {"cstash_tier_queued", "gauge", "Async jobs waiting.",
         offsetof(struct cs_tier_stats, queued)},
    };
    size_t i, k, n;

    t = calloc(TIER_STATS_MAX, sizeof *t);
    n = t ? cs_tiers_stats(a->backend, t, TIER_STATS_MAX) : 0;
    if (n > TIER_STATS_MAX)
        n = TIER_STATS_MAX;
    if (n == 0) {
        free(t);
        return;
    }
    for (k = 0; k < sizeof m / sizeof m[0]; k++) {
        cs_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help, m[k].name,
                      m[k].type);
        for (i = 0; i < n; i++) {
            uint64_t v;
            if (!visible_name(a, t[i].ns))
                continue;
            memcpy(&v, (const char *)&t[i] + m[k].off, sizeof v);
            cs_buf_printf(b, "%s{namespace=\"%s\",tier=\"%u\",type=\"%s\"} %" PRIu64 "\n",
                          m[k].name, t[i].ns, t[i].index, t[i].type, v);
        }
    }
    cs_buf_printf(b, "# HELP cstash_tier_out_of_path 1 while the tier's breaker is open.\n"
                     "# TYPE cstash_tier_out_of_path gauge\n");
    for (i = 0; i < n; i++)
        if (visible_name(a, t[i].ns))
            cs_buf_printf(b,
                          "cstash_tier_out_of_path{namespace=\"%s\",tier=\"%u\",type=\"%s\"} "
                          "%d\n",
                          t[i].ns, t[i].index, t[i].type, t[i].out_of_path ? 1 : 0);
    free(t);
}

static void stats_json(const struct cs_admin *a, struct cs_reply *out)
{
    struct cs_usage *u = cs_disk_usage(a->backend);
    struct cs_buf *b = &out->body;
    size_t i;

    cs_buf_init(b, ADMIN_BODY_MAX);
    cs_buf_printf(
        b,
        "{\"data_dir\":{\"bytes\":%" PRIu64 ",\"max_size\":%" PRIu64 ",\"touches_dropped\":%" PRIu64
        ",\"index_commits\":%" PRIu64 "},\"namespaces\":{",
        u ? cs_usage_total(u) : 0, a->cfg->max_size, touches_dropped(a), index_commits(a));
    bool first = true;

    for (i = 0; i < a->cfg->n_namespaces; i++) {
        struct ns_figures f;
        if (!visible(a, i))
            continue;
        figures(a, i, &f);
        /* namespace names are [A-Za-z0-9._-]: nothing to escape */
        cs_buf_printf(b,
                      "%s\"%s\":{\"objects\":%" PRIu64 ",\"bytes\":%" PRIu64
                      ",\"max_size\":%" PRIu64 ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
                      ",\"puts\":%" PRIu64 ",\"evictions\":%" PRIu64 ",\"evicted_bytes\":%" PRIu64
                      ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
                      ",\"dropped_writes\":%" PRIu64 "}",
                      first ? "" : ",", f.name, f.objects, f.bytes, f.max_size, f.c[CS_STAT_HITS],
                      f.c[CS_STAT_MISSES], f.c[CS_STAT_PUTS], f.evictions, f.evicted_bytes,
                      f.c[CS_STAT_BYTES_IN], f.c[CS_STAT_BYTES_OUT], f.c[CS_STAT_DROPPED_WRITES]);
        first = false;
    }
    cs_buf_printf(b, "}");
    tiers_json(a, b);
    cs_buf_printf(b, "}\n");
    out->status = 200;
    out->content_type = "application/json";
}

/* One metric family: HELP, TYPE, then a sample per namespace. */
static void metric(const struct cs_admin *a, struct cs_buf *b, const char *name, const char *type,
                   const char *help, size_t field)
{
    size_t i;

    cs_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (i = 0; i < a->cfg->n_namespaces; i++) {
        struct ns_figures f;
        uint64_t v;
        if (!visible(a, i))
            continue;
        figures(a, i, &f);
        switch (field) {
        case 100: v = f.objects; break;
        case 101: v = f.bytes; break;
        case 102: v = f.max_size; break;
        case 103: v = f.evictions; break;
        case 104: v = f.evicted_bytes; break;
        default: v = f.c[field]; break;
        }
        cs_buf_printf(b, "%s{namespace=\"%s\"} %" PRIu64 "\n", name, f.name, v);
    }
}

/* The worker pool that runs blocking request work (server/work.h). */
static void work_metrics(const struct cs_admin *a, struct cs_buf *b)
{
    struct cs_work_stats w = {0};

    if (a->work)
        cs_work_pool_stats(a->work, &w);
    cs_buf_printf(b,
                  "# HELP cstash_work_queued Requests waiting for a worker.\n"
                  "# TYPE cstash_work_queued gauge\ncstash_work_queued %" PRIu64 "\n"
                  "# HELP cstash_work_running Requests in a worker.\n"
                  "# TYPE cstash_work_running gauge\ncstash_work_running %" PRIu64 "\n",
                  w.queued, w.running);
    cs_buf_printf(b,
                  "# HELP cstash_work_refused_total Requests refused with 503: the worker "
                  "queue (limits.work_queue) was full.\n"
                  "# TYPE cstash_work_refused_total counter\n"
                  "cstash_work_refused_total %" PRIu64 "\n",
                  w.refused);
}

/* The memory tier (server/hot.h); zeros when it is off. */
static void memory_metrics(const struct cs_admin *a, struct cs_buf *b)
{
    struct cs_hot_stats m = {0};

    if (a->hot)
        cs_hot_stats(a->hot, &m);
    cs_buf_printf(b,
                  "# HELP cstash_memory_hits_total GET and HEAD hits answered from memory "
                  "(limits.memory_cache), part of cstash_hits_total.\n"
                  "# TYPE cstash_memory_hits_total counter\ncstash_memory_hits_total %" PRIu64 "\n"
                  "# HELP cstash_memory_stale_total Copies in memory found outdated by a change "
                  "of their object, and dropped.\n"
                  "# TYPE cstash_memory_stale_total counter\ncstash_memory_stale_total %" PRIu64
                  "\n"
                  "# HELP cstash_memory_objects Objects held in memory.\n"
                  "# TYPE cstash_memory_objects gauge\ncstash_memory_objects %" PRIu64 "\n"
                  "# HELP cstash_memory_bytes Bytes held in memory, with an allowance per "
                  "object.\n"
                  "# TYPE cstash_memory_bytes gauge\ncstash_memory_bytes %" PRIu64 "\n",
                  m.hits, m.stale, m.objects, m.bytes);
    cs_buf_printf(b,
                  "# HELP cstash_access_log_dropped_total Access-log lines dropped (a "
                  "thread's buffer full, or a failed write).\n"
                  "# TYPE cstash_access_log_dropped_total counter\n"
                  "cstash_access_log_dropped_total %" PRIu64 "\n",
                  cs_access_log_dropped(a->access_log));
}

static void metrics_text(const struct cs_admin *a, struct cs_reply *out)
{
    struct cs_usage *u = cs_disk_usage(a->backend);
    struct cs_buf *b = &out->body;

    cs_buf_init(b, ADMIN_BODY_MAX);
    metric(a, b, "cstash_objects", "gauge", "Objects stored.", 100);
    metric(a, b, "cstash_bytes", "gauge", "Bytes on disk, including uploads not yet indexed.", 101);
    metric(a, b, "cstash_max_size_bytes", "gauge", "Namespace max_size (0: none).", 102);
    metric(a, b, "cstash_hits_total", "counter",
           "GET and HEAD requests answered from the "
           "cache.",
           CS_STAT_HITS);
    metric(a, b, "cstash_misses_total", "counter", "GET and HEAD requests for missing keys.",
           CS_STAT_MISSES);
    metric(a, b, "cstash_puts_total", "counter", "Objects stored.", CS_STAT_PUTS);
    metric(a, b, "cstash_evictions_total", "counter", "Objects evicted (LRU).", 103);
    metric(a, b, "cstash_evicted_bytes_total", "counter", "Bytes freed by eviction.", 104);
    metric(a, b, "cstash_received_bytes_total", "counter", "Body bytes of stored PUTs.",
           CS_STAT_BYTES_IN);
    metric(a, b, "cstash_sent_bytes_total", "counter", "Body bytes of GET hits.",
           CS_STAT_BYTES_OUT);
    metric(a, b, "cstash_dropped_writes_total", "counter",
           "PUTs of readers answered 202 and not stored (read_only_puts = \"drop\").",
           CS_STAT_DROPPED_WRITES);
    cs_buf_printf(b,
                  "# HELP cstash_data_dir_bytes Bytes on disk in the data dir.\n"
                  "# TYPE cstash_data_dir_bytes gauge\ncstash_data_dir_bytes %" PRIu64 "\n"
                  "# HELP cstash_data_dir_max_size_bytes The data dir's max_size (0: none).\n"
                  "# TYPE cstash_data_dir_max_size_bytes gauge\n"
                  "cstash_data_dir_max_size_bytes %" PRIu64 "\n"
                  "# HELP cstash_touches_dropped_total Reads not recorded for LRU order "
                  "(index writer behind).\n"
                  "# TYPE cstash_touches_dropped_total counter\n"
                  "cstash_touches_dropped_total %" PRIu64 "\n"
                  "# HELP cstash_index_commits_total Index transactions committed (each "
                  "records a group of writes).\n"
                  "# TYPE cstash_index_commits_total counter\n"
                  "cstash_index_commits_total %" PRIu64 "\n",
                  u ? cs_usage_total(u) : 0, a->cfg->max_size, touches_dropped(a),
                  index_commits(a));
    cs_buf_printf(b,
                  "# HELP cstash_auth_failures_total Passwords hashed and found wrong.\n"
                  "# TYPE cstash_auth_failures_total counter\n"
                  "cstash_auth_failures_total %" PRIu64 "\n"
                  "# HELP cstash_auth_throttled_total Requests refused with 429: their address "
                  "was over limits.auth_failures.\n"
                  "# TYPE cstash_auth_throttled_total counter\n"
                  "cstash_auth_throttled_total %" PRIu64 "\n",
                  a->auth_limit ? cs_auth_limit_failures(a->auth_limit) : 0,
                  a->auth_limit ? cs_auth_limit_refused(a->auth_limit) : 0);
    work_metrics(a, b);
    memory_metrics(a, b);
    tier_metrics(a, b);
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void purge(const struct cs_admin *a, const char *name, struct cs_reply *out)
{
    const struct cs_namespace_config *ns = cs_config_find_namespace(a->cfg, name, strlen(name));
    struct cs_purge_report r;
    enum cs_status st;

    /* no right at all: answered as a missing namespace (it cannot be probed) */
    if (ns && cs_config_rights(ns, a->uid) == 0)
        ns = NULL;
    if (!ns && a->uid < 0 && a->cfg->n_users) {
        cs_reply_error(out, 401, "purge needs credentials of the namespace's admin");
        return;
    }
    if (!ns) {
        cs_reply_error(out, 404, "no namespace named '%.64s'", name);
        return;
    }
    if ((cs_config_rights(ns, a->uid) & CS_RIGHT_ADMIN) != CS_RIGHT_ADMIN) {
        if (a->uid < 0)
            cs_reply_error(out, 401, "purge needs credentials of the namespace's admin");
        else
            cs_reply_error(out, 403, "purge of '%s' needs its admin right", ns->name);
        return;
    }
    st = cs_disk_purge(a->backend, ns->name, &r);
    if (st != CS_OK) {
        cs_reply_error(out, cs_http_status(st), "purge of '%s' failed: %s", ns->name,
                       cs_strerror(st));
        return;
    }
    cs_log(CS_LOG_INFO, "purged namespace '%s': %" PRIu64 " objects, %" PRIu64 " bytes", ns->name,
           r.objects, r.bytes);
    cs_buf_init(&out->body, ADMIN_BODY_MAX);
    cs_buf_printf(&out->body,
                  "{\"namespace\":\"%s\",\"objects\":%" PRIu64 ",\"bytes\":%" PRIu64 "}\n",
                  ns->name, r.objects, r.bytes);
    out->status = 200;
    out->content_type = "application/json";
}

bool cs_admin_blocks(const char *endpoint, const char *method)
{
    return strncmp(endpoint, "ns/", 3) == 0 && strcmp(method, "DELETE") == 0;
}

void cs_admin_handle(const struct cs_admin *a, const char *endpoint, const char *method,
                     struct cs_reply *out)
{
    bool read = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    if (strncmp(endpoint, "ns/", 3) == 0) {
        if (strcmp(method, "DELETE") != 0) {
            cs_reply_error(out, 405, "method %.32s is not allowed here (allowed: %s)", method,
                           CS_ADMIN_NS_ALLOW);
            out->allow = CS_ADMIN_NS_ALLOW;
            return;
        }
        purge(a, endpoint + 3, out);
        return;
    }
    if (strcmp(endpoint, "health") != 0 && strcmp(endpoint, "stats") != 0 &&
        strcmp(endpoint, "metrics") != 0) {
        cs_reply_error(out, 404, "no such server endpoint");
        return;
    }
    if (!read) {
        cs_reply_error(out, 405, "method %.32s is not allowed here (allowed: %s)", method,
                       CS_ADMIN_ALLOW);
        out->allow = CS_ADMIN_ALLOW;
        return;
    }
    if (strcmp(endpoint, "health") == 0) {
        cs_reply_error(out, 200, "ok");
        out->error = false; /* a plain answer, not a reason to log */
    } else if (!may_see_stats(a, out)) {
        return;
    } else if (strcmp(endpoint, "stats") == 0) {
        stats_json(a, out);
    } else {
        metrics_text(a, out);
    }
}
