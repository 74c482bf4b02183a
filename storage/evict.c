/* LRU eviction for the disk backend. One thread; woken when a commit
 * passes a limit (or the file system fills up), and once a second anyway.
 * Each round evicts, per namespace over its max_size, the least recently
 * used objects down to the low-water mark; then the same over the whole
 * data dir, taking from whichever namespace holds the oldest object.
 *
 * An object being read is safe: the reader's fd keeps the unlinked file.
 * A key rewritten while it is evicted is safe too: the new file is left
 * alone (it is newer than the row), and the row is dropped only if it is
 * still the evicted version. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/disk_priv.h"
#include "storage/evict.h"

#define EVICT_BATCH 1024
/* Bytes of keys one batch copies (keys are at most 1 KiB; 256 KiB takes a
 * full batch of typical 64-byte build-cache keys, or fewer long ones). */
#define EVICT_KEYS (256 * 1024)
#define EVICT_PERIOD_MS 1000
/* How long a round waits for the recorded touches to reach the index: a
 * PUT waiting for room gives up after 2 s (disk_put.c), and a large touch
 * backlog can take longer than that to apply. */
#define EVICT_TOUCH_WAIT_MS 500

struct cs_evictor {
    struct cs_disk *disk;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool kicked;
    bool stop;
};

/* A victim as the index gave it, copied so the read can end before the
 * files are touched (a read left open pins the WAL, and a removal may
 * wait for room in the index queue). */
struct victim {
    size_t key_off, key_len;
    uint64_t dsize;
    int64_t created_ms;
};

struct batch {
    struct victim v[EVICT_BATCH];
    size_t n;
    char keys[EVICT_KEYS];
    size_t keys_used;
};

static bool collect_victim(void *arg, const struct cs_index_victim *iv)
{
    struct batch *b = arg;
    struct victim *v;

    if (b->n == EVICT_BATCH || iv->key_len > sizeof b->keys - b->keys_used)
        return false;
    v = &b->v[b->n++];
    v->key_off = b->keys_used;
    v->key_len = iv->key_len;
    memcpy(b->keys + b->keys_used, iv->key, iv->key_len);
    b->keys_used += iv->key_len;
    v->dsize = iv->dsize;
    v->created_ms = iv->created_ms;
    return true;
}

/* Evicts one victim: its file and its row, if the row is still the
 * latest version of the key. Every change of a key's file is made, and
 * its index write submitted, under the object's lock; so with the lock
 * held, no write of the key on its way (cs_index_pending) and the
 * committed row still the victim's version, the file on disk is the one
 * that row describes, and both can go. A key written since the victims
 * were read (PUT, COPY, MOVE, an identical rewrite too) is not touched:
 * the older rule ("a file written a second after the row is newer") let
 * eviction unlink a COPY, which keeps its source's mtime. The removal is
 * prepared before the lock (it may wait for room in the queue) and, while
 * commits fail, not made for rows whose files are already gone: those are
 * likely this eviction's own, still waiting. Returns the bytes freed. */
static uint64_t evict_one(struct cs_disk *d, const char *ns, const char *key,
                          const struct victim *v)
{
    struct cs_object_id id;
    char path[CS_DISK_REL_PATH_LEN];
    struct cs_index_op *op;
    pthread_mutex_t *lock;
    struct stat st;
    uint64_t freed = 0;
    int64_t created;
    bool drop = false;

    cs_object_id_init(&id, ns, key, v->key_len);
    cs_disk_rel_path(id.digest, path);
    if (cs_index_health(d->index) != CS_OK &&
        fstatat(d->objects_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    if (cs_index_prepare_remove(d->index, CS_INDEX_BACKGROUND, ns, key, v->key_len, v->created_ms,
                                &op) != CS_OK)
        return 0; /* shutting down */
    lock = cs_disk_key_lock(d, id.digest);
    pthread_mutex_lock(lock);
    if (!cs_index_pending(d->index, ns, key, v->key_len) &&
        cs_index_row_created(d->index, ns, key, v->key_len, &created) == CS_OK &&
        created == v->created_ms) {
        if (fstatat(d->objects_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            drop = errno == ENOENT; /* a row without a file: the row goes */
        } else if (unlinkat(d->objects_fd, path, 0) == 0) {
            drop = true;
            freed = cs_disk_dsize(d, (uint64_t)st.st_size);
        }
    }
    if (drop)
        cs_index_submit(d->index, op);
    cs_disk_key_unlock(d, lock, id.digest);
    if (!drop)
        cs_index_cancel(d->index, op);
    return freed;
}

/* Evicts from ns until need bytes are freed or it is empty. The walk goes
 * on in LRU order past victims it could not take (written meanwhile, or
 * whose removal still waits while commits fail), so a round is not stuck
 * on them. */
static uint64_t evict_from(struct cs_disk *d, struct cs_usage_ns *ns, uint64_t need,
                           uint64_t *objects)
{
    struct batch *b = malloc(sizeof *b);
    struct cs_index_lru_cursor cur = {.started = false};
    uint64_t freed = 0;

    if (!b)
        return 0;
    while (freed < need && !atomic_load_explicit(&d->stopping, memory_order_relaxed)) {
        size_t i;
        b->n = 0;
        b->keys_used = 0;
        if (cs_index_oldest(d->index, ns->name, &cur, EVICT_BATCH, collect_victim, b) != CS_OK ||
            b->n == 0)
            break;
        for (i = 0; i < b->n && freed < need; i++) {
            if (atomic_load_explicit(&d->stopping, memory_order_relaxed))
                break;
            uint64_t got = evict_one(d, ns->name, b->keys + b->v[i].key_off, &b->v[i]);
            if (got) {
                freed += got;
                (*objects)++;
                atomic_fetch_add_explicit(&ns->evictions, 1, memory_order_relaxed);
                atomic_fetch_add_explicit(&ns->evicted_bytes, got, memory_order_relaxed);
            }
        }
    }
    /* the rows must be gone before a later query sees them again; while
     * commits fail they are not, and the next round retries */
    if (cs_index_sync(d->index) != CS_OK)
        cs_log(CS_LOG_DEBUG, "eviction of %s: its removals wait for the index", ns->name);
    free(b);
    return freed;
}

static bool oldest_atime(void *arg, const struct cs_index_victim *v)
{
    *(int64_t *)arg = v->atime_ms;
    return false;
}

/* Over the data dir's limit: evict a batch at a time from the namespace
 * whose least recently used object is the oldest. */
static void evict_global(struct cs_disk *d, uint64_t need, uint64_t *objects)
{
    uint64_t freed = 0;

    while (freed < need && !atomic_load_explicit(&d->stopping, memory_order_relaxed)) {
        struct cs_usage_ns *pick = NULL;
        int64_t best = INT64_MAX;
        size_t i;
        for (i = 0; i < d->usage.n; i++) {
            int64_t atime = INT64_MAX;
            if (cs_index_oldest(d->index, d->usage.ns[i].name, NULL, 1, oldest_atime, &atime) ==
                    CS_OK &&
                atime < best) {
                best = atime;
                pick = &d->usage.ns[i];
            }
        }
        if (!pick)
            break;
        uint64_t chunk = need - freed, got;
        uint64_t before = *objects;
        /* one batch's worth at a time, then look again across namespaces */
        got = evict_from(d, pick, chunk < 1024 * d->block ? chunk : 1024 * d->block, objects);
        freed += got;
        if (*objects == before)
            break;
    }
}

/* Touches recorded so far go into the index before victims are chosen;
 * true either way (a failing or busy index gives its last committed
 * order). */
static bool sync_touches(struct cs_disk *d)
{
    enum cs_status st = cs_index_sync_touches(d->index, EVICT_TOUCH_WAIT_MS);

    if (st != CS_OK)
        cs_log(CS_LOG_DEBUG, "eviction picks by the last committed access times: %s",
               cs_strerror(st));
    return true;
}

uint64_t cs_evict_round(struct cs_disk *d)
{
    struct cs_usage *u = &d->usage;
    uint64_t objects = 0, total, need;
    size_t i;
    bool synced = false;

    /* LRU order as of now (when the index cannot commit, as last committed) */
    for (i = 0; i < u->n; i++) {
        struct cs_usage_ns *ns = &u->ns[i];
        need =
            cs_usage_to_evict(cs_usage_ns_used(ns), ns->max_size, atomic_exchange(&ns->wanted, 0));
        if (!need)
            continue;
        if (!synced)
            synced = sync_touches(d);
        evict_from(d, ns, need, &objects);
    }
    total = cs_usage_total(u);
    need = cs_usage_to_evict(total, u->max_size, atomic_exchange(&u->wanted, 0));
    if (need) {
        if (!synced)
            synced = sync_touches(d);
        evict_global(d, need, &objects);
    }
    if (atomic_load(&u->disk_full)) {
        /* no limit was passed but the file system is full: free 5% */
        if (!synced)
            synced = sync_touches(d);
        total = cs_usage_total(u);
        evict_global(d, total / 20 > d->block ? total / 20 : d->block, &objects);
        atomic_store(&u->disk_full, false);
    }
    if (objects)
        cs_log(CS_LOG_INFO, "evicted %llu least recently used object(s) from %s",
               (unsigned long long)objects, d->root);
    return objects;
}

static void *evictor_main(void *arg)
{
    struct cs_evictor *ev = arg;

    pthread_mutex_lock(&ev->lock);
    while (!ev->stop) {
        if (!ev->kicked) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += EVICT_PERIOD_MS / 1000;
            pthread_cond_timedwait(&ev->wake, &ev->lock, &until);
        }
        ev->kicked = false;
        if (ev->stop)
            break;
        pthread_mutex_unlock(&ev->lock);
        if (cs_usage_needs_eviction(&ev->disk->usage))
            cs_evict_round(ev->disk);
        pthread_mutex_lock(&ev->lock);
    }
    pthread_mutex_unlock(&ev->lock);
    return NULL;
}

enum cs_status cs_evictor_start(struct cs_disk *d, struct cs_evictor **out)
{
    struct cs_evictor *ev = calloc(1, sizeof *ev);

    if (!ev)
        return CS_ERR_NOMEM;
    ev->disk = d;
    pthread_mutex_init(&ev->lock, NULL);
    pthread_cond_init(&ev->wake, NULL);
    if (pthread_create(&ev->thread, NULL, evictor_main, ev) != 0) {
        pthread_mutex_destroy(&ev->lock);
        pthread_cond_destroy(&ev->wake);
        free(ev);
        return CS_ERR_NOMEM;
    }
    *out = ev;
    return CS_OK;
}

void cs_evictor_kick(struct cs_evictor *ev)
{
    pthread_mutex_lock(&ev->lock);
    if (!ev->kicked) {
        ev->kicked = true;
        pthread_cond_signal(&ev->wake);
    }
    pthread_mutex_unlock(&ev->lock);
}

void cs_evictor_stop(struct cs_evictor *ev)
{
    if (!ev)
        return;
    pthread_mutex_lock(&ev->lock);
    ev->stop = true;
    pthread_cond_signal(&ev->wake);
    pthread_mutex_unlock(&ev->lock);
    pthread_join(ev->thread, NULL);
    pthread_mutex_destroy(&ev->lock);
    pthread_cond_destroy(&ev->wake);
    free(ev);
}
