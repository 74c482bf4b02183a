/* Connection time limits: see guard.h. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/guard.h"

#define SWEEP_MS 250

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cs_conn_phase(struct cs_conn *c, enum cs_conn_phase phase)
{
    if (!c)
        return;
    atomic_store_explicit(&c->since_ms, mono_ms(), memory_order_relaxed);
    atomic_store_explicit(&c->phase, phase, memory_order_relaxed);
}

/* Under the lock: the connection is still registered, so its socket is
 * still open (libmicrohttpd reports the close before closing the fd);
 * libmicrohttpd sees the shut-down socket and closes it. */
static void cut(struct cs_guard *g, struct cs_conn *c)
{
    if (c->cut)
        return;
    c->cut = true;
    atomic_store_explicit(&c->phase, CS_CONN_CUT, memory_order_relaxed);
    g->closing[c->listener]++;
    shutdown(c->fd, SHUT_RDWR);
}

static void sweep(struct cs_guard *g)
{
    int64_t now = mono_ms();
    struct cs_conn *c;

    pthread_mutex_lock(&g->lock);
    for (c = g->head.next; c != &g->head; c = c->next) {
        int phase = atomic_load_explicit(&c->phase, memory_order_relaxed);
        int64_t age = now - atomic_load_explicit(&c->since_ms, memory_order_relaxed);
        if (c->cut)
            continue;
        if (phase == CS_CONN_HEADERS && age > (int64_t)g->header_timeout_s * 1000) {
            atomic_fetch_add(&g->cut_headers, 1);
        } else if (phase == CS_CONN_REQUEST && age > (int64_t)g->request_timeout_s * 1000) {
            atomic_fetch_add(&g->cut_requests, 1);
        } else {
            continue;
        }
        cs_log(CS_LOG_INFO, "closing a connection: %s took longer than %us",
               phase == CS_CONN_HEADERS ? "request headers" : "a request",
               phase == CS_CONN_HEADERS ? g->header_timeout_s : g->request_timeout_s);
        cut(g, c);
    }
    pthread_mutex_unlock(&g->lock);
}

static void *watchdog(void *arg)
{
    struct cs_guard *g = arg;
    struct timespec pause = {.tv_sec = 0, .tv_nsec = SWEEP_MS * 1000000L};

    while (!atomic_load(&g->stop)) {
        nanosleep(&pause, NULL);
        sweep(g);
    }
    return NULL;
}

enum cs_status cs_guard_start(struct cs_guard *g, unsigned header_timeout_s,
                              unsigned request_timeout_s, unsigned cap)
{
    pthread_mutex_init(&g->lock, NULL);
    g->head.next = g->head.prev = &g->head;
    g->header_timeout_s = header_timeout_s;
    g->request_timeout_s = request_timeout_s;
    g->cap = cap;
    memset(g->open, 0, sizeof g->open);
    memset(g->closing, 0, sizeof g->closing);
    atomic_init(&g->stop, false);
    atomic_init(&g->cut_headers, 0);
    atomic_init(&g->cut_requests, 0);
    atomic_init(&g->cut_idle, 0);
    atomic_init(&g->refused, 0);
    g->running = pthread_create(&g->thread, NULL, watchdog, g) == 0;
    return g->running ? CS_OK : CS_ERR_NOMEM;
}

void cs_guard_stop(struct cs_guard *g)
{
    struct cs_conn *c, *next;

    if (g->running) {
        atomic_store(&g->stop, true);
        pthread_join(g->thread, NULL);
        g->running = false;
    }
    for (c = g->head.next; c && c != &g->head; c = next) {
        next = c->next;
        free(c);
    }
    g->head.next = g->head.prev = &g->head;
    pthread_mutex_destroy(&g->lock);
}

/* Over the cap (lock held): the listener's connection that has waited
 * longest for a request goes, else (all busy) the new one. A slow client
 * still sending headers counts as waiting: it is the slowloris shape. */
static void make_room(struct cs_guard *g, struct cs_conn *fresh)
{
    struct cs_conn *c, *oldest = NULL;
    int64_t oldest_ms = 0;

    for (c = g->head.next; c != &g->head; c = c->next) {
        if (c == fresh || c->cut || c->listener != fresh->listener ||
            atomic_load_explicit(&c->phase, memory_order_relaxed) != CS_CONN_HEADERS)
            continue;
        int64_t since = atomic_load_explicit(&c->since_ms, memory_order_relaxed);
        if (!oldest || since < oldest_ms) {
            oldest = c;
            oldest_ms = since;
        }
    }
    if (oldest) {
        atomic_fetch_add(&g->cut_idle, 1);
        cut(g, oldest);
    } else {
        atomic_fetch_add(&g->refused, 1);
        cut(g, fresh);
    }
}

struct cs_conn *cs_guard_add(struct cs_guard *g, int fd, unsigned listener)
{
    struct cs_conn *c = calloc(1, sizeof *c);
    bool full;

    if (!c)
        return NULL;
    c->fd = fd;
    c->listener = listener < CS_GUARD_LISTENERS ? listener : 0;
    cs_conn_phase(c, CS_CONN_HEADERS);
    pthread_mutex_lock(&g->lock);
    c->next = g->head.next;
    c->prev = &g->head;
    g->head.next->prev = c;
    g->head.next = c;
    g->open[c->listener]++;
    full = g->cap && g->open[c->listener] - g->closing[c->listener] > g->cap;
    if (full)
        make_room(g, c);
    pthread_mutex_unlock(&g->lock);
    if (full && atomic_load(&g->cut_idle) + atomic_load(&g->refused) == 1)
        cs_log(CS_LOG_WARN,
               "listener %u is at limits.connections (%u): the connections that "
               "waited longest for a request are closed to make room",
               c->listener, g->cap);
    return c;
}

void cs_guard_remove(struct cs_guard *g, struct cs_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    g->open[c->listener]--;
    if (c->cut)
        g->closing[c->listener]--;
    pthread_mutex_unlock(&g->lock);
    free(c);
}
