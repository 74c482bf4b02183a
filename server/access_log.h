/* The access log (config access_log, off by default): one JSON object per
 * line and request,
 *
 *   {"time":"2026-12-02T01:55:00.123Z","client":"127.0.0.1","user":"alice",
 *    "method":"GET","ns":"team","key":"ab/cdef","status":200,"in":0,
 *    "out":1024,"us":153,"proto":"ccache","source":"memory"}
 *
 * "user" and "ns" are null when there is none, "key" is the request target
 * after the namespace as received (still percent-encoded), "in" the body
 * bytes received, "out" the body bytes of a hit, "us" the time from the
 * request's headers to the end of the answer, "proto" who asked when it is
 * known (ccache, bazel, gradle, webdav, s3; else null), "source" where a
 * GET or HEAD hit came from (memory, disk, tier; absent otherwise), and
 * "complete":false is added when the connection closed before the answer
 * was sent whole.
 *
 * Each thread formats its lines into a buffer of its own (no lock shared by
 * the threads; the writer takes each thread's lock only to swap the
 * buffer); a writer thread writes them out every 100 ms, or sooner when a
 * buffer fills up. A line that finds its thread's buffer full is dropped
 * and counted: the log never slows the requests down. The file is opened
 * for appending and opened again on cs_access_log_reopen (SIGUSR1, for
 * logrotate); "-" is stdout (journald). */
#ifndef CS_ACCESS_LOG_H
#define CS_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/status.h"

struct cs_access_log;

struct cs_access_entry {
    const struct sockaddr *client; /* NULL: unknown */
    const char *user;              /* NULL: anonymous */
    const char *method;
    const char *ns;     /* NULL: none (the server's own /_/ paths, bad targets) */
    const char *target; /* as received */
    unsigned status;
    uint64_t in, out, us;
    const char *proto;  /* NULL: unknown */
    const char *source; /* NULL: not a hit */
    bool complete;
};

/* Opens path for appending ("-": stdout) and starts the writer. On
 * failure *why says what went wrong (naming the path). */
enum cs_status cs_access_log_open(const char *path, struct cs_access_log **out, char *why,
                                  size_t why_len);
/* Writes what is buffered, stops the writer, closes. NULL is allowed. */
void cs_access_log_close(struct cs_access_log *log);
/* Asks the writer to open the file again (after logrotate moved it). */
void cs_access_log_reopen(struct cs_access_log *log);
/* One request's line, from any thread. */
void cs_access_log_write(struct cs_access_log *log, const struct cs_access_entry *e);
/* Lines dropped (a thread's buffer full, or a failed write). */
uint64_t cs_access_log_dropped(const struct cs_access_log *log);

/* The formatting alone, for tests: the line for e at real time ms into
 * out (a newline ends it); its length, or 0 when it does not fit. */
size_t cs_access_log_format(const struct cs_access_entry *e, int64_t ms, char *out, size_t cap);

#endif
