/* Client kinds: see client_kind.h. */
#include "autoconfig.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "server/client_kind.h"

static bool starts(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* A Bazel HTTP cache key: .../ac/<64 hex> or .../cas/<64 hex> at the end. */
static bool bazel_key(const char *target)
{
    size_t n = strlen(target), i;
    const char *hex;

    if (n < 64 + 4)
        return false;
    hex = target + n - 64;
    for (i = 0; i < 64; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return false;
    return (hex - target >= 4 && memcmp(hex - 4, "/ac/", 4) == 0) ||
           (hex - target >= 5 && memcmp(hex - 5, "/cas/", 5) == 0);
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
    if (target && bazel_key(target))
        return "bazel";
    return NULL;
}
