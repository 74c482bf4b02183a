/* Server endpoints under /_/: see admin.h. This file dispatches, writes
 * the JSON figures and purges; admin_metrics.c writes the Prometheus text
 * and admin_page.c serves the status page. */
#include "autoconfig.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "server/admin_priv.h"
#include "server/history.h"
#include "server/http_status.h"
#include "server/key.h"
#include "storage/disk.h"
#include "storage/index.h"
#include "storage/tiers.h"

/* Bytes of the JSON of one namespace's history at most: 11 arrays of
 * CS_HISTORY_SAMPLES numbers of up to 20 digits and a comma, and names. */
#define HISTORY_JSON_MAX (11 * CS_HISTORY_SAMPLES * 21 + 1024)
/* Bytes of one namespace's other figures (kinds, totals) at most. */
#define NS_JSON_MAX 4096

void admin_figures(const struct cs_admin *a, size_t slot, struct ns_figures *f)
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

bool admin_visible(const struct cs_admin *a, size_t slot)
{
    return (cs_config_rights(&a->cfg->namespaces[slot], a->uid) & CS_RIGHT_ADMIN) == CS_RIGHT_ADMIN;
}

size_t admin_visible_count(const struct cs_admin *a)
{
    size_t i, n = 0;

    for (i = 0; i < a->cfg->n_namespaces; i++)
        n += admin_visible(a, i);
    return n;
}

/* Stats need the admin right on at least one namespace. */
static bool may_see_stats(const struct cs_admin *a, struct cs_reply *out)
{
    if (admin_visible_count(a) > 0)
        return true;
    if (a->uid < 0)
        cs_reply_error(out, 401, "stats need credentials of a namespace admin");
    else
        cs_reply_error(out, 403, "stats are for namespace admins; you administer none");
    return false;
}

/* Index transactions committed: each records a group of writes. */
uint64_t admin_index_commits(const struct cs_admin *a)
{
    struct cs_index *idx = cs_disk_index(a->backend);

    return idx ? cs_index_commits(idx) : 0;
}

/* Accesses not recorded for LRU order because the index writer fell behind. */
uint64_t admin_touches_dropped(const struct cs_admin *a)
{
    struct cs_index *idx = cs_disk_index(a->backend);

    return idx ? cs_index_touches_dropped(idx) : 0;
}

bool admin_visible_name(const struct cs_admin *a, const char *name)
{
    const struct cs_namespace_config *ns = cs_config_find_namespace(a->cfg, name, strlen(name));

    return ns && admin_visible(a, (size_t)(ns - a->cfg->namespaces));
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
        if (!admin_visible_name(a, t[i].ns))
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

/* stats.json's additions for one namespace: requests, hits and misses by
 * kind, and the history (tmp: room for CS_HISTORY_SAMPLES samples). */
static void ns_extra_json(const struct cs_admin *a, size_t slot, struct cs_history_sample *tmp,
                          struct cs_buf *b)
{
    static const struct {
        const char *name;
        size_t off;
        bool wide; /* uint64_t, else uint32_t */
    } col[] = {
        {"t", offsetof(struct cs_history_sample, t), false},
        {"dt", offsetof(struct cs_history_sample, dt), false},
        {"requests", offsetof(struct cs_history_sample, requests), false},
        {"hits", offsetof(struct cs_history_sample, hits), false},
        {"misses", offsetof(struct cs_history_sample, misses), false},
        {"puts", offsetof(struct cs_history_sample, puts), false},
        {"evictions", offsetof(struct cs_history_sample, evictions), false},
        {"bytes_in", offsetof(struct cs_history_sample, bytes_in), true},
        {"bytes_out", offsetof(struct cs_history_sample, bytes_out), true},
        {"objects", offsetof(struct cs_history_sample, objects), true},
        {"bytes", offsetof(struct cs_history_sample, bytes), true},
    };
    struct cs_stats_ns f;
    size_t i, k, n;

    cs_stats_sum_ns(a->stats, slot, &f);
    cs_buf_printf(b, ",\"requests\":%" PRIu64 ",\"kinds\":{", f.requests);
    for (k = 0; k < CS_PROTO_COUNT; k++)
        cs_buf_printf(b, "%s\"%s\":{\"hits\":%" PRIu64 ",\"misses\":%" PRIu64 "}", k ? "," : "",
                      cs_proto_name((enum cs_proto)k), f.kind_hits[k], f.kind_misses[k]);
    n = a->history ? cs_history_read(a->history, slot, tmp, CS_HISTORY_SAMPLES) : 0;
    cs_buf_printf(b, "},\"history\":{");
    for (k = 0; k < sizeof col / sizeof col[0]; k++) {
        cs_buf_printf(b, "%s\"%s\":[", k ? "," : "", col[k].name);
        for (i = 0; i < n; i++) {
            const char *p = (const char *)&tmp[i] + col[k].off;
            uint64_t v;
            if (col[k].wide) {
                memcpy(&v, p, sizeof v);
            } else {
                uint32_t v32;
                memcpy(&v32, p, sizeof v32);
                v = v32;
            }
            cs_buf_printf(b, "%s%" PRIu64, i ? "," : "", v);
        }
        cs_buf_printf(b, "]");
    }
    cs_buf_printf(b, "}");
}

/* GET /_/stats, and with full (GET /_/stats.json) the status page's data:
 * the sample interval, refusals, kinds and each namespace's history. */
static void stats_json(const struct cs_admin *a, bool full, struct cs_reply *out)
{
    struct cs_usage *u = cs_disk_usage(a->backend);
    struct cs_buf *b = &out->body;
    struct cs_history_sample *tmp = NULL;
    size_t i, visible = admin_visible_count(a);
    size_t max = ADMIN_BODY_MAX;
    bool first = true;

    if (full) {
        /* bounded by what the visible namespaces can take, never more */
        max = visible > (CS_REPLY_MAX - ADMIN_BODY_MAX) / (HISTORY_JSON_MAX + NS_JSON_MAX)
                  ? CS_REPLY_MAX
                  : ADMIN_BODY_MAX + visible * (HISTORY_JSON_MAX + NS_JSON_MAX);
        tmp = malloc(CS_HISTORY_SAMPLES * sizeof *tmp);
        if (!tmp) {
            cs_reply_error(out, 500, "out of memory");
            return;
        }
    }
    cs_buf_init(b, max);
    cs_buf_printf(b,
                  "{\"data_dir\":{\"bytes\":%" PRIu64 ",\"max_size\":%" PRIu64
                  ",\"touches_dropped\":%" PRIu64 ",\"index_commits\":%" PRIu64 "}",
                  u ? cs_usage_total(u) : 0, a->cfg->max_size, admin_touches_dropped(a),
                  admin_index_commits(a));
    if (full) {
        uint64_t r[CS_REFUSED_COUNT];
        time_t now = time(NULL);
        cs_stats_refused(a->stats, r);
        cs_buf_printf(b,
                      ",\"version\":\"%s\",\"now\":%lld,\"interval\":%u,\"samples_max\":%d,"
                      "\"refused\":{",
                      PACKAGE_VERSION, (long long)now,
                      a->history ? cs_history_interval(a->history) : 0, CS_HISTORY_SAMPLES);
        for (i = 0; i < CS_REFUSED_COUNT; i++)
            cs_buf_printf(b, "%s\"%u\":%" PRIu64, i ? "," : "",
                          cs_refusal_status((enum cs_refusal)i), r[i]);
        cs_buf_printf(b, "}");
    }
    cs_buf_printf(b, ",\"namespaces\":{");
    for (i = 0; i < a->cfg->n_namespaces; i++) {
        struct ns_figures f;
        if (!admin_visible(a, i))
            continue;
        admin_figures(a, i, &f);
        /* namespace names are [A-Za-z0-9._-]: nothing to escape */
        cs_buf_printf(b,
                      "%s\"%s\":{\"objects\":%" PRIu64 ",\"bytes\":%" PRIu64
                      ",\"max_size\":%" PRIu64 ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
                      ",\"puts\":%" PRIu64 ",\"evictions\":%" PRIu64 ",\"evicted_bytes\":%" PRIu64
                      ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
                      ",\"dropped_writes\":%" PRIu64,
                      first ? "" : ",", f.name, f.objects, f.bytes, f.max_size, f.c[CS_STAT_HITS],
                      f.c[CS_STAT_MISSES], f.c[CS_STAT_PUTS], f.evictions, f.evicted_bytes,
                      f.c[CS_STAT_BYTES_IN], f.c[CS_STAT_BYTES_OUT], f.c[CS_STAT_DROPPED_WRITES]);
        if (full)
            ns_extra_json(a, i, tmp, b);
        cs_buf_printf(b, "}");
        first = false;
    }
    cs_buf_printf(b, "}");
    tiers_json(a, b);
    cs_buf_printf(b, "}\n");
    free(tmp);
    if (b->overflow) {
        cs_reply_error(out, 500, "stats of %zu namespaces do not fit in one answer: %s", visible,
                       cs_strerror(b->err));
        return;
    }
    out->status = 200;
    out->content_type = "application/json";
    out->no_store = true;
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
        strcmp(endpoint, "stats.json") != 0 && strcmp(endpoint, "metrics") != 0 &&
        strcmp(endpoint, "") != 0 && strcmp(endpoint, "status.js") != 0 &&
        strcmp(endpoint, "status.css") != 0) {
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
    } else if (admin_page_asset(endpoint, out)) {
        return;
    } else if (!may_see_stats(a, out)) {
        return;
    } else if (strcmp(endpoint, "stats") == 0) {
        stats_json(a, false, out);
    } else if (strcmp(endpoint, "stats.json") == 0) {
        stats_json(a, true, out);
    } else if (strcmp(endpoint, "metrics") == 0) {
        admin_metrics(a, out);
    } else {
        admin_page(a, out);
    }
}
