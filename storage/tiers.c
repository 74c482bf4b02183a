/* Storage tiers: see tiers.h. This file is the tier layer, a backend
 * composing the disk and the remote tiers of each namespace; each remote
 * tier's breaker, write-through and background queue are in tier.c
 * (tiers_priv.h). */
#include "autoconfig.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "storage/disk.h"
#include "storage/tiers.h"
#include "storage/tiers_priv.h"

struct ns_tiers {
    char *name;
    struct cs_tier *t;
    size_t n;
    int compress_level;
    uint64_t max_blob_size;
};

/* A fetch from the remote tiers in progress: other misses of the same
 * object wait for it instead of fetching the object again. */
struct inflight {
    uint8_t digest[CS_SHA256_LEN];
    pthread_cond_t done;
    bool finished;
    unsigned waiters;
    struct inflight *next;
};

struct cs_tiers {
    struct cs_backend disk;
    struct ns_tiers *ns;
    size_t n_ns;
    pthread_mutex_t inflight_lock; /* taken on disk misses only */
    struct inflight *inflight;
};

/* A PUT through the tiers: the disk's upload, and what write-through needs. */
struct tier_upload {
    struct cs_upload base;
    const struct ns_tiers *nt;
    struct cs_upload *inner;
    char *key;
    size_t key_len;
};

static const struct cs_backend_ops tiers_ops;

/* --- lookup ---------------------------------------------------------------- */

static const struct ns_tiers *find_ns(const struct cs_tiers *T, const char *ns)
{
    size_t i;

    for (i = 0; i < T->n_ns; i++)
        if (strcmp(T->ns[i].name, ns) == 0)
            return &T->ns[i];
    return NULL;
}

/* --- backend operations ---------------------------------------------------- */

/* A GET's body from a remote tier, on its way into the disk. */
struct fill {
    struct cs_tiers *T;
    const struct ns_tiers *nt;
    const struct cs_object_id *id;
    struct cs_upload *up;
    uint8_t sha256[CS_SHA256_LEN];
};

static enum cs_status fill_begin(void *ctx, const struct cs_remote_meta *m)
{
    struct fill *f = ctx;
    struct cs_put_options opt = {
        .durable = false, /* the remote tier still has it */
        .size_hint = m->size == CS_REMOTE_SIZE_UNKNOWN ? 0 : m->size,
        .content_type = m->content_type[0] ? m->content_type : NULL,
        .compress_level = f->nt->compress_level,
        .meta = m->blob_len ? m->blob : NULL,
        .meta_len = m->blob_len,
    };

    if (f->nt->max_blob_size && opt.size_hint > f->nt->max_blob_size)
        return CS_ERR_TOO_LARGE;
    if (m->has_sha256) {
        memcpy(f->sha256, m->sha256, CS_SHA256_LEN);
        opt.expect_sha256 = f->sha256; /* a damaged copy is not filled */
    }
    return f->T->disk.ops->put_begin(f->T->disk.state, f->id, &opt, &f->up);
}

static enum cs_status fill_write(void *ctx, const void *data, size_t len)
{
    struct fill *f = ctx;
    return f->T->disk.ops->put_write(f->up, data, len, 0);
}

/* Reads id from tier t into the disk. */
static enum cs_status fill_from(struct cs_tiers *T, const struct ns_tiers *nt, struct cs_tier *t,
                                const struct cs_object_id *id)
{
    struct fill f = {.T = T, .nt = nt, .id = id};
    struct cs_remote_sink sink = {fill_begin, fill_write, &f};
    enum cs_status st = t->remote.ops->get(t->remote.state, id, &sink);
    bool created;

    if (st == CS_OK && f.up) {
        st = T->disk.ops->put_commit(f.up, &created);
        f.up = NULL;
    }
    if (f.up)
        T->disk.ops->put_abort(f.up);
    if (st == CS_ERR_DIGEST) {
        char hex[CS_SHA256_HEX_LEN + 1];
        cs_remote_digest_hex(id, hex);
        cs_log(CS_LOG_ERROR,
               "ns=%s tier %u (%s): object %s does not match its recorded "
               "sha256: not served",
               id->ns, t->index, t->remote.ops->type, hex);
    }
    return st;
}

/* An old object's age in a tier with lifecycle expiry is reset (copy in
 * place) when it is hit on the disk; the disk file's mtime marks when. */
static void maybe_refresh(struct cs_tiers *T, const struct ns_tiers *nt,
                          const struct cs_object_id *id, time_t mtime)
{
    time_t now = time(NULL);
    size_t i;
    bool queued = false;

    for (i = 0; i < nt->n; i++) {
        struct cs_tier *t = &nt->t[i];
        if (t->refresh_age_s && t->remote.ops->refresh && now - mtime > t->refresh_age_s)
            queued |= cs_tier_enqueue(t, CS_TIER_REFRESH, id);
    }
    if (queued)
        cs_disk_touch(&T->disk, id);
}

/* Walks the remote tiers for id; on a hit the object is on the disk after. */
static enum cs_status fetch_remote(struct cs_tiers *T, const struct ns_tiers *nt,
                                   const struct cs_object_id *id)
{
    size_t i, j;
    enum cs_status st;

    for (i = 0; i < nt->n; i++) {
        struct cs_tier *t = &nt->t[i];
        if (!cs_tier_allow(t))
            continue;
        st = fill_from(T, nt, t, id);
        cs_tier_record(t, st);
        if (st == CS_OK) {
            atomic_fetch_add(&t->hits, 1);
            for (j = 0; j < i; j++)
                cs_tier_enqueue(&nt->t[j], CS_TIER_FILL, id);
            return CS_OK;
        }
        if (st == CS_ERR_NOT_FOUND)
            atomic_fetch_add(&t->misses, 1);
        else
            atomic_fetch_add(&t->errors, 1);
    }
    return CS_ERR_NOT_FOUND; /* a failing tier is a miss, never an error */
}

/* fetch_remote, once per object at a time: a miss of an object that
 * another request is fetching waits for that fetch (its result is then on
 * the disk, or nowhere). */
static void fetch_once(struct cs_tiers *T, const struct ns_tiers *nt, const struct cs_object_id *id)
{
    struct inflight *f, **pp;

    pthread_mutex_lock(&T->inflight_lock);
    for (f = T->inflight; f; f = f->next) {
        if (memcmp(f->digest, id->digest, CS_SHA256_LEN) == 0) {
            f->waiters++;
            while (!f->finished)
                pthread_cond_wait(&f->done, &T->inflight_lock);
            if (--f->waiters == 0) {
                pthread_cond_destroy(&f->done);
                free(f);
            }
            pthread_mutex_unlock(&T->inflight_lock);
            return;
        }
    }
    f = calloc(1, sizeof *f);
    if (f) {
        memcpy(f->digest, id->digest, CS_SHA256_LEN);
        pthread_cond_init(&f->done, NULL);
        f->next = T->inflight;
        T->inflight = f;
    }
    pthread_mutex_unlock(&T->inflight_lock);
    fetch_remote(T, nt, id);
    if (!f)
        return;
    pthread_mutex_lock(&T->inflight_lock);
    for (pp = &T->inflight; *pp != f; pp = &(*pp)->next)
        ;
    *pp = f->next;
    f->finished = true;
    if (f->waiters) {
        pthread_cond_broadcast(&f->done); /* the last waiter frees it */
    } else {
        pthread_cond_destroy(&f->done);
        free(f);
    }
    pthread_mutex_unlock(&T->inflight_lock);
}

/* Whether a miss would ask any tier: with every breaker open, it is a
 * miss at once, on the calling thread (no worker needed). */
static bool any_tier_open(const struct ns_tiers *nt)
{
    size_t i;

    for (i = 0; i < nt->n; i++)
        if (cs_tier_may_allow(&nt->t[i]))
            return true;
    for (i = 0; i < nt->n; i++) /* each skipped, as a call would count it */
        atomic_fetch_add(&nt->t[i].skipped, 1);
    return false;
}

static enum cs_status tiers_open(void *state, const struct cs_object_id *id, size_t read_max,
                                 unsigned flags, struct cs_object *out)
{
    struct cs_tiers *T = state;
    enum cs_status st = T->disk.ops->open(T->disk.state, id, read_max, flags, out);
    const struct ns_tiers *nt;

    if (st != CS_OK && st != CS_ERR_NOT_FOUND)
        return st;
    nt = find_ns(T, id->ns);
    if (!nt || nt->n == 0)
        return st;
    if (st == CS_OK) {
        if (!(flags & CS_NOTOUCH)) /* a listing's read is not a hit */
            maybe_refresh(T, nt, id, out->mtime);
        return st;
    }
    if (flags & CS_NOWAIT)
        return any_tier_open(nt) ? CS_ERR_WOULD_BLOCK : st;
    fetch_once(T, nt, id);
    return T->disk.ops->open(T->disk.state, id, read_max, flags, out);
}

static enum cs_status tiers_exists(void *state, const struct cs_object_id *id, unsigned flags)
{
    struct cs_tiers *T = state;
    enum cs_status st = T->disk.ops->exists(T->disk.state, id, flags);
    const struct ns_tiers *nt;
    size_t i;

    if (st != CS_ERR_NOT_FOUND || !(nt = find_ns(T, id->ns)) || nt->n == 0)
        return st;
    if (flags & CS_NOWAIT)
        return any_tier_open(nt) ? CS_ERR_WOULD_BLOCK : st;
    for (i = 0; i < nt->n; i++) {
        struct cs_tier *t = &nt->t[i];
        struct cs_remote_meta m;
        if (!cs_tier_allow(t))
            continue;
        st = t->remote.ops->head(t->remote.state, id, &m);
        cs_tier_record(t, st);
        if (st == CS_OK)
            return CS_OK;
    }
    return CS_ERR_NOT_FOUND;
}

static enum cs_status tiers_put_begin(void *state, const struct cs_object_id *id,
                                      const struct cs_put_options *opt, struct cs_upload **out)
{
    struct cs_tiers *T = state;
    const struct ns_tiers *nt = find_ns(T, id->ns);
    struct tier_upload *up;
    enum cs_status st;

    if (!nt || nt->n == 0) /* the disk's own upload: its ops field routes the calls */
        return T->disk.ops->put_begin(T->disk.state, id, opt, out);
    up = calloc(1, sizeof *up);
    if (!up || !(up->key = malloc(id->key_len ? id->key_len : 1))) {
        free(up);
        return CS_ERR_NOMEM;
    }
    memcpy(up->key, id->key, id->key_len);
    up->key_len = id->key_len;
    up->base.ops = &tiers_ops;
    up->nt = nt;
    st = T->disk.ops->put_begin(T->disk.state, id, opt, &up->inner);
    if (st != CS_OK) {
        free(up->key);
        free(up);
        return st;
    }
    *out = &up->base;
    return CS_OK;
}

static enum cs_status tiers_put_write(struct cs_upload *base, const void *data, size_t len,
                                      unsigned flags)
{
    if (base->ops != &tiers_ops)
        return base->ops->put_write(base, data, len, flags);
    return ((struct tier_upload *)base)
        ->inner->ops->put_write(((struct tier_upload *)base)->inner, data, len, flags);
}

static enum cs_status tiers_put_flush(struct cs_upload *base)
{
    if (base->ops != &tiers_ops)
        return base->ops->put_flush(base);
    return ((struct tier_upload *)base)->inner->ops->put_flush(((struct tier_upload *)base)->inner);
}

/* The metadata is the disk upload's: remote tiers keep only body and
 * content type, so an object filled back from one has none. */
static enum cs_status tiers_put_meta(struct cs_upload *base, const void *meta, size_t len)
{
    if (base->ops != &tiers_ops)
        return base->ops->put_meta(base, meta, len);
    return ((struct tier_upload *)base)
        ->inner->ops->put_meta(((struct tier_upload *)base)->inner, meta, len);
}

/* Writes through to each remote tier: now, or through its queue. */
static void propagate(const struct ns_tiers *nt, const struct cs_object_id *id)
{
    size_t i;

    for (i = 0; i < nt->n; i++) {
        struct cs_tier *t = &nt->t[i];
        if (t->write_async)
            cs_tier_enqueue(t, CS_TIER_WRITE, id);
        else
            cs_tier_write_through(t, id, false);
    }
}

static enum cs_status tiers_put_commit(struct cs_upload *base, bool *created)
{
    struct tier_upload *up = (struct tier_upload *)base;
    struct cs_object_id id;
    enum cs_status st;

    if (base->ops != &tiers_ops)
        return base->ops->put_commit(base, created);
    st = up->inner->ops->put_commit(up->inner, created);
    if (st == CS_OK) {
        cs_object_id_init(&id, up->nt->name, up->key, up->key_len);
        propagate(up->nt, &id);
    }
    free(up->key);
    free(up);
    return st;
}

static void tiers_put_abort(struct cs_upload *base)
{
    struct tier_upload *up = (struct tier_upload *)base;

    if (base->ops != &tiers_ops) {
        base->ops->put_abort(base);
        return;
    }
    up->inner->ops->put_abort(up->inner);
    free(up->key);
    free(up);
}

/* Removes id from every remote tier of its namespace. */
static void remove_remote(const struct ns_tiers *nt, const struct cs_object_id *id)
{
    size_t i;

    for (i = 0; nt && i < nt->n; i++) {
        struct cs_tier *t = &nt->t[i];
        if (cs_tier_allow(t))
            cs_tier_record(t, t->remote.ops->remove(t->remote.state, id));
    }
}

static enum cs_status tiers_remove(void *state, const struct cs_object_id *id, bool durable)
{
    struct cs_tiers *T = state;
    enum cs_status st = T->disk.ops->remove(T->disk.state, id, durable);

    if (st == CS_OK || st == CS_ERR_NOT_FOUND)
        remove_remote(find_ns(T, id->ns), id);
    return st;
}

static enum cs_status tiers_copy(void *state, const struct cs_object_id *from,
                                 const struct cs_object_id *to, bool overwrite, bool durable,
                                 bool *created)
{
    struct cs_tiers *T = state;
    enum cs_status st = T->disk.ops->copy(T->disk.state, from, to, overwrite, durable, created);
    const struct ns_tiers *nt = find_ns(T, to->ns);

    if (st == CS_OK && nt)
        propagate(nt, to);
    return st;
}

static enum cs_status tiers_move(void *state, const struct cs_object_id *from,
                                 const struct cs_object_id *to, bool overwrite, bool durable,
                                 bool *created)
{
    struct cs_tiers *T = state;
    enum cs_status st = T->disk.ops->move(T->disk.state, from, to, overwrite, durable, created);
    const struct ns_tiers *nt = find_ns(T, to->ns);

    if (st == CS_OK) {
        remove_remote(find_ns(T, from->ns), from);
        if (nt)
            propagate(nt, to);
    }
    return st;
}

static void tiers_destroy(void *state)
{
    struct cs_tiers *T = state;
    size_t i, j;

    if (!T)
        return;
    for (i = 0; i < T->n_ns; i++) {
        for (j = 0; j < T->ns[i].n; j++)
            cs_tier_close(&T->ns[i].t[j]);
        free(T->ns[i].t);
        free(T->ns[i].name);
    }
    free(T->ns);
    if (T->disk.ops)
        T->disk.ops->destroy(T->disk.state);
    pthread_mutex_destroy(&T->inflight_lock);
    free(T);
}

static const struct cs_backend *tiers_lower(void *state)
{
    return &((struct cs_tiers *)state)->disk;
}

static const struct cs_backend_ops tiers_ops = {
    .name = "tiers",
    .open = tiers_open,
    .exists = tiers_exists,
    .put_begin = tiers_put_begin,
    .put_write = tiers_put_write,
    .put_flush = tiers_put_flush,
    .put_meta = tiers_put_meta,
    .put_commit = tiers_put_commit,
    .put_abort = tiers_put_abort,
    .remove = tiers_remove,
    .copy = tiers_copy,
    .move = tiers_move,
    .destroy = tiers_destroy,
    .lower = tiers_lower,
};

/* --- set-up ---------------------------------------------------------------- */

enum cs_status cs_tiers_open(struct cs_backend *disk, const struct cs_tiers_ns *ns, size_t n_ns,
                             struct cs_backend *out, char *why, size_t why_len)
{
    struct cs_tiers *T = calloc(1, sizeof *T);
    enum cs_status st = CS_OK;
    size_t i, j;

    if (!T) {
        disk->ops->destroy(disk->state);
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    T->disk = *disk;
    pthread_mutex_init(&T->inflight_lock, NULL);
    T->ns = calloc(n_ns ? n_ns : 1, sizeof *T->ns);
    if (!T->ns) {
        tiers_destroy(T);
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    T->n_ns = n_ns;
    for (i = 0; i < n_ns && st == CS_OK; i++) {
        struct ns_tiers *nt = &T->ns[i];
        nt->name = strdup(ns[i].name);
        nt->compress_level = ns[i].compress_level;
        nt->max_blob_size = ns[i].max_blob_size;
        nt->t = calloc(ns[i].n_tiers ? ns[i].n_tiers : 1, sizeof *nt->t);
        if (!nt->name || !nt->t) {
            snprintf(why, why_len, "out of memory");
            st = CS_ERR_NOMEM;
            break;
        }
        for (j = 0; j < ns[i].n_tiers && st == CS_OK; j++) {
            nt->n = j + 1; /* tier_close cleans up a half-made one too */
            st = cs_tier_init(&nt->t[j], &T->disk, nt->name, (unsigned)j + 1, &ns[i].tiers[j], why,
                              why_len);
        }
    }
    if (st != CS_OK) {
        tiers_destroy(T);
        return st;
    }
    out->ops = &tiers_ops;
    out->state = T;
    return CS_OK;
}

size_t cs_tiers_stats(const struct cs_backend *b, struct cs_tier_stats *out, size_t max)
{
    const struct cs_tiers *T;
    size_t i, j, n = 0;

    if (b->ops != &tiers_ops)
        return 0;
    T = b->state;
    for (i = 0; i < T->n_ns; i++) {
        for (j = 0; j < T->ns[i].n; j++, n++) {
            struct cs_tier *t = &T->ns[i].t[j];
            if (n >= max)
                continue;
            struct cs_tier_stats *s = &out[n];
            s->ns = t->ns;
            s->type = t->remote.ops->type;
            s->index = t->index;
            s->out_of_path = atomic_load(&t->br.open);
            s->hits = atomic_load(&t->hits);
            s->misses = atomic_load(&t->misses);
            s->errors = atomic_load(&t->errors);
            s->skipped = atomic_load(&t->skipped);
            s->fills = atomic_load(&t->fills);
            s->writes = atomic_load(&t->writes);
            s->write_errors = atomic_load(&t->write_errors);
            s->dropped = atomic_load(&t->dropped);
            s->too_large = atomic_load(&t->too_large);
            s->refreshes = atomic_load(&t->refreshes);
            s->breaker_opened = atomic_load(&t->breaker_opened);
            pthread_mutex_lock(&t->qlock);
            s->queued = t->count + (t->busy ? 1 : 0);
            pthread_mutex_unlock(&t->qlock);
        }
    }
    return n;
}
