/* What one cstash process shares between the C and the Rust paths: the
 * settings, the counters it will add to the stats, the log, and the
 * local-then-remote blob store with its failure rules (a remote that
 * fails once is not used again by this process; one that is away makes
 * the next compiles skip it for CSTASH_REMOTE_BACKOFF). */
#ifndef CS_CLIENT_SESSION_H
#define CS_CLIENT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "client/local.h"
#include "client/remote.h"
#include "client/settings.h"
#include "client/stats.h"
#include "client/util.h"

/* The last remote failure, under the cache dir (see session.c). */
#define CS_REMOTE_ERROR_FILE "remote.error"

struct cs_session {
    struct cs_settings s;
    bool settings_ok;
    struct cs_stats delta;
    unsigned shard; /* stats shard the counters go to */
    /* Sizes of the blobs this process stored, per shard, accounted with
     * the counters at the end: one stats update per shard touched. */
    struct cs_stats sizes[16];
    uint16_t sized; /* bit s: sizes[s] has something */
    int logfd;
    struct cs_remote *remote;
    bool remote_off; /* not configured, unavailable, or failed in this process */
    int64_t start_ns;
};

__attribute__((format(printf, 2, 3))) void cs_session_log(struct cs_session *ss, const char *fmt,
                                                          ...);
void cs_session_count(struct cs_session *ss, enum cs_stat st);
/* Adds the counters and the sizes to the stats, one update per shard, and
 * cleans a shard that has outgrown its share (once; later counts start
 * from zero). */
void cs_session_flush_stats(struct cs_session *ss);
/* Reads the back-off file: a remote known to be away is skipped. */
void cs_session_remote_init(struct cs_session *ss);
/* The remote, opened on first use; NULL when off. */
struct cs_remote *cs_session_remote(struct cs_session *ss);
/* After a failed remote call (rc): counts it and stops using the remote. */
void cs_session_remote_failed(struct cs_session *ss, enum cs_status rc);
/* Local, then remote; a remote hit is copied to the local cache.
 * CS_OK or CS_ERR_NOT_FOUND (errors are counted and logged). */
enum cs_status cs_session_fetch(struct cs_session *ss, const uint8_t key[CS_SHA256_LEN],
                                enum cs_kind kind, struct cs_bytes *out, bool *from_remote);
/* Stores a blob locally and remotely, unless read-only. */
void cs_session_store(struct cs_session *ss, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind,
                      const struct cs_bytes *blob);
/* Flushes the stats and runs cmd (argv, [0] a path or a command) in place
 * of this process; returns 127 (after saying why) only if it cannot. */
int cs_session_exec(struct cs_session *ss, struct cs_strv *cmd);
/* Flushes the stats and frees everything. */
void cs_session_close(struct cs_session *ss);

#endif
