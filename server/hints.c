/* Client settings for the tools cstashd serves; see docs/clients.md for the
 * full story (auth, layouts, newer versions). */
#include "autoconfig.h"

#include "server/hints.h"

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
