/* Internals shared by the HTTP front end's files: http.c (dispatch and the
 * libmicrohttpd callbacks), http_access.c (who the client is, what it may
 * do), http_response.c (answers), http_put.c (uploads), http_work.c (work
 * that leaves the event threads) and http_server.c (daemons, TLS, reload).
 * Not for use outside server/. */
#ifndef CS_HTTP_PRIV_H
#define CS_HTTP_PRIV_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/access_log.h"
#include "server/auth_limit.h"
#include "server/guard.h"
#include "server/history.h"
#include "server/hot.h"
#include "server/http.h"
#include "server/live.h"
#include "server/propfind.h"
#include "server/stats.h"
#include "server/webdav.h"
#include "server/work.h"
#include "storage/index.h"

struct cs_credentials;

/* Objects up to this size are read into memory and sent with their
 * headers in one go; larger ones are sent from the fd with sendfile. */
#define SMALL_OBJECT_MAX (32 * 1024)
/* Objects up to this size are read into memory when the memory tier may
 * keep them: sent from memory on later hits (server/hot.h). */
#define HOT_OBJECT_MAX (128 * 1024)
/* Bytes of connection memory: bounds how much of a body one call sees,
 * and the headers libmicrohttpd accepts (limits.header_size is checked
 * exactly in dispatch, within this bound; start_daemon raises it to the
 * headers plus 16 KiB). libmicrohttpd's own default: 64 KiB was 0.81x of
 * it on 1 KiB hits and 0.76x on misses at 64 connections, and PUTs of
 * 64 KiB were no faster (bench/results/2026-12-02-pool). */
#define CONNECTION_MEMORY (32 * 1024)
#define REASON_MAX 320
/* Refused bodies up to this size are read and dropped, keeping the
 * connection; larger ones get their answer before the body. */
#define DISCARD_MAX (1024 * 1024)

#define ALLOW_OBJECT CS_DAV_ALLOW

struct cs_server {
    const struct cs_backend *backend;
    struct cs_index *index;
    struct cs_live live;     /* config and users; replaced by reloads */
    struct cs_limits limits; /* from the first config: fixed until restart */
    struct cs_guard guard;
    struct cs_auth_limit *auth_limit; /* failed password hashes per client address */
    struct cs_stats *stats;
    struct cs_history *history; /* samples for the status page, taken by cs_server_tick */
    struct MHD_Daemon *daemons[CS_MAX_LISTEN];
    size_t n_daemons;
    struct cs_listener_ref { /* what a daemon's connection callback is told */
        struct cs_server *srv;
        unsigned index;
    } refs[CS_MAX_LISTEN];
    struct cs_work_pool *work;               /* blocking work, off the event threads */
    struct MHD_Response *miss;               /* shared 404 for misses, the most common answer */
    struct cs_hot *hot;                      /* small objects ready to send; NULL when off */
    const struct cs_disk_versions *versions; /* the disk's change counters, for hot */
    struct cs_access_log *access_log;        /* NULL when off */
    struct cs_auth_flight *auth_flight;      /* one hash per credential at a time */
    atomic_bool draining;
    atomic_uint_fast64_t s3_request_seq; /* x-amz-request-id: a random start, then +1 */
    struct cs_s3_keycache *s3_keys;      /* derived SigV4 signing keys */
    char *tls_cert, *tls_key, *tls_ca;   /* PEM text for libmicrohttpd */
};

enum cs_method {
    M_GET,
    M_HEAD,
    M_PUT,
    M_DELETE,
    M_OPTIONS,
    M_PROPFIND,
    M_MKCOL,
    M_COPY,
    M_MOVE,
    M_OTHER
};

/* Work of a request that may block, done by the worker pool while the
 * connection is suspended (http_work.c). Each is the same code the event
 * thread would run, asked again without CS_NOWAIT. */
enum cs_job {
    JOB_NONE,
    JOB_AUTH,       /* a password hash (first call) */
    JOB_OPEN,       /* GET/HEAD missed the disk of a tiered namespace (first call) */
    JOB_PUT_BEGIN,  /* the CAS check on a remote tier, or a wait for quota (first call) */
    JOB_PUT_FLUSH,  /* body bytes that wait for quota (a body call) */
    JOB_PUT_COMMIT, /* fsync, index wait or remote tier (the last call) */
    JOB_DELETE,     /* durable or tiered (first call) */
    JOB_DAV,        /* MKCOL, COPY, MOVE, DELETE of a collection (first call) */
    JOB_PROPFIND,   /* the listing (the last call) */
    JOB_ADMIN,      /* a purge (first call) */
    JOB_S3,         /* an S3 listing, bucket call, copy, batch delete or multipart step */
};

/* Per-request state, made when the request line arrives (on_request_line)
 * and freed in on_completed. */
struct cs_request {
    bool started;                   /* the access handler has seen it */
    uint64_t start_us;              /* then, on the monotonic clock: for its duration */
    size_t target_len;              /* strlen of the raw target, or (size_t)-1 */
    size_t header_bytes;            /* the headers' size, from the framing check */
    const struct cs_policy *policy; /* held from the first call to completion */
    unsigned ticket;                /* for cs_live_leave */
    int uid;                        /* the client: a user, or -1 (anonymous) */
    struct MHD_Response *response;  /* prepared, queued on the next call */
    unsigned status;
    bool shared_response;   /* srv->miss or the memory tier's: never destroyed here */
    struct cs_hot_ref *hot; /* the memory tier's copy response is, pinned until queued */
    const char *proto;      /* the client kind, for the access log; NULL: unknown */
    const char *source;     /* a hit's: "memory", "disk", "tier"; NULL otherwise */
    uint64_t sent_bytes;    /* body bytes of a GET answer, as sent */
    bool queued;
    struct cs_upload *upload; /* PUT in progress: owned here, until commit or http_put_drop */
    const struct cs_namespace_config *ns;
    size_t ns_slot; /* ns's index in the config, for the counters */
    uint64_t received;
    uint64_t limit;         /* max_blob_size for this PUT */
    struct cs_route *route; /* kept for PROPFIND's body and for jobs */
    struct cs_buf body;     /* PROPFIND body */
    bool propfind;          /* route is kept for a PROPFIND body */

    /* work handed to the pool (http_work.c) */
    struct cs_work work;
    struct cs_server *srv;
    struct MHD_Connection *conn;
    const char *method, *url; /* libmicrohttpd's: valid until completion */
    enum cs_method m;
    enum cs_job job;                    /* in a worker, or done and not yet seen */
    bool job_first_call;                /* the job was started by the first call */
    struct cs_credentials *cred;        /* JOB_AUTH: to verify */
    bool auth_throttled;                /* JOB_AUTH found the address's budget spent */
    unsigned retry_s;                   /* then: when it may try again */
    const struct sockaddr *client_addr; /* JOB_AUTH: whose failure budget it spends */
    bool auth_done;                     /* JOB_AUTH ran: auth_result is its outcome */
    int auth_result;                    /* enum cs_auth_result */
    struct cs_s3_req *s3;               /* an S3 request's own state (server/s3_priv.h) */
};

/* http.c: the libmicrohttpd callbacks */
void *http_on_request_line(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe);
void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code);
size_t http_keep_escaped(void *cls, struct MHD_Connection *conn, char *s);

/* http.c: hands job to a worker, as started by the first call; false
 * when the request is answered instead (503). */
bool http_start_job(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                    enum cs_job job);

/* http.c: does req->job in the calling thread (a worker). */
void http_run_job(struct cs_server *srv, struct cs_request *req);

/* http_work.c. Hands req->job (set by the caller) to the pool and
 * suspends the connection: true. false when the pool's queue is full,
 * with a 503 prepared. Called from the access handler only. */
bool http_work_start(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                     enum cs_job job);

/* http_access.c. Each false return means the answer is prepared. */
struct cs_conn *http_conn_of(struct MHD_Connection *conn);
/* Request target and header sizes against the limits: 414 / 431. */
bool http_within_limits(struct cs_server *srv, struct cs_request *req, const char *method,
                        const char *url);
enum http_auth {
    HTTP_AUTH_OK,       /* req->uid is the client */
    HTTP_AUTH_ANSWERED, /* refused: the answer is prepared */
    HTTP_AUTH_SLOW,     /* a password hash decides: req->cred holds it for JOB_AUTH */
};
/* Who the client is: req->uid (401 when the credentials are wrong). After
 * a JOB_AUTH, gives its outcome. */
enum http_auth http_authenticate(struct cs_server *srv, struct cs_request *req,
                                 struct MHD_Connection *conn, const char *method, const char *url);
/* JOB_AUTH, in a worker: the hash of req->cred. */
void http_verify_password(struct cs_server *srv, struct cs_request *req);
/* Drops what a JOB_AUTH that will not run kept; idempotent. */
void http_auth_cancel(struct cs_server *srv, struct cs_request *req);
/* Whether the client has the right need on ns (401 / 403 if not). */
bool http_authorize(struct cs_request *req, const struct cs_namespace_config *ns, unsigned need,
                    const char *method, const char *url);

/* http_response.c: each sets req->response and req->status. */
void http_prepare_error(struct cs_request *req, const char *method, const char *url,
                        unsigned status, const char *reason);
void http_prepare_method_not_allowed(struct cs_request *req, const char *method, const char *url,
                                     const char *allow);
void http_prepare_empty(struct cs_request *req, unsigned status);
void http_prepare_miss(struct cs_server *srv, struct cs_request *req);
/* The response for an opened object; CS_OK, or why there is none (the
 * object is released either way). */
enum cs_status http_prepare_object(struct cs_request *req, struct MHD_Connection *conn,
                                   struct cs_object *obj, bool head);
/* A HEAD answer of size bytes, with no body to read (libmicrohttpd never
 * reads a HEAD's body): no decompressor, no fd. */
struct MHD_Response *http_head_response(uint64_t size);
/* A WebDAV or admin handler's reply becomes the response (r is freed). */
void http_prepare_reply(struct cs_request *req, struct cs_reply *r, const char *method,
                        const char *url);

/* http_put.c */
bool http_has_body(struct MHD_Connection *conn);
/* Whether a refusal of a request with a body is sent before the body. */
bool http_refuse_before_body(struct MHD_Connection *conn);
/* PUT, first call: checks that must happen before any byte of the body.
 * flags CS_NOWAIT: false, with nothing done, when the rest must wait (for
 * a remote tier or for quota); true otherwise. */
bool http_begin_put(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                    const struct cs_object_id *id, unsigned flags, const char *method,
                    const char *url);
/* PUT, a body call: len bytes. With CS_NOWAIT, false when the bytes are
 * taken but some wait for quota: http_flush_put in a worker, before the
 * next call. A refusal (too large, disk full) prepares the answer and
 * drops the upload. */
bool http_continue_put(struct cs_server *srv, struct cs_request *req, const char *data, size_t len,
                       unsigned flags, const char *method, const char *url);
/* The upload's one way out other than its commit: nothing is left behind. */
void http_put_drop(struct cs_server *srv, struct cs_request *req);
void http_flush_put(struct cs_server *srv, struct cs_request *req, const char *method,
                    const char *url);
/* PUT, the last call: commit and answer. With CS_NOWAIT, false and nothing
 * committed when the commit would wait (fsync, index, tiers, quota). */
bool http_commit_put(struct cs_server *srv, struct cs_request *req, unsigned flags,
                     const char *method, const char *url);

#endif
