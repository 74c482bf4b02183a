/* The worker pool: bounded queue, every posted work runs, stop drains. */
#include "autoconfig.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "server/work.h"
#include "tests/unit/check_main.h"

struct item {
    struct cs_work work; /* first: the run function converts back */
    atomic_int *ran;
    pthread_mutex_t *gate; /* held by the test: the work waits on it */
};

static void run_item(struct cs_work *w)
{
    struct item *it = (struct item *)w;

    if (it->gate) {
        pthread_mutex_lock(it->gate);
        pthread_mutex_unlock(it->gate);
    }
    atomic_fetch_add(it->ran, 1);
}

static void wait_for(atomic_int *v, int want)
{
    for (int i = 0; i < 2000 && atomic_load(v) < want; i++)
        usleep(1000);
}

START_TEST(queue_is_bounded)
{
    struct cs_work_pool *p;
    pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
    atomic_int ran = 0;
    struct item items[3];
    struct cs_work_stats ws;

    ck_assert_int_eq(cs_work_pool_new(1, 1, &p), CS_OK);
    pthread_mutex_lock(&gate);
    for (int i = 0; i < 3; i++)
        items[i] = (struct item){.work.run = run_item, .ran = &ran, .gate = &gate};
    ck_assert(cs_work_reserve(p));
    cs_work_post(p, &items[0].work);
    /* the one worker holds the first; wait until it took it off the queue */
    for (int i = 0; i < 2000; i++) {
        cs_work_pool_stats(p, &ws);
        if (ws.running == 1)
            break;
        usleep(1000);
    }
    ck_assert_uint_eq(ws.running, 1);
    ck_assert(cs_work_reserve(p)); /* the one place in the queue */
    cs_work_post(p, &items[1].work);
    ck_assert(!cs_work_reserve(p)); /* full */
    cs_work_pool_stats(p, &ws);
    ck_assert_uint_eq(ws.queued, 1);
    ck_assert_uint_eq(ws.refused, 1);
    pthread_mutex_unlock(&gate);
    wait_for(&ran, 2);
    ck_assert_int_eq(atomic_load(&ran), 2);
    ck_assert(cs_work_reserve(p)); /* room again */
    cs_work_post(p, &items[2].work);
    wait_for(&ran, 3);
    cs_work_pool_free(p);
    ck_assert_int_eq(atomic_load(&ran), 3);
}
END_TEST

START_TEST(stop_runs_what_is_queued)
{
    struct cs_work_pool *p;
    pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
    atomic_int ran = 0;
    struct item items[8];

    ck_assert_int_eq(cs_work_pool_new(2, 8, &p), CS_OK);
    pthread_mutex_lock(&gate);
    for (int i = 0; i < 8; i++) {
        items[i] = (struct item){.work.run = run_item, .ran = &ran, .gate = &gate};
        ck_assert(cs_work_reserve(p));
        cs_work_post(p, &items[i].work);
    }
    pthread_mutex_unlock(&gate);
    cs_work_pool_stop(p); /* returns once all eight have run */
    ck_assert_int_eq(atomic_load(&ran), 8);
    ck_assert(!cs_work_reserve(p)); /* stopped: refused */
    cs_work_pool_free(p);
}
END_TEST

START_TEST(bad_sizes_refused)
{
    struct cs_work_pool *p;

    ck_assert_int_eq(cs_work_pool_new(0, 1, &p), CS_ERR_INVALID);
    ck_assert_int_eq(cs_work_pool_new(1, 0, &p), CS_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("work");
    TCase *tc = tcase_create("work");

    tcase_add_test(tc, queue_is_bounded);
    tcase_add_test(tc, stop_runs_what_is_queued);
    tcase_add_test(tc, bad_sizes_refused);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
