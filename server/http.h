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
 * the server). cfg and backend must outlive the server. */
enum cs_status cs_server_start(const struct cs_config *cfg, const struct cs_backend *backend,
                               const struct cs_listener *listeners, size_t n,
                               struct cs_server **out);

/* Stops accepting new connections; requests already in flight go on. */
void cs_server_quiesce(struct cs_server *srv);

/* Requests currently being processed (thread-safe). */
unsigned cs_server_active(const struct cs_server *srv);

/* Closes every connection, joins the threads and frees the server. */
void cs_server_stop(struct cs_server *srv);

#endif
