/* The shared part of one cstash process (see session.h). */
#include "autoconfig.h"

#include "client/session.h"

#include "client/exec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cs_session_log(struct cs_session *ss, const char *fmt, ...)
{
    if (ss->logfd < 0)
        return;
    char line[4096];
    int n = snprintf(line, sizeof line, "cstash[%ld] ", (long)getpid());
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    (void)!write(ss->logfd, line, (size_t)n);
}

void cs_session_count(struct cs_session *ss, enum cs_stat st)
{
    ss->delta.v[st]++;
}

void cs_session_flush_stats(struct cs_session *ss)
{
    if (!ss->settings_ok)
        return;
    bool any = false;
    for (int i = 0; i < CS_ST_COUNT; i++)
        any |= ss->delta.v[i] != 0;
    if (any) {
        for (int i = 0; i < CS_ST_COUNT; i++)
            ss->sizes[ss->shard].v[i] += ss->delta.v[i];
        ss->sized |= (uint16_t)(1u << ss->shard);
    }
    for (unsigned s = 0; s < 16; s++) {
        if (!(ss->sized & (1u << s)))
            continue;
        if (cs_local_account_shard(ss->s.dir, s, &ss->sizes[s], ss->s.maxsize) != CS_OK)
            cs_session_log(ss, "cannot update the stats of shard %x in %s", s, ss->s.dir);
        memset(&ss->sizes[s], 0, sizeof ss->sizes[s]);
    }
    ss->sized = 0;
    memset(&ss->delta, 0, sizeof ss->delta);
}

/* A blob into the local cache, its size accounted at the flush. */
static enum cs_status local_put(struct cs_session *ss, const uint8_t key[CS_SHA256_LEN],
                                enum cs_kind kind, const void *data, size_t len)
{
    unsigned s = cs_local_shard(key);
    enum cs_status rc = cs_local_write(ss->s.dir, key, kind, data, len, &ss->sizes[s]);
    if (rc == CS_OK)
        ss->sized |= (uint16_t)(1u << s);
    return rc;
}

static char *backoff_file(const struct cs_session *ss)
{
    return cs_path_join(ss->s.dir, "remote.unavailable");
}

void cs_session_remote_init(struct cs_session *ss)
{
    ss->remote_off = !ss->s.remote;
    if (ss->remote_off)
        return;
    char *f = backoff_file(ss);
    struct cs_bytes b = {0};
    if (f && cs_read_file(f, 64, &b) == CS_OK && b.data) {
        long long until = atoll((char *)b.data);
        if (until > (long long)time(NULL)) {
            ss->remote_off = true;
            cs_session_count(ss, CS_ST_REMOTE_SKIPPED);
            cs_session_log(ss, "remote skipped: unavailable until %lld", until);
        }
    }
    cs_bytes_free(&b);
    free(f);
}

/* The last remote failure, "EPOCH\tmessage", in DIR/remote.error: shown by
 * --show-stats, and said on stderr once per build (when the message is
 * new, or the last one was said REPORT_AGAIN_S ago) when there is no
 * CSTASH_LOG. A build's compiles then do not each print it, and a remote
 * that always fails is told, not hidden in a log. */
#define REPORT_AGAIN_S 600

static void report_remote_error(struct cs_session *ss, const char *msg)
{
    char *f = cs_path_join(ss->s.dir, CS_REMOTE_ERROR_FILE);
    struct cs_bytes old = {0};
    time_t now = time(NULL);
    bool again = true;

    if (!f)
        return;
    if (cs_read_file(f, 1024, &old) == CS_OK && old.data) {
        const char *text = (const char *)old.data, *tab = memchr(text, '\t', old.len);
        size_t ml = strlen(msg), rest = tab ? old.len - (size_t)(tab + 1 - text) : 0;
        bool same = tab && rest == ml + 1 && memcmp(tab + 1, msg, ml) == 0;
        again = !same || now - atoll(text) >= REPORT_AGAIN_S;
    }
    cs_bytes_free(&old);
    if (again) {
        char line[1200];
        int n = snprintf(line, sizeof line, "%lld\t%s\n", (long long)now, msg);
        if (!ss->s.log)
            fprintf(stderr, "cstash: remote cache %s: %s (compiling without it)\n", ss->s.remote,
                    msg);
        if (n > 0 && (size_t)n < sizeof line && cs_mkdirs(ss->s.dir, true) == CS_OK)
            (void)cs_write_file_atomic(f, line, (size_t)n);
    }
    free(f);
}

struct cs_remote *cs_session_remote(struct cs_session *ss)
{
    if (ss->remote_off)
        return NULL;
    if (!ss->remote) {
        const char *why = "";
        ss->remote = cs_remote_open(&ss->s, &why);
        if (!ss->remote) {
            cs_session_log(ss, "remote disabled: %s", why);
            report_remote_error(ss, why);
            cs_session_count(ss, CS_ST_REMOTE_ERROR);
            ss->remote_off = true;
        }
    }
    return ss->remote;
}

/* When the server is away, the next compiles are told too. */
void cs_session_remote_failed(struct cs_session *ss, enum cs_status rc)
{
    cs_session_count(ss, rc == CS_ERR_BUSY ? CS_ST_REMOTE_TIMEOUT : CS_ST_REMOTE_ERROR);
    cs_session_log(ss, "remote error: %s", cs_remote_error(ss->remote));
    report_remote_error(ss, cs_remote_error(ss->remote));
    ss->remote_off = true;
    if (cs_remote_unreachable(ss->remote) && ss->s.remote_backoff_s > 0) {
        char *f = backoff_file(ss);
        char until[32];
        snprintf(until, sizeof until, "%lld\n", (long long)time(NULL) + ss->s.remote_backoff_s);
        if (f && cs_mkdirs(ss->s.dir, true) == CS_OK)
            (void)cs_write_file_atomic(f, until, strlen(until));
        free(f);
    }
}

enum cs_status cs_session_fetch(struct cs_session *ss, const uint8_t key[CS_SHA256_LEN],
                                enum cs_kind kind, struct cs_bytes *out, bool *from_remote)
{
    *from_remote = false;
    out->len = 0;
    enum cs_status rc = cs_local_get(ss->s.dir, key, kind, out);
    if (rc == CS_OK)
        return CS_OK;
    if (rc != CS_ERR_NOT_FOUND) {
        cs_session_count(ss, CS_ST_LOCAL_ERROR);
        cs_session_log(ss, "local cache read: %s", cs_strerror(rc));
    }
    struct cs_remote *r = cs_session_remote(ss);
    if (!r)
        return CS_ERR_NOT_FOUND;
    out->len = 0;
    rc = cs_remote_get(r, key, out);
    if (rc == CS_OK) {
        *from_remote = true;
        if (!ss->s.readonly && local_put(ss, key, kind, out->data, out->len) != CS_OK)
            cs_session_count(ss, CS_ST_LOCAL_ERROR);
        return CS_OK;
    }
    if (rc != CS_ERR_NOT_FOUND)
        cs_session_remote_failed(ss, rc);
    return CS_ERR_NOT_FOUND;
}

void cs_session_store(struct cs_session *ss, const uint8_t key[CS_SHA256_LEN], enum cs_kind kind,
                      const struct cs_bytes *blob)
{
    if (ss->s.readonly)
        return;
    enum cs_status rc = local_put(ss, key, kind, blob->data, blob->len);
    if (rc != CS_OK) {
        cs_session_count(ss, CS_ST_LOCAL_ERROR);
        cs_session_log(ss, "local cache write: %s", cs_strerror(rc));
    }
    struct cs_remote *r = ss->s.remote_readonly ? NULL : cs_session_remote(ss);
    if (r && (rc = cs_remote_put(r, key, blob->data, blob->len)) != CS_OK)
        cs_session_remote_failed(ss, rc);
}

int cs_session_exec(struct cs_session *ss, struct cs_strv *cmd)
{
    cs_session_flush_stats(ss);
    cs_exec_replace(cmd->v);
    fprintf(stderr, "cstash: cannot run %s: %s\n", cmd->v[0], strerror(errno));
    cs_strv_free(cmd);
    return 127;
}

void cs_session_close(struct cs_session *ss)
{
    cs_session_flush_stats(ss);
    cs_remote_close(ss->remote);
    ss->remote = NULL;
    cs_settings_free(&ss->s);
    if (ss->logfd >= 0)
        close(ss->logfd);
    ss->logfd = -1;
}
