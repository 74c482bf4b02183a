/* Request handling on libmicrohttpd.
 *
 * libmicrohttpd calls the access handler several times per request. The
 * first call routes the request and does the storage work; the response is
 * queued on a later call, because queueing on the first call makes
 * libmicrohttpd close keep-alive connections (measured: 20k vs 71k req/s).
 * The exception is a PUT refused before its body: the response is queued at
 * once so that no "100 Continue" is sent and the body is never read.
 *
 * GET hot path: hash key → openat → fstat → response from the fd (sendfile),
 * or from a buffer for small objects (one send for headers and body). No
 * lock is shared by the threads except libmicrohttpd's own. */
#include "autoconfig.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/admin.h"
#include "server/client_kind.h"
#include "server/credentials.h"
#include "server/framing.h"
#include "server/guard.h"
#include "server/http_status.h"
#include "server/http_priv.h"
#include "server/live.h"
#include "server/propfind.h"
#include "server/route.h"
#include "server/s3.h"
#include "server/webdav.h"
#include "storage/disk.h"

static enum cs_method parse_method(const char *m)
{
    switch (m[0]) {
    case 'G': return strcmp(m, "GET") == 0 ? M_GET : M_OTHER;
    case 'H': return strcmp(m, "HEAD") == 0 ? M_HEAD : M_OTHER;
    case 'P':
        if (strcmp(m, "PUT") == 0)
            return M_PUT;
        return strcmp(m, "PROPFIND") == 0 ? M_PROPFIND : M_OTHER;
    case 'D': return strcmp(m, "DELETE") == 0 ? M_DELETE : M_OTHER;
    case 'O': return strcmp(m, "OPTIONS") == 0 ? M_OPTIONS : M_OTHER;
    case 'M':
        if (strcmp(m, "MKCOL") == 0)
            return M_MKCOL;
        return strcmp(m, "MOVE") == 0 ? M_MOVE : M_OTHER;
    case 'C': return strcmp(m, "COPY") == 0 ? M_COPY : M_OTHER;
    default: return M_OTHER;
    }
}

/* Methods that change what is stored need the namespace's write right. */
static bool is_write(enum cs_method m)
{
    return m == M_PUT || m == M_DELETE || m == M_MKCOL || m == M_COPY || m == M_MOVE;
}

static void handle_admin(struct cs_server *srv, struct cs_request *req, const struct cs_route *r,
                         const char *method, const char *url)
{
    struct cs_admin admin = {.cfg = req->policy->cfg,
                             .backend = srv->backend,
                             .stats = srv->stats,
                             .history = srv->history,
                             .auth_limit = srv->auth_limit,
                             .work = srv->work,
                             .hot = srv->hot,
                             .access_log = srv->access_log,
                             .uid = req->uid};
    struct cs_reply reply;

    cs_reply_init(&reply);
    cs_admin_handle(&admin, r->admin, method, &reply);
    http_prepare_reply(req, &reply, method, url);
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static void dav_of(const struct cs_server *srv, const struct cs_request *req, struct cs_dav *dav)
{
    dav->cfg = req->policy->cfg;
    dav->backend = srv->backend;
    dav->index = srv->index;
    dav->list_max = srv->limits.propfind_results;
}

/* MKCOL, COPY, MOVE and DELETE of a collection: in a worker (JOB_DAV). */
static void run_dav(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                    const struct cs_route *route, enum cs_method m, const char *method,
                    const char *url)
{
    struct cs_reply reply;
    struct cs_dav dav;

    dav_of(srv, req, &dav);
    cs_reply_init(&reply);
    switch (m) {
    case M_MKCOL: cs_dav_mkcol(&dav, route, http_has_body(conn), &reply); break;
    case M_DELETE: cs_dav_delete_collection(&dav, route, &reply); break;
    case M_COPY:
    case M_MOVE:
        cs_dav_copy_move(&dav, route, m == M_MOVE, header(conn, "Destination"),
                         header(conn, MHD_HTTP_HEADER_HOST), header(conn, "Overwrite"),
                         header(conn, "Depth"), &reply);
        break;
    default:
        cs_reply_error(&reply, MHD_HTTP_INTERNAL_SERVER_ERROR, "no WebDAV handler for %s", method);
        break;
    }
    http_prepare_reply(req, &reply, method, url);
}

/* The route outlives the first call: a job or a PROPFIND body needs it. */
static bool keep_route(struct cs_request *req, const struct cs_route *route)
{
    if (!req->route)
        req->route = malloc(sizeof *req->route);
    if (!req->route) {
        http_prepare_error(req, req->method, req->url, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "out of memory");
        return false;
    }
    *req->route = *route;
    return true;
}

/* Hands job to a worker with the route kept for it; false when the
 * request is answered instead (503, out of memory). */
static bool start_job(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                      const struct cs_route *route, enum cs_job job)
{
    if (route && req->route != route && !keep_route(req, route))
        return false;
    req->job_first_call = true;
    return http_work_start(srv, req, conn, job);
}

bool http_start_job(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                    enum cs_job job)
{
    return start_job(srv, req, conn, NULL, job);
}

/* WebDAV methods: OPTIONS answers at once; PROPFIND waits for its body;
 * the others may wait for the index or a tier, and go to a worker. */
static void dispatch_dav(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                         const struct cs_route *route, enum cs_method m, const char *method,
                         const char *url)
{
    struct cs_reply reply;
    struct cs_dav dav;

    if (m == M_OPTIONS) {
        dav_of(srv, req, &dav);
        cs_reply_init(&reply);
        cs_dav_options(&dav, route, &reply);
        http_prepare_reply(req, &reply, method, url);
        return;
    }
    if (m == M_PROPFIND) {
        if (keep_route(req, route)) {
            req->propfind = true;
            cs_buf_init(&req->body, CS_PROPFIND_BODY_MAX);
        }
        return;
    }
    start_job(srv, req, conn, route, JOB_DAV);
}

/* The listing, at the end of the PROPFIND body: in a worker. */
static void run_propfind(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                         const char *method, const char *url)
{
    struct cs_reply reply;
    struct cs_dav dav;

    dav_of(srv, req, &dav);
    cs_reply_init(&reply);
    cs_dav_propfind(&dav, req->route, header(conn, "Depth"), req->body.data, req->body.len, &reply);
    http_prepare_reply(req, &reply, method, url);
}

/* Whether the memory tier may answer: on the event threads, in a
 * namespace without remote tiers (a disk hit there refreshes the tiers'
 * copies), while the server is not draining (those answers say close),
 * and not for a conditional GET (the full answer is what it holds). */
static bool memory_tier_applies(const struct cs_server *srv, const struct cs_request *req,
                                struct MHD_Connection *conn, unsigned flags)
{
    return srv->hot && (flags & CS_NOWAIT) && req->ns && req->ns->n_tiers == 0 &&
           !atomic_load_explicit(&srv->draining, memory_order_relaxed) &&
           !MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
}

/* A hit from the memory tier, counted and recorded for LRU order as a
 * disk hit is. */
static bool serve_from_memory(struct cs_server *srv, struct cs_request *req,
                              const struct cs_object_id *id, unsigned version)
{
    struct MHD_Response *resp;
    uint64_t size;
    struct cs_hot_ref *ref = cs_hot_find(srv->hot, id->digest, version, &resp, &size);

    if (!ref)
        return false;
    req->hot = ref;
    req->source = "memory";
    req->response = resp;
    req->shared_response = true;
    req->status = MHD_HTTP_OK;
    req->sent_bytes = size;
    cs_disk_record_read(srv->backend, id);
    cs_stats_lookup(srv->stats, req->ns_slot, cs_route_proto(id->key, id->key_len), true);
    if (req->m == M_GET)
        cs_stats_add(srv->stats, req->ns_slot, CS_STAT_BYTES_OUT, size);
    return true;
}

/* GET or HEAD of an object. CS_NOWAIT: false, with nothing done, when the
 * answer needs a remote tier. */
static bool serve_object(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                         const struct cs_object_id *id, unsigned flags)
{
    const struct cs_backend_ops *ops = srv->backend->ops;
    bool head = req->m == M_HEAD, in_memory = false;
    bool hot = memory_tier_applies(srv, req, conn, flags);
    /* read before the disk is, so a change during the read shows */
    unsigned version = hot ? cs_disk_version(srv->versions, id->digest) : 0;
    struct cs_object obj;
    enum cs_status st;

    if (hot && serve_from_memory(srv, req, id, version))
        return true;
    st = ops->open(srv->backend->state, id,
                   head  ? 0
                   : hot ? HOT_OBJECT_MAX
                         : SMALL_OBJECT_MAX,
                   flags, &obj);
    if (st == CS_ERR_WOULD_BLOCK)
        return false;
    in_memory = st == CS_OK && obj.body != NULL;
    if (st == CS_OK && (st = http_prepare_object(req, conn, &obj, head)) != CS_OK) {
        http_prepare_error(req, req->method, req->url, cs_http_status(st),
                           st == CS_ERR_OVERLOAD ? "too many compressed objects are being sent "
                                                   "decompressed at once; retry later"
                                                 : "the stored object cannot be sent: see the "
                                                   "server log");
    } else if (st == CS_OK) {
        req->source = flags & CS_NOWAIT ? "disk" : "tier"; /* a worker's: after a fetch */
        cs_stats_lookup(srv->stats, req->ns_slot, cs_route_proto(id->key, id->key_len), true);
        if (!head && req->status == MHD_HTTP_OK)
            cs_stats_add(srv->stats, req->ns_slot, CS_STAT_BYTES_OUT, req->sent_bytes);
        if (hot && in_memory && !head && req->status == MHD_HTTP_OK &&
            (req->hot = cs_hot_keep(srv->hot, id->digest, version, req->response,
                                    req->sent_bytes)) != NULL)
            req->shared_response = true; /* the memory tier's now */
    } else if (st == CS_ERR_NOT_FOUND) {
        http_prepare_miss(srv, req);
        cs_stats_lookup(srv->stats, req->ns_slot, cs_route_proto(id->key, id->key_len), false);
    } else {
        http_prepare_error(req, req->method, req->url, cs_http_status(st), cs_strerror(st));
    }
    return true;
}

/* DELETE of an object, or of a collection when no object has the name. */
/* DELETE of an object, or of a collection when no object has the name:
 * false (on the event thread, in_worker false) when that walk is left to
 * a worker. */
static bool run_delete(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                       const struct cs_route *route, bool in_worker)
{
    struct cs_object_id id;
    enum cs_status st;

    cs_object_id_init(&id, route->ns->name, route->key, route->key_len);
    st = srv->backend->ops->remove(srv->backend->state, &id, route->ns->durable);
    if (st == CS_OK)
        http_prepare_empty(req, MHD_HTTP_NO_CONTENT);
    else if (st == CS_ERR_NOT_FOUND && !in_worker)
        return false;
    else if (st == CS_ERR_NOT_FOUND)
        run_dav(srv, req, conn, route, M_DELETE, req->method, req->url); /* maybe a collection */
    else
        http_prepare_error(req, req->method, req->url, cs_http_status(st), cs_strerror(st));
    return true;
}

/* Object methods: what the disk answers at once is answered here; what
 * may wait goes to a worker. */
static void dispatch_object(struct cs_server *srv, struct cs_request *req,
                            struct MHD_Connection *conn, const struct cs_route *route)
{
    struct cs_object_id id;

    cs_object_id_init(&id, route->ns->name, route->key, route->key_len);
    switch (req->m) {
    case M_GET:
    case M_HEAD:
        if (!serve_object(srv, req, conn, &id, CS_NOWAIT))
            start_job(srv, req, conn, route, JOB_OPEN);
        break;
    case M_PUT:
        if (!http_begin_put(srv, req, conn, &id, CS_NOWAIT, req->method, req->url))
            start_job(srv, req, conn, route, JOB_PUT_BEGIN);
        break;
    case M_DELETE:
        if (route->ns->durable || route->ns->n_tiers > 0)
            start_job(srv, req, conn, route, JOB_DELETE);
        else if (!run_delete(srv, req, conn, route, false))
            start_job(srv, req, conn, route, JOB_DAV); /* maybe a collection: a walk */
        break;
    default: break;
    }
}

/* A PUT body read and dropped for read_only_puts: announced with a length
 * within the namespace's max_blob_size and DISCARD_MAX. */
static bool droppable_body(struct MHD_Connection *conn, const struct cs_namespace_config *ns)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    unsigned long long n;

    if (!cl || !*cl)
        return false;
    n = strtoull(cl, &end, 10);
    return *end == '\0' && n <= ns->max_blob_size && n <= DISCARD_MAX;
}

/* Routing and access, on the first call (and again after a JOB_AUTH);
 * the response waits for a later call. */
static void dispatch(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                     const char *url, const char *method)
{
    const struct cs_config *cfg = req->policy->cfg;
    enum cs_method m = req->m;
    struct cs_route route;
    char reason[REASON_MAX];
    enum http_auth auth;
    enum cs_status st;

    if (!http_within_limits(srv, req, method, url))
        return;
    if (m == M_OPTIONS && strcmp(url, "*") == 0) {
        dispatch_dav(srv, req, conn, NULL, m, method, url);
        return;
    }
    st = cs_route_parse(cfg, url, &route, reason, sizeof reason);
    req->ns = route.kind == CS_ROUTE_OBJECT ? route.ns : NULL;
    auth = http_authenticate(srv, req, conn, method, url);
    if (auth == HTTP_AUTH_SLOW && !start_job(srv, req, conn, NULL, JOB_AUTH))
        http_auth_cancel(srv, req);
    if (auth != HTTP_AUTH_OK)
        return;
    if (st == CS_OK && route.kind == CS_ROUTE_ADMIN) {
        if (cs_admin_blocks(route.admin, method))
            start_job(srv, req, conn, &route, JOB_ADMIN);
        else
            handle_admin(srv, req, &route, method, url);
        return;
    }
    if (req->ns && cs_config_rights(req->ns, req->uid) == 0) {
        /* A client with no right on a namespace gets the answer a missing
         * one gets, word for word: it cannot learn which names exist. */
        snprintf(reason, sizeof reason, "unknown namespace '%s'", req->ns->name);
        req->ns = NULL;
        st = CS_ERR_NOT_FOUND;
    }
    if (req->ns)
        req->ns_slot = (size_t)(req->ns - cfg->namespaces);
    if (m == M_OTHER) {
        http_prepare_method_not_allowed(req, method, url, ALLOW_OBJECT);
        return;
    }
    if (!req->ns && req->uid < 0 && cfg->n_users) {
        /* an anonymous client learns nothing, not even which namespaces exist */
        http_prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED, "credentials needed");
        return;
    }
    if (st == CS_OK && m == M_PUT && req->ns && req->ns->drop_read_only_puts &&
        (cs_config_rights(req->ns, req->uid) & (CS_RIGHT_READ | CS_RIGHT_WRITE)) == CS_RIGHT_READ &&
        droppable_body(conn, req->ns)) {
        /* Gradle turns its remote cache off for the whole build after one
         * refused PUT, reads too: a reader's write is taken and dropped.
         * Only a body the server would read and drop anyway (announced,
         * within max_blob_size and DISCARD_MAX); others get the refusal. */
        http_prepare_empty(req, MHD_HTTP_ACCEPTED);
        cs_stats_add(srv->stats, req->ns_slot, CS_STAT_DROPPED_WRITES, 1);
        return;
    }
    if (req->ns && m != M_OPTIONS &&
        !http_authorize(req, req->ns, is_write(m) ? CS_RIGHT_WRITE : CS_RIGHT_READ, method, url))
        return;
    if (st != CS_OK) {
        http_prepare_error(req, method, url, cs_http_status(st), reason);
        return;
    }
    if (m != M_GET && m != M_HEAD && m != M_PUT && !(m == M_DELETE && !route.collection)) {
        dispatch_dav(srv, req, conn, &route, m, method, url);
        return;
    }
    if (route.collection) {
        http_prepare_error(req, method, url, MHD_HTTP_BAD_REQUEST,
                           route.key_len
                               ? "path ends with '/': it names a collection, not an object"
                               : "no key after the namespace: use /<namespace>/<key>");
        return;
    }
    dispatch_object(srv, req, conn, &route);
}

void http_run_job(struct cs_server *srv, struct cs_request *req)
{
    struct MHD_Connection *conn = req->conn;
    struct cs_object_id id;

    if (req->route && req->route->kind == CS_ROUTE_OBJECT)
        cs_object_id_init(&id, req->route->ns->name, req->route->key, req->route->key_len);
    if (req->s3 && (req->job == JOB_OPEN || req->job == JOB_DELETE || req->job == JOB_S3)) {
        s3_run_job(srv, req);
        return;
    }
    switch (req->job) {
    case JOB_AUTH: http_verify_password(srv, req); break;
    case JOB_OPEN: serve_object(srv, req, conn, &id, 0); break;
    case JOB_PUT_BEGIN: http_begin_put(srv, req, conn, &id, 0, req->method, req->url); break;
    case JOB_PUT_FLUSH: http_flush_put(srv, req, req->method, req->url); break;
    case JOB_PUT_COMMIT: http_commit_put(srv, req, 0, req->method, req->url); break;
    case JOB_DELETE: (void)run_delete(srv, req, conn, req->route, true); break;
    case JOB_DAV: run_dav(srv, req, conn, req->route, req->m, req->method, req->url); break;
    case JOB_PROPFIND: run_propfind(srv, req, conn, req->method, req->url); break;
    case JOB_ADMIN: handle_admin(srv, req, req->route, req->method, req->url); break;
    case JOB_S3: /* S3 requests only, above */
    case JOB_NONE: break;
    }
}

/* Debug-level access log: one line per answered request. */
static void log_access(const struct cs_request *req, const char *method, const char *url)
{
    if (cs_log_enabled(CS_LOG_DEBUG))
        cs_log(CS_LOG_DEBUG, "ns=%s %s %s: %u", req->ns ? req->ns->name : "-", method, url,
               req->status);
}

static enum MHD_Result queue(struct cs_server *srv, struct MHD_Connection *conn,
                             struct cs_request *req)
{
    enum MHD_Result rc;

    req->queued = true;
    log_access(req, req->method, req->url);
    if (req->s3)
        s3_finish_response(req);
    if (!req->response)
        return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
    if (!req->shared_response && atomic_load_explicit(&srv->draining, memory_order_relaxed))
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONNECTION, "close");
    rc = MHD_queue_response(conn, req->status, req->response);
    if (!req->shared_response)
        MHD_destroy_response(req->response);
    req->response = NULL;
    cs_hot_unpin(req->hot); /* queued: libmicrohttpd holds the response now */
    req->hot = NULL;
    return rc;
}

/* A request whose framing is not sound is answered at once, before its
 * body, and its connection closed: the bytes after it cannot be trusted
 * to start the next request. */
static bool refuse_framing(struct cs_request *req, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version)
{
    unsigned status;
    const char *why =
        cs_framing_check(conn, url, version, req->target_len, &status, &req->header_bytes);

    if (!why)
        return false;
    http_prepare_error(req, method, url, status, why);
    if (req->response)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONNECTION, "close");
    return true;
}

/* The request line is parsed: the request's state starts here, with the
 * target's length before libmicrohttpd cuts it at '?' or decodes it. */
void *http_on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct cs_request *req = calloc(1, sizeof *req);

    (void)cls;
    (void)conn;
    if (req) {
        req->target_len = strlen(uri);
        req->uid = -1; /* anonymous until authenticated (the access log names it) */
    }
    return req; /* NULL: http_on_request makes one */
}

/* The end of a first call (or of the job it started): only a refusal may
 * be answered before the body. */
static enum MHD_Result end_first_call(struct cs_server *srv, struct cs_request *req,
                                      struct MHD_Connection *conn)
{
    if (req->job != JOB_NONE)
        return MHD_YES; /* suspended */
    if (req->status >= 400 && http_has_body(conn) && http_refuse_before_body(conn))
        return queue(srv, conn, req);
    return MHD_YES;
}

static const char *client_kind(const struct cs_request *req, struct MHD_Connection *conn,
                               const char *url)
{
    enum cs_method m = req->m;

    return cs_client_kind(
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT),
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Gradle-Version") != NULL,
        m == M_PROPFIND || m == M_MKCOL || m == M_COPY || m == M_MOVE || m == M_OPTIONS, url);
}

static uint64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static enum cs_stat_method stat_method(enum cs_method m)
{
    switch (m) {
    case M_GET: return CS_SM_GET;
    case M_HEAD: return CS_SM_HEAD;
    case M_PUT: return CS_SM_PUT;
    case M_DELETE: return CS_SM_DELETE;
    default: return CS_SM_OTHER;
    }
}

/* The request's duration (first call to the end of the answer) in its
 * namespace's histogram, and its status if it was a refusal. A request
 * counts in a namespace when its client has a right there: one without
 * (anonymous, wrong credentials) is told the namespace is not there. */
static void count_request(struct cs_server *srv, const struct cs_request *req)
{
    size_t slot = CS_STATS_NO_NS;

    if (req->ns && req->policy && cs_config_rights(req->ns, req->uid) != 0)
        slot = (size_t)(req->ns - req->policy->cfg->namespaces);
    cs_stats_request(srv->stats, slot, stat_method(req->m), mono_us() - req->start_us, req->status);
}

static enum MHD_Result first_call(struct cs_server *srv, struct cs_request *req,
                                  struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version)
{
    req->started = true;
    req->start_us = mono_us();
    req->method = method;
    req->url = url;
    req->m = parse_method(method);
    req->policy = cs_live_enter(&srv->live, &req->ticket);
    cs_conn_phase(http_conn_of(conn), CS_CONN_REQUEST);
    if (refuse_framing(req, conn, url, method, version))
        return queue(srv, conn, req);
    bool s3 = s3_is_request(srv, req, conn);
    if (srv->access_log)
        req->proto = s3 ? "s3" : client_kind(req, conn, url);
    if (s3)
        s3_dispatch(srv, req, conn);
    else
        dispatch(srv, req, conn, url, method);
    return end_first_call(srv, req, conn);
}

static enum MHD_Result body_call(struct cs_server *srv, struct cs_request *req,
                                 struct MHD_Connection *conn, const char *data,
                                 size_t *upload_data_size);
static enum MHD_Result last_call(struct cs_server *srv, struct cs_request *req,
                                 struct MHD_Connection *conn);

/* The access handler is called again after a job: carry on from where the
 * job left off. */
static enum MHD_Result after_job(struct cs_server *srv, struct cs_request *req,
                                 struct MHD_Connection *conn, const char *data,
                                 size_t *upload_data_size)
{
    enum cs_job job = req->job;
    bool first = req->job_first_call;

    req->job = JOB_NONE;
    req->job_first_call = false;
    if (job == JOB_AUTH) /* who the client is is known now: on with the request */
        dispatch(srv, req, conn, req->url, req->method);
    if (first)
        return end_first_call(srv, req, conn);
    if (job == JOB_PUT_FLUSH) /* its bytes were taken: this is the next call */
        return *upload_data_size ? body_call(srv, req, conn, data, upload_data_size)
                                 : last_call(srv, req, conn);
    return req->queued ? MHD_YES : queue(srv, conn, req); /* the last call's job */
}

/* A chunk of body. libmicrohttpd 0.9.75 cannot answer in the middle of a
 * body: after a failure the rest is dropped and the answer waits for its
 * end. */
static enum MHD_Result body_call(struct cs_server *srv, struct cs_request *req,
                                 struct MHD_Connection *conn, const char *data,
                                 size_t *upload_data_size)
{
    size_t len = *upload_data_size;

    *upload_data_size = 0;
    if (req->s3) {
        if (!s3_body(srv, req, data, len) && !http_work_start(srv, req, conn, JOB_PUT_FLUSH))
            http_put_drop(srv, req); /* refused (503): drop the rest */
    } else if (req->upload) {
        /* once the job is handed over, the worker owns the request */
        if (!http_continue_put(srv, req, data, len, CS_NOWAIT, req->method, req->url) &&
            !http_work_start(srv, req, conn, JOB_PUT_FLUSH))
            http_put_drop(srv, req); /* refused (503): drop the rest */
    } else if (req->propfind) {
        (void)cs_buf_add(&req->body, data, len); /* an overflow is answered at the end */
    }
    return MHD_YES;
}

/* The body is in (or there was none): finish, and answer. */
static enum MHD_Result last_call(struct cs_server *srv, struct cs_request *req,
                                 struct MHD_Connection *conn)
{
    enum cs_job job = JOB_NONE;

    if (req->s3 && s3_end_body(srv, req))
        job = JOB_S3;
    else if (req->upload && !http_commit_put(srv, req, CS_NOWAIT, req->method, req->url))
        job = JOB_PUT_COMMIT;
    else if (req->propfind && !req->response && req->body.overflow)
        http_prepare_error(req, req->method, req->url, MHD_HTTP_CONTENT_TOO_LARGE,
                           "PROPFIND body over 64 KiB");
    else if (req->propfind && !req->response)
        job = JOB_PROPFIND;
    if (job != JOB_NONE && http_work_start(srv, req, conn, job))
        return MHD_YES;
    if (job == JOB_PUT_COMMIT)
        http_put_drop(srv, req); /* refused (503): nothing is stored */
    return req->queued ? MHD_YES : queue(srv, conn, req);
}

/* libmicrohttpd 0.9.75 goes on calling the access handler with the body
 * chunks it holds (a chunked body) after the handler suspended the
 * connection: the job still runs, and the request is not ours to touch. */
static bool suspended(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_SUSPENDED);

    return ci && ci->suspended;
}

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls)
{
    struct cs_server *srv = cls;
    struct cs_request *req = *req_cls;

    if (!req) { /* http_on_request_line was out of memory */
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->target_len = (size_t)-1;
        req->uid = -1;
        *req_cls = req;
    }
    if (!req->started)
        return first_call(srv, req, conn, url, method, version);
    if (req->job != JOB_NONE && suspended(conn))
        return MHD_YES; /* the bytes stay: they come again after the resume */
    if (req->job != JOB_NONE)
        return after_job(srv, req, conn, upload_data, upload_data_size);
    if (*upload_data_size > 0)
        return body_call(srv, req, conn, upload_data, upload_data_size);
    return last_call(srv, req, conn);
}

/* The request's line in the access log. */
static void log_request(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                        bool complete)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct cs_config *cfg = req->policy ? req->policy->cfg : NULL;
    const char *ns = req->ns ? req->ns->name : NULL, *target = req->url ? req->url : "";
    size_t ns_len = ns ? strlen(ns) : 0;
    uint64_t now_us = mono_us();

    if (ns && target[0] == '/' && strncmp(target + 1, ns, ns_len) == 0 && target[1 + ns_len] == '/')
        target += ns_len + 2; /* the key, as received */
    struct cs_access_entry e = {
        .client = ci ? ci->client_addr : NULL,
        .user = cfg && req->uid >= 0 && (size_t)req->uid < cfg->n_users ? cfg->users[req->uid].name
                                                                        : NULL,
        .method = req->method ? req->method : "-",
        .ns = ns,
        .target = target,
        .status = req->status,
        .in = req->received,
        .out = req->source && req->m == M_GET && req->status == MHD_HTTP_OK ? req->sent_bytes : 0,
        .us = req->start_us && now_us > req->start_us ? now_us - req->start_us : 0,
        .proto = req->proto,
        .source = req->source,
        .complete = complete,
    };
    cs_access_log_write(srv->access_log, &e);
}

void http_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe)
{
    struct cs_server *srv = cls;
    struct cs_request *req = *req_cls;

    (void)toe;
    if (!req)
        return;
    if (!req->started) { /* refused by libmicrohttpd before the access handler */
        free(req);
        *req_cls = NULL;
        return;
    }
    if (srv->access_log)
        log_request(srv, req, conn, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    http_put_drop(srv, req); /* an aborted or failed upload leaves nothing behind */
    count_request(srv, req);
    if (req->response && !req->shared_response)
        MHD_destroy_response(req->response);
    cs_hot_unpin(req->hot);
    http_auth_cancel(srv, req);
    s3_request_free(req);
    free(req->route);
    cs_buf_free(&req->body);
    cs_live_leave(&srv->live, req->ticket);
    free(req);
    *req_cls = NULL;
    cs_conn_phase(http_conn_of(conn), CS_CONN_HEADERS);
}

/* Every connection is known to the guard, which enforces its time limits
 * and the listener's connection cap. */
void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    const struct cs_listener_ref *ref = cls;
    struct cs_server *srv = ref->srv;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? cs_guard_add(&srv->guard, ci->connect_fd, ref->index) : NULL;
    } else {
        cs_guard_remove(&srv->guard, *socket_context);
        *socket_context = NULL;
    }
}

/* The path arrives still percent-encoded: cs_key_normalize decodes it, so
 * that %00 or %2e%2e can be judged after decoding. */
size_t http_keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}
