/* Request path → route. */
#include "autoconfig.h"

#include <stdbool.h>
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

static bool all_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Whether key ends with the segment "<dir>/<n hex>" (at a segment start). */
static bool ends_with_digest(const char *key, size_t len, const char *dir, size_t dir_len, size_t n)
{
    if (len < dir_len + 1 + n)
        return false;
    const char *d = key + len - n - 1 - dir_len;
    if (d != key && d[-1] != '/')
        return false;
    return memcmp(d, dir, dir_len) == 0 && d[dir_len] == '/' && all_hex(key + len - n, n);
}

enum cs_proto cs_route_proto(const char *key, size_t len)
{
    const char *last = memrchr(key, '/', len);
    size_t last_len = last ? len - (size_t)(last + 1 - key) : len;

    if (last_len == 64) {
        if (ends_with_digest(key, len, "ac", 2, 64))
            return CS_PROTO_AC;
        if (ends_with_digest(key, len, "cas", 3, 64))
            return CS_PROTO_CAS;
    }
    if (last_len == 32 && all_hex(key + len - 32, 32))
        return CS_PROTO_GRADLE;
    /* a/b/c/abc...: three one-byte directories that start the name */
    if (last && last_len > 3 && len >= 6 + last_len) {
        const char *p = last - 5;
        if ((p == key || p[-1] == '/') && p[1] == '/' && p[3] == '/' && p[0] == last[1] &&
            p[2] == last[2] && p[4] == last[3])
            return CS_PROTO_WEBDAV;
    }
    return CS_PROTO_OTHER;
}

const char *cs_proto_name(enum cs_proto p)
{
    static const char *const name[CS_PROTO_COUNT] = {"ac",     "cas", "gradle",
                                                     "webdav", "s3",  "other"};

    return (unsigned)p < CS_PROTO_COUNT ? name[p] : "other";
}
