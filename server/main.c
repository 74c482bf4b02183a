/* cstashd: command line, start-up checks, signal handling. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/resource.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/hash.h"
#include "common/log.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/credentials.h"
#include "server/hints.h"
#include "server/http.h"
#include "server/listen.h"
#include "storage/disk.h"
#include "storage/tiers.h"

/* Exit codes, documented in cstashd(8). */
enum {
    EXIT_OK = 0,
    EXIT_CONFIG = 1,   /* bad command line or configuration */
    EXIT_DATA_DIR = 2, /* data dir unusable */
    EXIT_LISTEN = 3,   /* cannot listen (port in use, permission) */
    EXIT_RUNTIME = 4,  /* failure after start-up */
};

/* How long SIGTERM waits for in-flight requests before closing them. */
#define DRAIN_SECONDS 10

struct options {
    const char *config_path;
    const char *data_dir;
    char *listen[CS_MAX_LISTEN];
    size_t n_listen;
    long threads; /* -1 = from config */
    bool check_config;
    bool print_clients;
    enum cs_log_level log_level;
    const char *command;     /* NULL: run the server; "fsck" or "purge" */
    const char *command_arg; /* purge: the namespace */
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: cstashd [OPTION]...              run the server\n"
                 "       cstashd [OPTION]... fsck         reconcile the index with the files\n"
                 "       cstashd [OPTION]... purge NAME   empty namespace NAME\n"
                 "       cstashd hash-token               read a token on stdin, print the\n"
                 "                                        token_sha256 for the config\n"
                 "       cstashd hash-password            read a password on stdin, print a\n"
                 "                                        password_hash (yescrypt)\n"
                 "A multi-tenant HTTP build cache for ccache, Bazel, Gradle and WebDAV clients.\n"
                 "fsck and purge work on the data dir of -c/-d while no server uses it; while\n"
                 "one runs, purge with: curl -X DELETE http://HOST:PORT/_/ns/NAME (as a user\n"
                 "with the namespace's admin right), and the server runs fsck by itself after\n"
                 "each start.\n"
                 "\n"
                 "  -c, --config FILE        read settings from FILE (default: embedded default)\n"
                 "  -l, --listen HOST:PORT   listen here instead of the config's addresses;\n"
                 "                           repeatable; [v6addr]:PORT for IPv6, port 0 = any\n"
                 "  -d, --data-dir DIR       store objects in DIR\n"
                 "  -t, --threads N          worker threads per listener (default: CPU count)\n"
                 "      --check-config       validate the configuration, print each error as\n"
                 "                           file:line: reason, exit 0 if valid, 1 if not\n"
                 "      --print-client-config  print settings for ccache, Bazel, Gradle and\n"
                 "                           sccache once listening\n"
                 "      --log-level LEVEL    error, warn, info (default) or debug\n"
                 "  -V, --version            print the version and exit\n"
                 "  -h, --help               print this help and exit\n"
                 "\n"
                 "Exit status: 0 ok, 1 bad command line or config, 2 data dir unusable,\n"
                 "3 cannot listen, 4 runtime failure. See cstashd(8) and cstashd.conf(5).\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    enum { OPT_CHECK = 256, OPT_PRINT, OPT_LOG };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"print-client-config", no_argument, NULL, OPT_PRINT},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;

    o->threads = -1;
    o->log_level = CS_LOG_INFO;
    opterr = 0; /* our own one-line messages, not getopt's and the whole help */
    while ((c = getopt_long(argc, argv, ":c:l:d:t:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config_path = optarg; break;
        case 'd': o->data_dir = optarg; break;
        case 'l':
            if (o->n_listen == CS_MAX_LISTEN) {
                fprintf(stderr, "cstashd: at most %d --listen addresses\n", CS_MAX_LISTEN);
                return EXIT_CONFIG;
            }
            o->listen[o->n_listen++] = optarg;
            break;
        case 't':
            errno = 0;
            o->threads = strtol(optarg, &end, 10);
            if (errno || *end || o->threads < 1 || o->threads > CS_MAX_THREADS) {
                fprintf(stderr, "cstashd: --threads must be a number from 1 to %d\n",
                        CS_MAX_THREADS);
                return EXIT_CONFIG;
            }
            break;
        case OPT_CHECK: o->check_config = true; break;
        case OPT_PRINT: o->print_clients = true; break;
        case OPT_LOG:
            if (strcmp(optarg, "error") == 0)
                o->log_level = CS_LOG_ERROR;
            else if (strcmp(optarg, "warn") == 0)
                o->log_level = CS_LOG_WARN;
            else if (strcmp(optarg, "info") == 0)
                o->log_level = CS_LOG_INFO;
            else if (strcmp(optarg, "debug") == 0)
                o->log_level = CS_LOG_DEBUG;
            else {
                fprintf(stderr, "cstashd: --log-level must be error, warn, info or debug\n");
                return EXIT_CONFIG;
            }
            break;
        case 'V': printf("cstashd %s\n", PACKAGE_VERSION); exit(EXIT_OK);
        case 'h': usage(stdout); exit(EXIT_OK);
        case ':':
            fprintf(stderr, "cstashd: option '%s' needs a value (see cstashd --help)\n",
                    argv[optind - 1]);
            return EXIT_CONFIG;
        default:
            fprintf(stderr, "cstashd: unknown option '%s' (see cstashd --help)\n",
                    optopt ? (char[]){'-', (char)optopt, 0} : argv[optind - 1]);
            return EXIT_CONFIG;
        }
    }
    if (optind < argc) {
        o->command = argv[optind++];
        if (strcmp(o->command, "purge") == 0) {
            if (optind == argc) {
                fprintf(stderr, "cstashd: purge needs a namespace name: cstashd purge NAME\n");
                return EXIT_CONFIG;
            }
            o->command_arg = argv[optind++];
        } else if (strcmp(o->command, "fsck") != 0 && strcmp(o->command, "hash-token") != 0 &&
                   strcmp(o->command, "hash-password") != 0) {
            fprintf(stderr,
                    "cstashd: unknown command '%s': use fsck, purge, hash-token or "
                    "hash-password (see --help)\n",
                    o->command);
            return EXIT_CONFIG;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cstashd: unexpected argument '%s' (see --help)\n", argv[optind]);
        return EXIT_CONFIG;
    }
    return EXIT_OK;
}

/* The client settings for url; a wildcard listener gets this machine's
 * name in its place (cs_client_url). */
static void print_clients(const char *url, const char *ns)
{
    char host[256], shown[512];
    if (gethostname(host, sizeof host) != 0 || !host[0])
        snprintf(host, sizeof host, "HOST");
    host[sizeof host - 1] = '\0';
    if (cs_client_url(url, host, shown, sizeof shown))
        printf("\ncstashd listens on every address (%s); the settings below use this machine's "
               "name, %s: put the name or address clients reach it by in its place.\n",
               url, host);
    cs_print_client_settings(stdout, shown, ns);
}

/* Loads the config and applies command-line overrides. Each problem goes
 * to stderr (at start-up) or the log (on reload). */
static int load_config(const struct options *o, struct cs_config **cfg, bool to_log)
{
    struct cs_config_errors errs = {0};
    enum cs_status st = cs_config_load(o->config_path, cfg, &errs);
    const char *bad = NULL;
    char tls_why[160];
    size_t i;

    if (st != CS_OK) {
        for (i = 0; i < errs.count; i++) {
            if (to_log)
                cs_log(CS_LOG_ERROR, "%s", errs.lines[i]);
            else
                fprintf(stderr, "%s\n", errs.lines[i]);
        }
        if (errs.count == 0)
            fprintf(stderr, "cstashd: cannot load configuration: %s\n", cs_strerror(st));
        cs_config_errors_clear(&errs);
        return EXIT_CONFIG;
    }
    cs_config_errors_clear(&errs);
    char listen_why[600];
    for (i = 0; i < o->n_listen && !bad; i++) {
        bool tls, s3;
        char why[160];
        if (cs_listen_addr_why(cs_listen_scheme(o->listen[i], &tls, &s3), why, sizeof why)) {
            snprintf(listen_why, sizeof listen_why,
                     "invalid --listen '%s': %s (forms: HOST:PORT, [IPV6]:PORT, http://HOST:PORT, "
                     "https://HOST:PORT, s3://HOST:PORT)",
                     o->listen[i], why);
            bad = listen_why;
        }
    }
    if (bad)
        ;
    else if (o->n_listen && cs_config_set_listen(*cfg, o->listen, o->n_listen) != CS_OK)
        bad = "invalid --listen address: use HOST:PORT, [IPV6]:PORT, https://HOST:PORT or "
              "s3://HOST:PORT";
    else if (o->data_dir && cs_config_set_data_dir(*cfg, o->data_dir) != CS_OK)
        bad = "invalid --data-dir";
    else if (!cs_config_tls_ok(*cfg, tls_why, sizeof tls_why))
        bad = tls_why;
    if (bad) {
        fprintf(stderr, "cstashd: %s\n", bad);
        cs_config_free(*cfg);
        *cfg = NULL;
        return EXIT_CONFIG;
    }
    if (o->threads > 0)
        (*cfg)->threads = (unsigned)o->threads;
    return EXIT_OK;
}

/* One line of stdin without its newline; no echo when stdin is a terminal.
 * false with *too_long when the line does not fit in len - 1 bytes (it is
 * refused, never cut: a hash of part of a token would not match it). */
static bool read_secret(const char *prompt, char *buf, size_t len, bool *too_long)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    bool ok;

    if (tty) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    ok = fgets(buf, (int)len, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    *too_long = false;
    if (!ok)
        return false;
    if (!strchr(buf, '\n') && strlen(buf) == len - 1 && !feof(stdin)) {
        *too_long = true;
        return false;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    if (strlen(buf) > CS_CRED_SECRET_MAX) {
        *too_long = true;
        return false;
    }
    return buf[0] != '\0';
}

/* hash-token and hash-password: what goes into the config instead of a secret. */
static int run_hash(const char *command)
{
    char secret[CS_CRED_SECRET_MAX + 3]; /* the secret, CR LF, the NUL */
    bool token = strcmp(command, "hash-token") == 0, too_long;

    if (!read_secret(token ? "token: " : "password: ", secret, sizeof secret, &too_long)) {
        if (too_long)
            fprintf(stderr, "cstashd: %s: the %s is longer than %d bytes; clients cannot send it\n",
                    command, token ? "token" : "password", CS_CRED_SECRET_MAX);
        else
            fprintf(stderr, "cstashd: %s reads the %s on stdin; got nothing\n", command,
                    token ? "token" : "password");
        OPENSSL_cleanse(secret, sizeof secret);
        return EXIT_CONFIG;
    }
    if (token) {
        const void *parts[] = {secret};
        size_t lens[] = {strlen(secret)};
        uint8_t hash[CS_SHA256_LEN];
        char hex[CS_SHA256_HEX_LEN + 1];
        cs_sha256_parts(parts, lens, 1, hash);
        cs_hex_encode(hash, CS_SHA256_LEN, hex);
        printf("%s\n", hex);
    } else if (strlen(secret) > CS_PASSWORD_HASH_MAX) {
        OPENSSL_cleanse(secret, sizeof secret);
        fprintf(stderr,
                "cstashd: hash-password: the password is longer than %d bytes, more than "
                "crypt(3) takes; use a token (hash-token) for long secrets\n",
                CS_PASSWORD_HASH_MAX);
        return EXIT_CONFIG;
    } else {
        char *hash = cs_auth_hash_password(secret);
        if (!hash) {
            OPENSSL_cleanse(secret, sizeof secret);
            fprintf(stderr, "cstashd: this system's crypt(3) cannot make a yescrypt hash\n");
            return EXIT_RUNTIME;
        }
        printf("%s\n", hash);
        free(hash);
    }
    OPENSSL_cleanse(secret, sizeof secret);
    return EXIT_OK;
}

/* Every connection is a file descriptor: the soft limit (often 1024) is
 * raised to the hard one, and a hard limit too low for limits.connections
 * on every listener is said at start rather than found at the cap. */
static void raise_fd_limit(const struct cs_config *cfg)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)cfg->limits.connections * cfg->n_listen + 256;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
            return;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        cs_log(CS_LOG_WARN,
               "open files are limited to %llu, and limits.connections (%u) on %zu "
               "listener(s) needs about %llu: raise the limit (LimitNOFILE= in "
               "systemd, ulimit -n) or lower limits.connections",
               (unsigned long long)rl.rlim_cur, cfg->limits.connections, cfg->n_listen,
               (unsigned long long)need);
}

static int open_listeners(const struct cs_config *cfg, struct cs_listener *ls)
{
    char why[512];
    size_t i, j;

    for (i = 0; i < cfg->n_listen; i++) {
        if (cs_listen_open(cfg->listen[i], &ls[i], why, sizeof why) != CS_OK) {
            fprintf(stderr, "cstashd: %s\n", why);
            for (j = 0; j < i; j++)
                close(ls[j].fd);
            return EXIT_LISTEN;
        }
        if (cfg->listen_tls[i] && strncmp(ls[i].url, "http://", 7) == 0) {
            memmove(ls[i].url + 8, ls[i].url + 7, strlen(ls[i].url + 7) + 1);
            memcpy(ls[i].url, "https://", 8);
        }
    }
    return EXIT_OK;
}

/* Signals reach main through a pipe written by the handler: whichever
 * thread the kernel picks (libraries such as ASan run threads of their own
 * that do not block signals), the handler runs and main reads the number. */
static int signal_pipe[2] = {-1, -1}; /* the one registry a handler may touch */

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;

    if (write(signal_pipe[1], &b, 1) < 0) {
        /* pipe full: a signal is already pending, nothing is lost */
    }
    errno = saved;
}

static int install_signal_handlers(void)
{
    struct sigaction sa;

    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
        sigaction(SIGHUP, &sa, NULL) < 0 || sigaction(SIGUSR1, &sa, NULL) < 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Waits up to timeout_ms (-1: forever) for a signal; 0 when none came. */
static int next_signal(int timeout_ms)
{
    struct pollfd pfd = {.fd = signal_pipe[0], .events = POLLIN};
    unsigned char b;

    for (;;) {
        int n = poll(&pfd, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (read(signal_pipe[0], &b, 1) == 1)
            return b;
    }
}

/* SIGHUP: read the config again and apply it, or keep the running one.
 * *pending holds a loaded config that waits for the previous reload's
 * requests to finish. */
static void reload(const struct options *o, struct cs_server *srv, struct cs_config **pending)
{
    struct cs_config *cfg = *pending;
    char why[256];
    enum cs_status st;

    *pending = NULL;
    if (!cfg && load_config(o, &cfg, true) != EXIT_OK) {
        cs_log(CS_LOG_ERROR, "reload rejected: %s has errors; the running config is kept",
               o->config_path ? o->config_path : "(embedded default)");
        return;
    }
    st = cs_server_reload(srv, cfg, why, sizeof why);
    if (st == CS_ERR_BUSY) {
        *pending = cfg; /* retried by the main loop */
        return;
    }
    if (st != CS_OK)
        cs_log(CS_LOG_ERROR, "reload rejected: %s (needs a restart); the running config is kept",
               why);
    else
        cs_log(CS_LOG_INFO, "reloaded %s: %zu users, %zu namespaces", cs_server_config(srv)->source,
               cs_server_config(srv)->n_users, cs_server_config(srv)->n_namespaces);
}

/* Serves until SIGTERM/SIGINT (reloading on SIGHUP), then drains: stop
 * accepting, let in-flight requests finish for up to DRAIN_SECONDS (a
 * second signal cuts it short). */
static void serve_and_drain(const struct options *o, struct cs_server *srv)
{
    struct cs_config *pending = NULL;
    time_t deadline;
    int sig;

    while ((sig = next_signal(1000)) == SIGHUP || sig == SIGUSR1 || sig == 0) {
        cs_server_tick(srv);
        if (sig == SIGUSR1) {
            cs_server_reopen_logs(srv);
        } else if (sig == SIGHUP) {
            cs_config_free(pending); /* a newer SIGHUP reads the file again */
            pending = NULL;
            reload(o, srv, &pending);
        } else if (pending) {
            reload(o, srv, &pending);
        } else {
            cs_server_reclaim(srv);
        }
    }
    cs_config_free(pending);
    cs_log(CS_LOG_INFO, "%s: draining %u request(s) in flight, then exiting", strsignal(sig),
           cs_server_active(srv));
    cs_server_quiesce(srv);
    deadline = time(NULL) + DRAIN_SECONDS;
    while (cs_server_active(srv) > 0 && time(NULL) < deadline) {
        sig = next_signal(50);
        if (sig == SIGTERM || sig == SIGINT) {
            cs_log(CS_LOG_WARN, "second signal: closing %u request(s) now", cs_server_active(srv));
            break;
        }
    }
    if (cs_server_active(srv) > 0)
        cs_log(CS_LOG_WARN, "closing %u request(s) still in flight", cs_server_active(srv));
}

/* The remote tiers of the namespaces that have any, around the disk. */
static enum cs_status add_tiers(const struct cs_config *cfg, struct cs_backend *backend, char *why,
                                size_t why_len)
{
    struct cs_tiers_ns *ns;
    size_t i, n = 0;
    enum cs_status st;

    for (i = 0; i < cfg->n_namespaces; i++)
        n += cfg->namespaces[i].n_tiers > 0;
    if (n == 0)
        return CS_OK;
    ns = calloc(n, sizeof *ns);
    if (!ns) {
        backend->ops->destroy(backend->state);
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    for (i = 0, n = 0; i < cfg->n_namespaces; i++) {
        const struct cs_namespace_config *c = &cfg->namespaces[i];
        if (c->n_tiers == 0)
            continue;
        ns[n++] = (struct cs_tiers_ns){.name = c->name,
                                       .tiers = c->tiers,
                                       .n_tiers = c->n_tiers,
                                       .compress_level = c->compress_level,
                                       .max_blob_size = c->max_blob_size};
    }
    st = cs_tiers_open(backend, ns, n, backend, why, why_len);
    free(ns);
    if (st != CS_OK)
        backend->ops = NULL; /* cs_tiers_open destroyed the disk */
    return st;
}

/* Opens the data dir as the config describes it. background: eviction
 * and the start-up fsck (the server); the commands run without. */
static enum cs_status open_storage(const struct cs_config *cfg, bool background,
                                   struct cs_backend *backend, char *why, size_t why_len)
{
    struct cs_disk_ns *ns = calloc(cfg->n_namespaces, sizeof *ns);
    struct cs_disk_options opt = {
        .data_dir = cfg->data_dir,
        .max_size = cfg->max_size,
        .ns = ns,
        .n_ns = cfg->n_namespaces,
        .track_access = cfg->track_access,
        .background = background,
        .index_queue = cfg->limits.index_queue,
    };
    enum cs_status st;
    size_t i;

    if (!ns) {
        snprintf(why, why_len, "out of memory");
        return CS_ERR_NOMEM;
    }
    for (i = 0; i < cfg->n_namespaces; i++) {
        ns[i].name = cfg->namespaces[i].name;
        ns[i].max_size = cfg->namespaces[i].max_size;
    }
    st = cs_disk_open(&opt, backend, why, why_len);
    free(ns);
    if (st == CS_OK && background)
        st = add_tiers(cfg, backend, why, why_len);
    return st;
}

static int run_fsck(const struct cs_backend *backend, const char *dir)
{
    struct cs_fsck_report r;
    enum cs_status st = cs_disk_fsck(backend, false, &r);

    if (st != CS_OK) {
        fprintf(stderr, "cstashd: fsck of %s failed: %s\n", dir, cs_strerror(st));
        return EXIT_RUNTIME;
    }
    printf("fsck %s: %" PRIu64 " index rows and %" PRIu64 " files checked\n", dir, r.rows, r.files);
    printf("  rows without a file, dropped:      %" PRIu64 "\n", r.rows_dropped);
    printf("  rows with a wrong size, corrected: %" PRIu64 "\n", r.rows_resized);
    printf("  objects without a row, removed:    %" PRIu64 " (%" PRIu64 " bytes)\n", r.orphans,
           r.orphan_bytes);
    printf("  stray files, removed:              %" PRIu64 "\n", r.strays);
    printf("%s\n", r.rows_dropped || r.rows_resized || r.orphans || r.strays
                       ? "index and files now agree"
                       : "index and files agree: nothing to do");
    return EXIT_OK;
}

static int run_purge(const struct cs_config *cfg, const struct cs_backend *backend,
                     const char *name)
{
    struct cs_purge_report r;
    enum cs_status st;

    if (!cs_config_find_namespace(cfg, name, strlen(name))) {
        fprintf(stderr, "cstashd: no namespace named '%s' in %s\n", name, cfg->source);
        return EXIT_CONFIG;
    }
    st = cs_disk_purge(backend, name, &r);
    if (st != CS_OK) {
        fprintf(stderr, "cstashd: purge of '%s' failed: %s\n", name, cs_strerror(st));
        return EXIT_RUNTIME;
    }
    printf("purged namespace '%s': %" PRIu64 " objects, %" PRIu64 " bytes freed\n", name, r.objects,
           r.bytes);
    return EXIT_OK;
}

static int run_command(const struct options *o, const struct cs_config *cfg)
{
    struct cs_backend backend = {0};
    char why[512];
    enum cs_status st = open_storage(cfg, false, &backend, why, sizeof why);
    int rc;

    if (st != CS_OK) {
        if (st == CS_ERR_BUSY)
            fprintf(stderr, "cstashd: %s: stop it first%s\n", why,
                    strcmp(o->command, "purge") == 0
                        ? ", or ask it: curl -X DELETE http://HOST:PORT/_/ns/NAME"
                        : " (it runs fsck by itself after each start)");
        else
            fprintf(stderr, "cstashd: %s\n", why);
        return EXIT_DATA_DIR;
    }
    if (strcmp(o->command, "fsck") == 0)
        rc = run_fsck(&backend, cfg->data_dir);
    else
        rc = run_purge(cfg, &backend, o->command_arg);
    backend.ops->destroy(backend.state);
    return rc;
}

static void log_listening(const struct cs_config *cfg, const struct cs_listener *ls, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        cs_log(CS_LOG_INFO, "listening on %s/ (data dir %s, %u threads, config %s)", ls[i].url,
               cfg->data_dir, cfg->threads, cfg->source);
}

int main(int argc, char **argv)
{
    struct options o = {0};
    struct cs_config *cfg = NULL;
    struct cs_listener listeners[CS_MAX_LISTEN];
    struct cs_backend backend = {0};
    struct cs_server *srv = NULL;
    char why[512];
    enum cs_status st;
    size_t i, n_listen;
    int rc;

    rc = parse_options(argc, argv, &o);
    if (rc != EXIT_OK)
        return rc;
    cs_log_set_level(o.log_level);
    if (o.command && strncmp(o.command, "hash-", 5) == 0)
        return run_hash(o.command);
    rc = load_config(&o, &cfg, false);
    if (rc != EXIT_OK || o.check_config) {
        if (rc == EXIT_OK)
            printf("%s: configuration is valid\n", cfg->source);
        cs_config_free(cfg);
        return rc;
    }
    if (o.command) {
        rc = run_command(&o, cfg);
        cs_config_free(cfg);
        return rc;
    }

    if (install_signal_handlers() < 0) {
        fprintf(stderr, "cstashd: cannot install signal handlers: %s\n", strerror(errno));
        cs_config_free(cfg);
        return EXIT_RUNTIME;
    }

    st = open_storage(cfg, true, &backend, why, sizeof why);
    if (st != CS_OK) {
        fprintf(stderr, "cstashd: %s\n", why);
        cs_config_free(cfg);
        return EXIT_DATA_DIR;
    }
    raise_fd_limit(cfg);
    rc = open_listeners(cfg, listeners);
    if (rc != EXIT_OK) {
        backend.ops->destroy(backend.state);
        cs_config_free(cfg);
        return rc;
    }
    n_listen = cfg->n_listen;
    st = cs_server_start(cfg, &backend, listeners, n_listen, &srv); /* takes cfg */
    cfg = NULL;
    if (st != CS_OK) {
        for (i = 0; i < n_listen; i++)
            close(listeners[i].fd);
        backend.ops->destroy(backend.state);
        return st == CS_ERR_INVALID ? EXIT_CONFIG : EXIT_RUNTIME;
    }
    log_listening(cs_server_config(srv), listeners, n_listen);
    if (o.print_clients)
        print_clients(listeners[0].url, cs_server_config(srv)->namespaces[0].name);

    serve_and_drain(&o, srv);
    cs_server_stop(srv);
    backend.ops->destroy(backend.state);
    cs_log(CS_LOG_INFO, "stopped");
    return EXIT_OK;
}
