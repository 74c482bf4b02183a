/* The server's life: libmicrohttpd daemons (one per listening socket,
 * each with its epoll thread pool), TLS, reload, quiesce and stop. */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/auth_flight.h"
#include "server/s3.h"
#include "server/s3_sigv4.h"
#include "server/http_priv.h"
#include "storage/disk.h"
#include "storage/usage.h"

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* libmicrohttpd says this for every failed handshake, most often a
     * client that does not trust our certificate and hangs up. */
    if (strstr(msg, "handshake message out of context")) {
        cs_log(CS_LOG_WARN,
               "TLS handshake failed (libmicrohttpd: %s); a client that does not trust "
               "the certificate does this, see docs/security.md",
               msg);
        return;
    }
    cs_log(CS_LOG_WARN, "libmicrohttpd: %s", msg);
}

/* A whole PEM file as a string for libmicrohttpd; NULL and a log line
 * when it cannot be read. */
static char *read_pem(const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (!f) {
        cs_log(CS_LOG_ERROR, "cannot read %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *grown = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (!grown || cap > (1u << 20)) {
                cs_log(CS_LOG_ERROR, "%s %s is too large for a PEM file", what, path);
                free(grown ? grown : buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    if (!strstr(buf, "-----BEGIN ")) {
        cs_log(CS_LOG_ERROR, "%s %s is not a PEM file", what, path);
        free(buf);
        return NULL;
    }
    return buf;
}

static enum cs_status load_tls(struct cs_server *srv, const struct cs_config *cfg)
{
    size_t i;
    bool any = false;

    for (i = 0; i < cfg->n_listen; i++)
        any |= cfg->listen_tls[i];
    if (!any)
        return CS_OK;
    srv->tls_cert = read_pem(cfg->tls_cert, "tls_cert");
    srv->tls_key = read_pem(cfg->tls_key, "tls_key");
    if (cfg->tls_client_ca)
        srv->tls_ca = read_pem(cfg->tls_client_ca, "tls_client_ca");
    if (!srv->tls_cert || !srv->tls_key || (cfg->tls_client_ca && !srv->tls_ca))
        return CS_ERR_INVALID;
    return CS_OK;
}

/* Connections libmicrohttpd may hold per listener above limits.connections,
 * which the guard enforces: at its own limit libmicrohttpd stops accepting
 * and new clients hang in the backlog instead of being served. It splits
 * its limit among the threads, so each thread gets room for the whole cap. */
#define MHD_HEADROOM 64

static struct MHD_Daemon *start_daemon(struct cs_server *srv, const struct cs_config *cfg,
                                       const struct cs_listener *l, bool tls, unsigned index)
{
    struct MHD_OptionItem opts[24];
    size_t n = 0;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (l->ipv6 ? MHD_USE_IPv6 : 0) |
                     (tls ? MHD_USE_TLS : 0);
    size_t memory = CONNECTION_MEMORY;

    if (srv->limits.header_size + 16 * 1024 > memory)
        memory = srv->limits.header_size + 16 * 1024;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)}
    OPT(MHD_OPTION_LISTEN_SOCKET, l->fd, NULL);
    OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL);
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, srv->limits.idle_timeout_s, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, (srv->limits.connections + MHD_HEADROOM) * cfg->threads, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->limits.connections_per_ip, NULL);
    if (tls) {
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key);
        if (srv->tls_ca)
            OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->tls_ca);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    return MHD_start_daemon(flags, 0, NULL, NULL, http_on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, srv,
                            MHD_OPTION_NOTIFY_CONNECTION, http_on_connection, &srv->refs[index],
                            MHD_OPTION_UNESCAPE_CALLBACK, http_keep_escaped, NULL,
                            MHD_OPTION_URI_LOG_CALLBACK, http_on_request_line, NULL,
                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

static void free_server(struct cs_server *srv)
{
    if (srv->miss)
        MHD_destroy_response(srv->miss);
    cs_hot_free(srv->hot);
    cs_access_log_close(srv->access_log);
    cs_work_pool_free(srv->work);
    cs_history_free(srv->history);
    cs_stats_free(srv->stats);
    cs_auth_limit_free(srv->auth_limit);
    cs_auth_flight_free(srv->auth_flight);
    cs_s3_keycache_free(srv->s3_keys);
    cs_guard_stop(&srv->guard);
    cs_live_destroy(&srv->live);
    free(srv->tls_cert);
    free(srv->tls_key);
    free(srv->tls_ca);
    free(srv);
}

/* The memory tier's room is shared among the event threads of every
 * listener: each has a cache of its own. */
static enum cs_status start_memory_tier(struct cs_server *srv, const struct cs_config *cfg,
                                        size_t n_listeners)
{
    uint64_t threads = (uint64_t)cfg->threads * (n_listeners ? n_listeners : 1);

    srv->versions = cs_disk_versions(srv->backend);
    if (cfg->limits.memory_cache == 0 || !srv->versions)
        return CS_OK;
    return cs_hot_new(cfg->limits.memory_cache / threads, HOT_OBJECT_MAX, &srv->hot);
}

enum cs_status cs_server_start(struct cs_config *cfg, const struct cs_backend *backend,
                               const struct cs_listener *listeners, size_t n,
                               struct cs_server **out)
{
    static const char miss_body[] = "not found\n";
    struct cs_server *srv = calloc(1, sizeof *srv);
    struct cs_policy *policy = NULL;
    enum cs_status st;
    size_t i;

    if (!srv) {
        cs_config_free(cfg);
        return CS_ERR_NOMEM;
    }
    st = cs_policy_new(cfg, &policy);
    if (st != CS_OK) {
        cs_config_free(cfg);
        free(srv);
        return st;
    }
    cs_live_init(&srv->live, policy);
    srv->backend = backend;
    srv->limits = cfg->limits;
    srv->index = cs_disk_index(backend);
    atomic_init(&srv->draining, false);
    st = cs_guard_start(&srv->guard, cfg->limits.header_timeout_s, cfg->limits.request_timeout_s,
                        cfg->limits.connections);
    if (st == CS_OK && !srv->index)
        st = CS_ERR_INVALID;
    if (st == CS_OK)
        st = cs_stats_new(cfg->n_namespaces, &srv->stats);
    if (st == CS_OK)
        st = cs_history_new(cfg->n_namespaces, cfg->stats_interval_s, mono_ms(), &srv->history);
    if (st == CS_OK)
        st = cs_auth_limit_new(cfg->limits.auth_failures, &srv->auth_limit);
    if (st == CS_OK)
        st = cs_auth_flight_new(&srv->auth_flight);
    if (st == CS_OK && !(srv->s3_keys = cs_s3_keycache_new()))
        st = CS_ERR_NOMEM;
    if (st == CS_OK)
        st = s3_request_id_seed(srv);
    if (st == CS_OK)
        st = cs_work_pool_new(cfg->limits.workers, cfg->limits.work_queue, &srv->work);
    if (st == CS_OK)
        st = load_tls(srv, cfg);
    if (st == CS_OK)
        st = start_memory_tier(srv, cfg, n);
    if (st == CS_OK && cfg->access_log) {
        char why[320];
        st = cs_access_log_open(cfg->access_log, &srv->access_log, why, sizeof why);
        if (st != CS_OK)
            cs_log(CS_LOG_ERROR, "%s", why);
    }
    if (st == CS_OK) {
        srv->miss = MHD_create_response_from_buffer(sizeof miss_body - 1, (void *)miss_body,
                                                    MHD_RESPMEM_PERSISTENT);
        if (!srv->miss)
            st = CS_ERR_NOMEM;
        else
            MHD_add_response_header(srv->miss, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    "text/plain; charset=utf-8");
    }
    if (st != CS_OK) {
        free_server(srv);
        return st;
    }
    for (i = 0; i < n; i++) {
        srv->refs[i] = (struct cs_listener_ref){srv, (unsigned)i};
        struct MHD_Daemon *d =
            start_daemon(srv, cfg, &listeners[i], cfg->listen_tls[i], (unsigned)i);
        if (!d) {
            cs_log(CS_LOG_ERROR, "cannot start the HTTP server on %s", listeners[i].url);
            cs_server_stop(srv);
            return CS_ERR_IO;
        }
        srv->daemons[srv->n_daemons++] = d;
    }
    *out = srv;
    return CS_OK;
}

void cs_server_reopen_logs(struct cs_server *srv)
{
    cs_access_log_reopen(srv->access_log);
}

const struct cs_config *cs_server_config(struct cs_server *srv)
{
    return atomic_load(&srv->live.current)->cfg;
}

enum cs_status cs_server_reload(struct cs_server *srv, struct cs_config *cfg, char *why,
                                size_t why_len)
{
    const struct cs_config *old = cs_server_config(srv);
    struct cs_policy *policy;
    struct cs_disk_ns *ns;
    enum cs_status st;
    size_t i;

    if (!cs_config_reloadable(old, cfg, why, why_len)) {
        cs_config_free(cfg);
        return CS_ERR_INVALID;
    }
    if (!cs_live_reclaim(&srv->live)) {
        snprintf(why, why_len, "requests of the config before the last reload are in flight");
        return CS_ERR_BUSY; /* cfg stays the caller's */
    }
    ns = calloc(cfg->n_namespaces, sizeof *ns);
    if (!ns) {
        cs_config_free(cfg);
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    for (i = 0; i < cfg->n_namespaces; i++) {
        ns[i].name = cfg->namespaces[i].name;
        ns[i].max_size = cfg->namespaces[i].max_size;
    }
    cs_disk_set_limits(srv->backend, cfg->max_size, ns, cfg->n_namespaces);
    free(ns);
    st = cs_policy_new(cfg, &policy);
    if (st != CS_OK) {
        cs_config_free(cfg);
        snprintf(why, why_len, "%s", cs_strerror(st));
        return st;
    }
    cs_live_publish(&srv->live, policy);
    return CS_OK;
}

/* A namespace's figures now, for its history (the main thread). */
static void read_point(void *arg, size_t slot, struct cs_history_point *p)
{
    struct cs_server *srv = arg;
    const struct cs_namespace_config *ns = &cs_server_config(srv)->namespaces[slot];
    struct cs_usage *u = cs_disk_usage(srv->backend);
    const struct cs_usage_ns *un = u ? cs_usage_find(u, ns->name, strlen(ns->name)) : NULL;
    struct cs_stats_ns f;

    cs_stats_sum_ns(srv->stats, slot, &f);
    p->requests = f.requests;
    p->hits = f.c[CS_STAT_HITS];
    p->misses = f.c[CS_STAT_MISSES];
    p->puts = f.c[CS_STAT_PUTS];
    p->bytes_in = f.c[CS_STAT_BYTES_IN];
    p->bytes_out = f.c[CS_STAT_BYTES_OUT];
    if (un) {
        p->objects = atomic_load(&un->objects);
        p->bytes = cs_usage_ns_used(un);
        p->evictions = atomic_load(&un->evictions);
    }
}

void cs_server_tick(struct cs_server *srv)
{
    time_t now = time(NULL);

    cs_history_tick(srv->history, mono_ms(), now > 0 ? (uint32_t)now : 0, read_point, srv);
}

bool cs_server_reclaim(struct cs_server *srv)
{
    return cs_live_reclaim(&srv->live);
}

void cs_server_quiesce(struct cs_server *srv)
{
    size_t i;

    atomic_store(&srv->draining, true);
    for (i = 0; i < srv->n_daemons; i++) {
        MHD_socket fd = MHD_quiesce_daemon(srv->daemons[i]);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
}

unsigned cs_server_active(struct cs_server *srv)
{
    return cs_live_active(&srv->live);
}

void cs_server_stop(struct cs_server *srv)
{
    size_t i;

    if (!srv)
        return;
    /* the workers finish what they hold and resume its connections first:
     * libmicrohttpd must not free a request a worker still uses */
    cs_work_pool_stop(srv->work);
    for (i = 0; i < srv->n_daemons; i++)
        MHD_stop_daemon(srv->daemons[i]);
    free_server(srv);
}
