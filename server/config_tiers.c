/* A namespace's tiers: the local disk first, then remote tiers (s3, redis,
 * http) with their connection settings, checked per type. */
#include "autoconfig.h"

#include <libconfig.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/config_priv.h"
#include "storage/remote.h"

static void read_tier_type(struct cs_config_loader *ld, const config_setting_t *s,
                           struct cs_tier_config *t)
{
    static const char *const names[] = {"disk", "s3", "redis", "http"};
    const char *v = config_setting_get_string(s);
    size_t i;

    for (i = 0; v && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(v, names[i]) == 0) {
            t->type = (enum cs_tier_type)i;
            return;
        }
    }
    cs_config_error(ld, s, "tier type must be \"disk\", \"s3\", \"redis\" or \"http\"");
}

/* What each type needs, once all its keys are read. */
static void check_tier(struct cs_config_loader *ld, const config_setting_t *g,
                       const struct cs_tier_config *t)
{
    switch (t->type) {
    case CS_TIER_DISK: break;
    case CS_TIER_S3:
        if (!t->bucket || !t->bucket[0])
            cs_config_error(ld, g, "s3 tier needs bucket = \"...\"");
        if (t->endpoint && strncmp(t->endpoint, "http://", 7) != 0 &&
            strncmp(t->endpoint, "https://", 8) != 0)
            cs_config_error(ld, g, "s3 endpoint must start with http:// or https://");
        if (!t->access_key != !t->secret_key)
            cs_config_error(ld, g,
                            "s3 tier needs both access_key and secret_key (or neither, "
                            "to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
        break;
    case CS_TIER_REDIS:
        if (!t->url || (strncmp(t->url, "redis://", 8) != 0 && strncmp(t->url, "unix://", 7) != 0))
            cs_config_error(ld, g,
                            "redis tier needs url = \"redis://[user:pass@]host:port/db\" "
                            "or \"unix:///path/to/redis.sock\"");
        break;
    case CS_TIER_HTTP:
        if (!t->url || (strncmp(t->url, "http://", 7) != 0 && strncmp(t->url, "https://", 8) != 0))
            cs_config_error(ld, g, "http tier needs url = \"http(s)://host:port/namespace\"");
        break;
    }
}

static void load_tier(struct cs_config_loader *ld, const config_setting_t *g,
                      struct cs_tier_config *t)
{
    int i, n = config_setting_length(g);
    bool have_type = false;

    t->tls_verify = true;
    t->timeout_s = 10;
    t->connect_timeout_s = 2;
    t->backoff_s = 30;
    t->queue = 10000;
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        if (strcmp(key, "type") == 0) {
            read_tier_type(ld, s, t);
            have_type = true;
        } else if (strcmp(key, "write") == 0) {
            const char *v = config_setting_get_string(s);
            if (v && (strcmp(v, "sync") == 0 || strcmp(v, "async") == 0))
                t->write_async = strcmp(v, "async") == 0;
            else
                cs_config_error(ld, s, "write must be \"sync\" or \"async\"");
        } else if (strcmp(key, "url") == 0) {
            cs_config_read_string(ld, s, &t->url);
        } else if (strcmp(key, "endpoint") == 0) {
            cs_config_read_string(ld, s, &t->endpoint);
        } else if (strcmp(key, "bucket") == 0) {
            cs_config_read_string(ld, s, &t->bucket);
        } else if (strcmp(key, "region") == 0) {
            cs_config_read_string(ld, s, &t->region);
        } else if (strcmp(key, "prefix") == 0) {
            cs_config_read_string(ld, s, &t->prefix);
        } else if (strcmp(key, "access_key") == 0) {
            cs_config_read_string(ld, s, &t->access_key);
        } else if (strcmp(key, "secret_key") == 0) {
            cs_config_read_string(ld, s, &t->secret_key);
        } else if (strcmp(key, "session_token") == 0) {
            cs_config_read_string(ld, s, &t->session_token);
        } else if (strcmp(key, "token") == 0) {
            cs_config_read_string(ld, s, &t->token);
        } else if (strcmp(key, "ca_file") == 0) {
            cs_config_read_path(ld, s, &t->ca_file);
        } else if (strcmp(key, "path_style") == 0) {
            cs_config_read_bool(ld, s, &t->path_style);
        } else if (strcmp(key, "tls_verify") == 0) {
            cs_config_read_bool(ld, s, &t->tls_verify);
        } else if (strcmp(key, "max_object_size") == 0) {
            cs_config_read_size(ld, s, &t->max_object_size);
        } else if (strcmp(key, "ttl") == 0) {
            cs_config_read_seconds(ld, s, &t->ttl_s);
        } else if (strcmp(key, "timeout") == 0) {
            cs_config_read_seconds(ld, s, &t->timeout_s);
        } else if (strcmp(key, "connect_timeout") == 0) {
            cs_config_read_seconds(ld, s, &t->connect_timeout_s);
        } else if (strcmp(key, "backoff") == 0) {
            cs_config_read_seconds(ld, s, &t->backoff_s);
        } else if (strcmp(key, "queue") == 0) {
            cs_config_read_count(ld, s, 1, 10000000, &t->queue);
        } else if (strcmp(key, "refresh_age") == 0) {
            cs_config_read_seconds(ld, s, &t->refresh_age_s);
        } else {
            cs_config_error(ld, s, "unknown tier setting '%s'", key);
        }
    }
    if (!have_type)
        cs_config_error(ld, g,
                        "tier without a type: type = \"disk\" | \"s3\" | \"redis\" | "
                        "\"http\"");
    else
        check_tier(ld, g, t);
}

static void tier_strings_free(struct cs_tier_config *t)
{
    free(t->url);
    free(t->endpoint);
    free(t->bucket);
    free(t->region);
    free(t->prefix);
    free(t->access_key);
    free(t->secret_key);
    free(t->session_token);
    free(t->token);
    free(t->ca_file);
}

/* tiers = ( { type = "disk"; }, { type = "s3"; ... }, ... ): the disk
 * first, then the remote tiers in the order a GET tries them. */
void cs_config_load_tiers(struct cs_config_loader *ld, const config_setting_t *list,
                          struct cs_namespace_config *ns)
{
    int i, n;

    if (!config_setting_is_list(list) || config_setting_length(list) == 0) {
        cs_config_error(ld, list,
                        "tiers must be a list: ( { type = \"disk\"; }, { type = \"s3\"; "
                        "... } )");
        return;
    }
    n = config_setting_length(list);
    ns->tiers = calloc((size_t)n, sizeof *ns->tiers);
    if (!ns->tiers) {
        cs_config_error(ld, list, "out of memory");
        return;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct cs_tier_config t = {0};
        if (!config_setting_is_group(g)) {
            cs_config_error(ld, g, "each tier must be a group: { type = \"...\"; ... }");
            continue;
        }
        load_tier(ld, g, &t);
        if ((i == 0) != (t.type == CS_TIER_DISK))
            cs_config_error(ld, g,
                            i == 0 ? "the first tier must be { type = \"disk\"; }: "
                                     "every object passes through the local disk"
                                   : "only the first tier can be the disk");
        if (i == 0) {
            tier_strings_free(&t); /* the disk has no settings to keep */
            continue;
        }
        ns->tiers[ns->n_tiers++] = t;
    }
}

void cs_config_tiers_free(struct cs_tier_config *t, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        tier_strings_free(&t[i]);
    free(t);
}
