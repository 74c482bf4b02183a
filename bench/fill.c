/* bench/fill: writes N objects straight through the disk backend (no
 * HTTP), so a data dir with a million-row index can be made in about a
 * minute for the index benchmark (bench/index-1m.sh).
 *
 *   bench/fill DATA_DIR NAMESPACE COUNT SIZE
 * Keys are "k/<i>" for i in 0..COUNT-1; bodies are SIZE bytes. */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/disk.h"
#include "storage/index.h"

struct job {
    struct cs_backend *b;
    const char *ns;
    unsigned long from, to;
    size_t size;
    int failed;
};

static void *fill(void *arg)
{
    struct job *j = arg;
    char *body = malloc(j->size ? j->size : 1);
    unsigned long i;

    if (!body) {
        j->failed = 1;
        return NULL;
    }
    for (i = j->from; i < j->to; i++) {
        char key[32];
        struct cs_object_id id;
        struct cs_put_options opt = {.size_hint = j->size};
        struct cs_upload *up;
        bool created;
        int n = snprintf(key, sizeof key, "k/%lu", i);
        memset(body, (int)(i & 0xff), j->size);
        memcpy(body, key, (size_t)n < j->size ? (size_t)n : j->size);
        cs_object_id_init(&id, j->ns, key, (size_t)n);
        if (j->b->ops->put_begin(j->b->state, &id, &opt, &up) != CS_OK ||
            j->b->ops->put_write(up, body, j->size, 0) != CS_OK ||
            j->b->ops->put_commit(up, &created) != CS_OK) {
            fprintf(stderr, "fill: cannot store %s\n", key);
            j->failed = 1;
            break;
        }
    }
    free(body);
    return NULL;
}

int main(int argc, char **argv)
{
    struct cs_backend b;
    char why[512];
    struct job jobs[2];
    pthread_t t[2];
    unsigned long count;
    int i, failed = 0;

    if (argc != 5) {
        fprintf(stderr, "usage: fill DATA_DIR NAMESPACE COUNT SIZE\n");
        return 1;
    }
    struct cs_disk_ns ns = {argv[2], 0};
    struct cs_disk_options opt = {.data_dir = argv[1], .ns = &ns, .n_ns = 1};
    if (cs_disk_open(&opt, &b, why, sizeof why) != CS_OK) {
        fprintf(stderr, "fill: %s\n", why);
        return 1;
    }
    count = strtoul(argv[3], NULL, 10);
    for (i = 0; i < 2; i++) {
        jobs[i] = (struct job){&b,
                               argv[2],
                               count * (unsigned long)i / 2,
                               count * (unsigned long)(i + 1) / 2,
                               strtoul(argv[4], NULL, 10),
                               0};
        pthread_create(&t[i], NULL, fill, &jobs[i]);
    }
    for (i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        failed |= jobs[i].failed;
    }
    b.ops->destroy(b.state);
    return failed;
}
