/* Client settings for the tools cstashd serves; see docs/clients.md for the
 * full story (auth, layouts, newer versions). */
#include "autoconfig.h"

#include "server/hints.h"

#include <string.h>

void cs_print_client_settings(FILE *out, const char *base_url, const char *ns)
{
    fprintf(out,
            "\n"
            "cstashd is serving namespace '%2$s' at %1$s/%2$s/\n"
            "\n"
            "ccache (4.4+), in ccache.conf or the environment:\n"
            "  remote_storage = %1$s/%2$s|layout=subdirs\n"
            "  export CCACHE_REMOTE_STORAGE='%1$s/%2$s|layout=subdirs'\n"
            "\n"
            "Bazel, in .bazelrc:\n"
            "  build --remote_cache=%1$s/%2$s\n"
            "\n"
            "Gradle, in settings.gradle (newer Gradle also needs allowInsecureProtocol = true):\n"
            "  buildCache { remote(HttpBuildCache) { url = '%1$s/%2$s/'; push = true } }\n"
            "\n"
            "sccache / rstash / cachepot (WebDAV backend):\n"
            "  export SCCACHE_WEBDAV_ENDPOINT=%1$s/%2$s\n"
            "\n"
            "Health check: curl %1$s/_/health\n\n",
            base_url, ns);
    fflush(out);
}

bool cs_client_url(const char *url, const char *host, char *out, size_t len)
{
    static const char *const wild[] = {
        "http://0.0.0.0:", "http://[::]:", "https://0.0.0.0:", "https://[::]:"};
    for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
        size_t n = strlen(wild[i]);
        if (strncmp(url, wild[i], n) == 0) {
            snprintf(out, len, "%.*s%s:%s", (int)(strchr(wild[i], '/') + 2 - wild[i]), wild[i],
                     host, url + n);
            return true;
        }
    }
    snprintf(out, len, "%s", url);
    return false;
}
