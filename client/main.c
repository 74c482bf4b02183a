/* cstash: a compiler wrapper with a local cache shared through cstashd or
 * any WebDAV server. `cstash gcc -c a.c`, CC="cstash gcc", a compiler
 * launcher, or a symlink named like the compiler; plus a few commands. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/compile.h"
#include "client/local.h"
#include "client/session.h"
#include "client/settings.h"
#include "client/stats.h"
#include "client/whymiss.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
    fprintf(f, "Usage: cstash COMPILER [ARGS...]   compile through the cache\n"
               "       cstash OPTION\n"
               "A compiler cache for gcc, clang and rustc: a hit replays the object file\n"
               "(or a crate's outputs), the dependency file and the warnings; a miss\n"
               "compiles and stores. Results are shared through a remote cache (cstashd or\n"
               "any WebDAV server) by GET/PUT. For cargo: RUSTC_WRAPPER=cstash with\n"
               "CARGO_INCREMENTAL=0.\n"
               "Also works as a compiler launcher (CMAKE_C_COMPILER_LAUNCHER=cstash) or as\n"
               "a symlink named like the compiler, placed early on PATH.\n"
               "\n"
               "  -s, --show-stats   print the counters, the local cache size and the remote\n"
               "      --print-stats  the counters as NAME<TAB>VALUE lines, for scripts\n"
               "  -z, --zero-stats   zero the counters\n"
               "  -C, --clear        remove every cached result from the local cache\n"
               "  -c, --cleanup      shrink the local cache to its size limit now\n"
               "  -p, --show-config  print the settings in effect and where they came from\n"
               "  --why-miss [OUTPUT]  what differs between the last miss of OUTPUT (or the\n"
               "                     last miss) and the closest entry recorded before it\n"
               "  -V, --version      print the version\n"
               "  -h, --help         print this help\n"
               "\n"
               "Settings (environment, or \"key = value\" lines in ~/.config/cstash/cstash.conf\n"
               "or $CSTASH_CONFIG, key = the variable name without CSTASH_, lower case):\n"
               "  CSTASH_DIR          local cache directory (~/.cache/cstash)\n"
               "  CSTASH_MAXSIZE      local cache size limit (5G)\n"
               "  CSTASH_REMOTE       http(s)://[user:pass@]host:port/namespace\n"
               "  CSTASH_TOKEN        bearer token for the remote\n"
               "  CSTASH_CACERT       CA bundle for an https remote (default: the system's)\n"
               "  CSTASH_READONLY, CSTASH_REMOTE_READONLY   do not write (either / the remote)\n"
               "  CSTASH_DIRECT       direct mode, on by default (false: always preprocess)\n"
               "  CSTASH_DEPEND       depend mode, off by default (true: a miss takes the headers\n"
               "                      from the compiler's -MD output, no preprocessor run)\n"
               "  CSTASH_DISABLE      just run the compiler\n"
               "  CSTASH_RECACHE      compile and store, ignoring cached results\n"
               "  CSTASH_BASEDIR      paths under it are hashed relative to the working dir\n"
               "  CSTASH_CACHE_BUSTER any text: a new value starts a fresh cache\n"
               "  CSTASH_PREFIX       command put before the compiler on a miss (distcc)\n"
               "  CSTASH_LOG          append a line per compile to this file\n"
               "  CSTASH_CONNECT_TIMEOUT (1s), CSTASH_TIMEOUT (10s), CSTASH_REMOTE_BACKOFF (30s)\n"
               "See cstash(1).\n");
}

/* The local time of epoch as "YYYY-MM-DD HH:MM:SS". */
static void local_time(long long epoch, char *out, size_t cap)
{
    time_t t = (time_t)epoch;
    struct tm tm;

    if (!localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, cap, "%lld", epoch);
}

/* The remote, its state (ok, or backing off until a time), and the last
 * error the compiles met (session.c keeps it). */
static void print_remote(const struct cs_settings *s)
{
    char *off = cs_path_join(s->dir, "remote.unavailable");
    char *err = cs_path_join(s->dir, CS_REMOTE_ERROR_FILE);
    struct cs_bytes b = {0};
    char when[64];

    printf("remote:               %s\n", s->remote ? s->remote : "(none)");
    if (s->remote && off && cs_read_file(off, 64, &b) == CS_OK && b.data &&
        atoll((char *)b.data) > (long long)time(NULL)) {
        local_time(atoll((char *)b.data), when, sizeof when);
        printf("remote state:         backing off until %s\n", when);
    } else if (s->remote) {
        printf("remote state:         ok\n");
    }
    cs_bytes_free(&b);
    if (err && cs_read_file(err, 1024, &b) == CS_OK && b.data) {
        const char *tab = memchr(b.data, '\t', b.len);
        char msg[1024];
        local_time(atoll((char *)b.data), when, sizeof when);
        cs_first_line(tab ? tab + 1 : "", tab ? b.len - (size_t)(tab + 1 - (char *)b.data) : 0, msg,
                      sizeof msg);
        printf("last remote error:    %s at %s\n", msg, when);
    }
    cs_bytes_free(&b);
    free(off);
    free(err);
}

static int load(struct cs_settings *s)
{
    char err[512];
    if (cs_settings_load(s, err, sizeof err) != CS_OK) {
        fprintf(stderr, "cstash: %s\n", err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int command(const char *opt)
{
    struct cs_settings s;
    int rc = EXIT_OK;
    if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(opt, "-V") || !strcmp(opt, "--version")) {
        printf("cstash %s\n", PACKAGE_VERSION);
        return EXIT_OK;
    }
    bool known = !strcmp(opt, "-s") || !strcmp(opt, "--show-stats") ||
                 !strcmp(opt, "--print-stats") || !strcmp(opt, "-z") ||
                 !strcmp(opt, "--zero-stats") || !strcmp(opt, "-C") || !strcmp(opt, "--clear") ||
                 !strcmp(opt, "-c") || !strcmp(opt, "--cleanup") || !strcmp(opt, "-p") ||
                 !strcmp(opt, "--show-config");
    if (!known) {
        fprintf(stderr, "cstash: unknown option %s (see cstash --help)\n", opt);
        return EXIT_USAGE;
    }
    if ((rc = load(&s)) != EXIT_OK) {
        cs_settings_free(&s);
        return rc;
    }
    enum cs_status st = CS_OK;
    if (!strcmp(opt, "-s") || !strcmp(opt, "--show-stats") || !strcmp(opt, "--print-stats")) {
        struct cs_stats sum = {0}, one;
        for (unsigned i = 0; i < 16 && st == CS_OK; i++) {
            st = cs_stats_read(s.dir, i, &one);
            for (int k = 0; k < CS_ST_COUNT; k++)
                sum.v[k] += one.v[k];
        }
        if (st == CS_OK && !strcmp(opt, "--print-stats")) {
            cs_stats_print_machine(&sum);
        } else if (st == CS_OK) {
            printf("cache directory:      %s\n", s.dir);
            print_remote(&s);
            cs_stats_print(&sum, s.maxsize);
        }
    } else if (!strcmp(opt, "-z") || !strcmp(opt, "--zero-stats")) {
        st = cs_stats_zero(s.dir);
        if (st == CS_OK)
            printf("statistics zeroed\n");
    } else if (!strcmp(opt, "-C") || !strcmp(opt, "--clear")) {
        st = cs_local_clear(s.dir);
        if (st == CS_OK)
            printf("cleared %s\n", s.dir);
    } else if (!strcmp(opt, "-c") || !strcmp(opt, "--cleanup")) {
        for (unsigned i = 0; i < 16 && st == CS_OK; i++)
            st = cs_local_clean_shard(s.dir, i, s.maxsize / 16);
    } else {
        cs_settings_print(&s);
    }
    if (st != CS_OK) {
        fprintf(stderr, "cstash: %s: %s\n", s.dir, cs_strerror(st));
        rc = EXIT_FAIL;
    }
    cs_settings_free(&s);
    return rc;
}

int main(int argc, char **argv)
{
    const char *self = strrchr(argv[0], '/');
    self = self ? self + 1 : argv[0];
    /* Masquerading: a symlink named gcc (or cc, clang++ ...) pointing here. */
    if (strncmp(self, "cstash", 6) != 0)
        return cs_compile_main(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--why-miss") && argc <= 3)
        return cs_why_main(argc == 3 ? argv[2] : NULL);
    if (argv[1][0] == '-') {
        if (argc > 2) {
            fprintf(stderr, "cstash: %s takes no arguments; to compile: cstash COMPILER ARGS...\n",
                    argv[1]);
            return EXIT_USAGE;
        }
        return command(argv[1]);
    }
    return cs_compile_main(argc - 1, argv + 1);
}
