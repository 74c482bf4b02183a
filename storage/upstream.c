/* The http tier: another cstashd, nginx with WebDAV, bazel-remote or any
 * server taking GET/PUT/HEAD/DELETE of <url>/<key>. Objects keep their
 * keys there (not digests), so the upstream serves its own clients the
 * same objects. Credentials: user:password in the url (Basic) or token
 * (Bearer). */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "storage/curl_xfer.h"
#include "storage/remote.h"

#define URL_MAX 4096

struct upstream {
    char *base;              /* url without a trailing '/' */
    struct curl_slist *auth; /* Authorization: Bearer, or NULL */
    struct cs_curl_pool *pool;
};

static bool plain(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("-_.~/", c) != NULL;
}

static enum cs_status url_of(const struct upstream *u, const struct cs_object_id *id, char *out,
                             size_t len)
{
    size_t n = (size_t)snprintf(out, len, "%s/", u->base), i;

    for (i = 0; i < id->key_len && n + 4 < len; i++) {
        unsigned char c = (unsigned char)id->key[i];
        if (plain(c))
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, len - n, "%%%02X", c);
    }
    if (n + 4 >= len)
        return CS_ERR_TOO_LARGE;
    out[n] = '\0';
    return CS_OK;
}

static enum cs_status run(struct upstream *u, const char *method, const struct cs_object_id *id,
                          struct cs_curl_request *r, struct curl_slist *extra)
{
    char url[URL_MAX], why[256];
    long status;
    struct curl_slist *h = extra;
    enum cs_status st = url_of(u, id, url, sizeof url);

    if (st != CS_OK)
        return st;
    for (const struct curl_slist *a = u->auth; a; a = a->next)
        h = curl_slist_append(h, a->data);
    h = curl_slist_append(h, "Expect:");
    r->method = method;
    r->url = url;
    r->headers = h;
    st = cs_curl_perform(u->pool, r, &status, why, sizeof why);
    curl_slist_free_all(h);
    if (st != CS_OK && st != CS_ERR_NOT_FOUND && cs_log_enabled(CS_LOG_DEBUG))
        cs_log(CS_LOG_DEBUG, "http tier %s %s: %s", method, u->base, why);
    return st;
}

static enum cs_status up_get(void *state, const struct cs_object_id *id,
                             const struct cs_remote_sink *sink)
{
    struct cs_curl_request r = {.sink = sink};
    return run(state, "GET", id, &r, NULL);
}

static enum cs_status up_head(void *state, const struct cs_object_id *id,
                              struct cs_remote_meta *out)
{
    struct cs_curl_request r = {.meta = out};
    return run(state, "HEAD", id, &r, NULL);
}

static enum cs_status up_put(void *state, const struct cs_object_id *id,
                             const struct cs_remote_meta *meta, const struct cs_remote_source *src)
{
    struct cs_curl_request r = {.src = src, .src_size = meta->size};
    char ct[CS_CONTENT_TYPE_MAX + 32];

    snprintf(ct, sizeof ct, "Content-Type: %s",
             meta->content_type[0] ? meta->content_type : "application/octet-stream");
    return run(state, "PUT", id, &r, curl_slist_append(NULL, ct));
}

static enum cs_status up_remove(void *state, const struct cs_object_id *id)
{
    struct cs_curl_request r = {0};
    enum cs_status st = run(state, "DELETE", id, &r, NULL);
    return st == CS_ERR_NOT_FOUND ? CS_OK : st;
}

static void up_destroy(void *state)
{
    struct upstream *u = state;

    if (!u)
        return;
    cs_curl_pool_free(u->pool);
    curl_slist_free_all(u->auth);
    free(u->base);
    free(u);
}

static const struct cs_remote_ops upstream_ops = {
    .type = "http",
    .get = up_get,
    .head = up_head,
    .put = up_put,
    .remove = up_remove,
    .refresh = NULL,
    .destroy = up_destroy,
};

enum cs_status cs_upstream_open(const struct cs_tier_config *cfg, const char *ns,
                                struct cs_remote *out, char *why, size_t why_len)
{
    struct upstream *u = calloc(1, sizeof *u);
    char line[1024];

    (void)ns;
    if (!u || !(u->base = strdup(cfg->url)) || !(u->pool = cs_curl_pool_new(cfg)))
        goto nomem;
    while (u->base[0] && u->base[strlen(u->base) - 1] == '/')
        u->base[strlen(u->base) - 1] = '\0';
    if (cfg->token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", cfg->token);
        if (!(u->auth = curl_slist_append(NULL, line)))
            goto nomem;
    }
    out->ops = &upstream_ops;
    out->state = u;
    return CS_OK;
nomem:
    up_destroy(u);
    snprintf(why, why_len, "out of memory");
    return CS_ERR_NOMEM;
}
