/* What a reload (SIGHUP) may not change: listeners, the data dir, the
 * access log (SIGUSR1 opens it again), threads, TLS files, limits,
 * track_access, stats_interval, the list of namespaces and their tiers
 * were set up at start (sockets, files, threads, queues) and need a
 * restart. */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "server/config.h"

static bool same_string(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_tier(const struct cs_tier_config *a, const struct cs_tier_config *b)
{
    return a->type == b->type && a->write_async == b->write_async && same_string(a->url, b->url) &&
           same_string(a->endpoint, b->endpoint) && same_string(a->bucket, b->bucket) &&
           same_string(a->region, b->region) && same_string(a->prefix, b->prefix) &&
           same_string(a->access_key, b->access_key) && same_string(a->secret_key, b->secret_key) &&
           same_string(a->session_token, b->session_token) && same_string(a->token, b->token) &&
           same_string(a->ca_file, b->ca_file) && a->path_style == b->path_style &&
           a->tls_verify == b->tls_verify && a->max_object_size == b->max_object_size &&
           a->ttl_s == b->ttl_s && a->timeout_s == b->timeout_s &&
           a->connect_timeout_s == b->connect_timeout_s && a->backoff_s == b->backoff_s &&
           a->queue == b->queue && a->refresh_age_s == b->refresh_age_s;
}

bool cs_config_reloadable(const struct cs_config *old, const struct cs_config *new_cfg, char *why,
                          size_t why_len)
{
    size_t i;

    if (old->n_listen != new_cfg->n_listen) {
        snprintf(why, why_len, "listen changed");
        return false;
    }
    for (i = 0; i < old->n_listen; i++) {
        if (strcmp(old->listen[i], new_cfg->listen[i]) != 0 ||
            old->listen_tls[i] != new_cfg->listen_tls[i] ||
            old->listen_s3[i] != new_cfg->listen_s3[i]) {
            snprintf(why, why_len, "listen changed");
            return false;
        }
    }
    if (!same_string(old->data_dir, new_cfg->data_dir)) {
        snprintf(why, why_len, "data_dir changed");
        return false;
    }
    if (!same_string(old->access_log, new_cfg->access_log)) {
        snprintf(why, why_len, "access_log changed");
        return false;
    }
    if (old->threads != new_cfg->threads) {
        snprintf(why, why_len, "threads changed");
        return false;
    }
    if (!same_string(old->tls_cert, new_cfg->tls_cert) ||
        !same_string(old->tls_key, new_cfg->tls_key) ||
        !same_string(old->tls_client_ca, new_cfg->tls_client_ca)) {
        snprintf(why, why_len, "TLS files changed");
        return false;
    }
    if (memcmp(&old->limits, &new_cfg->limits, sizeof old->limits) != 0 ||
        old->track_access != new_cfg->track_access) {
        snprintf(why, why_len, "limits or track_access changed");
        return false;
    }
    if (old->stats_interval_s != new_cfg->stats_interval_s) {
        snprintf(why, why_len, "stats_interval changed");
        return false;
    }
    if (old->n_namespaces != new_cfg->n_namespaces) {
        snprintf(why, why_len, "namespaces were added or removed");
        return false;
    }
    for (i = 0; i < old->n_namespaces; i++) {
        if (strcmp(old->namespaces[i].name, new_cfg->namespaces[i].name) != 0) {
            snprintf(why, why_len, "namespaces were added, removed or reordered");
            return false;
        }
        const struct cs_namespace_config *a = &old->namespaces[i], *b = &new_cfg->namespaces[i];
        bool same = a->n_tiers == b->n_tiers;
        for (size_t t = 0; same && t < a->n_tiers; t++)
            same = same_tier(&a->tiers[t], &b->tiers[t]);
        if (!same) {
            snprintf(why, why_len, "the tiers of namespace '%s' changed", a->name);
            return false;
        }
    }
    return true;
}
