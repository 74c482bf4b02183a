/* Connection time limits: see guard.h. */
#include "autoconfig.h"

#include <stdlib.h>
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
 * still open (libmicrohttpd reports the close before closing the fd). */
static void sweep(struct cs_guard *g)
{
    int64_t now = mono_ms();
    struct cs_conn *c;

    pthread_mutex_lock(&g->lock);
    for (c = g->head.next; c != &g->head; c = c->next) {
        int phase = atomic_load_explicit(&c->phase, memory_order_relaxed);
        int64_t age = now - atomic_load_explicit(&c->since_ms, memory_order_relaxed);
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
        atomic_store_explicit(&c->phase, CS_CONN_CUT, memory_order_relaxed);
        shutdown(c->fd, SHUT_RDWR);
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
                              unsigned request_timeout_s)
{
    pthread_mutex_init(&g->lock, NULL);
    g->head.next = g->head.prev = &g->head;
    g->header_timeout_s = header_timeout_s;
    g->request_timeout_s = request_timeout_s;
    atomic_init(&g->stop, false);
    atomic_init(&g->cut_headers, 0);
    atomic_init(&g->cut_requests, 0);
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

struct cs_conn *cs_guard_add(struct cs_guard *g, int fd)
{
    struct cs_conn *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->fd = fd;
    cs_conn_phase(c, CS_CONN_HEADERS);
    pthread_mutex_lock(&g->lock);
    c->next = g->head.next;
    c->prev = &g->head;
    g->head.next->prev = c;
    g->head.next = c;
    pthread_mutex_unlock(&g->lock);
    return c;
}

void cs_guard_remove(struct cs_guard *g, struct cs_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    free(c);
}
