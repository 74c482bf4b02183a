/* The access log: see access_log.h. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/access_log.h"

/* Per-thread buffer: at 30,000 requests/s a thread fills 256 KiB of
 * ~250-byte lines in about 35 ms, well within the writer's wake-up. */
#define BUF_BYTES (1024 * 1024)
#define WAKE_AT (256 * 1024)
#define FLUSH_MS 100
#define EXIT_FLUSH_MS 2000
/* A line: the longest target (limits.url_length, at most 1 MiB) would not
 * fit escaped; such a line is dropped and counted. */
#define LOG_LINE_MAX (64 * 1024)

struct buffer {
    size_t used;
    char data[BUF_BYTES];
};

struct slot {
    pthread_mutex_t lock; /* the owner thread and the writer */
    struct buffer *buf;
    struct slot *next;
};

struct cs_access_log {
    uint64_t id;
    char *path; /* NULL: stdout */
    int fd;
    pthread_mutex_t lock; /* slots, stop, kicked */
    pthread_cond_t wake;
    struct slot *slots;
    bool stop, kicked;
    atomic_bool reopen;
    atomic_uint_fast64_t dropped;
    pthread_t writer;
    struct buffer *spare;           /* the writer's */
    bool write_failed;              /* the last write failed: said once */
    bool stream;                    /* a pipe or socket: writes wait by poll (wait_writable) */
    atomic_int_fast64_t exit_by_ms; /* stopping: give up on a full stream then; 0: not */
};

static atomic_uint_fast64_t log_ids = 1;
static __thread struct slot *tls_slot;
static __thread uint64_t tls_slot_owner;

/* --- formatting ------------------------------------------------------- */

struct out {
    char *p, *end;
    bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || (size_t)(o->end - o->p) < n) {
        o->full = true;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

static void put_s(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_u(struct out *o, uint64_t v)
{
    char tmp[24];
    size_t n = sizeof tmp;

    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(o, tmp + n, sizeof tmp - n);
}

/* A JSON string: quotes, backslashes, control characters and bytes
 * outside ASCII escaped (\u00XX), so every line is valid JSON. */
static void put_json(struct out *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    if (!s) {
        put(o, "null", 4);
        return;
    }
    put(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(o, e, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(o, e, 6);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
    put(o, "\"", 1);
}

static void put_time(struct out *o, int64_t ms)
{
    static __thread int64_t cached_sec = -1;
    static __thread char prefix[32];
    static __thread size_t prefix_len;
    int64_t sec = ms / 1000;
    unsigned frac = (unsigned)(ms % 1000);
    char f[6] = {
        '.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10), (char)('0' + frac % 10), 'Z',
        '"'};

    if (sec != cached_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        prefix_len = strftime(prefix, sizeof prefix, "\"%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = sec;
    }
    put(o, prefix, prefix_len);
    put(o, f, sizeof f);
}

static void put_client(struct out *o, const struct sockaddr *sa)
{
    char text[INET6_ADDRSTRLEN];
    const char *s = NULL;

    if (sa && sa->sa_family == AF_INET) { /* by hand: inet_ntop was half the line's cost */
        const uint8_t *a =
            (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        struct out t = {text, text + sizeof text, false};
        for (int i = 0; i < 4; i++) {
            if (i)
                put(&t, ".", 1);
            put_u(&t, a[i]);
        }
        put(&t, "", 1);
        s = text;
    } else if (sa && sa->sa_family == AF_INET6)
        s = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, text,
                      sizeof text);
    put_json(o, s);
}

size_t cs_access_log_format(const struct cs_access_entry *e, int64_t ms, char *buf, size_t cap)
{
    struct out o = {buf, buf + cap, false};

    put_s(&o, "{\"time\":");
    put_time(&o, ms);
    put_s(&o, ",\"client\":");
    put_client(&o, e->client);
    put_s(&o, ",\"user\":");
    put_json(&o, e->user);
    put_s(&o, ",\"method\":");
    put_json(&o, e->method);
    put_s(&o, ",\"ns\":");
    put_json(&o, e->ns);
    put_s(&o, ",\"key\":");
    put_json(&o, e->target);
    put_s(&o, ",\"status\":");
    put_u(&o, e->status);
    put_s(&o, ",\"in\":");
    put_u(&o, e->in);
    put_s(&o, ",\"out\":");
    put_u(&o, e->out);
    put_s(&o, ",\"us\":");
    put_u(&o, e->us);
    put_s(&o, ",\"proto\":");
    put_json(&o, e->proto);
    if (e->source) {
        put_s(&o, ",\"source\":");
        put_json(&o, e->source);
    }
    if (!e->complete)
        put_s(&o, ",\"complete\":false");
    put_s(&o, "}\n");
    return o.full ? 0 : (size_t)(o.p - buf);
}

/* --- the writer -------------------------------------------------------- */

static int open_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until a pipe or socket takes bytes; false when the server is
 * stopping and has waited EXIT_FLUSH_MS: a stdout nobody reads must not
 * hold the exit. */
static bool wait_writable(struct cs_access_log *log)
{
    for (;;) {
        struct pollfd pfd = {.fd = log->fd, .events = POLLOUT};
        int64_t until = atomic_load(&log->exit_by_ms);
        if (poll(&pfd, 1, 100) > 0)
            return true;
        if (until && mono_ms() >= until) {
            cs_log(CS_LOG_ERROR, "access log %s: not writable at exit; lines are dropped",
                   log->path ? log->path : "(stdout)");
            return false;
        }
    }
}

/* Writes buf out whole; false (the lines counted as dropped) on failure.
 * To a pipe or socket, at most PIPE_BUF bytes after each poll, which it
 * then takes without blocking. */
static bool write_all(struct cs_access_log *log, const char *p, size_t n)
{
    while (n > 0) {
        size_t chunk = n;
        if (log->stream) {
            if (!wait_writable(log))
                return false;
            if (chunk > PIPE_BUF)
                chunk = PIPE_BUF;
        }
        ssize_t w = write(log->fd, p, chunk);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!log->write_failed)
                cs_log(CS_LOG_ERROR, "access log %s: write failed: %s; lines are dropped",
                       log->path ? log->path : "(stdout)", w < 0 ? strerror(errno) : "no progress");
            log->write_failed = true;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    log->write_failed = false;
    return true;
}

static size_t count_lines(const struct buffer *b)
{
    size_t i, n = 0;

    for (i = 0; i < b->used; i++)
        n += b->data[i] == '\n';
    return n;
}

static void reopen_file(struct cs_access_log *log)
{
    int fd;

    if (!log->path)
        return;
    fd = open_file(log->path);
    if (fd < 0) {
        cs_log(CS_LOG_ERROR, "access log %s: cannot open it again: %s; still writing the old file",
               log->path, strerror(errno));
        return;
    }
    close(log->fd);
    log->fd = fd;
    struct stat st;
    log->stream = fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    cs_log(CS_LOG_INFO, "access log %s opened again", log->path);
}

/* Takes each thread's lines and writes them out. */
static void flush_all(struct cs_access_log *log)
{
    struct slot *s;

    pthread_mutex_lock(&log->lock);
    s = log->slots;
    pthread_mutex_unlock(&log->lock);
    /* slots are only ever added at the head: the list from s on is fixed */
    for (; s; s = s->next) {
        struct buffer *full;
        pthread_mutex_lock(&s->lock);
        if (s->buf->used == 0) {
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        full = s->buf;
        s->buf = log->spare;
        pthread_mutex_unlock(&s->lock);
        if (!write_all(log, full->data, full->used))
            atomic_fetch_add(&log->dropped, count_lines(full));
        full->used = 0;
        log->spare = full;
    }
}

static void *writer_main(void *arg)
{
    struct cs_access_log *log = arg;
    bool stop = false;

    while (!stop) {
        struct timespec until;
        pthread_mutex_lock(&log->lock);
        if (!log->kicked && !log->stop) {
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += FLUSH_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&log->wake, &log->lock, &until);
        }
        log->kicked = false;
        stop = log->stop;
        pthread_mutex_unlock(&log->lock);
        if (atomic_exchange(&log->reopen, false))
            reopen_file(log);
        flush_all(log); /* after stop too: the last lines go out */
    }
    return NULL;
}

enum cs_status cs_access_log_open(const char *path, struct cs_access_log **out, char *why,
                                  size_t why_len)
{
    struct cs_access_log *log = calloc(1, sizeof *log);
    bool to_stdout = strcmp(path, "-") == 0;

    if (!log || !(log->spare = malloc(sizeof *log->spare)) ||
        (!to_stdout && !(log->path = strdup(path)))) {
        if (log)
            free(log->spare);
        free(log);
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    log->spare->used = 0;
    log->fd = to_stdout ? STDOUT_FILENO : open_file(path);
    if (log->fd < 0) {
        snprintf(why, why_len, "cannot open the access log %s: %s", path, strerror(errno));
        free(log->path);
        free(log->spare);
        free(log);
        return CS_ERR_IO;
    }
    struct stat st;
    log->stream = fstat(log->fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    atomic_init(&log->exit_by_ms, 0);
    log->id = atomic_fetch_add(&log_ids, 1);
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->wake, NULL);
    atomic_init(&log->reopen, false);
    atomic_init(&log->dropped, 0);
    if (pthread_create(&log->writer, NULL, writer_main, log) != 0) {
        snprintf(why, why_len, "cannot start the access log's writer thread");
        if (log->path)
            close(log->fd);
        pthread_mutex_destroy(&log->lock);
        pthread_cond_destroy(&log->wake);
        free(log->path);
        free(log->spare);
        free(log);
        return CS_ERR_NOMEM;
    }
    *out = log;
    return CS_OK;
}

void cs_access_log_close(struct cs_access_log *log)
{
    if (!log)
        return;
    atomic_store(&log->exit_by_ms, mono_ms() + EXIT_FLUSH_MS);
    pthread_mutex_lock(&log->lock);
    log->stop = true;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->writer, NULL);
    while (log->slots) {
        struct slot *s = log->slots;
        log->slots = s->next;
        pthread_mutex_destroy(&s->lock);
        free(s->buf);
        free(s);
    }
    if (log->path)
        close(log->fd);
    pthread_mutex_destroy(&log->lock);
    pthread_cond_destroy(&log->wake);
    free(log->path);
    free(log->spare);
    free(log);
}

void cs_access_log_reopen(struct cs_access_log *log)
{
    if (!log)
        return;
    atomic_store(&log->reopen, true);
    pthread_mutex_lock(&log->lock);
    log->kicked = true;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
}

uint64_t cs_access_log_dropped(const struct cs_access_log *log)
{
    return log ? atomic_load(&log->dropped) : 0;
}

static struct slot *slot_for(struct cs_access_log *log)
{
    struct slot *s;

    if (tls_slot && tls_slot_owner == log->id)
        return tls_slot;
    s = calloc(1, sizeof *s);
    if (!s || !(s->buf = malloc(sizeof *s->buf))) {
        free(s);
        return NULL;
    }
    s->buf->used = 0;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_lock(&log->lock);
    s->next = log->slots;
    log->slots = s;
    pthread_mutex_unlock(&log->lock);
    tls_slot = s;
    tls_slot_owner = log->id;
    return s;
}

void cs_access_log_write(struct cs_access_log *log, const struct cs_access_entry *e)
{
    static __thread char line[LOG_LINE_MAX];
    struct slot *s = slot_for(log);
    struct timespec now;
    size_t n;
    bool kick;

    clock_gettime(CLOCK_REALTIME, &now);
    n = cs_access_log_format(e, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, line,
                             sizeof line);
    if (!s || n == 0) {
        atomic_fetch_add_explicit(&log->dropped, 1, memory_order_relaxed);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (s->buf->used + n > BUF_BYTES) {
        pthread_mutex_unlock(&s->lock);
        atomic_fetch_add_explicit(&log->dropped, 1, memory_order_relaxed);
        return;
    }
    memcpy(s->buf->data + s->buf->used, line, n);
    kick = s->buf->used < WAKE_AT && s->buf->used + n >= WAKE_AT;
    s->buf->used += n;
    pthread_mutex_unlock(&s->lock);
    if (kick) {
        pthread_mutex_lock(&log->lock);
        log->kicked = true;
        pthread_cond_signal(&log->wake);
        pthread_mutex_unlock(&log->lock);
    }
}
