/* Request path → route. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "server/route.h"

#define ADMIN_PREFIX "_"

enum cs_status cs_route_parse(const struct cs_config *cfg, const char *url, struct cs_route *r,
                              char *reason, size_t reason_len)
{
    const char *name, *slash;
    const char *why = NULL;
    size_t name_len;
    enum cs_status st;

    r->kind = CS_ROUTE_OBJECT;
    r->ns = NULL;
    r->admin = NULL;
    r->key_len = 0;
    r->collection = false;
    if (url[0] != '/') {
        snprintf(reason, reason_len, "request path must start with '/'");
        return CS_ERR_BAD_KEY;
    }
    name = url + 1;
    slash = strchr(name, '/');
    name_len = slash ? (size_t)(slash - name) : strlen(name);
    if (name_len == 1 && name[0] == '_') {
        r->kind = CS_ROUTE_ADMIN;
        r->admin = slash ? slash + 1 : "";
        return CS_OK;
    }
    if (name_len == 0) {
        snprintf(reason, reason_len, "no namespace in path: use /<namespace>/<key>");
        return CS_ERR_NOT_FOUND;
    }
    r->ns = cs_config_find_namespace(cfg, name, name_len);
    if (!r->ns) {
        if (cs_namespace_name_valid(name, name_len))
            snprintf(reason, reason_len, "unknown namespace '%.*s'", (int)name_len, name);
        else
            snprintf(reason, reason_len, "unknown namespace");
        return CS_ERR_NOT_FOUND;
    }
    if (!slash || slash[1] == '\0') {
        r->key[0] = '\0';
        r->collection = true;
        return CS_OK;
    }
    size_t raw_len = strlen(slash + 1);
    if (slash[raw_len] == '/') {
        r->collection = true;
        raw_len--;
    }
    st = cs_key_normalize(slash + 1, raw_len, r->key, &r->key_len, &why);
    if (st != CS_OK)
        snprintf(reason, reason_len, "%s", why ? why : "invalid key");
    return st;
}
