/* Stats files are "name value" lines; unknown names are kept at zero,
 * so a newer or older cstash can share a cache dir. */
#include "autoconfig.h"

#include "client/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "client/util.h"
#include "common/size.h"

static const char *const names[CS_ST_UNCACHEABLE] = {
    "direct_hit_local",
    "direct_hit_remote",
    "preprocessed_hit_local",
    "preprocessed_hit_remote",
    "miss",
    "compile_failed",
    "preprocessor_error",
    "remote_error",
    "remote_timeout",
    "remote_skipped",
    "local_error",
    "internal_error",
    "disabled",
    "files",
    "bytes",
    "cleanups",
    "compiler_mismatch",
};

#define UNC_PREFIX "uncacheable_"

static void stat_name(int i, char *buf, size_t len)
{
    if (i < CS_ST_UNCACHEABLE)
        snprintf(buf, len, "%s", names[i]);
    else
        snprintf(buf, len, UNC_PREFIX "%s",
                 cs_uncacheable_name((enum cs_uncacheable)(i - CS_ST_UNCACHEABLE)));
}

/* The counter a name of n bytes stands for, or -1. */
static int stat_of(const char *name, size_t n)
{
    size_t pl = sizeof UNC_PREFIX - 1;
    if (n > pl && !memcmp(name, UNC_PREFIX, pl)) {
        for (int r = 0; r < CS_UNC_COUNT; r++) {
            const char *u = cs_uncacheable_name((enum cs_uncacheable)r);
            if (strlen(u) == n - pl && !memcmp(u, name + pl, n - pl))
                return CS_ST_UNCACHEABLE + r;
        }
        return -1;
    }
    for (int i = 0; i < CS_ST_UNCACHEABLE; i++)
        if (strlen(names[i]) == n && !memcmp(names[i], name, n))
            return i;
    return -1;
}

static char *shard_file(const char *dir, unsigned shard)
{
    char leaf[16];
    snprintf(leaf, sizeof leaf, "%x/stats", shard & 15);
    return cs_path_join(dir, leaf);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* "name value" lines, as format() writes them; anything else (an unknown
 * name, a line that is not a number, a value out of range) is skipped.
 * Runs at every compile: no sscanf, which costs more than the rest. */
static void parse(const char *text, size_t len, struct cs_stats *s)
{
    memset(s, 0, sizeof *s);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        while (p < eol && is_blank(*p))
            p++;
        const char *name = p;
        while (p < eol && !is_blank(*p))
            p++;
        int st = stat_of(name, (size_t)(p - name));
        while (p < eol && is_blank(*p))
            p++;
        bool neg = p < eol && *p == '-';
        if (p < eol && (*p == '-' || *p == '+'))
            p++;
        uint64_t v = 0;
        bool ok = p < eol && *p >= '0' && *p <= '9';
        for (; ok && p < eol && *p >= '0' && *p <= '9'; p++) {
            if (v > ((uint64_t)INT64_MAX - (uint64_t)(*p - '0')) / 10)
                ok = false;
            else
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (ok && st >= 0)
            s->v[st] = neg ? -(int64_t)v : (int64_t)v;
        p = nl ? nl + 1 : end;
    }
}

static enum cs_status format(const struct cs_stats *s, struct cs_bytes *out)
{
    enum cs_status rc = CS_OK;
    for (int i = 0; i < CS_ST_COUNT && rc == CS_OK; i++) {
        if (i < CS_ST_UNCACHEABLE) {
            rc = cs_bytes_append_str(out, names[i]);
        } else {
            rc = cs_bytes_append_str(out, UNC_PREFIX);
            if (rc == CS_OK)
                rc = cs_bytes_append_str(
                    out, cs_uncacheable_name((enum cs_uncacheable)(i - CS_ST_UNCACHEABLE)));
        }
        /* the digits backwards from the end of num, then the sign */
        char num[24];
        size_t o = sizeof num;
        uint64_t v = s->v[i] < 0 ? -(uint64_t)s->v[i] : (uint64_t)s->v[i];
        num[--o] = '\n';
        do {
            num[--o] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        if (s->v[i] < 0)
            num[--o] = '-';
        num[--o] = ' ';
        if (rc == CS_OK)
            rc = cs_bytes_append(out, num + o, sizeof num - o);
    }
    return rc;
}

/* Opens and locks a shard file; the caller closes the fd. */
static int open_locked(const char *path, int op)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0 && errno == ENOENT && cs_mkdirs(path, false) == CS_OK)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    while (flock(fd, op) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static enum cs_status read_fd(int fd, struct cs_stats *s)
{
    char text[8192];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n < 0)
        return cs_status_from_errno(errno);
    parse(text, (size_t)n, s);
    return CS_OK;
}

static enum cs_status write_fd(int fd, const struct cs_stats *s)
{
    struct cs_bytes out = {0};
    enum cs_status rc = format(s, &out);
    if (rc == CS_OK && (pwrite(fd, out.data, out.len, 0) != (ssize_t)out.len ||
                        ftruncate(fd, (off_t)out.len) != 0))
        rc = cs_status_from_errno(errno);
    cs_bytes_free(&out);
    return rc;
}

/* Applies fn to one shard under its exclusive lock; the result into *after
 * unless NULL. */
static enum cs_status update(const char *dir, unsigned shard,
                             void (*fn)(struct cs_stats *, const void *), const void *arg,
                             struct cs_stats *after)
{
    char *path = shard_file(dir, shard);
    if (!path)
        return CS_ERR_NOMEM;
    int fd = open_locked(path, LOCK_EX);
    free(path);
    if (fd < 0)
        return cs_status_from_errno(errno);
    struct cs_stats s;
    enum cs_status rc = read_fd(fd, &s);
    if (rc == CS_OK) {
        fn(&s, arg);
        rc = write_fd(fd, &s);
    }
    if (rc == CS_OK && after)
        *after = s;
    close(fd); /* releases the lock */
    return rc;
}

static void add_fn(struct cs_stats *s, const void *arg)
{
    const struct cs_stats *d = arg;
    for (int i = 0; i < CS_ST_COUNT; i++)
        s->v[i] += d->v[i];
    if (s->v[CS_ST_BYTES] < 0)
        s->v[CS_ST_BYTES] = 0;
    if (s->v[CS_ST_FILES] < 0)
        s->v[CS_ST_FILES] = 0;
}

enum cs_status cs_stats_add(const char *dir, unsigned shard, const struct cs_stats *delta,
                            struct cs_stats *after)
{
    return update(dir, shard, add_fn, delta, after);
}

static void size_fn(struct cs_stats *s, const void *arg)
{
    const int64_t *fb = arg;
    s->v[CS_ST_FILES] = fb[0];
    s->v[CS_ST_BYTES] = fb[1];
}

enum cs_status cs_stats_set_size(const char *dir, unsigned shard, int64_t files, int64_t bytes)
{
    int64_t fb[2] = {files, bytes};
    return update(dir, shard, size_fn, fb, NULL);
}

static void zero_fn(struct cs_stats *s, const void *arg)
{
    (void)arg;
    int64_t files = s->v[CS_ST_FILES], bytes = s->v[CS_ST_BYTES];
    memset(s, 0, sizeof *s);
    s->v[CS_ST_FILES] = files;
    s->v[CS_ST_BYTES] = bytes;
}

enum cs_status cs_stats_zero(const char *dir)
{
    for (unsigned i = 0; i < 16; i++) {
        enum cs_status rc = update(dir, i, zero_fn, NULL, NULL);
        if (rc != CS_OK)
            return rc;
    }
    return CS_OK;
}

enum cs_status cs_stats_read(const char *dir, unsigned shard, struct cs_stats *out)
{
    memset(out, 0, sizeof *out);
    char *path = shard_file(dir, shard);
    if (!path)
        return CS_ERR_NOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return errno == ENOENT ? CS_OK : cs_status_from_errno(errno);
    enum cs_status rc = CS_OK;
    if (flock(fd, LOCK_SH) != 0)
        rc = cs_status_from_errno(errno);
    else
        rc = read_fd(fd, out);
    close(fd);
    return rc;
}

/* bytes as "6.0 KiB", "1.2 GiB" (binary units, one decimal). */
static void human_size(uint64_t bytes, char *out, size_t cap)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)bytes;
    size_t u = 0;

    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%" PRIu64 " bytes", bytes);
    else
        snprintf(out, cap, "%.1f %s", v, units[u]);
}

static double pct(int64_t part, int64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

void cs_stats_print(const struct cs_stats *s, uint64_t maxsize)
{
    const int64_t *v = s->v;
    int64_t hits = v[CS_ST_DIRECT_HIT_LOCAL] + v[CS_ST_DIRECT_HIT_REMOTE] + v[CS_ST_PP_HIT_LOCAL] +
                   v[CS_ST_PP_HIT_REMOTE];
    int64_t local = v[CS_ST_DIRECT_HIT_LOCAL] + v[CS_ST_PP_HIT_LOCAL];
    int64_t remote = v[CS_ST_DIRECT_HIT_REMOTE] + v[CS_ST_PP_HIT_REMOTE];
    int64_t cacheable = hits + v[CS_ST_MISS];
    int64_t unc = 0;
    for (int i = CS_ST_UNCACHEABLE; i < CS_ST_COUNT; i++)
        unc += v[i];
    printf("cacheable calls:      %" PRId64 "\n", cacheable);
    int64_t direct = v[CS_ST_DIRECT_HIT_LOCAL] + v[CS_ST_DIRECT_HIT_REMOTE];
    printf("  hits:               %" PRId64 " (%.1f%%)\n", hits, pct(hits, cacheable));
    printf("    local:            %" PRId64 " (%.1f%%; direct %" PRId64 ", preprocessed %" PRId64
           ")\n",
           local, pct(local, cacheable), v[CS_ST_DIRECT_HIT_LOCAL], v[CS_ST_PP_HIT_LOCAL]);
    printf("    remote:           %" PRId64 " (%.1f%%; direct %" PRId64 ", preprocessed %" PRId64
           ")\n",
           remote, pct(remote, cacheable), v[CS_ST_DIRECT_HIT_REMOTE], v[CS_ST_PP_HIT_REMOTE]);
    printf("    direct:           %" PRId64 " (%.1f%% of hits, without the preprocessor)\n", direct,
           pct(direct, hits));
    printf("  misses:             %" PRId64 "\n", v[CS_ST_MISS]);
    printf("uncacheable calls:    %" PRId64 "\n", unc);
    for (int i = CS_ST_UNCACHEABLE; i < CS_ST_COUNT; i++)
        if (v[i])
            printf("  %-19s %" PRId64 "\n",
                   cs_uncacheable_name((enum cs_uncacheable)(i - CS_ST_UNCACHEABLE)), v[i]);
    printf("failed compiles:      %" PRId64 "\n", v[CS_ST_COMPILE_FAILED]);
    printf("errors:\n");
    printf("  preprocessor:       %" PRId64 "\n", v[CS_ST_PREPROCESSOR_ERROR]);
    printf("  remote:             %" PRId64 " (timeouts %" PRId64
           ", skipped while unavailable %" PRId64 ")\n",
           v[CS_ST_REMOTE_ERROR] + v[CS_ST_REMOTE_TIMEOUT], v[CS_ST_REMOTE_TIMEOUT],
           v[CS_ST_REMOTE_SKIPPED]);
    printf("  local cache:        %" PRId64 "\n", v[CS_ST_LOCAL_ERROR]);
    printf("  internal:           %" PRId64 "\n", v[CS_ST_INTERNAL_ERROR]);
    printf("  compiler mismatch:  %" PRId64 " (the remote's version text was another's)\n",
           v[CS_ST_COMPILER_MISMATCH]);
    printf("disabled calls:       %" PRId64 "\n", v[CS_ST_DISABLED]);
    char size[32], max[32];
    human_size(v[CS_ST_BYTES] > 0 ? (uint64_t)v[CS_ST_BYTES] : 0, size, sizeof size);
    human_size(maxsize, max, sizeof max);
    printf("local cache size:     %s in %" PRId64 " files, limit %s (%.1f%%)\n", size,
           v[CS_ST_FILES], max, pct(v[CS_ST_BYTES], (int64_t)maxsize));
    printf("cleanups:             %" PRId64 "\n", v[CS_ST_CLEANUPS]);
}

void cs_stats_print_machine(const struct cs_stats *s)
{
    for (int i = 0; i < CS_ST_COUNT; i++) {
        char n[64];
        stat_name(i, n, sizeof n);
        printf("%s\t%" PRId64 "\n", n, s->v[i]);
    }
}
