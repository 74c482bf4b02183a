/* Reconciling the index with the object files (on demand, and throttled
 * in a thread of its own after every start), and purging a namespace.
 *
 * Files are named by a hash of (namespace, key), so a file cannot say
 * which key it holds: a file without a row cannot be adopted, only
 * removed. Durable namespaces never produce one (their PUTs wait for the
 * row to commit); a non-durable PUT caught by a crash between its rename
 * and the index commit does, and so does anything copied in by hand. */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/disk.h"
#include "storage/disk_priv.h"
#include "storage/fsck.h"

#define FSCK_BATCH 512
/* Only things older than the run's start by this much are changed: a PUT
 * between its rename and its index commit is not an orphan. */
#define FSCK_SETTLE_MS 2000
#define FSCK_PAUSE_US 2000
/* Rows are remembered by the first 16 bytes of their object's name. */
#define TAG_LEN 16

struct tags {
    uint8_t (*v)[TAG_LEN];
    size_t n, cap;
};

struct row_pass {
    struct cs_disk *d;
    struct cs_fsck_report *r;
    struct tags tags;
    int64_t start_ms;
    bool oom;
};

static bool tags_add(struct tags *t, const uint8_t *digest)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        void *grown = realloc(t->v, cap * TAG_LEN);
        if (!grown)
            return false;
        t->v = grown;
        t->cap = cap;
    }
    memcpy(t->v[t->n++], digest, TAG_LEN);
    return true;
}

static int tag_cmp(const void *a, const void *b)
{
    return memcmp(a, b, TAG_LEN);
}

static bool has_tag(const struct tags *t, const uint8_t *digest)
{
    return t->n > 0 && bsearch(digest, t->v, t->n, TAG_LEN, tag_cmp) != NULL;
}

static int64_t ctime_ms(const struct stat *st)
{
    return (int64_t)st->st_ctim.tv_sec * 1000 + st->st_ctim.tv_nsec / 1000000;
}

static bool check_row(void *arg, const struct cs_index_row *row)
{
    struct row_pass *p = arg;
    struct cs_object_id id;
    char path[CS_DISK_REL_PATH_LEN];
    struct stat st;

    if (row->kind != CS_INDEX_OBJECT)
        return true;
    p->r->rows++;
    cs_object_id_init(&id, row->ns, row->key, row->key_len);
    if (!tags_add(&p->tags, id.digest)) {
        p->oom = true;
        return false;
    }
    cs_disk_rel_path(id.digest, path);
    if (fstatat(p->d->objects_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT && row->created_ms < p->start_ms - FSCK_SETTLE_MS) {
            if (cs_index_remove(p->d->index, CS_INDEX_BACKGROUND, row->ns, row->key, row->key_len,
                                row->created_ms, NULL) != CS_OK)
                return false; /* stopping */
            p->r->rows_dropped++;
        }
        return true;
    }
    uint64_t dsize = cs_disk_dsize(p->d, (uint64_t)st.st_size);
    if (dsize != row->dsize) {
        if (cs_index_set_dsize(p->d->index, row->ns, row->key, row->key_len, dsize) != CS_OK)
            return false;
        p->r->rows_resized++;
    }
    return true;
}

static bool lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool object_name(const char *dir, const char *name, uint8_t digest[CS_SHA256_LEN])
{
    size_t i;

    if (strlen(name) != CS_SHA256_HEX_LEN || memcmp(name, dir, CS_DISK_DIR_LEN) != 0)
        return false;
    for (i = 0; i < CS_SHA256_HEX_LEN; i++)
        if (!lower_hex(name[i]))
            return false;
    return cs_hex_decode(name, CS_SHA256_HEX_LEN, digest, CS_SHA256_LEN);
}

/* Removes dir/name if it settled before the run began; true if removed. */
static bool remove_old(int dir_fd, const char *name, int64_t start_ms, uint64_t *size)
{
    struct stat st;

    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode) ||
        ctime_ms(&st) >= start_ms - FSCK_SETTLE_MS)
        return false;
    *size = (uint64_t)st.st_size;
    return unlinkat(dir_fd, name, 0) == 0;
}

static void check_dir(struct row_pass *p, const char *dname, bool throttle)
{
    int fd = openat(p->d->objects_fd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    unsigned n = 0;

    if (!dir) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(dir)) != NULL) {
        uint8_t digest[CS_SHA256_LEN];
        uint64_t size = 0;
        if (e->d_name[0] == '.')
            continue;
        p->r->files++;
        if (!object_name(dname, e->d_name, digest)) {
            if (remove_old(dirfd(dir), e->d_name, p->start_ms, &size))
                p->r->strays++;
        } else if (!has_tag(&p->tags, digest) &&
                   remove_old(dirfd(dir), e->d_name, p->start_ms, &size)) {
            cs_disk_changed(p->d, digest); /* a GET served it until now */
            p->r->orphans++;
            p->r->orphan_bytes += cs_disk_dsize(p->d, size);
        }
        if (throttle && ++n % FSCK_BATCH == 0)
            usleep(FSCK_PAUSE_US);
    }
    closedir(dir);
}

static void check_files(struct row_pass *p, bool throttle)
{
    int fd = dup(p->d->objects_fd);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (!dir) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(dir);
    while ((e = readdir(dir)) != NULL &&
           !atomic_load_explicit(&p->d->stopping, memory_order_relaxed)) {
        uint64_t size;
        if (e->d_name[0] == '.')
            continue;
        if (strlen(e->d_name) == CS_DISK_DIR_LEN && lower_hex(e->d_name[0]) &&
            lower_hex(e->d_name[1]))
            check_dir(p, e->d_name, throttle);
        else if (remove_old(p->d->objects_fd, e->d_name, p->start_ms, &size))
            p->r->strays++;
    }
    closedir(dir);
}

enum cs_status cs_disk_fsck_run(struct cs_disk *d, bool throttle, struct cs_fsck_report *r)
{
    struct row_pass p = {.d = d, .r = r, .start_ms = cs_index_now_ms()};
    struct cs_index_scan_cursor cur;
    enum cs_status st = CS_OK;

    memset(r, 0, sizeof *r);
    memset(&cur, 0, sizeof cur);
    /* Files are judged against the rows: while commits fail, files whose
     * rows wait to be written would look like orphans, so no fsck then. */
    st = cs_index_sync(d->index);
    if (st != CS_OK)
        return st;
    while (!cur.done && !p.oom && !atomic_load_explicit(&d->stopping, memory_order_relaxed)) {
        st = cs_index_scan_all(d->index, &cur, FSCK_BATCH, check_row, &p);
        if (st != CS_OK)
            break;
        if (throttle)
            usleep(FSCK_PAUSE_US);
    }
    if (p.oom)
        st = CS_ERR_NOMEM;
    if (st == CS_OK && !atomic_load(&d->stopping)) {
        if (p.tags.n > 0) /* qsort and bsearch want a real array */
            qsort(p.tags.v, p.tags.n, TAG_LEN, tag_cmp);
        check_files(&p, throttle);
    }
    free(p.tags.v);
    if (st == CS_OK)
        st = cs_index_sync(d->index); /* its corrections are committed when it says done */
    return st;
}

/* --- the run after start ---------------------------------------------- */

struct cs_fsck_task {
    pthread_t thread;
};

/* The background fsck after start: catches what a crash left behind
 * without delaying the first request. It judges files against committed
 * rows, so it waits for an index that can commit (checked every 100 ms),
 * and starts again if it was refused before it began. */
static bool wait_for_commits(struct cs_disk *d)
{
    while (!atomic_load(&d->stopping) && cs_index_health(d->index) != CS_OK)
        usleep(100 * 1000);
    return !atomic_load(&d->stopping);
}

static void *fsck_main(void *arg)
{
    struct cs_disk *d = arg;
    struct cs_fsck_report r;
    int64_t start;
    enum cs_status st;

    do {
        if (!wait_for_commits(d))
            return NULL;
        start = cs_index_now_ms();
        st = cs_disk_fsck_run(d, true, &r);
        if (atomic_load(&d->stopping))
            return NULL;
    } while (st != CS_OK && r.rows == 0 && r.files == 0); /* refused before it began */
    if (st != CS_OK) {
        cs_log(CS_LOG_WARN,
               "fsck of %s stopped: %s; by then %llu rows and %llu files were checked and "
               "%llu unindexed objects removed (its index corrections wait for commits to "
               "work again)",
               d->root, cs_strerror(st), (unsigned long long)r.rows, (unsigned long long)r.files,
               (unsigned long long)r.orphans);
        return NULL;
    }
    cs_log(CS_LOG_INFO,
           "fsck of %s done in %.1f s: %llu rows and %llu files checked; dropped %llu rows "
           "without a file, corrected %llu sizes, removed %llu unindexed objects (%llu bytes) "
           "and %llu stray files",
           d->root, (double)(cs_index_now_ms() - start) / 1000.0, (unsigned long long)r.rows,
           (unsigned long long)r.files, (unsigned long long)r.rows_dropped,
           (unsigned long long)r.rows_resized, (unsigned long long)r.orphans,
           (unsigned long long)r.orphan_bytes, (unsigned long long)r.strays);
    return NULL;
}

enum cs_status cs_fsck_start(struct cs_disk *d, struct cs_fsck_task **out)
{
    struct cs_fsck_task *task = calloc(1, sizeof *task);

    if (!task)
        return CS_ERR_NOMEM;
    if (pthread_create(&task->thread, NULL, fsck_main, d) != 0) {
        free(task);
        return CS_ERR_NOMEM;
    }
    *out = task;
    return CS_OK;
}

void cs_fsck_stop(struct cs_fsck_task *task)
{
    if (!task)
        return;
    pthread_join(task->thread, NULL);
    free(task);
}

/* --- purge ------------------------------------------------------------- */

struct purge {
    struct cs_disk *d;
    const char *ns;
    struct cs_purge_report *r;
    enum cs_status st;
};

/* The row's removal is prepared first and submitted under the object's
 * lock, as a DELETE does, so a PUT of the same key meanwhile keeps its row
 * and file together. */
static bool purge_entry(void *arg, const struct cs_index_entry *e)
{
    struct purge *p = arg;
    struct cs_index_op *op;
    struct cs_object_id id;
    char path[CS_DISK_REL_PATH_LEN];
    pthread_mutex_t *lock;

    /* a client's request (or the offline command): its waits are bounded,
     * so a stalled index fails it rather than holding a thread for good */
    p->st =
        cs_index_prepare_remove(p->d->index, CS_INDEX_REQUEST, p->ns, e->name, e->name_len, 0, &op);
    if (p->st != CS_OK)
        return false;
    if (e->kind != CS_INDEX_OBJECT) {
        cs_index_submit(p->d->index, op);
        return true;
    }
    cs_object_id_init(&id, p->ns, e->name, e->name_len);
    cs_disk_rel_path(id.digest, path);
    lock = cs_disk_key_lock(p->d, id.digest);
    pthread_mutex_lock(lock);
    if (unlinkat(p->d->objects_fd, path, 0) == 0) {
        p->r->objects++;
        p->r->bytes += e->dsize;
    }
    cs_index_submit(p->d->index, op); /* gone either way: a row without a file goes too */
    cs_disk_key_unlock(p->d, lock, id.digest);
    return true;
}

enum cs_status cs_disk_purge_run(struct cs_disk *d, const char *ns, struct cs_purge_report *r)
{
    struct purge p = {.d = d, .ns = ns, .r = r};
    struct cs_index_cursor cur = {.started = false};
    enum cs_status st = CS_OK;

    memset(r, 0, sizeof *r);
    st = cs_index_sync(d->index); /* a purge is a write: refused while commits fail */
    while (!cur.done && st == CS_OK) {
        p.st = CS_OK;
        st = cs_index_walk(d->index, ns, "", 0, &cur, FSCK_BATCH, purge_entry, &p);
        if (st == CS_OK)
            st = p.st;
        /* the walk reads committed rows: the batch must be gone first */
        if (st == CS_OK)
            st = cs_index_sync(d->index);
    }
    return st;
}
