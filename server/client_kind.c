/* Client kinds: see client_kind.h. */
#include "autoconfig.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "server/client_kind.h"
#include "server/route.h"

static bool starts(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

const char *cs_client_kind(const char *user_agent, bool gradle_header, bool dav_method,
                           const char *target)
{
    static const char *const webdav_agents[] = {"sccache", "rclone", "opendal", "cachepot",
                                                "rstash",  "litmus", "davfs2"};
    size_t i;

    if (gradle_header || (user_agent && starts(user_agent, "gradle")))
        return "gradle";
    if (user_agent && starts(user_agent, "ccache"))
        return "ccache";
    if (user_agent && starts(user_agent, "bazel"))
        return "bazel";
    for (i = 0; user_agent && i < sizeof webdav_agents / sizeof webdav_agents[0]; i++)
        if (starts(user_agent, webdav_agents[i]))
            return "webdav";
    if (dav_method)
        return "webdav";
    if (target) { /* the key shapes the metrics count by (route.c) */
        enum cs_proto k = cs_route_proto(target, strlen(target));
        if (k == CS_PROTO_AC || k == CS_PROTO_CAS)
            return "bazel";
    }
    return NULL;
}
