/* The index's reads: listings (children with a skip-scan, walks under a
 * prefix), collection checks, LRU victims and the full scan of fsck, each
 * on a connection from a small pool of read-only ones. */
#include "autoconfig.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "storage/index.h"
#include "storage/index_priv.h"

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
    if (cs_index_db_open(idx->path, SQLITE_OPEN_READONLY, &db, why, sizeof why) != CS_OK) {
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
    {"SELECT key, kind, size, mtime, etag, dsize FROM entries WHERE ns = ?1 AND key > ?2 "
     "ORDER BY key LIMIT ?5",
     "SELECT key, kind, size, mtime, etag, dsize FROM entries WHERE ns = ?1 AND key > ?2 AND key < "
     "?3 "
     "ORDER BY key LIMIT ?5"},
    {"SELECT key, kind, size, mtime, etag, dsize FROM entries WHERE ns = ?1 AND key >= ?2 "
     "ORDER BY key LIMIT ?5",
     "SELECT key, kind, size, mtime, etag, dsize FROM entries WHERE ns = ?1 AND key >= ?2 AND key "
     "< ?3 "
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
    if (cur->started) /* a copy: the cursor moves while the statement runs */
        sqlite3_bind_blob(st, 2, cur->key, (int)cur->key_len, SQLITE_TRANSIENT);
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
    e->kind =
        sqlite3_column_int(st, 1) == CS_INDEX_COLLECTION ? CS_INDEX_COLLECTION : CS_INDEX_OBJECT;
    e->size = (uint64_t)sqlite3_column_int64(st, 2);
    e->mtime = (time_t)sqlite3_column_int64(st, 3);
    e->etag = sqlite3_column_bytes(st, 4) == 32 ? sqlite3_column_blob(st, 4) : NULL;
    e->dsize = (uint64_t)sqlite3_column_int64(st, 5);
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

/* A statement on a pooled read connection; read_end gives both back. */
static enum cs_status read_begin(struct cs_index *idx, const char *sql, sqlite3 **db,
                                 sqlite3_stmt **st)
{
    *st = NULL;
    *db = reader_get(idx);
    if (!*db)
        return CS_ERR_IO;
    if (sqlite3_prepare_v2(*db, sql, -1, st, NULL) != SQLITE_OK) {
        cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(*db));
        reader_put(idx, *db);
        return CS_ERR_IO;
    }
    return CS_OK;
}

/* Finishes a read_begin statement; step is its last sqlite3_step result. */
static enum cs_status read_end(struct cs_index *idx, sqlite3 *db, sqlite3_stmt *st, int step)
{
    enum cs_status rc = CS_OK;

    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        cs_log(CS_LOG_ERROR, "index: %s", sqlite3_errmsg(db));
        rc = CS_ERR_IO;
    }
    sqlite3_finalize(st);
    reader_put(idx, db);
    return rc;
}

/* Least recently used objects of ns, oldest first. The LRU index holds
 * (ns, atime) and the primary key after it, so (atime, key) order is the
 * index's own and resuming after a cursor is a seek. */
enum cs_status cs_index_oldest(struct cs_index *idx, const char *ns,
                               struct cs_index_lru_cursor *cur, size_t max, cs_index_victim_cb cb,
                               void *arg)
{
    static const char sql[2][240] = {
        /* keys starting with a control byte are pinned (evict.c) */
        "SELECT key, dsize, created, atime FROM entries "
        "WHERE ns = ?1 AND kind = 0 AND substr(key, 1, 1) >= x'20' "
        "ORDER BY atime, key LIMIT ?2",
        "SELECT key, dsize, created, atime FROM entries "
        "WHERE ns = ?1 AND kind = 0 AND substr(key, 1, 1) >= x'20' AND (atime, key) > (?3, ?4) "
        "ORDER BY atime, key LIMIT ?2",
    };
    bool after = cur && cur->started;
    sqlite3 *db;
    sqlite3_stmt *st;
    int step = SQLITE_DONE;

    if (read_begin(idx, sql[after], &db, &st) != CS_OK)
        return CS_ERR_IO;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    if (after) { /* copies: the cursor moves while the statement runs */
        sqlite3_bind_int64(st, 3, cur->atime_ms);
        sqlite3_bind_blob(st, 4, cur->key, (int)cur->key_len, SQLITE_TRANSIENT);
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct cs_index_victim v = {
            .key = sqlite3_column_blob(st, 0),
            .key_len = (size_t)sqlite3_column_bytes(st, 0),
            .dsize = (uint64_t)sqlite3_column_int64(st, 1),
            .created_ms = sqlite3_column_int64(st, 2),
            .atime_ms = sqlite3_column_int64(st, 3),
        };
        bool more = cb(arg, &v); /* false: not taken, the cursor stays */
        if (more && cur && v.key_len <= sizeof cur->key) {
            cur->started = true;
            cur->atime_ms = v.atime_ms;
            memcpy(cur->key, v.key, v.key_len);
            cur->key_len = v.key_len;
        }
        if (!more)
            break;
    }
    return read_end(idx, db, st, step);
}

enum cs_status cs_index_row_created(struct cs_index *idx, const char *ns, const char *key,
                                    size_t key_len, int64_t *created_ms)
{
    static const char sql[] = "SELECT created FROM entries WHERE ns = ?1 AND key = ?2";
    sqlite3 *db;
    sqlite3_stmt *st;
    int step;
    enum cs_status rc;

    if (read_begin(idx, sql, &db, &st) != CS_OK)
        return CS_ERR_IO;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key, (int)key_len, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *created_ms = sqlite3_column_int64(st, 0);
    rc = read_end(idx, db, st, step);
    return rc == CS_OK && step == SQLITE_DONE ? CS_ERR_NOT_FOUND : rc;
}

/* Every entry of every namespace in (ns, key) order, from the cursor on. */
enum cs_status cs_index_scan_all(struct cs_index *idx, struct cs_index_scan_cursor *cur, size_t max,
                                 cs_index_row_cb cb, void *arg)
{
    static const char sql[] = "SELECT ns, key, kind, dsize, created FROM entries "
                              "WHERE (ns, key) > (?1, ?2) ORDER BY ns, key LIMIT ?3";
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t n = 0;
    int step;

    if (cur->done)
        return CS_OK;
    if (read_begin(idx, sql, &db, &st) != CS_OK)
        return CS_ERR_IO;
    /* copies: the cursor moves while the statement runs */
    sqlite3_bind_text(st, 1, cur->ns, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, cur->key, (int)cur->key_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ns = (const char *)sqlite3_column_text(st, 0);
        struct cs_index_row r = {
            .ns = ns ? ns : "",
            .key = sqlite3_column_blob(st, 1),
            .key_len = (size_t)sqlite3_column_bytes(st, 1),
            .kind = sqlite3_column_int(st, 2) == CS_INDEX_COLLECTION ? CS_INDEX_COLLECTION
                                                                     : CS_INDEX_OBJECT,
            .dsize = (uint64_t)sqlite3_column_int64(st, 3),
            .created_ms = sqlite3_column_int64(st, 4),
        };
        n++;
        snprintf(cur->ns, sizeof cur->ns, "%s", r.ns);
        cur->key_len = r.key_len < sizeof cur->key ? r.key_len : sizeof cur->key;
        memcpy(cur->key, r.key, cur->key_len);
        if (!cb(arg, &r))
            break;
    }
    enum cs_status rc = read_end(idx, db, st, step);
    if (rc != CS_OK || (step == SQLITE_DONE && n < max))
        cur->done = true;
    return rc;
}
