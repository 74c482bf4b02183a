/* The HTTP front end: libmicrohttpd daemons (one per listening socket,
 * each with its own epoll thread pool) and the request state machine that
 * turns GET/HEAD/PUT/DELETE into storage operations. */
#ifndef CS_HTTP_H
#define CS_HTTP_H

#include <stddef.h>

#include "common/status.h"
#include "server/config.h"
#include "server/listen.h"
#include "storage/backend.h"

struct cs_server;

/* Starts serving on the given sockets (ownership of their fds passes to
 * the server). The server owns cfg from here on, whatever the outcome;
 * backend must outlive the server. CS_ERR_INVALID: TLS files unusable
 * (logged). */
enum cs_status cs_server_start(struct cs_config *cfg, const struct cs_backend *backend,
                               const struct cs_listener *listeners, size_t n,
                               struct cs_server **out);

/* The config in force (main thread; valid until the next reload). */
const struct cs_config *cs_server_config(struct cs_server *srv);

/* Replaces users, ACLs and namespace settings without dropping a request:
 * requests in flight finish under the config they began with. The server
 * takes cfg, except on CS_ERR_BUSY (a previous reload still has requests
 * in flight: retry later with the same cfg). CS_ERR_INVALID: cfg changes
 * what needs a restart (why says what). */
enum cs_status cs_server_reload(struct cs_server *srv, struct cs_config *cfg, char *why,
                                size_t why_len);
/* Frees a replaced config once its requests are done; true when none is
 * left. Call now and then (main's loop does, every second). */
bool cs_server_reclaim(struct cs_server *srv);
/* SIGUSR1: the access log is opened again (logrotate moved it). */
void cs_server_reopen_logs(struct cs_server *srv);

/* Housekeeping the main loop does about once a second: takes a sample of
 * every namespace's figures for the status page when one is due. */
void cs_server_tick(struct cs_server *srv);

/* Stops accepting new connections; requests already in flight go on. */
void cs_server_quiesce(struct cs_server *srv);

/* Requests currently being processed (thread-safe). */
unsigned cs_server_active(struct cs_server *srv);

/* Closes every connection, joins the threads and frees the server. */
void cs_server_stop(struct cs_server *srv);

#endif
