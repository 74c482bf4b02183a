/* Minimal HTTP/1.1: Content-Length or chunked bodies, keep-alive with one
 * retry when a reused connection turns out closed, every wait bounded by
 * poll(2) against the request's deadline. The bytes read are parsed by
 * client/http_response.c. */
#include "autoconfig.h"

#include "client/http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/http_response.h"
#include "client/resolve.h"
#include "common/base64.h"

/* The request line and headers: room for long bearer tokens, and as much
 * as cstashd takes by default (limits.header_size). */
#define MAX_REQUEST_HEAD (16 * 1024)
/* An error answer body up to this size is read for its first line. */
#define ERROR_BODY_MAX 4096

struct cs_http {
    char *host, *port, *path, *host_header, *auth;
    int fd;
    bool reused; /* the connection has carried a request before */
    uint32_t connect_timeout_ms, timeout_ms;
    bool unreachable;
    char error[256];
    char reason[200];   /* the first line of the last error answer's body */
    struct cs_bytes in; /* bytes read but not consumed */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int pct(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes s[0..n) into a new string. */
static char *unescape(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && pct(s[i + 1]) >= 0 && pct(s[i + 2]) >= 0) {
            out[o++] = (char)(pct(s[i + 1]) * 16 + pct(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static char *auth_header(const char *kind, const char *cred)
{
    size_t n = strlen(kind) + strlen(cred) + 32;
    char *h = malloc(n);
    if (h)
        snprintf(h, n, "Authorization: %s %s\r\n", kind, cred);
    return h;
}

struct cs_http *cs_http_open(const char *url, const char *token, uint32_t connect_timeout_ms,
                             uint32_t timeout_ms, const char **why)
{
    if (strncmp(url, "http://", 7) != 0) {
        *why = "not an http:// URL";
        return NULL;
    }
    struct cs_http *h = calloc(1, sizeof *h);
    if (!h) {
        *why = "out of memory";
        return NULL;
    }
    h->fd = -1;
    h->connect_timeout_ms = connect_timeout_ms;
    h->timeout_ms = timeout_ms;
    const char *auth = url + 7;
    const char *slash = strchr(auth, '/');
    const char *end = slash ? slash : auth + strlen(auth);
    const char *at = memchr(auth, '@', (size_t)(end - auth));
    const char *hp = at ? at + 1 : auth;
    *why = "bad URL";
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        char *user = unescape(auth, (size_t)((colon ? colon : at) - auth));
        char *pass = colon ? unescape(colon + 1, (size_t)(at - colon - 1)) : strdup("");
        size_t ul = user ? strlen(user) : 0, pl = pass ? strlen(pass) : 0;
        char *plain = user && pass ? malloc(ul + pl + 2) : NULL;
        char *b64 = plain ? malloc(cs_base64_encoded_len(ul + pl + 1) + 1) : NULL;
        if (b64) {
            snprintf(plain, ul + pl + 2, "%s:%s", user, pass);
            cs_base64_encode((uint8_t *)plain, ul + pl + 1, b64);
            h->auth = auth_header("Basic", b64);
        }
        free(user);
        free(pass);
        free(plain);
        free(b64);
        if (!h->auth) {
            cs_http_close(h);
            return NULL;
        }
    }
    if (token) {
        free(h->auth);
        if (!(h->auth = auth_header("Bearer", token))) {
            cs_http_close(h);
            return NULL;
        }
    }
    /* host, [v6], :port */
    const char *hend, *colon = NULL;
    if (*hp == '[') {
        const char *rb = memchr(hp, ']', (size_t)(end - hp));
        if (!rb) {
            cs_http_close(h);
            return NULL;
        }
        h->host = strndup(hp + 1, (size_t)(rb - hp - 1));
        hend = rb + 1;
        if (hend < end && *hend == ':')
            colon = hend;
    } else {
        colon = memchr(hp, ':', (size_t)(end - hp));
        hend = colon ? colon : end;
        h->host = strndup(hp, (size_t)(hend - hp));
    }
    h->port = colon ? strndup(colon + 1, (size_t)(end - colon - 1)) : strdup("80");
    h->host_header = strndup(hp, (size_t)(end - hp));
    h->path = strdup(slash ? slash : "");
    if (!h->host || !h->port || !h->host_header || !h->path || !h->host[0] || !h->port[0]) {
        cs_http_close(h);
        return NULL;
    }
    size_t pl = strlen(h->path);
    while (pl && h->path[pl - 1] == '/')
        h->path[--pl] = '\0';
    return h;
}

static void drop(struct cs_http *h)
{
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    h->reused = false;
    h->in.len = 0;
}

static enum cs_status request_failed(struct cs_http *h, enum cs_status rc, bool unreachable,
                                     const char *what)
{
    h->unreachable = unreachable;
    snprintf(h->error, sizeof h->error, "%s", what);
    drop(h);
    return rc;
}

/* Waits for events on the socket until the deadline; false on timeout. */
static bool wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return true;
        if (n == 0)
            return false;
        if (errno != EINTR)
            return false;
    }
}

static enum cs_status open_connection(struct cs_http *h)
{
    /* The connect timeout covers the name lookup too (as libcurl's does). */
    int64_t deadline = now_ms() + h->connect_timeout_ms;
    struct addrinfo *res = NULL;
    const char *why = "";
    enum cs_status rc = cs_resolve(h->host, h->port, h->connect_timeout_ms, &res, &why);
    if (rc != CS_OK) {
        snprintf(h->error, sizeof h->error, "cannot resolve %s: %s", h->host, why);
        h->unreachable = true;
        return rc == CS_ERR_BUSY ? CS_ERR_BUSY : CS_ERR_IO;
    }
    rc = CS_ERR_IO;
    bool timed_out = false;
    for (struct addrinfo *ai = res; ai && rc != CS_OK; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int err = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                socklen_t sl = sizeof err;
                if (!wait_fd(fd, POLLOUT, deadline)) {
                    err = ETIMEDOUT;
                    timed_out = true;
                } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0) {
                    err = errno;
                }
            }
        }
        if (err == 0) {
            h->fd = fd;
            h->reused = false;
            h->in.len = 0;
            rc = CS_OK;
        } else {
            snprintf(h->error, sizeof h->error, "connect to %s:%s: %s", h->host, h->port,
                     strerror(err));
            close(fd);
        }
    }
    freeaddrinfo(res);
    if (rc != CS_OK)
        h->unreachable = true;
    return rc != CS_OK && timed_out ? CS_ERR_BUSY : rc;
}

static enum cs_status send_all(struct cs_http *h, const void *data, size_t len, int64_t deadline)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = send(h->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(h->fd, POLLOUT, deadline))
                return CS_ERR_BUSY;
            continue;
        }
        return CS_ERR_IO;
    }
    return CS_OK;
}

/* Reads more into h->in; CS_ERR_NOT_FOUND at EOF. */
static enum cs_status fill(struct cs_http *h, int64_t deadline)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = recv(h->fd, chunk, sizeof chunk, 0);
        if (n > 0)
            return cs_bytes_append(&h->in, chunk, (size_t)n);
        if (n == 0)
            return CS_ERR_NOT_FOUND;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_fd(h->fd, POLLIN, deadline))
                return CS_ERR_BUSY;
            continue;
        }
        return CS_ERR_IO;
    }
}

static void consume(struct cs_http *h, size_t n)
{
    memmove(h->in.data, h->in.data + n, h->in.len - n);
    h->in.len -= n;
}

/* Reads until h->in holds the response's head, then consumes it. */
static enum cs_status read_head(struct cs_http *h, bool head_request, struct cs_http_head *head,
                                int64_t deadline, const char **why)
{
    for (;;) {
        size_t used;
        enum cs_status rc = cs_http_head_parse(h->in.data, h->in.len, head_request,
                                               &cs_http_limits_default, head, &used, why);
        if (rc != CS_OK)
            return rc;
        if (used) {
            consume(h, used);
            return CS_OK;
        }
        rc = fill(h, deadline);
        if (rc != CS_OK)
            return rc == CS_ERR_NOT_FOUND ? CS_ERR_IO : rc;
    }
}

/* Reads the body that head announces to out (NULL: dropped). */
static enum cs_status read_body(struct cs_http *h, const struct cs_http_head *head,
                                struct cs_bytes *out, int64_t deadline)
{
    struct cs_http_body b;
    enum cs_status rc = cs_http_body_start(&b, head, &cs_http_limits_default);
    while (rc == CS_OK) {
        size_t used;
        rc = cs_http_body_feed(&b, h->in.data, h->in.len, out, &used);
        if (rc != CS_OK)
            break;
        consume(h, used);
        if (b.done)
            break;
        rc = fill(h, deadline);
        if (rc == CS_ERR_NOT_FOUND) {
            rc = cs_http_body_end(&b, h->in.data, h->in.len, out);
            h->in.len = 0;
        }
    }
    return rc;
}

/* The request line and headers into req[MAX_REQUEST_HEAD]; their length,
 * 0 when they do not fit. */
static size_t request_head(const struct cs_http *h, const char *method, const char *rel,
                           bool with_length, size_t len, char *req)
{
    int n =
        snprintf(req, MAX_REQUEST_HEAD,
                 "%s %s/%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cstash/" PACKAGE_VERSION "\r\n%s",
                 method, h->path, rel, h->host_header, h->auth ? h->auth : "");
    if (n < 0 || (size_t)n >= MAX_REQUEST_HEAD - 64)
        return 0;
    if (with_length)
        n += snprintf(req + n, MAX_REQUEST_HEAD - (size_t)n, "Content-Length: %zu\r\n", len);
    n += snprintf(req + n, MAX_REQUEST_HEAD - (size_t)n, "\r\n");
    return (size_t)n;
}

/* One attempt on the current connection. *retry: the server had closed a
 * reused connection before answering, so the request may be sent again. */
static enum cs_status attempt(struct cs_http *h, const char *method, const char *rel,
                              const void *body, size_t len, struct cs_bytes *out, int *status,
                              bool *retry)
{
    *retry = false;
    int64_t deadline = now_ms() + h->timeout_ms;
    bool was_reused = h->reused;
    char req[MAX_REQUEST_HEAD];
    size_t n = request_head(h, method, rel, body || strcmp(method, "PUT") == 0, len, req);
    if (!n)
        return request_failed(h, CS_ERR_INVALID, false, "request headers over 16 KiB");
    h->reused = true;
    struct cs_http_head head;
    const char *why = "";
    enum cs_status rc = send_all(h, req, n, deadline);
    if (rc == CS_OK && len)
        rc = send_all(h, body, len, deadline);
    if (rc == CS_OK)
        rc = read_head(h, strcmp(method, "HEAD") == 0, &head, deadline, &why);
    if (rc != CS_OK) {
        /* Closed before the status line: a reused connection the server
         * had given up on. */
        bool no_line = !h->in.len || !memchr(h->in.data, '\n', h->in.len);
        if (rc != CS_ERR_BUSY && rc != CS_ERR_INVALID && was_reused && no_line) {
            *retry = true;
            drop(h);
            return rc;
        }
        if (rc == CS_ERR_BUSY)
            why = "timed out";
        else if (rc != CS_ERR_INVALID)
            why = no_line ? "connection lost" : "bad response headers";
        return request_failed(h, rc, rc == CS_ERR_BUSY, why);
    }
    *status = head.status;
    /* an error body is dropped, but for its first line when it is small */
    struct cs_bytes err_body = {0};
    bool keep_reason =
        head.status != 200 && head.framing == CS_HTTP_LENGTH && head.length <= ERROR_BODY_MAX;
    rc = read_body(h, &head, head.status == 200 ? out : keep_reason ? &err_body : NULL, deadline);
    cs_first_line(err_body.data, err_body.len, h->reason, sizeof h->reason);
    cs_bytes_free(&err_body);
    if (rc != CS_OK)
        return request_failed(h, rc, rc == CS_ERR_BUSY,
                              rc == CS_ERR_BUSY ? "timed out reading the body"
                                                : "bad response body");
    bool close_after = head.close;
    if (close_after)
        drop(h);
    h->unreachable = false;
    return CS_OK;
}

enum cs_status cs_http_request(struct cs_http *h, const char *method, const char *rel,
                               const void *body, size_t len, struct cs_bytes *out, int *status)
{
    *status = 0;
    h->error[0] = '\0';
    h->reason[0] = '\0';
    for (int tries = 0; tries < 2; tries++) {
        if (h->fd < 0) {
            enum cs_status rc = open_connection(h);
            if (rc != CS_OK)
                return rc;
        }
        bool retry;
        size_t out_len = out ? out->len : 0;
        enum cs_status rc = attempt(h, method, rel, body, len, out, status, &retry);
        if (!retry)
            return rc;
        if (out)
            out->len = out_len;
    }
    h->unreachable = true;
    snprintf(h->error, sizeof h->error, "connection closed by the server");
    return CS_ERR_IO;
}

bool cs_http_unreachable(const struct cs_http *h)
{
    return h->unreachable;
}

const char *cs_http_reason(const struct cs_http *h)
{
    return h->reason;
}

const char *cs_http_error(const struct cs_http *h)
{
    return h->error;
}

void cs_http_close(struct cs_http *h)
{
    if (!h)
        return;
    drop(h);
    cs_bytes_free(&h->in);
    free(h->host);
    free(h->port);
    free(h->path);
    free(h->host_header);
    free(h->auth);
    free(h);
}
