/* Configuration loading: the top level, namespaces and limits, and freeing
 * a config. Every problem is reported with the file and line it comes from;
 * loading goes on after an error so that one --check-config run lists all
 * of them. Users, tiers, listeners and reload rules have files of their own. */
#include "autoconfig.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "server/config.h"
#include "server/config_priv.h"
#include "server/key.h"

static const char embedded_default[] =
    "listen = [ \"" CS_DEFAULT_LISTEN "\" ];\n"
    "namespaces = ( { name = \"default\"; read = [ \"*\" ]; write = [ \"*\" ]; "
    "admin = [ \"*\" ]; } );\n";

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

static void default_limits(struct cs_limits *l)
{
    l->connections = 1024;
    l->connections_per_ip = 256;
    l->header_size = 16 * 1024;
    l->url_length = 4096;
    l->idle_timeout_s = 60;
    l->header_timeout_s = 30;
    l->request_timeout_s = 3600;
    l->propfind_results = 100000;
    l->index_queue = 65536;
    l->auth_failures = 10;
    l->workers = 16;
    l->work_queue = 256;
    l->memory_cache = 32u << 20;
}

static void load_limits(struct cs_config_loader *ld, const config_setting_t *g, struct cs_limits *l)
{
    int i, n;

    if (!config_setting_is_group(g)) {
        cs_config_error(ld, g, "limits must be a group: { connections = 1024; ... }");
        return;
    }
    n = config_setting_length(g);
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        if (strcmp(key, "connections") == 0)
            cs_config_read_count(ld, s, 1, 1000000, &l->connections);
        else if (strcmp(key, "connections_per_ip") == 0)
            cs_config_read_count(ld, s, 1, 1000000, &l->connections_per_ip);
        else if (strcmp(key, "header_size") == 0)
            cs_config_read_count(ld, s, 1024, 1u << 20, &l->header_size);
        else if (strcmp(key, "url_length") == 0)
            cs_config_read_count(ld, s, 64, 1u << 20, &l->url_length);
        else if (strcmp(key, "idle_timeout") == 0)
            cs_config_read_seconds(ld, s, &l->idle_timeout_s);
        else if (strcmp(key, "header_timeout") == 0)
            cs_config_read_seconds(ld, s, &l->header_timeout_s);
        else if (strcmp(key, "request_timeout") == 0)
            cs_config_read_seconds(ld, s, &l->request_timeout_s);
        else if (strcmp(key, "propfind_results") == 0)
            cs_config_read_count(ld, s, 1, 100000000, &l->propfind_results);
        else if (strcmp(key, "index_queue") == 0)
            cs_config_read_count(ld, s, 1, 10000000, &l->index_queue);
        else if (strcmp(key, "auth_failures") == 0)
            cs_config_read_count(ld, s, 1, 1000000, &l->auth_failures);
        else if (strcmp(key, "workers") == 0)
            cs_config_read_count(ld, s, 1, 256, &l->workers);
        else if (strcmp(key, "work_queue") == 0)
            cs_config_read_count(ld, s, 1, 65536, &l->work_queue);
        else if (strcmp(key, "memory_cache") == 0)
            cs_config_read_size(ld, s, &l->memory_cache);
        else
            cs_config_error(ld, s, "unknown limits setting '%s'", key);
    }
}

static void read_compression(struct cs_config_loader *ld, const config_setting_t *s,
                             struct cs_namespace_config *ns)
{
    const char *v = config_setting_get_string(s);

    if (v && strcmp(v, "zstd") == 0) {
        if (ns->compress_level == 0)
            ns->compress_level = 3;
    } else if (v && strcmp(v, "none") == 0) {
        ns->compress_level = -1; /* kept off even when a level is given */
    } else {
        cs_config_error(ld, s, "compression must be \"zstd\" or \"none\"");
    }
}

static void load_namespace(struct cs_config_loader *ld, const config_setting_t *g,
                           struct cs_config *cfg, struct cs_namespace_config *ns)
{
    int i, n = config_setting_length(g);
    bool have_name = false, compression = false;
    int level_given = 0;

    ns->max_blob_size = cfg->max_blob_size;
    if (!config_setting_is_group(g)) {
        cs_config_error(ld, g, "each namespace must be a group: { name = \"...\"; ... }");
        return;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        if (strcmp(key, "name") == 0) {
            const char *name = config_setting_get_string(s);
            if (!name || !cs_namespace_name_valid(name, strlen(name))) {
                cs_config_error(ld, s,
                                "namespace name must be 1-64 characters of A-Z a-z 0-9 . _ - "
                                "and not start with '.', '_' or '-'");
                continue;
            }
            ns->name = strdup(name);
            have_name = ns->name != NULL;
        } else if (strcmp(key, "max_blob_size") == 0) {
            cs_config_read_size(ld, s, &ns->max_blob_size);
        } else if (strcmp(key, "max_size") == 0) {
            cs_config_read_size(ld, s, &ns->max_size);
        } else if (strcmp(key, "durable") == 0) {
            cs_config_read_bool(ld, s, &ns->durable);
        } else if (strcmp(key, "compression") == 0) {
            read_compression(ld, s, ns);
            compression = true;
        } else if (strcmp(key, "compression_level") == 0) {
            unsigned level;
            if (cs_config_read_count(ld, s, 1, (unsigned)ZSTD_maxCLevel(), &level))
                level_given = (int)level;
        } else if (strcmp(key, "tiers") == 0) {
            cs_config_load_tiers(ld, s, ns);
        } else if (strcmp(key, "read_only_puts") == 0) {
            const char *v = config_setting_get_string(s);
            if (v && strcmp(v, "drop") == 0)
                ns->drop_read_only_puts = true;
            else if (v && strcmp(v, "refuse") == 0)
                ns->drop_read_only_puts = false;
            else
                cs_config_error(ld, s,
                                "read_only_puts must be \"refuse\" (403/401) or \"drop\" (202, "
                                "nothing stored)");
        } else if (strcmp(key, "read") == 0) {
            cs_config_read_acl(ld, s, cfg, ns, CS_RIGHT_READ);
        } else if (strcmp(key, "write") == 0) {
            cs_config_read_acl(ld, s, cfg, ns, CS_RIGHT_WRITE);
        } else if (strcmp(key, "admin") == 0) {
            cs_config_read_acl(ld, s, cfg, ns, CS_RIGHT_ADMIN);
        } else {
            cs_config_error(ld, s, "unknown namespace setting '%s'", key);
        }
    }
    if (!have_name && !ld->failed)
        cs_config_error(ld, g, "namespace without a name");
    if (level_given && !compression)
        cs_config_error(ld, g, "compression_level without compression = \"zstd\"");
    if (ns->compress_level > 0 && level_given)
        ns->compress_level = level_given;
    if (ns->compress_level < 0)
        ns->compress_level = 0;
}

static void load_namespaces(struct cs_config_loader *ld, const config_setting_t *list,
                            struct cs_config *cfg)
{
    int i, j, n;

    if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
        cs_config_error(ld, list, "namespaces must be a list: ( { name = \"...\"; }, ... )");
        return;
    }
    n = config_setting_length(list);
    if (n == 0) {
        cs_config_error(ld, list, "namespaces is empty: define at least one");
        return;
    }
    cfg->namespaces = calloc((size_t)n, sizeof *cfg->namespaces);
    if (!cfg->namespaces) {
        cs_config_error(ld, list, "out of memory");
        return;
    }
    cfg->n_namespaces = (size_t)n;
    for (i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        load_namespace(ld, g, cfg, &cfg->namespaces[i]);
        for (j = 0; j < i; j++) {
            if (cfg->namespaces[i].name && cfg->namespaces[j].name &&
                strcmp(cfg->namespaces[i].name, cfg->namespaces[j].name) == 0)
                cs_config_error(ld, g, "namespace \"%s\" is defined twice",
                                cfg->namespaces[i].name);
        }
    }
}

static void load_root(struct cs_config_loader *ld, config_t *lc, struct cs_config *cfg)
{
    config_setting_t *root = config_root_setting(lc);
    const config_setting_t *s;
    int i, n = config_setting_length(root);

    /* Scalars first: namespaces inherit max_blob_size whatever the order. */
    s = config_setting_get_member(root, "max_blob_size");
    if (s)
        cs_config_read_size(ld, s, &cfg->max_blob_size);
    /* Users before namespaces: their ACLs name users. */
    s = config_setting_get_member(root, "users");
    if (s)
        cs_config_load_users(ld, s, cfg);
    s = config_setting_get_member(root, "htpasswd");
    if (s)
        cs_config_load_htpasswd(ld, s, cfg);
    cs_config_load_s3(ld, config_setting_get_member(root, "s3"), cfg);
    cs_config_load_s3_secrets(ld, cfg);
    for (i = 0; i < n; i++) {
        s = config_setting_get_elem(root, (unsigned)i);
        const char *key = config_setting_name(s);
        if (strcmp(key, "listen") == 0) {
            cs_config_load_listen(ld, s, cfg);
        } else if (strcmp(key, "data_dir") == 0) {
            const char *dir = config_setting_get_string(s);
            if (!dir || dir[0] == '\0') {
                cs_config_error(ld, s, "data_dir must be a non-empty path string");
                continue;
            }
            free(cfg->data_dir);
            cfg->data_dir = strdup(dir);
        } else if (strcmp(key, "threads") == 0) {
            int type = config_setting_type(s);
            long long t = config_setting_get_int64(s);
            if ((type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) || t < 0 ||
                t > CS_MAX_THREADS)
                cs_config_error(ld, s, "threads must be 0 (one per CPU) to %d", CS_MAX_THREADS);
            else
                cfg->threads = (unsigned)t;
        } else if (strcmp(key, "max_blob_size") == 0 || strcmp(key, "users") == 0 ||
                   strcmp(key, "htpasswd") == 0 || strcmp(key, "s3") == 0) {
            /* read above */
        } else if (strcmp(key, "access_log") == 0) {
            const char *v = config_setting_get_string(s);
            if (!v || v[0] == '\0') {
                cs_config_error(ld, s, "access_log must be a file name, or \"-\" for stdout");
                continue;
            }
            free(cfg->access_log);
            if (!(cfg->access_log = strdup(v)))
                cs_config_error(ld, s, "out of memory");
        } else if (strcmp(key, "tls_cert") == 0) {
            cs_config_read_path(ld, s, &cfg->tls_cert);
        } else if (strcmp(key, "tls_key") == 0) {
            cs_config_read_path(ld, s, &cfg->tls_key);
        } else if (strcmp(key, "tls_client_ca") == 0) {
            cs_config_read_path(ld, s, &cfg->tls_client_ca);
        } else if (strcmp(key, "limits") == 0) {
            load_limits(ld, s, &cfg->limits);
        } else if (strcmp(key, "auth_cache_entries") == 0) {
            cs_config_read_count(ld, s, 0, 1u << 24, &cfg->auth_cache_entries);
        } else if (strcmp(key, "auth_cache_ttl") == 0) {
            cs_config_read_seconds(ld, s, &cfg->auth_cache_ttl_s);
        } else if (strcmp(key, "max_size") == 0) {
            cs_config_read_size(ld, s, &cfg->max_size);
        } else if (strcmp(key, "track_access") == 0) {
            cs_config_read_bool(ld, s, &cfg->track_access);
        } else if (strcmp(key, "stats_interval") == 0) {
            unsigned v;
            if (!cs_config_read_seconds(ld, s, &v))
                continue;
            if (v > 3600)
                cs_config_error(ld, s, "stats_interval must be from 1s to 1h");
            else
                cfg->stats_interval_s = v;
        } else if (strcmp(key, "namespaces") == 0) {
            load_namespaces(ld, s, cfg);
        } else {
            cs_config_error(ld, s, "unknown setting '%s'", key);
        }
    }
    if (!cfg->n_namespaces && !config_setting_get_member(root, "namespaces"))
        cs_config_error(ld, NULL,
                        "no namespaces defined: add namespaces = ( { name = \"default\"; "
                        "read = [ \"*\" ]; write = [ \"*\" ]; } );");
}

static unsigned cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > CS_MAX_THREADS ? CS_MAX_THREADS : (unsigned)n;
}

/* The first line of path on which a string opens and does not close
 * (outside # and // comments); 0 when none does. */
static int unterminated_string_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int c, prev = 0, line = 1, found = 0;
    bool in_string = false, in_comment = false;
    while (!found && (c = getc(f)) != EOF) {
        if (c == '\n') {
            if (in_string)
                found = line;
            in_comment = false;
            line++;
            prev = 0;
            continue;
        }
        if (in_string) {
            if (c == '"' && prev != '\\')
                in_string = false;
            prev = prev == '\\' && c == '\\' ? 0 : c;
            continue;
        }
        if (!in_comment && (c == '#' || (c == '/' && prev == '/')))
            in_comment = true;
        else if (!in_comment && c == '"')
            in_string = true;
        prev = c;
    }
    if (!found && in_string)
        found = line;
    fclose(f);
    return found;
}

static enum cs_status finish_load(config_t *lc, int read_ok, const char *name,
                                  struct cs_config **out, struct cs_config_errors *errs)
{
    struct cs_config_loader ld = {.file = name, .errs = errs, .failed = false};
    struct cs_config *cfg = calloc(1, sizeof *cfg);

    if (!cfg)
        return CS_ERR_NOMEM;
    cfg->source = strdup(name);
    cfg->max_blob_size = CS_DEFAULT_MAX_BLOB_SIZE;
    cfg->max_size = CS_DEFAULT_MAX_SIZE;
    cfg->track_access = true;
    cfg->stats_interval_s = 60;
    cfg->auth_cache_entries = 4096;
    cfg->auth_cache_ttl_s = 300;
    default_limits(&cfg->limits);
    cfg->data_dir = default_data_dir();
    if (!read_ok) {
        char *line = NULL;
        const char *file = config_error_file(lc) ? config_error_file(lc) : name;
        /* libconfig reads an unterminated string to the end of the file and
         * names the line where it gave up: name the line it began on. */
        int open_at = config_error_file(lc) ? unterminated_string_line(file) : 0;
        ld.failed = true;
        if (open_at > 0 && open_at <= config_error_line(lc)) {
            if (asprintf(&line, "%s:%d: unterminated string (a closing \" is missing)", file,
                         open_at) < 0)
                line = NULL;
        } else if (asprintf(&line, "%s:%d: %s", file, config_error_line(lc),
                            config_error_text(lc)) < 0) {
            line = NULL;
        }
        cs_config_errors_push(errs, line);
        goto done;
    }
    load_root(&ld, lc, cfg);
    if (cfg->n_listen == 0 && !ld.failed) {
        cfg->listen[0] = strdup(CS_DEFAULT_LISTEN);
        cfg->n_listen = cfg->listen[0] ? 1 : 0;
    }
    if (cfg->threads == 0)
        cfg->threads = cpu_count();
    cs_config_check_tls(&ld, cfg);
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
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        char *line = NULL;
        int e = f ? (fstat(fileno(f), &st) != 0 ? errno : EISDIR) : errno;
        if (e == EISDIR) {
            if (asprintf(&line,
                         "cstashd: %s: is a directory, not a config file (e.g. %s/cstashd.conf)",
                         path, path) < 0)
                line = NULL;
        } else if (asprintf(&line, "cstashd: %s: cannot read: %s", path, strerror(e)) < 0) {
            line = NULL;
        }
        if (f)
            fclose(f);
        cs_config_errors_push(errs, line);
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
    for (i = 0; i < cfg->n_namespaces; i++) {
        free(cfg->namespaces[i].name);
        free(cfg->namespaces[i].rights);
        cs_config_tiers_free(cfg->namespaces[i].tiers, cfg->namespaces[i].n_tiers);
    }
    free(cfg->namespaces);
    for (i = 0; i < cfg->n_users; i++) {
        free(cfg->users[i].name);
        free(cfg->users[i].tokens);
        free(cfg->users[i].password_hash);
    }
    free(cfg->users);
    cs_config_s3_free(&cfg->s3);
    free(cfg->htpasswd);
    free(cfg->access_log);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_client_ca);
    free(cfg->data_dir);
    free(cfg->source);
    free(cfg);
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
