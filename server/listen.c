/* Creating listening sockets with clear errors. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/config.h"
#include "server/listen.h"

/* A deep backlog: ccache gives up connecting after 100 ms. */
#define LISTEN_BACKLOG 4096

static const char *bind_hint(int err)
{
    switch (err) {
    case EADDRINUSE: return " (another process, maybe another cstashd, uses this port)";
    case EACCES: return " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
    case EADDRNOTAVAIL: return " (no such address on this machine)";
    default: return "";
    }
}

static void describe(const struct sockaddr *sa, struct cs_listener *out)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        port = ntohs(s6->sin6_port);
        snprintf(out->url, sizeof out->url, "http://[%s]:%u", host, port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        port = ntohs(s4->sin_port);
        snprintf(out->url, sizeof out->url, "http://%s:%u", host, port);
    }
}

enum cs_status cs_listen_open(const char *addr, struct cs_listener *out, char *why, size_t why_len)
{
    struct addrinfo hints, *res = NULL;
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    char host[256], port_text[8];
    uint16_t port;
    int fd, one = 1, rc, err;

    if (cs_parse_listen_addr(addr, host, sizeof host, &port) != CS_OK) {
        snprintf(why, why_len, "invalid listen address '%s': use host:port or [ipv6]:port", addr);
        return CS_ERR_INVALID;
    }
    snprintf(port_text, sizeof port_text, "%u", port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port_text, &hints, &res);
    if (rc != 0) {
        snprintf(why, why_len, "cannot listen on %s: %s", addr, gai_strerror(rc));
        return CS_ERR_INVALID;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = errno;
        freeaddrinfo(res);
        snprintf(why, why_len, "cannot listen on %s: %s", addr, strerror(err));
        return cs_status_from_errno(err);
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (res->ai_family == AF_INET6) /* [::] and 0.0.0.0 can then both be listed */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    out->ipv6 = res->ai_family == AF_INET6;
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        err = errno;
        freeaddrinfo(res);
        close(fd);
        snprintf(why, why_len, "cannot listen on %s: %s%s", addr, strerror(err), bind_hint(err));
        return err == EADDRINUSE ? CS_ERR_BUSY : cs_status_from_errno(err);
    }
    freeaddrinfo(res);
    if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0) {
        err = errno;
        close(fd);
        snprintf(why, why_len, "cannot listen on %s: %s", addr, strerror(err));
        return cs_status_from_errno(err);
    }
    describe((const struct sockaddr *)&bound, out);
    out->fd = fd;
    return CS_OK;
}

bool cs_addr_is_loopback(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}
