/* GET /_/metrics: the figures in the Prometheus text format (version
 * 0.0.4), of the namespaces the caller administers. */
#include "autoconfig.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/admin_priv.h"
#include "storage/disk.h"
#include "storage/tiers.h"

/* Bytes of one namespace's families at most (the histograms are most). */
#define NS_METRICS_MAX (32 * 1024)

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
            if (!admin_visible_name(a, t[i].ns))
                continue;
            memcpy(&v, (const char *)&t[i] + m[k].off, sizeof v);
            cs_buf_printf(b, "%s{namespace=\"%s\",tier=\"%u\",type=\"%s\"} %" PRIu64 "\n",
                          m[k].name, t[i].ns, t[i].index, t[i].type, v);
        }
    }
    cs_buf_printf(b, "# HELP cstash_tier_out_of_path 1 while the tier's breaker is open.\n"
                     "# TYPE cstash_tier_out_of_path gauge\n");
    for (i = 0; i < n; i++)
        if (admin_visible_name(a, t[i].ns))
            cs_buf_printf(b,
                          "cstash_tier_out_of_path{namespace=\"%s\",tier=\"%u\",type=\"%s\"} "
                          "%d\n",
                          t[i].ns, t[i].index, t[i].type, t[i].out_of_path ? 1 : 0);
    free(t);
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
        if (!admin_visible(a, i))
            continue;
        admin_figures(a, i, &f);
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

/* Seconds with the microseconds, for a histogram's sum. */
static void print_seconds(struct cs_buf *b, uint64_t us)
{
    cs_buf_printf(b, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

/* A bucket's bound in seconds, as short as it is exact: 0.0001, 2.5, 10. */
static void print_le(struct cs_buf *b, uint64_t us)
{
    char frac[8];
    int n = snprintf(frac, sizeof frac, "%06" PRIu64, us % 1000000);

    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    cs_buf_printf(b, "%" PRIu64 "%s%s", us / 1000000, n ? "." : "", frac);
}

/* Request durations per namespace and method, hits and misses by kind. */
static enum cs_status request_metrics(const struct cs_admin *a, struct cs_buf *b)
{
    struct cs_stats_ns *f = calloc(a->cfg->n_namespaces ? a->cfg->n_namespaces : 1, sizeof *f);
    size_t i, m, k;

    if (!f)
        return CS_ERR_NOMEM;
    for (i = 0; i < a->cfg->n_namespaces; i++)
        if (admin_visible(a, i))
            cs_stats_sum_ns(a->stats, i, &f[i]);
    cs_buf_printf(b, "# HELP cstash_request_duration_seconds Requests of a namespace, from their "
                     "headers to the end of their answer.\n"
                     "# TYPE cstash_request_duration_seconds histogram\n");
    for (i = 0; i < a->cfg->n_namespaces; i++) {
        const char *ns = a->cfg->namespaces[i].name;
        if (!admin_visible(a, i))
            continue;
        for (m = 0; m < CS_SM_COUNT; m++) {
            const char *method = cs_stat_method_name((enum cs_stat_method)m);
            uint64_t cum = 0;
            for (k = 0; k <= CS_STAT_BUCKETS; k++) {
                cum += f[i].dur[m][k];
                cs_buf_printf(b,
                              "cstash_request_duration_seconds_bucket{namespace=\"%s\","
                              "method=\"%s\",le=\"",
                              ns, method);
                if (k < CS_STAT_BUCKETS)
                    print_le(b, cs_stat_bucket_us[k]);
                else
                    cs_buf_printf(b, "+Inf");
                cs_buf_printf(b, "\"} %" PRIu64 "\n", cum);
            }
            cs_buf_printf(b, "cstash_request_duration_seconds_sum{namespace=\"%s\",method=\"%s\"} ",
                          ns, method);
            print_seconds(b, f[i].dur_sum_us[m]);
            cs_buf_printf(b,
                          "\ncstash_request_duration_seconds_count{namespace=\"%s\","
                          "method=\"%s\"} %" PRIu64 "\n",
                          ns, method, f[i].dur_count[m]);
        }
    }
    for (int hit = 1; hit >= 0; hit--) {
        const char *name = hit ? "cstash_kind_hits_total" : "cstash_kind_misses_total";
        cs_buf_printf(b,
                      "# HELP %s GET and HEAD %s by protocol kind (ac and cas: Bazel; "
                      "gradle; webdav: sccache's layout; s3; other: ccache and the rest).\n"
                      "# TYPE %s counter\n",
                      name, hit ? "hits" : "misses", name);
        for (i = 0; i < a->cfg->n_namespaces; i++) {
            if (!admin_visible(a, i))
                continue;
            for (k = 0; k < CS_PROTO_COUNT; k++)
                cs_buf_printf(b, "%s{namespace=\"%s\",kind=\"%s\"} %" PRIu64 "\n", name,
                              a->cfg->namespaces[i].name, cs_proto_name((enum cs_proto)k),
                              hit ? f[i].kind_hits[k] : f[i].kind_misses[k]);
        }
    }
    free(f);
    return CS_OK;
}

/* Refused requests by status, server-wide. */
static void refused_metrics(const struct cs_admin *a, struct cs_buf *b)
{
    uint64_t r[CS_REFUSED_COUNT];
    size_t i;

    cs_stats_refused(a->stats, r);
    cs_buf_printf(b, "# HELP cstash_refused_total Requests refused: 401 no or wrong credentials, "
                     "403 no right, 413 too large, 429 password failures over the limit, 507 "
                     "quota or disk full.\n"
                     "# TYPE cstash_refused_total counter\n");
    for (i = 0; i < CS_REFUSED_COUNT; i++)
        cs_buf_printf(b, "cstash_refused_total{code=\"%u\",reason=\"%s\"} %" PRIu64 "\n",
                      cs_refusal_status((enum cs_refusal)i), cs_refusal_name((enum cs_refusal)i),
                      r[i]);
}

/* The memory tier (server/hot.h), zeros when it is off; the access log. */
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

void admin_metrics(const struct cs_admin *a, struct cs_reply *out)
{
    struct cs_usage *u = cs_disk_usage(a->backend);
    struct cs_buf *b = &out->body;
    size_t visible = admin_visible_count(a);
    enum cs_status st;

    /* bounded by what the visible namespaces can take, never more */
    cs_buf_init(b, visible > (CS_REPLY_MAX - ADMIN_BODY_MAX) / NS_METRICS_MAX
                       ? CS_REPLY_MAX
                       : ADMIN_BODY_MAX + visible * NS_METRICS_MAX);
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
                  u ? cs_usage_total(u) : 0, a->cfg->max_size, admin_touches_dropped(a),
                  admin_index_commits(a));
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
    st = request_metrics(a, b);
    refused_metrics(a, b);
    tier_metrics(a, b);
    if (st == CS_OK && b->overflow)
        st = b->err;
    if (st != CS_OK) {
        cs_reply_error(out, 500, "metrics of %zu namespaces failed: %s", visible, cs_strerror(st));
        return;
    }
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
