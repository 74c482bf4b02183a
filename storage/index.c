/* sqlite3 index with a single writer thread and a small pool of read
 * connections. Keys are stored as BLOBs so that ordering is plain byte
 * order (memcmp), which the prefix and skip-scan queries rely on.
 *
 * Space accounting lives in the same file: triggers keep a per-namespace
 * usage row in step with the entries, in the same transaction, so the
 * totals are exact after any restart and are read in one query rather
 * than summed over a million rows.
 *
 * This file holds the schema, its upgrade, and opening and closing; the
 * writer is in index_writer.c, GET touches in index_touch.c and the reads
 * in index_query.c (index_priv.h). */
#include "autoconfig.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "storage/index.h"
#include "storage/index_priv.h"

#define SCHEMA_VERSION "2"
/* Writes waiting to commit, by default. Each costs its key and ~120 bytes. */
#define QUEUE_CAP_DEFAULT 65536
/* How long the writer waits for sqlite's lock: another process writing the
 * index (an operator's sqlite3 shell) is a failure to retry, and a long
 * wait would stretch each retry and the shutdown. */
#define WRITER_BUSY_MS 1000

/* Tells index instances apart for the per-thread touch slot. */
static atomic_uint_fast64_t index_ids = 1;

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entries("
    "  ns TEXT NOT NULL, key BLOB NOT NULL, kind INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, mtime INTEGER NOT NULL, atime INTEGER NOT NULL, etag BLOB,"
    "  dsize INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (ns, key)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(k, v) VALUES ('schema', '" SCHEMA_VERSION "');";

/* Schema 1 (issue 3) had no on-disk size, no creation time and atime in
 * seconds. dsize is estimated from the body size (header without content
 * type, 4 KiB blocks) until fsck measures the file. */
static const char upgrade_1_sql[] =
    "ALTER TABLE entries ADD COLUMN dsize INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE entries ADD COLUMN created INTEGER NOT NULL DEFAULT 0;"
    "UPDATE entries SET dsize = CASE kind WHEN 0 THEN (size + 40 + 4095) / 4096 * 4096 "
    "ELSE 0 END, created = mtime * 1000, atime = atime * 1000;"
    "UPDATE meta SET v = '2' WHERE k = 'schema';";

/* LRU order (objects only: collection markers are never evicted) and the
 * usage totals, kept by triggers in the same transaction as the rows. */
static const char accounting_sql[] =
    "CREATE INDEX IF NOT EXISTS entries_lru ON entries(ns, atime) WHERE kind = 0;"
    "CREATE TABLE IF NOT EXISTS usage(ns TEXT PRIMARY KEY, objects INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS usage_insert AFTER INSERT ON entries BEGIN"
    "  INSERT OR IGNORE INTO usage(ns, objects, bytes) VALUES (new.ns, 0, 0);"
    "  UPDATE usage SET objects = objects + (new.kind = 0), bytes = bytes + new.dsize"
    "    WHERE ns = new.ns;"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS usage_delete AFTER DELETE ON entries BEGIN"
    "  UPDATE usage SET objects = objects - (old.kind = 0), bytes = bytes - old.dsize"
    "    WHERE ns = old.ns;"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS usage_update AFTER UPDATE OF kind, dsize ON entries BEGIN"
    "  UPDATE usage SET objects = objects - (old.kind = 0) + (new.kind = 0),"
    "    bytes = bytes - old.dsize + new.dsize WHERE ns = new.ns;"
    " END;";

enum cs_status cs_index_db_open(const char *path, int flags, sqlite3 **out, char *why,
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

/* What a failed sqlite call means for the writes it was to record. */
enum cs_status cs_index_sqlite_status(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return CS_OK;
    case SQLITE_FULL: return CS_ERR_NO_SPACE;
    case SQLITE_NOMEM: return CS_ERR_NOMEM;
    default: return CS_ERR_INDEX;
    }
}

enum cs_status cs_index_exec(sqlite3 *db, const char *sql, char *why, size_t why_len)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

    if (rc != SQLITE_OK) {
        snprintf(why, why_len, "index: %s", err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        enum cs_status st = cs_index_sqlite_status(sqlite3_extended_errcode(db));
        return st == CS_OK ? CS_ERR_INDEX : st;
    }
    return CS_OK;
}

int64_t cs_index_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- open / close ------------------------------------------------------ */

static enum cs_status upgrade_schema(struct cs_index *idx, char *why, size_t why_len)
{
    sqlite3_stmt *st;
    char version[16] = "";
    enum cs_status rc;

    if (sqlite3_prepare_v2(idx->wdb, "SELECT v FROM meta WHERE k = 'schema'", -1, &st, NULL) !=
        SQLITE_OK) {
        snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
        return CS_ERR_IO;
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(version, sizeof version, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (strcmp(version, SCHEMA_VERSION) == 0)
        return CS_OK;
    if (strcmp(version, "1") != 0) {
        snprintf(why, why_len,
                 "index %s has schema '%s', this cstashd knows 1 and " SCHEMA_VERSION
                 ": written by a newer version?",
                 idx->path, version);
        return CS_ERR_INVALID;
    }
    rc = cs_index_exec(idx->wdb, "BEGIN", why, why_len);
    if (rc == CS_OK)
        rc = cs_index_exec(idx->wdb, upgrade_1_sql, why, why_len);
    if (rc == CS_OK)
        rc = cs_index_exec(idx->wdb, "COMMIT", why, why_len);
    else
        cs_index_exec(idx->wdb, "ROLLBACK", why, why_len);
    if (rc == CS_OK)
        cs_log(CS_LOG_INFO, "index %s upgraded to schema " SCHEMA_VERSION, idx->path);
    return rc;
}

/* The usage table appears with schema 2: fill it once from the rows. The
 * emptiness test comes first, on its own: inside the INSERT sqlite would
 * still walk every row at each start. */
static enum cs_status fill_usage(struct cs_index *idx, char *why, size_t why_len)
{
    sqlite3_stmt *st;
    bool empty;

    if (sqlite3_prepare_v2(idx->wdb, "SELECT 1 FROM usage LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
        return CS_ERR_IO;
    }
    empty = sqlite3_step(st) != SQLITE_ROW;
    sqlite3_finalize(st);
    if (!empty)
        return CS_OK;
    return cs_index_exec(idx->wdb,
                         "INSERT INTO usage(ns, objects, bytes) "
                         "SELECT ns, sum(kind = 0), sum(dsize) FROM entries GROUP BY ns;",
                         why, why_len);
}

/* Namespaces that hold data but are no longer configured still count
 * against the data dir's max_size: the registry gets them too. */
static enum cs_status register_namespaces(struct cs_index *idx, char *why, size_t why_len)
{
    sqlite3_stmt *st;

    if (!idx->usage)
        return CS_OK;
    if (sqlite3_prepare_v2(idx->wdb, "SELECT ns FROM usage", -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
        return CS_ERR_IO;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ns = (const char *)sqlite3_column_text(st, 0);
        if (ns && !cs_usage_find(idx->usage, ns, strlen(ns)) &&
            !cs_usage_add(idx->usage, ns, strlen(ns), 0)) {
            sqlite3_finalize(st);
            snprintf(why, why_len, "index: out of memory");
            return CS_ERR_NOMEM;
        }
    }
    sqlite3_finalize(st);
    cs_index_usage_refresh(idx);
    return CS_OK;
}

static enum cs_status prepare_writer(struct cs_index *idx, char *why, size_t why_len)
{
    static const char put_sql[] =
        "INSERT INTO entries(ns, key, kind, size, mtime, atime, etag, dsize, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?6) "
        "ON CONFLICT(ns, key) DO UPDATE SET kind = excluded.kind, size = excluded.size, "
        "mtime = excluded.mtime, atime = excluded.atime, etag = excluded.etag, "
        "dsize = excluded.dsize, created = excluded.created";
    static const char *const sql[] = {
        put_sql,
        "DELETE FROM entries WHERE ns = ?1 AND key = ?2",
        "DELETE FROM entries WHERE ns = ?1 AND key = ?2 AND created = ?3",
        "UPDATE entries SET dsize = ?3 WHERE ns = ?1 AND key = ?2",
        "UPDATE entries SET atime = ?3 WHERE ns = ?1 AND key = ?2 AND atime < ?3",
        "SELECT ns, objects, bytes FROM usage",
    };
    sqlite3_stmt **out[] = {&idx->st_put,       &idx->st_remove, &idx->st_remove_if,
                            &idx->st_set_dsize, &idx->st_touch,  &idx->st_usage};
    enum cs_status st;
    size_t i;

    /* The writer reads pages through a memory map (no read() per page
     * miss) and keeps more of them: touches update rows and LRU-index
     * entries all over the file. */
    st = cs_index_exec(idx->wdb,
                       "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                       "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-16384;",
                       why, why_len);
    if (st == CS_OK)
        st = cs_index_exec(idx->wdb, schema_sql, why, why_len);
    if (st == CS_OK)
        st = upgrade_schema(idx, why, why_len);
    if (st == CS_OK)
        st = cs_index_exec(idx->wdb, accounting_sql, why, why_len);
    if (st == CS_OK)
        st = fill_usage(idx, why, why_len);
    if (st != CS_OK)
        return st;
    for (i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        if (sqlite3_prepare_v2(idx->wdb, sql[i], -1, out[i], NULL) != SQLITE_OK) {
            snprintf(why, why_len, "index: %s", sqlite3_errmsg(idx->wdb));
            return CS_ERR_IO;
        }
    }
    return register_namespaces(idx, why, why_len);
}

enum cs_status cs_index_open(const char *path, struct cs_usage *usage, size_t queue_cap,
                             struct cs_index **out, char *why, size_t why_len)
{
    struct cs_index *idx = calloc(1, sizeof *idx);
    enum cs_status st;

    if (!idx)
        return CS_ERR_NOMEM;
    idx->id = atomic_fetch_add(&index_ids, 1);
    idx->usage = usage;
    idx->cap = queue_cap ? queue_cap : QUEUE_CAP_DEFAULT;
    atomic_init(&idx->health, CS_OK);
    atomic_init(&idx->n_full, 0);
    atomic_init(&idx->touches_dropped, 0);
    atomic_init(&idx->commits, 0);
    pthread_mutex_init(&idx->lock, NULL);
    pthread_mutex_init(&idx->pool_lock, NULL);
    pthread_mutex_init(&idx->touch_lock, NULL);
    /* timed waits on them measure with the monotonic clock: a step of the
     * wall clock must not stretch the writer's gathering of writes */
    pthread_condattr_t mono;
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_cond_init(&idx->work, &mono);
    pthread_cond_init(&idx->committed, &mono);
    pthread_cond_init(&idx->room, &mono);
    pthread_condattr_destroy(&mono);
    idx->path = strdup(path);
    if (!idx->path) {
        cs_index_close(idx);
        return CS_ERR_NOMEM;
    }
    st =
        cs_index_db_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &idx->wdb, why, why_len);
    if (st == CS_OK)
        st = prepare_writer(idx, why, why_len);
    if (st == CS_OK)
        sqlite3_busy_timeout(idx->wdb, WRITER_BUSY_MS);
    if (st == CS_OK && pthread_create(&idx->writer, NULL, cs_index_writer_main, idx) != 0) {
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
        pthread_cond_broadcast(&idx->room);
        pthread_mutex_unlock(&idx->lock);
        pthread_join(idx->writer, NULL);
    }
    for (i = 0; i < idx->n_readers; i++)
        sqlite3_close(idx->readers[i]);
    sqlite3_finalize(idx->st_put);
    sqlite3_finalize(idx->st_remove);
    sqlite3_finalize(idx->st_remove_if);
    sqlite3_finalize(idx->st_set_dsize);
    sqlite3_finalize(idx->st_touch);
    sqlite3_finalize(idx->st_usage);
    sqlite3_close(idx->wdb);
    cs_index_touch_slots_free(idx);
    pthread_cond_destroy(&idx->work);
    pthread_cond_destroy(&idx->committed);
    pthread_cond_destroy(&idx->room);
    pthread_mutex_destroy(&idx->lock);
    pthread_mutex_destroy(&idx->pool_lock);
    pthread_mutex_destroy(&idx->touch_lock);
    free(idx->path);
    free(idx);
}
