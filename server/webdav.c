/* WebDAV over virtual collections. Every walk over many keys goes through
 * the index in bounded batches; no request walks the disk. */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/destination.h"
#include "server/http_status.h"
#include "server/webdav.h"

#define WALK_BATCH 256

static void reply_empty(struct cs_reply *out, unsigned status)
{
    out->status = status;
    out->content_type = NULL;
}

/* "a/b" → "a/b/"; "" stays "" (the root). out has CS_KEY_MAX + 2 bytes. */
static size_t dir_of(const char *key, size_t key_len, char *out)
{
    memcpy(out, key, key_len);
    if (key_len)
        out[key_len++] = '/';
    out[key_len] = '\0';
    return key_len;
}

static enum cs_status collection_exists(const struct cs_dav *dav, const char *ns, const char *key,
                                        size_t key_len, time_t *mtime)
{
    char dir[CS_KEY_MAX + 2];
    size_t dir_len;
    bool exists = false;
    enum cs_status st;

    *mtime = time(NULL);
    if (key_len == 0)
        return CS_OK; /* the namespace root always exists */
    dir_len = dir_of(key, key_len, dir);
    /* while the index cannot commit, the answer is what it last committed */
    if (cs_index_sync(dav->index) != CS_OK)
        cs_log(CS_LOG_DEBUG, "ns=%s: collection lookup without the latest writes", ns);
    st = cs_index_collection_exists(dav->index, ns, dir, dir_len, &exists, mtime);
    if (st != CS_OK)
        return st;
    return exists ? CS_OK : CS_ERR_NOT_FOUND;
}

/* After an index lookup: true when it found the entry; otherwise the reply
 * says why (missing_status and missing_reason for a miss, 500 for a failed
 * read). */
static bool found_or_reply(enum cs_status st, struct cs_reply *out, unsigned missing_status,
                           const char *missing_reason)
{
    if (st == CS_OK)
        return true;
    if (st == CS_ERR_NOT_FOUND)
        cs_reply_error(out, missing_status, "%s", missing_reason);
    else
        cs_reply_error(out, 500, "cannot read the index: %s", cs_strerror(st));
    return false;
}

/* Opens an object only for its metadata. An empty body comes back read
 * into memory (open reads files up to the header's size whole): it is
 * freed here as the fd is closed. */
static enum cs_status stat_object(const struct cs_dav *dav, const char *ns, const char *key,
                                  size_t key_len, struct cs_object *obj)
{
    struct cs_object_id id;
    enum cs_status st;

    cs_object_id_init(&id, ns, key, key_len);
    st = dav->backend->ops->open(dav->backend->state, &id, 0, 0, obj);
    if (st != CS_OK)
        return st;
    cs_object_release(obj);
    return st;
}

void cs_dav_options(const struct cs_dav *dav, const struct cs_route *route, struct cs_reply *out)
{
    (void)dav;
    (void)route;
    out->allow = CS_DAV_ALLOW;
    out->dav_header = true;
    reply_empty(out, 200);
}

/* --- PROPFIND ---------------------------------------------------------------- */

struct listing {
    struct cs_buf *out;
    const struct cs_propfind_request *req;
    const char *ns;
    char path[CS_KEY_MAX * 2 + 2];
    size_t dir_len;
    size_t count;
    size_t max;
};

static bool list_one(void *arg, const struct cs_index_entry *e)
{
    struct listing *l = arg;
    struct cs_dav_resource r = {0};

    if (e->name_len && (unsigned char)e->name[0] < 0x20)
        return true; /* S3 multipart state (s3_priv.h): no client can name it */
    if (l->dir_len + e->name_len >= sizeof l->path || ++l->count > l->max)
        return false;
    memcpy(l->path + l->dir_len, e->name, e->name_len);
    r.ns = l->ns;
    r.path = l->path;
    r.path_len = l->dir_len + e->name_len;
    r.collection = e->kind == CS_INDEX_COLLECTION;
    r.size = e->size;
    r.mtime = e->mtime;
    r.etag = r.collection ? NULL : e->etag;
    cs_propfind_add(l->out, l->req, &r);
    return !l->out->overflow;
}

static void list_children(const struct cs_dav *dav, const struct cs_route *route,
                          const struct cs_propfind_request *req, struct cs_reply *out)
{
    struct listing l = {.out = &out->body, .req = req, .ns = route->ns->name, .max = dav->list_max};
    struct cs_index_cursor cur = {.started = false};
    enum cs_status st = CS_OK;

    l.dir_len = dir_of(route->key, route->key_len, l.path);
    while (!cur.done && st == CS_OK && !out->body.overflow && l.count <= l.max)
        st = cs_index_children(dav->index, route->ns->name, l.path, l.dir_len, &cur, WALK_BATCH,
                               list_one, &l);
    if (st != CS_OK)
        cs_reply_error(out, 500, "cannot list the collection: %s", cs_strerror(st));
    else if (out->body.overflow || l.count > l.max)
        cs_reply_error(out, 507,
                       "collection has more than %zu entries (limits.propfind_results) "
                       "or a listing over %u MiB: list a deeper collection",
                       l.max, CS_REPLY_MAX >> 20);
}

/* The 403 for Depth: infinity on a collection, with the precondition
 * element RFC 4918 9.1 names. */
static void reply_finite_depth(struct cs_reply *out)
{
    cs_reply_error(out, 403, "PROPFIND needs Depth: 0 or 1 (infinity is refused)");
    cs_buf_free(&out->body);
    cs_buf_init(&out->body, CS_REPLY_MAX);
    cs_buf_printf(&out->body, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                              "<D:error xmlns:D=\"DAV:\"><D:propfind-finite-depth/>"
                              "</D:error>\n");
    out->content_type = "application/xml; charset=utf-8";
}

void cs_dav_propfind(const struct cs_dav *dav, const struct cs_route *route, const char *depth,
                     const char *body, size_t body_len, struct cs_reply *out)
{
    struct cs_propfind_request req;
    struct cs_dav_resource r = {
        .ns = route->ns->name, .path = route->key, .path_len = route->key_len};
    struct cs_object obj;
    char reason[320];
    enum cs_status st;
    int d;

    /* no Depth means infinity (RFC 4918 9.1) */
    if (!depth || strcasecmp(depth, "infinity") == 0)
        d = -1;
    else if (strcmp(depth, "0") == 0)
        d = 0;
    else if (strcmp(depth, "1") == 0)
        d = 1;
    else {
        cs_reply_error(out, 400, "Depth must be 0, 1 or infinity");
        return;
    }
    st = cs_propfind_parse(body, body_len, &req, reason, sizeof reason);
    if (st != CS_OK) {
        cs_reply_error(out, st == CS_ERR_NOMEM ? 500 : 400, "%s", reason);
        return;
    }
    if (!route->collection) {
        st = stat_object(dav, route->ns->name, route->key, route->key_len, &obj);
        if (st == CS_OK) {
            r.size = obj.size;
            r.mtime = obj.mtime;
            r.etag = obj.etag;
            r.content_type = obj.content_type;
        } else if (st != CS_ERR_NOT_FOUND) {
            cs_reply_error(out, 500, "cannot read the object: %s", cs_strerror(st));
            return;
        }
    } else {
        st = CS_ERR_NOT_FOUND;
    }
    if (st == CS_ERR_NOT_FOUND) {
        st = collection_exists(dav, route->ns->name, route->key, route->key_len, &r.mtime);
        if (!found_or_reply(st, out, 404, "no such object or collection"))
            return;
        r.collection = true;
    }
    /* Infinity is refused where it would walk a tree, never walked; an
     * object has no members, so any depth is Depth 0 for it (litmus asks
     * so, without a Depth header). */
    if (r.collection && d < 0) {
        reply_finite_depth(out);
        return;
    }
    cs_propfind_begin(&out->body);
    cs_propfind_add(&out->body, &req, &r);
    out->status = 207;
    out->content_type = "application/xml; charset=utf-8";
    if (d == 1 && r.collection) {
        list_children(dav, route, &req, out);
        if (out->error)
            return;
    }
    cs_propfind_end(&out->body);
    if (out->body.overflow)
        cs_reply_error(out, 507, "listing too large");
}

/* --- MKCOL ------------------------------------------------------------------- */

static enum cs_status parent_exists(const struct cs_dav *dav, const char *ns, const char *key,
                                    size_t key_len)
{
    const char *slash = memrchr(key, '/', key_len);
    time_t mtime;

    return collection_exists(dav, ns, key, slash ? (size_t)(slash - key) : 0, &mtime);
}

void cs_dav_mkcol(const struct cs_dav *dav, const struct cs_route *route, bool has_body,
                  struct cs_reply *out)
{
    const char *ns = route->ns->name;
    char dir[CS_KEY_MAX + 2];
    struct cs_object obj;
    time_t mtime;
    enum cs_status st;

    out->allow = CS_DAV_ALLOW;
    if (has_body) {
        cs_reply_error(out, 415, "MKCOL with a body is not supported");
        return;
    }
    if (route->key_len == 0) {
        cs_reply_error(out, 405, "the namespace root already exists");
        return;
    }
    if (stat_object(dav, ns, route->key, route->key_len, &obj) == CS_OK) {
        cs_reply_error(out, 405, "an object with this name exists");
        return;
    }
    st = collection_exists(dav, ns, route->key, route->key_len, &mtime);
    if (st == CS_OK) {
        cs_reply_error(out, 405, "collection already exists");
        return;
    }
    st = parent_exists(dav, ns, route->key, route->key_len);
    if (!found_or_reply(st, out, 409, "parent collection does not exist (create it first)"))
        return;
    if (route->key_len + 1 > CS_KEY_MAX) {
        cs_reply_error(out, 400, "collection name too long");
        return;
    }
    size_t dir_len = dir_of(route->key, route->key_len, dir);
    uint64_t seq;
    st = cs_index_put_collection(dav->index, ns, dir, dir_len, route->ns->durable, &seq);
    if (st == CS_OK && route->ns->durable)
        st = cs_index_wait(dav->index, seq);
    if (st != CS_OK) {
        cs_reply_error(out, cs_http_status(st), "cannot make the collection: %s", cs_strerror(st));
        return;
    }
    reply_empty(out, 201);
}

/* --- trees: DELETE, MOVE, COPY of collections ---------------------------------- */

struct walk_item {
    enum cs_index_kind kind;
    size_t len;
    char key[CS_KEY_MAX + 2];
};

struct walk_batch {
    struct walk_item *items;
    size_t n;
};

static bool collect(void *arg, const struct cs_index_entry *e)
{
    struct walk_batch *b = arg;
    struct walk_item *it = &b->items[b->n];

    if (e->name_len > CS_KEY_MAX + 1)
        return true; /* cannot be ours: skip */
    it->kind = e->kind;
    it->len = e->name_len;
    memcpy(it->key, e->name, e->name_len);
    b->n++;
    return true;
}

/* What a tree operation does with one entry under src_dir. */
struct tree_op {
    const struct cs_dav *dav;
    const char *ns;
    bool durable;
    enum { T_DELETE, T_COPY, T_MOVE } kind;
    const char *src_dir, *dst_dir;
    size_t src_len, dst_len;
    size_t done;
};

static enum cs_status tree_one(struct tree_op *t, const struct walk_item *it)
{
    const struct cs_backend_ops *ops = t->dav->backend->ops;
    void *state = t->dav->backend->state;
    struct cs_object_id from, to;
    char dst[CS_KEY_MAX * 2 + 4];
    size_t dst_len = 0;
    bool created = false;
    enum cs_status st = CS_OK;

    if (t->kind != T_DELETE) {
        dst_len = t->dst_len + it->len - t->src_len;
        if (dst_len > CS_KEY_MAX)
            return CS_ERR_BAD_KEY;
        memcpy(dst, t->dst_dir, t->dst_len);
        memcpy(dst + t->dst_len, it->key + t->src_len, it->len - t->src_len);
    }
    if (it->kind == CS_INDEX_COLLECTION) {
        if (t->kind != T_DELETE)
            st = cs_index_put_collection(t->dav->index, t->ns, dst, dst_len, t->durable, NULL);
        if (st == CS_OK && t->kind != T_COPY)
            st = cs_index_remove(t->dav->index, CS_INDEX_REQUEST, t->ns, it->key, it->len, 0, NULL);
        return st;
    }
    cs_object_id_init(&from, t->ns, it->key, it->len);
    if (t->kind == T_DELETE) {
        st = ops->remove(state, &from, t->durable);
    } else {
        cs_object_id_init(&to, t->ns, dst, dst_len);
        st = (t->kind == T_MOVE ? ops->move : ops->copy)(state, &from, &to, true, t->durable,
                                                         &created);
    }
    if (st == CS_ERR_NOT_FOUND) /* gone from disk behind the index's back: drop the stale row */
        st = cs_index_remove(t->dav->index, CS_INDEX_REQUEST, t->ns, it->key, it->len, 0, NULL);
    return st;
}

/* Applies t to every entry whose key starts with src_dir, in batches. */
static enum cs_status tree_apply(struct tree_op *t)
{
    struct cs_index_cursor cur = {.started = false};
    struct walk_batch b = {.items = malloc(WALK_BATCH * sizeof *b.items)};
    enum cs_status st = CS_OK;
    size_t i;

    if (!b.items)
        return CS_ERR_NOMEM;
    /* the walk must see every key written so far; a failing index refuses
     * the tree operation (it is a write) */
    st = cs_index_sync(t->dav->index);
    while (!cur.done && st == CS_OK) {
        b.n = 0;
        st = cs_index_walk(t->dav->index, t->ns, t->src_dir, t->src_len, &cur, WALK_BATCH, collect,
                           &b);
        for (i = 0; i < b.n && st == CS_OK; i++, t->done++)
            st = tree_one(t, &b.items[i]);
    }
    free(b.items);
    /* answered once every change is committed (durable or not: a listing
     * right after must show it) */
    if (st == CS_OK)
        st = cs_index_sync(t->dav->index);
    return st;
}

static enum cs_status delete_tree(const struct cs_dav *dav, const struct cs_route *route,
                                  const char *key, size_t key_len)
{
    char dir[CS_KEY_MAX + 2];
    struct tree_op t = {.dav = dav,
                        .ns = route->ns->name,
                        .durable = route->ns->durable,
                        .kind = T_DELETE,
                        .src_dir = dir};

    t.src_len = dir_of(key, key_len, dir);
    return tree_apply(&t);
}

void cs_dav_delete_collection(const struct cs_dav *dav, const struct cs_route *route,
                              struct cs_reply *out)
{
    time_t mtime;
    enum cs_status st;

    if (route->key_len == 0) {
        cs_reply_error(out, 403, "the namespace root cannot be deleted");
        return;
    }
    st = collection_exists(dav, route->ns->name, route->key, route->key_len, &mtime);
    if (st == CS_OK)
        st = delete_tree(dav, route, route->key, route->key_len);
    if (st == CS_OK)
        reply_empty(out, 204);
    else if (st == CS_ERR_NOT_FOUND)
        cs_reply_error(out, 404, "no such object or collection");
    else
        cs_reply_error(out, cs_http_status(st), "cannot delete the collection: %s",
                       cs_strerror(st));
}

static bool prefix_of(const char *a, size_t a_len, const char *b, size_t b_len)
{
    /* is collection a (no trailing slash) b itself or an ancestor of b? */
    return a_len <= b_len && memcmp(a, b, a_len) == 0 && (a_len == b_len || b[a_len] == '/');
}

/* Parses the Overwrite header: T (default) or F. */
static bool parse_overwrite(const char *h, bool *overwrite)
{
    *overwrite = true;
    if (!h)
        return true;
    if ((h[0] == 'T' || h[0] == 't') && h[1] == '\0')
        return true;
    if ((h[0] == 'F' || h[0] == 'f') && h[1] == '\0') {
        *overwrite = false;
        return true;
    }
    return false;
}

/* What a COPY or MOVE would replace. Found out before anything changes:
 * a COPY onto itself once cleared its destination, the source, before
 * anything noticed the two were one (issue 15). */
struct dest_state {
    bool object;     /* an object has the destination key (on disk or a remote tier) */
    bool collection; /* a collection has it (keys under key/, or a MKCOL marker) */
};

static enum cs_status probe_destination(const struct cs_dav *dav, const struct cs_route *dst,
                                        struct dest_state *ds)
{
    struct cs_object_id id;
    time_t mtime;
    enum cs_status st;

    ds->object = ds->collection = false;
    cs_object_id_init(&id, dst->ns->name, dst->key, dst->key_len);
    st = dav->backend->ops->exists(dav->backend->state, &id, 0);
    if (st == CS_OK)
        ds->object = true;
    else if (st != CS_ERR_NOT_FOUND)
        return st;
    st = collection_exists(dav, dst->ns->name, dst->key, dst->key_len, &mtime);
    if (st == CS_OK)
        ds->collection = true;
    else if (st != CS_ERR_NOT_FOUND)
        return st;
    return CS_OK;
}

/* An object onto dst. The backend replaces an object already there in one
 * rename, so an object destination is never removed first: if the copy
 * fails, it is still there. A collection the object replaces is deleted
 * only once the object is in place. */
static void copy_move_object(const struct cs_dav *dav, const struct cs_route *src,
                             const struct cs_route *dst, const struct dest_state *ds, bool move,
                             bool overwrite, struct cs_reply *out)
{
    const struct cs_backend_ops *ops = dav->backend->ops;
    struct cs_object_id from, to;
    bool created = false;
    enum cs_status st;

    cs_object_id_init(&from, src->ns->name, src->key, src->key_len);
    cs_object_id_init(&to, dst->ns->name, dst->key, dst->key_len);
    st = (move ? ops->move : ops->copy)(dav->backend->state, &from, &to, overwrite,
                                        src->ns->durable, &created);
    if (st == CS_ERR_EXISTS) {
        cs_reply_error(out, 412, "destination exists and Overwrite is F");
        return;
    }
    if (st != CS_OK) {
        cs_reply_error(out, st == CS_ERR_CONFLICT ? 403 : cs_http_status(st), "cannot %s: %s",
                       move ? "move" : "copy", cs_strerror(st));
        return;
    }
    if (ds->collection) {
        st = delete_tree(dav, dst, dst->key, dst->key_len);
        if (st != CS_OK) {
            cs_reply_error(out, cs_http_status(st),
                           "%s done, but the collection it replaces was "
                           "not fully deleted: %s",
                           move ? "move" : "copy", cs_strerror(st));
            return;
        }
    }
    reply_empty(out, ds->object || ds->collection || !created ? 204 : 201);
}

/* A collection onto dst. Overwriting a collection deletes it first (RFC
 * 4918 9.8.4: the result is the source tree, not a merge); an object with
 * the destination's name is removed only after the tree landed. */
static void copy_move_tree(const struct cs_dav *dav, const struct cs_route *src,
                           const struct cs_route *dst, const struct dest_state *ds, bool move,
                           int depth, struct cs_reply *out)
{
    const struct cs_backend_ops *ops = dav->backend->ops;
    char src_dir[CS_KEY_MAX + 2], dst_dir[CS_KEY_MAX + 2];
    struct tree_op t = {.dav = dav,
                        .ns = src->ns->name,
                        .durable = src->ns->durable,
                        .kind = move ? T_MOVE : T_COPY,
                        .src_dir = src_dir,
                        .dst_dir = dst_dir};
    struct cs_object_id id;
    enum cs_status st = CS_OK;

    if (ds->collection) {
        st = delete_tree(dav, dst, dst->key, dst->key_len);
        if (st != CS_OK) {
            cs_reply_error(out, cs_http_status(st), "cannot clear the destination: %s",
                           cs_strerror(st));
            return;
        }
    }
    t.src_len = dir_of(src->key, src->key_len, src_dir);
    t.dst_len = dir_of(dst->key, dst->key_len, dst_dir);
    if (depth == 0) {
        uint64_t seq;
        st = cs_index_put_collection(dav->index, t.ns, dst_dir, t.dst_len, t.durable, &seq);
        if (st == CS_OK)
            st = cs_index_wait(dav->index, seq);
    } else {
        st = tree_apply(&t);
    }
    if (st != CS_OK) {
        cs_reply_error(out, cs_http_status(st), "%s stopped after %zu entries: %s",
                       move ? "move" : "copy", t.done, cs_strerror(st));
        return;
    }
    if (ds->object) {
        cs_object_id_init(&id, dst->ns->name, dst->key, dst->key_len);
        st = ops->remove(dav->backend->state, &id, dst->ns->durable);
        if (st != CS_OK && st != CS_ERR_NOT_FOUND) {
            cs_reply_error(out, cs_http_status(st),
                           "%s done, but the object it replaces was not "
                           "removed: %s",
                           move ? "move" : "copy", cs_strerror(st));
            return;
        }
    }
    reply_empty(out, ds->object || ds->collection ? 204 : 201);
}

/* Every precondition is checked, in this order, before anything is
 * changed: the headers, the source (404), source = destination (403),
 * overlap (403), the destination's parent (409), what the destination
 * holds (409, 412). Only then does one of the two helpers act. */
void cs_dav_copy_move(const struct cs_dav *dav, const struct cs_route *route, bool move,
                      const char *destination, const char *host, const char *overwrite_h,
                      const char *depth_h, struct cs_reply *out)
{
    const char *verb = move ? "MOVE" : "COPY";
    struct dest_state ds;
    struct cs_route dst;
    struct cs_object obj;
    char reason[320];
    bool overwrite, src_object = false;
    time_t mtime;
    int depth = -1; /* infinity */
    enum cs_status st;

    st = cs_destination_parse(dav->cfg, destination, host, route, &dst, reason, sizeof reason);
    if (st != CS_OK) {
        cs_reply_error(out,
                       st == CS_ERR_CONFLICT ? 502
                       : st == CS_ERR_PERM   ? 403
                                             : 400,
                       "%s", reason);
        return;
    }
    if (!parse_overwrite(overwrite_h, &overwrite)) {
        cs_reply_error(out, 400, "Overwrite must be T or F");
        return;
    }
    if (depth_h && strcmp(depth_h, "0") == 0)
        depth = 0;
    else if (depth_h && strcasecmp(depth_h, "infinity") != 0) {
        cs_reply_error(out, 400, "Depth must be 0 or infinity for %s", verb);
        return;
    }
    if (route->key_len == 0) {
        cs_reply_error(out, 403, "the namespace root cannot be moved or copied");
        return;
    }

    if (!route->collection) {
        st = stat_object(dav, route->ns->name, route->key, route->key_len, &obj);
        if (st == CS_OK)
            src_object = true;
        else if (st != CS_ERR_NOT_FOUND) {
            cs_reply_error(out, 500, "cannot read the source: %s", cs_strerror(st));
            return;
        }
    }
    if (!src_object) {
        st = collection_exists(dav, route->ns->name, route->key, route->key_len, &mtime);
        if (!found_or_reply(st, out, 404, "no such object or collection"))
            return;
        if (move && depth == 0) {
            cs_reply_error(out, 400, "MOVE of a collection needs Depth: infinity");
            return;
        }
    }

    /* The destination parser keeps dst in the source's namespace, so the
     * same decoded key is the same resource, however the URI spells it
     * ("obj" and "%6fbj", with or without a trailing slash). */
    if (dst.key_len == route->key_len && memcmp(dst.key, route->key, dst.key_len) == 0) {
        cs_reply_error(out, 403, "source and destination are the same");
        return;
    }
    /* A destination that holds the source would delete the source when it
     * is overwritten; one inside a source collection would be walked while
     * it is written. */
    if (prefix_of(dst.key, dst.key_len, route->key, route->key_len) ||
        (!src_object && prefix_of(route->key, route->key_len, dst.key, dst.key_len))) {
        cs_reply_error(out, 403, "destination overlaps the source%s",
                       src_object ? ": it is a collection holding it" : " collection");
        return;
    }
    /* Unlike PUT (which creates parents: ccache and Bazel never MKCOL),
     * COPY and MOVE need the destination's parent (RFC 4918 9.8.5, 9.9.4). */
    st = parent_exists(dav, dst.ns->name, dst.key, dst.key_len);
    if (!found_or_reply(st, out, 409,
                        "the Destination's parent collection does not exist "
                        "(MKCOL it first)"))
        return;
    st = probe_destination(dav, &dst, &ds);
    if (st != CS_OK) {
        cs_reply_error(out, 500, "cannot look up the destination: %s", cs_strerror(st));
        return;
    }
    if (src_object && dst.collection && !ds.collection) {
        cs_reply_error(out, 409,
                       "Destination ends with '/' but names no collection: an object "
                       "cannot become one");
        return;
    }
    if ((ds.object || ds.collection) && !overwrite) {
        cs_reply_error(out, 412, "destination exists and Overwrite is F");
        return;
    }

    if (src_object)
        copy_move_object(dav, route, &dst, &ds, move, overwrite, out);
    else
        copy_move_tree(dav, route, &dst, &ds, move, depth, out);
}
