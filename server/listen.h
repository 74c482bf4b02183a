/* Listening sockets. cstashd opens them itself (rather than letting
 * libmicrohttpd do it) to report "port in use" clearly and to support
 * port 0 for tests. */
#ifndef CS_LISTEN_H
#define CS_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/status.h"

struct sockaddr;

struct cs_listener {
    int fd;
    bool ipv6;
    char url[300]; /* "http://127.0.0.1:8080", with the real port when 0 was asked */
};

/* Opens a non-blocking listening socket for "host:port" / "[v6]:port".
 * On failure why gets a one-line explanation. */
enum cs_status cs_listen_open(const char *addr, struct cs_listener *out, char *why, size_t why_len);

/* Whether a client address is this host's loopback: 127.0.0.0/8, ::1, or
 * an IPv4-mapped 127.x.y.z. NULL is not. */
bool cs_addr_is_loopback(const struct sockaddr *sa);

#endif
