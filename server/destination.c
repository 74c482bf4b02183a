/* Destination header parsing for MOVE and COPY. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/destination.h"

/* Strips "scheme://authority" and checks the authority against Host. */
static enum cs_status strip_authority(const char *header, const char *host, const char **path,
                                      char *reason, size_t reason_len)
{
    const char *p = header, *auth, *end;
    size_t auth_len;

    if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    else if (strncasecmp(p, "https://", 8) == 0)
        p += 8;
    else {
        snprintf(reason, reason_len, "Destination must be an http(s) URI or an absolute path");
        return CS_ERR_INVALID;
    }
    auth = p;
    end = strchr(auth, '/');
    auth_len = end ? (size_t)(end - auth) : strlen(auth);
    if (memchr(auth, '@', auth_len)) {
        snprintf(reason, reason_len, "Destination must not carry credentials");
        return CS_ERR_INVALID;
    }
    if (!host || strlen(host) != auth_len || strncasecmp(host, auth, auth_len) != 0) {
        snprintf(reason, reason_len, "Destination is on another server");
        return CS_ERR_CONFLICT;
    }
    *path = end ? end : "/";
    return CS_OK;
}

/* Whether path ("/<ns>/...") is in namespace ns (compared as received:
 * namespace names are not percent-decoded by the router either). */
static bool same_namespace(const char *path, const char *ns)
{
    size_t n = strlen(ns);

    return path[0] == '/' && strncmp(path + 1, ns, n) == 0 &&
           (path[n + 1] == '/' || path[n + 1] == '\0');
}

enum cs_status cs_destination_parse(const struct cs_config *cfg, const char *header,
                                    const char *host, const struct cs_route *src,
                                    struct cs_route *dst, char *reason, size_t reason_len)
{
    char path[CS_KEY_MAX * 3 + CS_NAMESPACE_MAX + 8];
    const char *p;
    size_t len;
    enum cs_status st;

    if (!header || !*header) {
        snprintf(reason, reason_len, "MOVE and COPY need a Destination header");
        return CS_ERR_INVALID;
    }
    if (header[0] == '/') {
        p = header;
    } else {
        st = strip_authority(header, host, &p, reason, reason_len);
        if (st != CS_OK)
            return st;
    }
    len = strcspn(p, "?#");
    if (len >= sizeof path) {
        snprintf(reason, reason_len, "Destination too long");
        return CS_ERR_INVALID;
    }
    memcpy(path, p, len);
    path[len] = '\0';
    /* Another namespace is refused by its name, before anything looks at
     * whether it exists or at its key: the answer must not tell an existing
     * namespace from a missing one. */
    if (!same_namespace(path, src->ns->name)) {
        snprintf(reason, reason_len, "Destination is outside namespace '%s'", src->ns->name);
        return CS_ERR_PERM;
    }
    st = cs_route_parse(cfg, path, dst, reason, reason_len);
    if (st == CS_OK && dst->kind != CS_ROUTE_OBJECT) {
        snprintf(reason, reason_len, "Destination is in the server's own space");
        return CS_ERR_PERM;
    }
    if (st == CS_ERR_NOT_FOUND || (st == CS_OK && dst->ns != src->ns)) {
        snprintf(reason, reason_len, "Destination is outside namespace '%s'", src->ns->name);
        return CS_ERR_PERM;
    }
    if (st != CS_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", reason);
        snprintf(reason, reason_len, "Destination: %s", why);
        return CS_ERR_INVALID;
    }
    if (dst->key_len == 0) {
        snprintf(reason, reason_len, "Destination is the namespace root");
        return CS_ERR_PERM;
    }
    return CS_OK;
}
