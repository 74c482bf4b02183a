/* sqlite3 index with a single writer thread and a small pool of read
 * connections. Keys are stored as BLOBs so that ordering is plain byte
 * order (memcmp), which the prefix and skip-scan queries rely on. */
#include "autoconfig.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "storage/index.h"

#define READERS_MAX 8
#define SCHEMA_VERSION "1"

enum op_type { OP_PUT, OP_REMOVE };

/* One queued write; ns and key live in data[]. */
struct op {
    struct op *next;
    enum op_type type;
    enum cs_index_kind kind;
    uint64_t size;
    time_t mtime;
    bool has_etag;
    uint8_t etag[32];
    size_t ns_len, key_len;
    char data[];
};

struct cs_index {
    char *path;
    sqlite3 *wdb;                 /* owned by the writer thread after open */
    sqlite3_stmt *st_put, *st_remove;
    pthread_t writer;
    bool writer_started;

    pthread_mutex_t lock;         /* guards the queue, the counters and stop */
    pthread_cond_t work;          /* writer: something to do */
    pthread_cond_t committed;     /* syncers: committed_seq moved */
    struct op *head, *tail;
    uint64_t queued_seq, committed_seq;
    bool stop;

    pthread_mutex_t pool_lock;    /* guards readers[] */
    sqlite3 *readers[READERS_MAX];
    size_t n_readers;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entries("
    "  ns TEXT NOT NULL, key BLOB NOT NULL, kind INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, mtime INTEGER NOT NULL, atime INTEGER NOT NULL, etag BLOB,"
    "  PRIMARY KEY (ns, key)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(k, v) VALUES ('schema', '" SCHEMA_VERSION "');";

static enum cs_status db_open(const char *path, int flags, sqlite3 **out, char *why,
                              size_t why_len)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        snprintf(why, why_len, "cannot open index %s: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return CS_ERR_IO;
    }
    /* Readers wait a little for a checkpoint rather than fail. */
    sqlite3_busy_timeout(db, 5000);
    *out = db;
    return CS_OK;
}

static enum cs_status exec(sqlite3 *db, const char *sql, char *why, size_t why_len)
{
    char *err = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        snprintf(why, why_len, "index: %s", err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return CS_ERR_IO;
    }
    return CS_OK;
}

static void apply(struct cs_index *idx, const struct op *op)
{
    const char *ns = op->data, *key = op->data + op->ns_len;
    sqlite3_stmt *st = op->type == OP_PUT ? idx->st_put : idx->st_remove;

    sqlite3_bind_text(st, 1, ns, (int)op->ns_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key, (int)op->key_len, SQLITE_STATIC);
    if (op->type == OP_PUT) {
        sqlite3_bind_int(st, 3, (int)op->kind);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)op->size);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)op->mtime);
        if (op->has_etag)
            sqlite3_bind_blob(st, 6, op->etag, sizeof op->etag, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 6);
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        cs_log(CS_LOG_ERROR, "index: cannot record %s of a key in '%.*s': %s",
               op->type == OP_PUT ? "a store" : "a removal", (int)op->ns_len, ns,
               sqlite3_errmsg(idx->wdb));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Group commit: everything queued while the last transaction ran goes
 * into the next one. Under load batches grow by themselves; when idle a
 * single write commits at once (no fsync in WAL with synchronous=NORMAL). */
static void *writer_main(void *arg)
{
    struct cs_index *idx = arg;

    pthread_mutex_lock(&idx->lock);
    for (;;) {
        while (!idx->head && !idx->stop)
            pthread_cond_wait(&idx->work, &idx->lock);
        if (!idx->head && idx->stop)
            break;
        struct op *batch = idx->head;
        uint64_t seq = idx->queued_seq;
        idx->head = idx->tail = NULL;
        pthread_mutex_unlock(&idx->lock);

        char why[256];
        if (exec(idx->wdb, "BEGIN", why, sizeof why) != CS_OK)
            cs_log(CS_LOG_ERROR, "%s", why);
        while (batch) {
            struct op *next = batch->next;
            apply(idx, batch);
            free(batch);
            batch = next;
        }
        if (exec(idx->wdb, "COMMIT", why, sizeof why) != CS_OK)
            cs_log(CS_LOG_ERROR, "%s", why);

        pthread_mutex_lock(&idx->lock);
        idx->committed_seq = seq;
        pthread_cond_broadcast(&idx->committed);
    }
    pthread_mutex_unlock(&idx->lock);
    return NULL;
}

static void enqueue(struct cs_index *idx, enum op_type type, const char *ns, const char *key,
                    size_t key_len, enum cs_index_kind kind, uint64_t size, time_t mtime,
                    const uint8_t *etag)
{
    size_t ns_len = strlen(ns);
    struct op *op = malloc(sizeof *op + ns_len + key_len);

    if (!op) {
        cs_log(CS_LOG_ERROR, "index: out of memory: a change in '%s' is not recorded", ns);
        return;
    }
    op->next = NULL;
    op->type = type;
    op->kind = kind;
    op->size = size;
    op->mtime = mtime;
    op->has_etag = etag != NULL;
    if (etag)
        memcpy(op->etag, etag, sizeof op->etag);
    op->ns_len = ns_len;
    op->key_len = key_len;
    memcpy(op->data, ns, ns_len);
    memcpy(op->data + ns_len, key, key_len);
    pthread_mutex_lock(&idx->lock);
    if (idx->tail)
        idx->tail->next = op;
    else
        idx->head = op;
    idx->tail = op;
    idx->queued_seq++;
    pthread_cond_signal(&idx->work);
    pthread_mutex_unlock(&idx->lock);
}

void cs_index_put(struct cs_index *idx, const char *ns, const char *key, size_t key_len,
                  enum cs_index_kind kind, uint64_t size, time_t mtime,
                  const uint8_t etag[32])
{
    enqueue(idx, OP_PUT, ns, key, key_len, kind, size, mtime, etag);
}

void cs_index_remove(struct cs_index *idx, const char *ns, const char *key, size_t key_len)
{
    enqueue(idx, OP_REMOVE, ns, key, key_len, CS_INDEX_OBJECT, 0, 0, NULL);
}

void cs_index_sync(struct cs_index *idx)
{
    pthread_mutex_lock(&idx->lock);
    uint64_t target = idx->queued_seq;
    while (idx->committed_seq < target)
        pthread_cond_wait(&idx->committed, &idx->lock);
    pthread_mutex_unlock(&idx->lock);
}

/* --- readers --------------------------------------------------------- */

static sqlite3 *reader_get(struct cs_index *idx)
{
    sqlite3 *db = NULL;
    char why[256];

    pthread_mutex_lock(&idx->pool_lock);
    if (idx->n_readers > 0)
        db = idx->readers[--idx->n_readers];
    pthread_mutex_unlock(&idx->pool_lock);
    if (db)
        return db;
    if (db_open(idx->path, SQLITE_OPEN_READONLY, &db, why, sizeof why) != CS_OK) {
        cs_log(CS_LOG_ERROR, "%s", why);
        return NULL;
    }
    return db;
}

static void reader_put(struct cs_index *idx, sqlite3 *db)
{
    pthread_mutex_lock(&idx->pool_lock);
    if (idx->n_readers < READERS_MAX) {
        idx->readers[idx->n_readers++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&idx->pool_lock);
    if (db)
        sqlite3_close(db);
}

/* Upper bound of the keys that start with prefix: the shortest string
 * greater than all of them, or 0 bytes when there is none (all 0xff). */
static size_t prefix_upper(const char *prefix, size_t len, char *out)
{
    memcpy(out, prefix, len);
    while (len > 0) {
        unsigned char c = (unsigned char)out[len - 1];
        if (c != 0xff) {
            out[len - 1] = (char)(c + 1);
            return len;
        }
        len--;
    }
    return 0;
}

/* The first entries of ns from the cursor on, below an upper bound when
 * there is one. Four plain statements rather than one with CASE or OR,
 * which would keep sqlite from using the primary key as a range. */
static const char *const next_sql[2][2] = {
    {"SELECT key, kind, size, mtime, etag FROM entries WHERE ns = ?1 AND key > ?2 "
     "ORDER BY key LIMIT ?5",
     "SELECT key, kind, size, mtime, etag FROM entries WHERE ns = ?1 AND key > ?2 AND key < ?3 "
     "ORDER BY key LIMIT ?5"},
    {"SELECT key, kind, size, mtime, etag FROM entries WHERE ns = ?1 AND key >= ?2 "
     "ORDER BY key LIMIT ?5",
     "SELECT key, kind, size, mtime, etag FROM entries WHERE ns = ?1 AND key >= ?2 AND key < ?3 "
     "ORDER BY key LIMIT ?5"},
};

struct scan {
    sqlite3 *db;
    sqlite3_stmt *st[2]; /* [inclusive] */
    char upper[1100];
    size_t upper_len;
};

static enum cs_status scan_begin(struct cs_index *idx, struct scan *s, const char *prefix,
                                 size_t prefix_len)
{
    int bounded, i;

    s->upper_len = prefix_len < sizeof s->upper ? prefix_upper(prefix, prefix_len, s->upper) : 0;
    bounded = s->upper_len > 0;
    s->st[0] = s->st[1] = NULL;
    s->db = reader_get(idx);
    if (!s->db)
        return CS_ERR_IO;
    for (i = 0; i < 2; i++) {
        if (sqlite3_prepare_v2(s->db, next_sql[i][bounded], -1, &s->st[i], NULL) != SQLITE_OK) {
            cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(s->db));
            sqlite3_finalize(s->st[0]);
            reader_put(idx, s->db);
            return CS_ERR_IO;
        }
    }
    return CS_OK;
}

static void scan_end(struct cs_index *idx, struct scan *s)
{
    sqlite3_finalize(s->st[0]);
    sqlite3_finalize(s->st[1]);
    reader_put(idx, s->db);
}

/* Runs the query from the cursor (or from start when the cursor has not
 * started); SQLITE_ROW leaves the row in *row. */
static int scan_step(struct scan *s, const char *ns, const struct cs_index_cursor *cur,
                     const char *start, size_t start_len, int limit, sqlite3_stmt **row)
{
    bool inclusive = cur->started ? cur->inclusive : true;
    sqlite3_stmt *st = s->st[inclusive];

    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    if (cur->started)
        sqlite3_bind_blob(st, 2, cur->key, (int)cur->key_len, SQLITE_STATIC);
    else
        sqlite3_bind_blob(st, 2, start, (int)start_len, SQLITE_STATIC);
    if (s->upper_len)
        sqlite3_bind_blob(st, 3, s->upper, (int)s->upper_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, limit);
    *row = st;
    return sqlite3_step(st);
}

static void read_entry(sqlite3_stmt *st, struct cs_index_entry *e)
{
    e->name = sqlite3_column_blob(st, 0);
    e->name_len = (size_t)sqlite3_column_bytes(st, 0);
    e->kind = sqlite3_column_int(st, 1) == CS_INDEX_COLLECTION ? CS_INDEX_COLLECTION
                                                                : CS_INDEX_OBJECT;
    e->size = (uint64_t)sqlite3_column_int64(st, 2);
    e->mtime = (time_t)sqlite3_column_int64(st, 3);
    e->etag = sqlite3_column_bytes(st, 4) == 32 ? sqlite3_column_blob(st, 4) : NULL;
}

static void cursor_set(struct cs_index_cursor *cur, const char *key, size_t len, bool inclusive)
{
    if (len > sizeof cur->key)
        len = sizeof cur->key;
    memcpy(cur->key, key, len);
    cur->key_len = len;
    cur->started = true;
    cur->inclusive = inclusive;
}

enum cs_status cs_index_children(struct cs_index *idx, const char *ns, const char *dir,
                                 size_t dir_len, struct cs_index_cursor *cur, size_t max,
                                 cs_index_entry_cb cb, void *arg)
{
    struct scan s;
    size_t n = 0;
    enum cs_status st;

    if (cur->done)
        return CS_OK;
    st = scan_begin(idx, &s, dir, dir_len);
    if (st != CS_OK)
        return st;
    if (!cur->started) {
        /* skip dir's own marker ("a/b/"): start strictly after it */
        cursor_set(cur, dir, dir_len, dir_len == 0);
    }
    while (n < max) {
        sqlite3_stmt *row;
        int rc = scan_step(&s, ns, cur, dir, dir_len, 1, &row);
        if (rc != SQLITE_ROW) {
            if (rc != SQLITE_DONE) {
                cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(s.db));
                st = CS_ERR_IO;
            }
            cur->done = true;
            break;
        }
        struct cs_index_entry e;
        read_entry(row, &e);
        const char *rest = e.name + dir_len;
        size_t rest_len = e.name_len - dir_len;
        const char *slash = memchr(rest, '/', rest_len);
        if (slash) {
            /* a key deeper down: the child is a collection; skip its subtree
             * by seeking to "<dir><child>0" ('0' follows '/') */
            char next[1100];
            size_t child_len = (size_t)(slash - rest);
            if (dir_len + child_len + 1 > sizeof next) {
                cur->done = true;
                break;
            }
            memcpy(next, e.name, dir_len + child_len);
            next[dir_len + child_len] = '0';
            e.name = rest;
            e.name_len = child_len;
            e.kind = CS_INDEX_COLLECTION;
            e.size = 0;
            n++;
            bool more = cb(arg, &e);
            cursor_set(cur, next, dir_len + child_len + 1, true);
            if (!more)
                break;
        } else {
            cursor_set(cur, e.name, e.name_len, false);
            e.name = rest;
            e.name_len = rest_len;
            n++;
            if (!cb(arg, &e))
                break;
        }
    }
    scan_end(idx, &s);
    return st;
}

enum cs_status cs_index_walk(struct cs_index *idx, const char *ns, const char *prefix,
                             size_t prefix_len, struct cs_index_cursor *cur, size_t max,
                             cs_index_entry_cb cb, void *arg)
{
    struct scan s;
    enum cs_status st;
    int rc;
    size_t n = 0;

    if (cur->done)
        return CS_OK;
    st = scan_begin(idx, &s, prefix, prefix_len);
    if (st != CS_OK)
        return st;
    sqlite3_stmt *row;
    rc = scan_step(&s, ns, cur, prefix, prefix_len, (int)max, &row);
    while (rc == SQLITE_ROW) {
        struct cs_index_entry e;
        read_entry(row, &e);
        cursor_set(cur, e.name, e.name_len, false);
        n++;
        if (!cb(arg, &e))
            break;
        rc = sqlite3_step(row);
    }
    if (rc == SQLITE_DONE && n < max)
        cur->done = true;
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(s.db));
        st = CS_ERR_IO;
        cur->done = true;
    }
    scan_end(idx, &s);
    return st;
}

enum cs_status cs_index_collection_exists(struct cs_index *idx, const char *ns, const char *dir,
                                          size_t dir_len, bool *exists, time_t *mtime)
{
    struct scan s;
    struct cs_index_cursor cur = {.started = false};
    enum cs_status st = scan_begin(idx, &s, dir, dir_len);
    int rc;

    if (st != CS_OK)
        return st;
    sqlite3_stmt *row;
    rc = scan_step(&s, ns, &cur, dir, dir_len, 1, &row);
    *exists = rc == SQLITE_ROW;
    if (*exists && mtime)
        *mtime = (time_t)sqlite3_column_int64(row, 3);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(s.db));
        st = CS_ERR_IO;
    }
    scan_end(idx, &s);
    return st;
}

/* --- open / close ------------------------------------------------------ */

static enum cs_status prepare_writer(struct cs_index *idx, char *why, size_t why_len)
{
    static const char put_sql[] =
        "INSERT INTO entries(ns, key, kind, size, mtime, atime, etag) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) "
        "ON CONFLICT(ns, key) DO UPDATE SET kind = excluded.kind, size = excluded.size, "
        "mtime = excluded.mtime, atime = excluded.atime, etag = excluded.etag";
    static const char remove_sql[] = "DELETE FROM entries WHERE ns = ?1 AND key = ?2";
    enum cs_status st;

    st = exec(idx->wdb, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", why, why_len);
    if (st == CS_OK)
        st = exec(idx->wdb, schema_sql, why, why_len);
    if (st != CS_OK)
        return st;
    if (sqlite3_prepare_v2(idx->wdb, put_sql, -1, &idx->st_put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(idx->wdb, remove_sql, -1, &idx->st_remove, NULL) != SQLITE_OK) {
        snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
        return CS_ERR_IO;
    }
    return CS_OK;
}

enum cs_status cs_index_open(const char *path, struct cs_index **out, char *why, size_t why_len)
{
    struct cs_index *idx = calloc(1, sizeof *idx);
    enum cs_status st;

    if (!idx)
        return CS_ERR_NOMEM;
    pthread_mutex_init(&idx->lock, NULL);
    pthread_mutex_init(&idx->pool_lock, NULL);
    pthread_cond_init(&idx->work, NULL);
    pthread_cond_init(&idx->committed, NULL);
    idx->path = strdup(path);
    if (!idx->path) {
        cs_index_close(idx);
        return CS_ERR_NOMEM;
    }
    st = db_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &idx->wdb, why, why_len);
    if (st == CS_OK)
        st = prepare_writer(idx, why, why_len);
    if (st == CS_OK && pthread_create(&idx->writer, NULL, writer_main, idx) != 0) {
        snprintf(why, why_len, "index: cannot start the writer thread");
        st = CS_ERR_NOMEM;
    }
    if (st != CS_OK) {
        cs_index_close(idx);
        return st;
    }
    idx->writer_started = true;
    *out = idx;
    return CS_OK;
}

void cs_index_close(struct cs_index *idx)
{
    size_t i;

    if (!idx)
        return;
    if (idx->writer_started) {
        pthread_mutex_lock(&idx->lock);
        idx->stop = true;
        pthread_cond_signal(&idx->work);
        pthread_mutex_unlock(&idx->lock);
        pthread_join(idx->writer, NULL);
    }
    for (i = 0; i < idx->n_readers; i++)
        sqlite3_close(idx->readers[i]);
    sqlite3_finalize(idx->st_put);
    sqlite3_finalize(idx->st_remove);
    sqlite3_close(idx->wdb);
    pthread_cond_destroy(&idx->work);
    pthread_cond_destroy(&idx->committed);
    pthread_mutex_destroy(&idx->lock);
    pthread_mutex_destroy(&idx->pool_lock);
    free(idx->path);
    free(idx);
}
