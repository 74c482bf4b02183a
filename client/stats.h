/* Counters of the cstash client, kept in 16 shard files under the cache
 * dir (DIR/0/stats … DIR/f/stats) so concurrent compiles rarely contend;
 * each update is a read-modify-write under flock(2). The shard files also
 * carry the shard's size, which drives cleanup. */
#ifndef CS_CLIENT_STATS_H
#define CS_CLIENT_STATS_H

#include <stdint.h>

#include "client/args.h"
#include "common/status.h"

enum cs_stat {
    CS_ST_DIRECT_HIT_LOCAL,
    CS_ST_DIRECT_HIT_REMOTE,
    CS_ST_PP_HIT_LOCAL,
    CS_ST_PP_HIT_REMOTE,
    CS_ST_MISS,
    CS_ST_COMPILE_FAILED,
    CS_ST_PREPROCESSOR_ERROR,
    CS_ST_REMOTE_ERROR,
    CS_ST_REMOTE_TIMEOUT,
    CS_ST_REMOTE_SKIPPED,
    CS_ST_LOCAL_ERROR,
    CS_ST_INTERNAL_ERROR,
    CS_ST_DISABLED,
    CS_ST_FILES,
    CS_ST_BYTES,
    CS_ST_CLEANUPS,
    CS_ST_COMPILER_MISMATCH, /* the remote's version text was another compiler's */
    CS_ST_UNCACHEABLE,       /* + enum cs_uncacheable */
    CS_ST_COUNT = CS_ST_UNCACHEABLE + CS_UNC_COUNT
};

struct cs_stats {
    int64_t v[CS_ST_COUNT];
};

/* Adds delta (the non-zero counters) to shard 0..15 of dir, creating it;
 * the shard as it is after the update into *after unless NULL. */
enum cs_status cs_stats_add(const char *dir, unsigned shard, const struct cs_stats *delta,
                            struct cs_stats *after);
/* Reads one shard (missing: zeros). */
enum cs_status cs_stats_read(const char *dir, unsigned shard, struct cs_stats *out);
/* Sets the size counters of a shard (after a cleanup has counted). */
enum cs_status cs_stats_set_size(const char *dir, unsigned shard, int64_t files, int64_t bytes);
/* Zeroes every counter but the size ones. */
enum cs_status cs_stats_zero(const char *dir);
/* Prints the summed shards (--show-stats). */
void cs_stats_print(const struct cs_stats *sum, uint64_t maxsize);
/* The counters as "name<TAB>value" lines (--print-stats, as ccache's). */
void cs_stats_print_machine(const struct cs_stats *sum);

#endif
