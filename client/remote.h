/* The remote cache: plain GET/PUT of blobs at REMOTE/<k0k1>/<rest of key>
 * (ccache's "subdirs" layout), so cstashd, nginx WebDAV or any WebDAV
 * server works. http:// goes through client/http.c; https:// through
 * libcurl, loaded with dlopen on first use: loading libcurl and its 32
 * libraries costs ~6-10 ms per process, more than a whole local hit. */
#ifndef CS_CLIENT_REMOTE_H
#define CS_CLIENT_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "client/settings.h"
#include "client/util.h"
#include "common/hash.h"

struct cs_remote;

/* NULL when libcurl cannot be loaded (*why says so). */
struct cs_remote *cs_remote_open(const struct cs_settings *s, const char **why);
/* CS_OK (out filled), CS_ERR_NOT_FOUND (a miss) or an error. */
enum cs_status cs_remote_get(struct cs_remote *r, const uint8_t key[CS_SHA256_LEN],
                             struct cs_bytes *out);
enum cs_status cs_remote_put(struct cs_remote *r, const uint8_t key[CS_SHA256_LEN],
                             const void *data, size_t len);
/* Whether the last failure was a timeout or refused connection, i.e. the
 * server is away rather than unhappy with one request. */
bool cs_remote_unreachable(const struct cs_remote *r);
/* A one-line description of the last failure. */
const char *cs_remote_error(const struct cs_remote *r);
void cs_remote_close(struct cs_remote *r);

#endif
