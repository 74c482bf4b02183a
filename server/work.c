/* The worker pool (see work.h). One mutex and one condition variable:
 * the pool is for slow work, handed over at most a few thousand times a
 * second, so a lock shared by the event threads costs nothing they would
 * notice, and a GET hit never takes it. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"
#include "server/work.h"

struct cs_work_pool {
    pthread_mutex_t lock;
    pthread_cond_t ready; /* work was posted, or the pool stops */
    struct cs_work *head, *tail;
    unsigned places; /* reserved or queued, not yet taken by a worker */
    unsigned queue_max;
    bool stopping;
    struct cs_work_stats stats;
    unsigned n_threads;
    pthread_t *threads;
};

/* The next work, or NULL once the pool stops with nothing queued. */
static struct cs_work *take(struct cs_work_pool *p)
{
    struct cs_work *w;

    pthread_mutex_lock(&p->lock);
    /* a reserved place not yet posted is work to come, even when stopping */
    while (!p->head && !(p->stopping && p->places == 0))
        pthread_cond_wait(&p->ready, &p->lock);
    w = p->head;
    if (w) {
        p->head = w->next;
        if (!p->head)
            p->tail = NULL;
        p->places--;
        p->stats.queued--;
        p->stats.running++;
    }
    pthread_mutex_unlock(&p->lock);
    return w;
}

static void *worker(void *arg)
{
    struct cs_work_pool *p = arg;
    struct cs_work *w;

    while ((w = take(p)) != NULL) {
        w->run(w); /* w may be gone from here on */
        pthread_mutex_lock(&p->lock);
        p->stats.running--;
        p->stats.done++;
        if (p->stopping && p->places == 0)
            pthread_cond_broadcast(&p->ready);
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

bool cs_work_reserve(struct cs_work_pool *p)
{
    bool ok;

    pthread_mutex_lock(&p->lock);
    ok = !p->stopping && p->places < p->queue_max;
    if (ok)
        p->places++;
    else
        p->stats.refused++;
    pthread_mutex_unlock(&p->lock);
    return ok;
}

void cs_work_post(struct cs_work_pool *p, struct cs_work *w)
{
    w->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = w;
    else
        p->head = w;
    p->tail = w;
    p->stats.queued++;
    pthread_cond_signal(&p->ready);
    pthread_mutex_unlock(&p->lock);
}

void cs_work_pool_stats(struct cs_work_pool *p, struct cs_work_stats *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->stats;
    out->stopping = p->stopping;
    pthread_mutex_unlock(&p->lock);
}

static void stop_threads(struct cs_work_pool *p, unsigned n)
{
    unsigned i;

    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->ready);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < n; i++)
        pthread_join(p->threads[i], NULL);
}

static void destroy(struct cs_work_pool *p)
{
    pthread_cond_destroy(&p->ready);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}

enum cs_status cs_work_pool_new(unsigned threads, unsigned queue_max, struct cs_work_pool **out)
{
    struct cs_work_pool *p;
    unsigned i;

    *out = NULL;
    if (threads == 0 || queue_max == 0)
        return CS_ERR_INVALID;
    p = calloc(1, sizeof *p);
    if (!p)
        return CS_ERR_NOMEM;
    p->threads = calloc(threads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return CS_ERR_NOMEM;
    }
    p->queue_max = queue_max;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->ready, NULL);
    for (i = 0; i < threads; i++) {
        int err = pthread_create(&p->threads[i], NULL, worker, p);
        if (err != 0) {
            cs_log(CS_LOG_ERROR, "cannot start request worker %u of %u: error %d", i + 1, threads,
                   err);
            stop_threads(p, i);
            destroy(p);
            return CS_ERR_NOMEM;
        }
    }
    p->n_threads = threads;
    *out = p;
    return CS_OK;
}

void cs_work_pool_stop(struct cs_work_pool *p)
{
    if (!p || p->n_threads == 0)
        return;
    stop_threads(p, p->n_threads);
    p->n_threads = 0;
}

void cs_work_pool_free(struct cs_work_pool *p)
{
    if (!p)
        return;
    cs_work_pool_stop(p);
    destroy(p);
}
