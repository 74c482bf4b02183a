/* GET touches for LRU order: each thread records its reads in a buffer of
 * its own, which the writer gathers, sorts by key and applies in its next
 * transaction. No lock is shared by the GET threads, and a touch that
 * does not fit is dropped and counted: LRU order is a hint, not data. */
#include "autoconfig.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "storage/index.h"
#include "storage/index_priv.h"

/* Per-thread touch buffer, and how many full ones may wait for the
 * writer before touches are dropped (LRU order is a hint, not data). */
#define TOUCH_BUF_BYTES (32 * 1024)
#define TOUCH_FULL_MAX 256
_Static_assert(TOUCH_COLLECT_FULL < TOUCH_FULL_MAX, "room for touches while a gather is applied");
/* A key read again within this time by the same thread is not touched
 * again: a hot object costs two index writes a second, not one per GET. */
#define TOUCH_DEDUP_MS 500
#define TOUCH_DEDUP_SLOTS 1024

/* Touches: each thread appends to its own buffer under its own mutex,
 * which only the writer also takes (when it gathers): no lock is
 * shared by the GET threads. Record: u8 ns_len, u16 key_len, i64 ms, ns, key. */
#define TOUCH_REC_FIXED (1 + 2 + 8)
struct cs_touch_buf {
    struct cs_touch_buf *next;
    size_t used;
    unsigned char data[TOUCH_BUF_BYTES];
};

struct cs_touch_slot {
    pthread_mutex_t lock;
    struct cs_touch_buf *buf;
    struct cs_touch_slot *next;
    uint64_t recent_tag[TOUCH_DEDUP_SLOTS]; /* owner thread only */
    int64_t recent_ms[TOUCH_DEDUP_SLOTS];
};

static __thread struct cs_touch_slot *tls_slot;
static __thread uint64_t tls_slot_owner;

/* --- touches ----------------------------------------------------------- */

static struct cs_touch_slot *touch_slot_for(struct cs_index *idx)
{
    struct cs_touch_slot *slot;

    if (tls_slot && tls_slot_owner == idx->id)
        return tls_slot;
    slot = calloc(1, sizeof *slot);
    if (!slot)
        return NULL;
    slot->buf = malloc(sizeof *slot->buf);
    if (!slot->buf) {
        free(slot);
        return NULL;
    }
    slot->buf->used = 0;
    slot->buf->next = NULL;
    pthread_mutex_init(&slot->lock, NULL);
    pthread_mutex_lock(&idx->touch_lock);
    slot->next = idx->slots;
    idx->slots = slot;
    pthread_mutex_unlock(&idx->touch_lock);
    tls_slot = slot;
    tls_slot_owner = idx->id;
    return slot;
}

/* The slot's buffer is full: hand it to the writer and start a new one.
 * Called with slot->lock held. */
static bool touch_swap(struct cs_index *idx, struct cs_touch_slot *slot)
{
    struct cs_touch_buf *fresh;
    bool handed = false, wake = false;

    pthread_mutex_lock(&idx->touch_lock);
    if (idx->n_full < TOUCH_FULL_MAX) {
        fresh = malloc(sizeof *fresh);
        if (fresh) {
            slot->buf->next = idx->full;
            idx->full = slot->buf;
            idx->n_full++;
            fresh->used = 0;
            fresh->next = NULL;
            slot->buf = fresh;
            handed = true;
            wake = idx->n_full == TOUCH_COLLECT_FULL;
        }
    }
    pthread_mutex_unlock(&idx->touch_lock);
    if (wake) { /* the writer gathers at TOUCH_COLLECT_FULL, not before */
        pthread_mutex_lock(&idx->lock);
        pthread_cond_signal(&idx->work);
        pthread_mutex_unlock(&idx->lock);
    }
    return handed;
}

void cs_index_touch(struct cs_index *idx, const char *ns, const char *key, size_t key_len,
                    const uint8_t digest[32])
{
    struct cs_touch_slot *slot = touch_slot_for(idx);
    size_t ns_len = strlen(ns), need = TOUCH_REC_FIXED + ns_len + key_len;
    int64_t now = cs_index_now_ms();
    uint64_t tag;
    size_t h;

    if (!slot || ns_len > 255 || key_len > 65535)
        return;
    if (need > TOUCH_BUF_BYTES) { /* no buffer holds it: the storage API caps no key */
        atomic_fetch_add_explicit(&idx->touches_dropped, 1, memory_order_relaxed);
        return;
    }
    memcpy(&tag, digest, sizeof tag);
    h = (size_t)(tag % TOUCH_DEDUP_SLOTS);
    if (slot->recent_tag[h] == tag && now - slot->recent_ms[h] < TOUCH_DEDUP_MS)
        return;
    slot->recent_tag[h] = tag;
    slot->recent_ms[h] = now;
    pthread_mutex_lock(&slot->lock);
    if (slot->buf->used + need > TOUCH_BUF_BYTES && !touch_swap(idx, slot)) {
        pthread_mutex_unlock(&slot->lock);
        atomic_fetch_add_explicit(&idx->touches_dropped, 1, memory_order_relaxed);
        return;
    }
    unsigned char *p = slot->buf->data + slot->buf->used;
    uint16_t kl = (uint16_t)key_len;
    p[0] = (unsigned char)ns_len;
    memcpy(p + 1, &kl, 2);
    memcpy(p + 3, &now, 8);
    memcpy(p + TOUCH_REC_FIXED, ns, ns_len);
    memcpy(p + TOUCH_REC_FIXED + ns_len, key, key_len);
    slot->buf->used += need;
    pthread_mutex_unlock(&slot->lock);
}

/* Takes every touch recorded so far: the full buffers and each thread's
 * current one (swapped for an empty buffer). The slots' locks are taken
 * after touch_lock is left: a GET thread whose buffer is full holds its
 * slot's lock and takes touch_lock (touch_swap), and the two orders
 * deadlocked every GET thread and the writer once the memory tier made
 * hits fast enough to fill buffers while the writer gathered. Slots are
 * only ever added at the head, so the list from the head read is fixed. */
static struct cs_touch_buf *touch_take(struct cs_index *idx)
{
    struct cs_touch_buf *list;
    struct cs_touch_slot *slot, *slots;

    pthread_mutex_lock(&idx->touch_lock);
    list = idx->full;
    idx->full = NULL;
    idx->n_full = 0;
    slots = idx->slots;
    pthread_mutex_unlock(&idx->touch_lock);
    for (slot = slots; slot; slot = slot->next) {
        struct cs_touch_buf *fresh = NULL;
        pthread_mutex_lock(&slot->lock);
        if (slot->buf->used > 0 && (fresh = malloc(sizeof *fresh)) != NULL) {
            fresh->used = 0;
            fresh->next = NULL;
            slot->buf->next = list;
            list = slot->buf;
            slot->buf = fresh;
        }
        pthread_mutex_unlock(&slot->lock);
    }
    return list;
}

/* A touch record's parts. */
static void touch_parse(const unsigned char *p, size_t *ns_len, uint16_t *key_len, int64_t *ms)
{
    *ns_len = p[0];
    memcpy(key_len, p + 1, 2);
    memcpy(ms, p + 3, 8);
}

/* Orders records by namespace and key, so the updates walk the table in
 * key order instead of jumping across it. */
static int touch_cmp(const void *a, const void *b)
{
    const unsigned char *p = *(const unsigned char *const *)a;
    const unsigned char *q = *(const unsigned char *const *)b;
    size_t pn, qn;
    uint16_t pk, qk;
    int64_t pm, qm;
    int c;

    touch_parse(p, &pn, &pk, &pm);
    touch_parse(q, &qn, &qk, &qm);
    c = memcmp(p + TOUCH_REC_FIXED, q + TOUCH_REC_FIXED, pn + pk < qn + qk ? pn + pk : qn + qk);
    if (c == 0)
        c = (pn + pk > qn + qk) - (pn + pk < qn + qk);
    return c;
}

/* A failure here fails the whole transaction: sqlite may have rolled it
 * back already (disk full), and later statements must not run outside it. */
static enum cs_status touch_update(struct cs_index *idx, const unsigned char *p)
{
    sqlite3_stmt *st = idx->st_touch;
    enum cs_status rc = CS_OK;
    size_t ns_len;
    uint16_t key_len;
    int64_t ms;

    touch_parse(p, &ns_len, &key_len, &ms);
    sqlite3_bind_text(st, 1, (const char *)p + TOUCH_REC_FIXED, (int)ns_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, p + TOUCH_REC_FIXED + ns_len, key_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ms);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = cs_index_sqlite_status(sqlite3_extended_errcode(idx->wdb));
        if (rc == CS_OK)
            rc = CS_ERR_INDEX;
    }
    sqlite3_reset(st);
    return rc;
}

/* A touch record's length, fixed part included. */
static size_t touch_rec_len(const unsigned char *p)
{
    size_t ns_len;
    uint16_t key_len;
    int64_t ms;

    touch_parse(p, &ns_len, &key_len, &ms);
    return TOUCH_REC_FIXED + ns_len + key_len;
}

/* Records in one buffer from offset off on. */
static size_t touch_count_from(const struct cs_touch_buf *b, size_t off)
{
    size_t n = 0;

    for (; off + TOUCH_REC_FIXED <= b->used; off += touch_rec_len(b->data + off))
        n++;
    return n;
}

static void touch_free(struct cs_touch_buf *list)
{
    while (list) {
        struct cs_touch_buf *next = list->next;
        free(list);
        list = next;
    }
}

/* Empties run, keeping nothing of it. */
static void touch_run_clear(struct cs_touch_run *run)
{
    touch_free(run->bufs);
    free(run->recs);
    *run = (struct cs_touch_run){0};
}

/* Appends one buffer's records to run; false when the sort array cannot
 * grow (the rest of the buffer is counted as dropped). */
static bool touch_run_add(struct cs_index *idx, struct cs_touch_run *run,
                          const struct cs_touch_buf *b)
{
    for (size_t off = 0; off + TOUCH_REC_FIXED <= b->used; off += touch_rec_len(b->data + off)) {
        if (run->n == run->cap) {
            size_t grown_cap = run->cap ? run->cap * 2 : 1024;
            const unsigned char **grown = realloc(run->recs, grown_cap * sizeof *grown);
            if (!grown) {
                atomic_fetch_add_explicit(&idx->touches_dropped, touch_count_from(b, off),
                                          memory_order_relaxed);
                return false;
            }
            run->recs = grown;
            run->cap = grown_cap;
        }
        run->recs[run->n++] = b->data + off;
    }
    return true;
}

void cs_index_touch_gather(struct cs_index *idx, struct cs_touch_run *run)
{
    struct cs_touch_buf *list = touch_take(idx), *b, *next;
    bool room = true;

    for (b = list; b; b = next) {
        next = b->next;
        if (room)
            room = touch_run_add(idx, run, b);
        else
            atomic_fetch_add_explicit(&idx->touches_dropped, touch_count_from(b, 0),
                                      memory_order_relaxed);
        b->next = run->bufs; /* the records point into it */
        run->bufs = b;
    }
    if (cs_index_touch_left(run) > 1)
        qsort(run->recs + run->next, cs_index_touch_left(run), sizeof *run->recs, touch_cmp);
    else if (cs_index_touch_left(run) == 0 && run->committed == run->n)
        touch_run_clear(run); /* nothing to apply (out of memory): hold no buffer */
}

enum cs_status cs_index_touch_apply(struct cs_index *idx, struct cs_touch_run *run, size_t max)
{
    enum cs_status rc = CS_OK;

    while (run->next < run->n && max-- > 0 && rc == CS_OK)
        rc = touch_update(idx, run->recs[run->next++]);
    return rc;
}

void cs_index_touch_committed(struct cs_touch_run *run)
{
    run->committed = run->next;
    if (run->next == run->n)
        touch_run_clear(run);
}

void cs_index_touch_drop(struct cs_index *idx, struct cs_touch_run *run)
{
    atomic_fetch_add_explicit(&idx->touches_dropped, run->n - run->committed, memory_order_relaxed);
    touch_run_clear(run);
}

void cs_index_touch_slots_free(struct cs_index *idx)
{
    while (idx->slots) {
        struct cs_touch_slot *next = idx->slots->next;
        free(idx->slots->buf);
        pthread_mutex_destroy(&idx->slots->lock);
        free(idx->slots);
        idx->slots = next;
    }
    while (idx->full) {
        struct cs_touch_buf *next = idx->full->next;
        free(idx->full);
        idx->full = next;
    }
}

uint64_t cs_index_touches_dropped(const struct cs_index *idx)
{
    return atomic_load_explicit(&idx->touches_dropped, memory_order_relaxed);
}

uint64_t cs_index_commits(const struct cs_index *idx)
{
    return atomic_load_explicit(&idx->commits, memory_order_relaxed);
}
