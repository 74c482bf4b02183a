/* Which kind of client sent a request, for the access log: told by its
 * User-Agent and headers, else by the shape of its key or method. */
#ifndef CS_CLIENT_KIND_H
#define CS_CLIENT_KIND_H

#include <stdbool.h>

/* "ccache", "bazel", "gradle" or "webdav"; NULL when it cannot be told.
 * user_agent may be NULL; gradle_header: X-Gradle-Version was sent;
 * dav_method: PROPFIND, MKCOL, COPY, MOVE or OPTIONS; target as received. */
const char *cs_client_kind(const char *user_agent, bool gradle_header, bool dav_method,
                           const char *target);

#endif
