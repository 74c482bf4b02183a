/* Configuration loading and validation. Every problem is reported with the
 * file and line it comes from; loading goes on after an error so that one
 * --check-config run lists all of them. */
#include "autoconfig.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/size.h"
#include "server/config.h"
#include "server/key.h"

#define MAX_ERRORS 100

static const char embedded_default[] =
    "listen = [ \"" CS_DEFAULT_LISTEN "\" ];\n"
    "namespaces = ( { name = \"default\"; read = [ \"*\" ]; write = [ \"*\" ]; } );\n";

struct loader {
    const char *file;
    struct cs_config_errors *errs;
    bool failed;
};

static void add_error(struct loader *ld, const config_setting_t *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Takes ownership of line. */
static void push_line(struct cs_config_errors *errs, char *line)
{
    char **grown;

    if (!line || errs->count >= MAX_ERRORS) {
        free(line);
        return;
    }
    grown = realloc(errs->lines, (errs->count + 1) * sizeof *grown);
    if (!grown) {
        free(line);
        return;
    }
    errs->lines = grown;
    errs->lines[errs->count++] = line;
}

static void add_error(struct loader *ld, const config_setting_t *where, const char *fmt, ...)
{
    char reason[512];
    char *line = NULL;
    va_list ap;
    const char *file = ld->file;
    int lineno = 0;

    ld->failed = true;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (where) {
        lineno = (int)config_setting_source_line(where);
        if (config_setting_source_file(where))
            file = config_setting_source_file(where);
    }
    if (lineno > 0) {
        if (asprintf(&line, "%s:%d: %s", file, lineno, reason) < 0)
            line = NULL;
    } else if (asprintf(&line, "%s: %s", file, reason) < 0) {
        line = NULL;
    }
    push_line(ld->errs, line);
}

void cs_config_errors_clear(struct cs_config_errors *errs)
{
    size_t i;

    for (i = 0; i < errs->count; i++)
        free(errs->lines[i]);
    free(errs->lines);
    errs->lines = NULL;
    errs->count = 0;
}

enum cs_status cs_parse_listen_addr(const char *text, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon, *hstart = text;
    size_t hlen;
    char *end;
    unsigned long p;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return CS_ERR_INVALID;
        hstart = text + 1;
        hlen = (size_t)(close - hstart);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || memchr(text, ':', (size_t)(colon - text)))
            return CS_ERR_INVALID; /* bare IPv6 needs brackets */
        hlen = (size_t)(colon - text);
    }
    if (hlen == 0 || hlen >= hostlen)
        return CS_ERR_INVALID;
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || p > 65535 || colon[1] == '-' ||
        colon[1] == '+')
        return CS_ERR_INVALID;
    memcpy(host, hstart, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return CS_OK;
}

static char *default_data_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char *dir = NULL;

    if (xdg && xdg[0] == '/') {
        if (asprintf(&dir, "%s/cstashd", xdg) < 0)
            return NULL;
    } else if (home && home[0] == '/') {
        if (asprintf(&dir, "%s/.cache/cstashd", home) < 0)
            return NULL;
    } else {
        if (asprintf(&dir, "/var/tmp/cstashd-%d", (int)getuid()) < 0)
            return NULL;
    }
    return dir;
}

/* Reads a size given as an integer or a string like "1G". */
static bool read_size(struct loader *ld, const config_setting_t *s, uint64_t *out)
{
    int type = config_setting_type(s);

    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        if (v < 0) {
            add_error(ld, s, "%s must not be negative", config_setting_name(s));
            return false;
        }
        *out = (uint64_t)v;
        return true;
    }
    if (type == CONFIG_TYPE_STRING &&
        cs_parse_size(config_setting_get_string(s), out) == CS_OK)
        return true;
    add_error(ld, s, "%s must be a size like 1048576, \"512K\", \"64M\" or \"1G\"",
              config_setting_name(s));
    return false;
}

static bool read_bool(struct loader *ld, const config_setting_t *s, bool *out)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        add_error(ld, s, "%s must be true or false", config_setting_name(s));
        return false;
    }
    *out = config_setting_get_bool(s) != 0;
    return true;
}

/* A list of principal names. Until users exist, only "*" can be granted. */
static void read_acl(struct loader *ld, const config_setting_t *s, bool *anyone)
{
    int i, n;

    *anyone = false;
    if (!config_setting_is_aggregate(s)) {
        add_error(ld, s, "%s must be a list of names, e.g. [ \"*\" ]", config_setting_name(s));
        return;
    }
    n = config_setting_length(s);
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_get_string(e);
        if (!name) {
            add_error(ld, e, "%s entries must be strings", config_setting_name(s));
        } else if (strcmp(name, "*") == 0) {
            *anyone = true;
        } else {
            add_error(ld, e,
                      "unknown principal \"%s\" in %s: this version has no users yet, "
                      "only \"*\" (everyone) can be granted",
                      name, config_setting_name(s));
        }
    }
}

static void load_namespace(struct loader *ld, const config_setting_t *g,
                           struct cs_config *cfg, struct cs_namespace_config *ns)
{
    int i, n = config_setting_length(g);
    bool have_name = false;

    ns->max_blob_size = cfg->max_blob_size;
    if (!config_setting_is_group(g)) {
        add_error(ld, g, "each namespace must be a group: { name = \"...\"; ... }");
        return;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        if (strcmp(key, "name") == 0) {
            const char *name = config_setting_get_string(s);
            if (!name || !cs_namespace_name_valid(name, strlen(name))) {
                add_error(ld, s,
                          "namespace name must be 1-64 characters of A-Z a-z 0-9 . _ - "
                          "and not start with '.', '_' or '-'");
                continue;
            }
            ns->name = strdup(name);
            have_name = ns->name != NULL;
        } else if (strcmp(key, "max_blob_size") == 0) {
            read_size(ld, s, &ns->max_blob_size);
        } else if (strcmp(key, "max_size") == 0) {
            read_size(ld, s, &ns->max_size);
        } else if (strcmp(key, "durable") == 0) {
            read_bool(ld, s, &ns->durable);
        } else if (strcmp(key, "read") == 0) {
            read_acl(ld, s, &ns->read_anyone);
        } else if (strcmp(key, "write") == 0) {
            read_acl(ld, s, &ns->write_anyone);
        } else {
            add_error(ld, s, "unknown namespace setting '%s'", key);
        }
    }
    if (!have_name && !ld->failed)
        add_error(ld, g, "namespace without a name");
}

static void load_namespaces(struct loader *ld, const config_setting_t *list,
                            struct cs_config *cfg)
{
    int i, j, n;

    if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
        add_error(ld, list, "namespaces must be a list: ( { name = \"...\"; }, ... )");
        return;
    }
    n = config_setting_length(list);
    if (n == 0) {
        add_error(ld, list, "namespaces is empty: define at least one");
        return;
    }
    cfg->namespaces = calloc((size_t)n, sizeof *cfg->namespaces);
    if (!cfg->namespaces) {
        add_error(ld, list, "out of memory");
        return;
    }
    cfg->n_namespaces = (size_t)n;
    for (i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        load_namespace(ld, g, cfg, &cfg->namespaces[i]);
        for (j = 0; j < i; j++) {
            if (cfg->namespaces[i].name && cfg->namespaces[j].name &&
                strcmp(cfg->namespaces[i].name, cfg->namespaces[j].name) == 0)
                add_error(ld, g, "namespace \"%s\" is defined twice", cfg->namespaces[i].name);
        }
    }
}

static void load_listen(struct loader *ld, const config_setting_t *s, struct cs_config *cfg)
{
    int i, n;
    char host[256];
    uint16_t port;

    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        n = 1;
    } else if (config_setting_is_aggregate(s)) {
        n = config_setting_length(s);
    } else {
        add_error(ld, s, "listen must be a list of \"host:port\" strings");
        return;
    }
    if (n == 0 || n > CS_MAX_LISTEN) {
        add_error(ld, s, "listen needs 1 to %d addresses", CS_MAX_LISTEN);
        return;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *e =
            config_setting_type(s) == CONFIG_TYPE_STRING ? s
                                                         : config_setting_get_elem(s, (unsigned)i);
        const char *text = config_setting_get_string(e);
        if (!text || cs_parse_listen_addr(text, host, sizeof host, &port) != CS_OK) {
            add_error(ld, e, "listen address must be \"host:port\" or \"[ipv6]:port\"");
            continue;
        }
        cfg->listen[cfg->n_listen] = strdup(text);
        if (cfg->listen[cfg->n_listen])
            cfg->n_listen++;
    }
}

static void load_root(struct loader *ld, config_t *lc, struct cs_config *cfg)
{
    config_setting_t *root = config_root_setting(lc);
    const config_setting_t *s;
    int i, n = config_setting_length(root);

    /* Scalars first: namespaces inherit max_blob_size whatever the order. */
    s = config_setting_get_member(root, "max_blob_size");
    if (s)
        read_size(ld, s, &cfg->max_blob_size);
    for (i = 0; i < n; i++) {
        s = config_setting_get_elem(root, (unsigned)i);
        const char *key = config_setting_name(s);
        if (strcmp(key, "listen") == 0) {
            load_listen(ld, s, cfg);
        } else if (strcmp(key, "data_dir") == 0) {
            const char *dir = config_setting_get_string(s);
            if (!dir || dir[0] == '\0') {
                add_error(ld, s, "data_dir must be a non-empty path string");
                continue;
            }
            free(cfg->data_dir);
            cfg->data_dir = strdup(dir);
        } else if (strcmp(key, "threads") == 0) {
            int type = config_setting_type(s);
            long long t = config_setting_get_int64(s);
            if ((type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) || t < 0 ||
                t > CS_MAX_THREADS)
                add_error(ld, s, "threads must be 0 (one per CPU) to %d", CS_MAX_THREADS);
            else
                cfg->threads = (unsigned)t;
        } else if (strcmp(key, "max_blob_size") == 0) {
            /* read above */
        } else if (strcmp(key, "max_size") == 0) {
            read_size(ld, s, &cfg->max_size);
        } else if (strcmp(key, "track_access") == 0) {
            read_bool(ld, s, &cfg->track_access);
        } else if (strcmp(key, "namespaces") == 0) {
            load_namespaces(ld, s, cfg);
        } else {
            add_error(ld, s, "unknown setting '%s'", key);
        }
    }
    if (!cfg->n_namespaces && !config_setting_get_member(root, "namespaces"))
        add_error(ld, NULL, "no namespaces defined: add namespaces = ( { name = \"default\"; "
                            "read = [ \"*\" ]; write = [ \"*\" ]; } );");
}

static unsigned cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > CS_MAX_THREADS ? CS_MAX_THREADS : (unsigned)n;
}

static enum cs_status finish_load(config_t *lc, int read_ok, const char *name,
                                  struct cs_config **out, struct cs_config_errors *errs)
{
    struct loader ld = {.file = name, .errs = errs, .failed = false};
    struct cs_config *cfg = calloc(1, sizeof *cfg);

    if (!cfg)
        return CS_ERR_NOMEM;
    cfg->source = strdup(name);
    cfg->max_blob_size = CS_DEFAULT_MAX_BLOB_SIZE;
    cfg->max_size = CS_DEFAULT_MAX_SIZE;
    cfg->track_access = true;
    cfg->data_dir = default_data_dir();
    if (!read_ok) {
        char *line = NULL;
        const char *file = config_error_file(lc) ? config_error_file(lc) : name;
        ld.failed = true;
        if (asprintf(&line, "%s:%d: %s", file, config_error_line(lc), config_error_text(lc)) < 0)
            line = NULL;
        push_line(errs, line);
        goto done;
    }
    load_root(&ld, lc, cfg);
    if (cfg->n_listen == 0 && !ld.failed) {
        cfg->listen[0] = strdup(CS_DEFAULT_LISTEN);
        cfg->n_listen = cfg->listen[0] ? 1 : 0;
    }
    if (cfg->threads == 0)
        cfg->threads = cpu_count();
    if (!cfg->source || !cfg->data_dir || cfg->n_listen == 0)
        ld.failed = true;
done:
    config_destroy(lc);
    if (ld.failed) {
        cs_config_free(cfg);
        return CS_ERR_INVALID;
    }
    *out = cfg;
    return CS_OK;
}

enum cs_status cs_config_load_string(const char *text, const char *name, struct cs_config **out,
                                     struct cs_config_errors *errs)
{
    config_t lc;

    config_init(&lc);
    return finish_load(&lc, config_read_string(&lc, text), name, out, errs);
}

enum cs_status cs_config_load(const char *path, struct cs_config **out,
                              struct cs_config_errors *errs)
{
    config_t lc;
    FILE *f;

    if (!path)
        return cs_config_load_string(embedded_default, "(embedded default)", out, errs);
    /* Open it ourselves first: libconfig's I/O error does not say why. */
    f = fopen(path, "r");
    if (!f) {
        char *line = NULL;
        if (asprintf(&line, "%s: cannot read: %s", path, strerror(errno)) < 0)
            line = NULL;
        push_line(errs, line);
        return CS_ERR_INVALID;
    }
    fclose(f);
    config_init(&lc);
    return finish_load(&lc, config_read_file(&lc, path), path, out, errs);
}

void cs_config_free(struct cs_config *cfg)
{
    size_t i;

    if (!cfg)
        return;
    for (i = 0; i < cfg->n_listen; i++)
        free(cfg->listen[i]);
    for (i = 0; i < cfg->n_namespaces; i++)
        free(cfg->namespaces[i].name);
    free(cfg->namespaces);
    free(cfg->data_dir);
    free(cfg->source);
    free(cfg);
}

enum cs_status cs_config_set_listen(struct cs_config *cfg, char *const *addrs, size_t n)
{
    char host[256];
    uint16_t port;
    size_t i;

    if (n == 0 || n > CS_MAX_LISTEN)
        return CS_ERR_INVALID;
    for (i = 0; i < n; i++)
        if (cs_parse_listen_addr(addrs[i], host, sizeof host, &port) != CS_OK)
            return CS_ERR_INVALID;
    for (i = 0; i < cfg->n_listen; i++)
        free(cfg->listen[i]);
    cfg->n_listen = 0;
    for (i = 0; i < n; i++) {
        cfg->listen[i] = strdup(addrs[i]);
        if (!cfg->listen[i])
            return CS_ERR_NOMEM;
        cfg->n_listen++;
    }
    return CS_OK;
}

enum cs_status cs_config_set_data_dir(struct cs_config *cfg, const char *dir)
{
    char *copy;

    if (!dir || !dir[0])
        return CS_ERR_INVALID;
    copy = strdup(dir);
    if (!copy)
        return CS_ERR_NOMEM;
    free(cfg->data_dir);
    cfg->data_dir = copy;
    return CS_OK;
}

const struct cs_namespace_config *cs_config_find_namespace(const struct cs_config *cfg,
                                                           const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < cfg->n_namespaces; i++) {
        const char *n = cfg->namespaces[i].name;
        if (strncmp(n, name, len) == 0 && n[len] == '\0')
            return &cfg->namespaces[i];
    }
    return NULL;
}
