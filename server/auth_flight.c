/* Single-flight password hashes (see auth_flight.h). */
#include "autoconfig.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth_flight.h"

#define FLIGHTS 64 /* more than the workers that can hash at once */

struct flight {
    uint8_t key[CS_SHA256_LEN];
    bool busy;
};

struct cs_auth_flight {
    pthread_mutex_t lock;
    pthread_cond_t done; /* a hash finished */
    struct flight slots[FLIGHTS];
};

enum cs_status cs_auth_flight_new(struct cs_auth_flight **out)
{
    struct cs_auth_flight *f = calloc(1, sizeof *f);

    *out = f;
    if (!f)
        return CS_ERR_NOMEM;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->done, NULL);
    return CS_OK;
}

void cs_auth_flight_free(struct cs_auth_flight *f)
{
    if (!f)
        return;
    pthread_cond_destroy(&f->done);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static struct flight *find(struct cs_auth_flight *f, const uint8_t key[CS_SHA256_LEN])
{
    for (size_t i = 0; i < FLIGHTS; i++)
        if (f->slots[i].busy && memcmp(f->slots[i].key, key, CS_SHA256_LEN) == 0)
            return &f->slots[i];
    return NULL;
}

int cs_auth_flight_begin(struct cs_auth_flight *f, const uint8_t key[CS_SHA256_LEN])
{
    int place = CS_FLIGHT_UNTRACKED;

    pthread_mutex_lock(&f->lock);
    if (find(f, key)) {
        while (find(f, key))
            pthread_cond_wait(&f->done, &f->lock);
        place = CS_FLIGHT_WAITED;
    } else {
        for (int i = 0; i < FLIGHTS; i++) {
            if (!f->slots[i].busy) {
                memcpy(f->slots[i].key, key, CS_SHA256_LEN);
                f->slots[i].busy = true;
                place = i;
                break;
            }
        }
    }
    pthread_mutex_unlock(&f->lock);
    return place;
}

void cs_auth_flight_end(struct cs_auth_flight *f, int place)
{
    if (place < 0 || place >= FLIGHTS)
        return;
    pthread_mutex_lock(&f->lock);
    f->slots[place].busy = false;
    pthread_cond_broadcast(&f->done);
    pthread_mutex_unlock(&f->lock);
}
