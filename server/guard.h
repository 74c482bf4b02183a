/* Time limits on connections that libmicrohttpd does not enforce by
 * itself: its timeout is an idle timeout, so a client that trickles one
 * byte now and then (slowloris) keeps a connection forever. The guard
 * knows every open connection and when its current phase began:
 *   waiting for a request's headers: header_timeout
 *   inside a request (body in, answer out): request_timeout
 * A watchdog thread shuts down the socket of a connection over its limit;
 * libmicrohttpd then sees the error and closes it.
 *
 * It also keeps each listener under its connection cap. libmicrohttpd at
 * its own limit stops accepting, so new clients wait in the backlog until
 * they time out (five addresses with 256 idle connections each filled
 * 1024). The guard lets libmicrohttpd accept above the cap and, when a new
 * connection takes a listener over it, closes that listener's oldest idle
 * connection (waiting for a request); when none is idle, the new one.
 *
 * Connections are added and removed under one mutex (once per connection,
 * not per request); the phase changes are atomic stores on the
 * connection's own record. */
#ifndef CS_GUARD_H
#define CS_GUARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"

#define CS_CONN_CN_MAX 128
#define CS_GUARD_LISTENERS 16 /* CS_MAX_LISTEN */

struct cs_conn {
    struct cs_conn *prev, *next;
    int fd;
    unsigned listener;            /* index of the listening socket it came in on */
    bool cut;                     /* shut down by the guard (guard's lock) */
    atomic_int_fast64_t since_ms; /* start of the current phase */
    atomic_int phase;             /* enum cs_conn_phase */
    /* mTLS: the verified client certificate's CN, looked up once */
    bool cert_checked;
    bool cert_ok;
    char cn[CS_CONN_CN_MAX + 1];
};

enum cs_conn_phase { CS_CONN_HEADERS, CS_CONN_REQUEST, CS_CONN_CUT };

struct cs_guard {
    pthread_mutex_t lock;
    struct cs_conn head; /* list sentinel */
    pthread_t thread;
    bool running;
    atomic_bool stop;
    unsigned header_timeout_s, request_timeout_s;
    unsigned cap;                         /* connections per listener */
    unsigned open[CS_GUARD_LISTENERS];    /* registered, per listener */
    unsigned closing[CS_GUARD_LISTENERS]; /* of those, shut down, not yet gone */
    atomic_uint_fast64_t cut_headers, cut_requests, cut_idle, refused;
};

/* cap: connections per listener (limits.connections). */
enum cs_status cs_guard_start(struct cs_guard *g, unsigned header_timeout_s,
                              unsigned request_timeout_s, unsigned cap);
void cs_guard_stop(struct cs_guard *g);

/* A new connection on fd, from listener (< CS_GUARD_LISTENERS): NULL when
 * out of memory (it is then unguarded). May close another connection, or
 * this one, to keep the listener under its cap. */
struct cs_conn *cs_guard_add(struct cs_guard *g, int fd, unsigned listener);
/* Before the socket is closed. */
void cs_guard_remove(struct cs_guard *g, struct cs_conn *c);

void cs_conn_phase(struct cs_conn *c, enum cs_conn_phase phase);

#endif
