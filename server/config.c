/* Configuration loading and validation. Every problem is reported with the
 * file and line it comes from; loading goes on after an error so that one
 * --check-config run lists all of them. */
#include "autoconfig.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "common/hash.h"
#include "common/size.h"
#include "server/config.h"
#include "server/key.h"

#define MAX_ERRORS 100
#define HTPASSWD_MAX (16 << 20)

static const char embedded_default[] =
    "listen = [ \"" CS_DEFAULT_LISTEN "\" ];\n"
    "namespaces = ( { name = \"default\"; read = [ \"*\" ]; write = [ \"*\" ]; "
    "admin = [ \"*\" ]; } );\n";

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
    if (type == CONFIG_TYPE_STRING && cs_parse_size(config_setting_get_string(s), out) == CS_OK)
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

/* A list of principal names granting right: "*", "@authenticated" or
 * users (which load_users has read already). */
static void read_acl(struct loader *ld, const config_setting_t *s, const struct cs_config *cfg,
                     struct cs_namespace_config *ns, unsigned right)
{
    int i, n;

    if (!config_setting_is_aggregate(s)) {
        add_error(ld, s, "%s must be a list of names, e.g. [ \"*\" ]", config_setting_name(s));
        return;
    }
    n = config_setting_length(s);
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_get_string(e);
        int uid;
        if (!name) {
            add_error(ld, e, "%s entries must be strings", config_setting_name(s));
        } else if (strcmp(name, "*") == 0) {
            ns->rights_anyone |= right;
        } else if (strcmp(name, "@authenticated") == 0) {
            ns->rights_authenticated |= right;
        } else if ((uid = cs_config_find_user(cfg, name)) < 0) {
            add_error(ld, e,
                      "unknown principal \"%s\" in %s: use \"*\", \"@authenticated\" or a "
                      "name from users (or the htpasswd file)",
                      name, config_setting_name(s));
        } else {
            if (!ns->rights)
                ns->rights = calloc(cfg->n_users, 1);
            if (!ns->rights) {
                add_error(ld, e, "out of memory");
                return;
            }
            ns->rights[uid] |= (uint8_t)right;
        }
    }
}

/* User names go into Basic credentials and logs: printable ASCII without
 * ':' or spaces, not starting with '@' or '*' (ACL keywords). */
static bool user_name_valid(const char *name)
{
    size_t i, n = strlen(name);

    if (n == 0 || n > 128 || name[0] == '@' || name[0] == '*')
        return false;
    for (i = 0; i < n; i++)
        if (name[i] <= 0x20 || name[i] >= 0x7f || name[i] == ':')
            return false;
    return true;
}

/* Accepts what this libcrypt verifies and does not call weak: yescrypt,
 * bcrypt, sha512crypt, sha256crypt, scrypt... */
static bool password_hash_ok(struct loader *ld, const config_setting_t *where, const char *user,
                             const char *hash)
{
    int ok = crypt_checksalt(hash);

    if (ok == CRYPT_SALT_OK)
        return true;
    if (strncmp(hash, "$apr1$", 6) == 0)
        add_error(ld, where,
                  "user \"%s\": $apr1$ (Apache MD5) hashes are not accepted, MD5 is too "
                  "fast to guard a password; re-create it with htpasswd -B (bcrypt) or "
                  "cstashd hash-password",
                  user);
    else
        add_error(ld, where,
                  "user \"%s\": password hash is not a crypt(3) hash this system accepts "
                  "(use yescrypt \"$y$\", bcrypt \"$2b$\" or sha512crypt \"$6$\": "
                  "cstashd hash-password makes one)",
                  user);
    return false;
}

static struct cs_user *new_user(struct loader *ld, const config_setting_t *where,
                                struct cs_config *cfg, const char *name)
{
    struct cs_user *grown;

    if (!user_name_valid(name)) {
        add_error(ld, where,
                  "user name \"%.64s\" must be 1-128 printable characters without ':' or "
                  "spaces, not starting with '@' or '*'",
                  name);
        return NULL;
    }
    if (cs_config_find_user(cfg, name) >= 0) {
        add_error(ld, where, "user \"%s\" is defined twice", name);
        return NULL;
    }
    grown = realloc(cfg->users, (cfg->n_users + 1) * sizeof *grown);
    if (!grown) {
        add_error(ld, where, "out of memory");
        return NULL;
    }
    cfg->users = grown;
    memset(&grown[cfg->n_users], 0, sizeof *grown);
    grown[cfg->n_users].name = strdup(name);
    if (!grown[cfg->n_users].name) {
        add_error(ld, where, "out of memory");
        return NULL;
    }
    return &grown[cfg->n_users++];
}

static void add_token(struct loader *ld, const config_setting_t *e, struct cs_user *u)
{
    const char *hex = config_setting_get_string(e);
    uint8_t(*grown)[CS_SHA256_BYTES];

    if (!hex || strlen(hex) != 2 * CS_SHA256_BYTES) {
        add_error(ld, e,
                  "user \"%s\": a token hash is 64 hex digits (cstashd hash-token "
                  "prints it), not the token itself",
                  u->name);
        return;
    }
    grown = realloc(u->tokens, (u->n_tokens + 1) * sizeof *grown);
    if (!grown) {
        add_error(ld, e, "out of memory");
        return;
    }
    u->tokens = grown;
    if (!cs_hex_decode(hex, strlen(hex), grown[u->n_tokens], CS_SHA256_BYTES)) {
        add_error(ld, e, "user \"%s\": token hash must be hex digits", u->name);
        return;
    }
    u->n_tokens++;
}

static void load_user(struct loader *ld, const config_setting_t *g, struct cs_config *cfg)
{
    const config_setting_t *s = config_setting_get_member(g, "name");
    const char *name = s ? config_setting_get_string(s) : NULL;
    struct cs_user *u;
    int i, n;

    if (!config_setting_is_group(g)) {
        add_error(ld, g, "each user must be a group: { name = \"...\"; token_sha256 = \"...\"; }");
        return;
    }
    if (!name) {
        add_error(ld, g, "user without a name");
        return;
    }
    u = new_user(ld, s, cfg, name);
    if (!u)
        return;
    n = config_setting_length(g);
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(e);
        if (strcmp(key, "name") == 0) {
            continue;
        } else if (strcmp(key, "token_sha256") == 0) {
            add_token(ld, e, u);
        } else if (strcmp(key, "tokens_sha256") == 0 && config_setting_is_aggregate(e)) {
            int j, m = config_setting_length(e);
            for (j = 0; j < m; j++)
                add_token(ld, config_setting_get_elem(e, (unsigned)j), u);
        } else if (strcmp(key, "password_hash") == 0) {
            const char *h = config_setting_get_string(e);
            if (!h) {
                add_error(ld, e, "password_hash must be a string");
            } else if (password_hash_ok(ld, e, u->name, h)) {
                free(u->password_hash);
                u->password_hash = strdup(h);
            }
        } else if (strcmp(key, "password") == 0) {
            add_error(ld, e,
                      "user \"%s\": plaintext passwords are not accepted: set "
                      "password_hash (cstashd hash-password prints one)",
                      u->name);
        } else if (strcmp(key, "token") == 0) {
            add_error(ld, e,
                      "user \"%s\": plaintext tokens are not accepted: set "
                      "token_sha256 (cstashd hash-token prints it)",
                      u->name);
        } else {
            add_error(ld, e, "unknown user setting '%s'", key);
        }
    }
}

static void load_users(struct loader *ld, const config_setting_t *list, struct cs_config *cfg)
{
    int i, n;

    if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
        add_error(ld, list, "users must be a list: ( { name = \"...\"; ... }, ... )");
        return;
    }
    n = config_setting_length(list);
    for (i = 0; i < n; i++)
        load_user(ld, config_setting_get_elem(list, (unsigned)i), cfg);
}

/* Apache htpasswd: "user:hash" lines; '#' comments and blank lines skipped. */
static void load_htpasswd(struct loader *ld, const config_setting_t *s, struct cs_config *cfg)
{
    const char *path = config_setting_get_string(s);
    char line[1024];
    unsigned lineno = 0;
    struct stat st;
    FILE *f;

    if (!path || !path[0]) {
        add_error(ld, s, "htpasswd must be a file name");
        return;
    }
    cfg->htpasswd = strdup(path);
    f = fopen(path, "r");
    if (!f) {
        add_error(ld, s, "htpasswd file %s: cannot read: %s", path, strerror(errno));
        return;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > HTPASSWD_MAX) {
        add_error(ld, s, "htpasswd file %s: not a regular file of at most 16 MiB", path);
        fclose(f);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        char *colon;
        struct cs_user *u;
        lineno++;
        line[len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        colon = strchr(line, ':');
        if (!colon) {
            add_error(ld, s, "htpasswd file %s line %u: expected user:hash", path, lineno);
            continue;
        }
        *colon = '\0';
        if (!password_hash_ok(ld, s, line, colon + 1))
            continue;
        u = new_user(ld, s, cfg, line);
        if (u)
            u->password_hash = strdup(colon + 1);
    }
    fclose(f);
}

/* A duration in whole seconds, from a number of seconds or "30s", "10m". */
static bool read_seconds(struct loader *ld, const config_setting_t *s, unsigned *out)
{
    int type = config_setting_type(s);
    uint64_t ms = 0;

    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        ms = v > 0 && v < 100000000 ? (uint64_t)v * 1000 : 0;
    } else if (type == CONFIG_TYPE_STRING) {
        if (cs_parse_duration(config_setting_get_string(s), &ms) != CS_OK)
            ms = 0;
    }
    if (ms < 1000 || ms / 1000 > 100000000) {
        add_error(ld, s,
                  "%s must be a duration of at least 1s, like 30, \"30s\", \"10m\" or "
                  "\"1h\"",
                  config_setting_name(s));
        return false;
    }
    *out = (unsigned)(ms / 1000);
    return true;
}

static bool read_count(struct loader *ld, const config_setting_t *s, unsigned min, unsigned max,
                       unsigned *out)
{
    uint64_t v;

    if (!read_size(ld, s, &v))
        return false;
    if (v < min || v > max) {
        add_error(ld, s, "%s must be from %u to %u", config_setting_name(s), min, max);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static void load_limits(struct loader *ld, const config_setting_t *g, struct cs_limits *l)
{
    int i, n;

    if (!config_setting_is_group(g)) {
        add_error(ld, g, "limits must be a group: { connections = 1024; ... }");
        return;
    }
    n = config_setting_length(g);
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        if (strcmp(key, "connections") == 0)
            read_count(ld, s, 1, 1000000, &l->connections);
        else if (strcmp(key, "connections_per_ip") == 0)
            read_count(ld, s, 1, 1000000, &l->connections_per_ip);
        else if (strcmp(key, "header_size") == 0)
            read_count(ld, s, 1024, 1u << 20, &l->header_size);
        else if (strcmp(key, "url_length") == 0)
            read_count(ld, s, 64, 1u << 20, &l->url_length);
        else if (strcmp(key, "idle_timeout") == 0)
            read_seconds(ld, s, &l->idle_timeout_s);
        else if (strcmp(key, "header_timeout") == 0)
            read_seconds(ld, s, &l->header_timeout_s);
        else if (strcmp(key, "request_timeout") == 0)
            read_seconds(ld, s, &l->request_timeout_s);
        else if (strcmp(key, "propfind_results") == 0)
            read_count(ld, s, 1, 100000000, &l->propfind_results);
        else if (strcmp(key, "index_queue") == 0)
            read_count(ld, s, 1, 10000000, &l->index_queue);
        else if (strcmp(key, "auth_failures") == 0)
            read_count(ld, s, 1, 1000000, &l->auth_failures);
        else
            add_error(ld, s, "unknown limits setting '%s'", key);
    }
}

static void read_path(struct loader *ld, const config_setting_t *s, char **out)
{
    const char *v = config_setting_get_string(s);

    if (!v || !v[0]) {
        add_error(ld, s, "%s must be a file name", config_setting_name(s));
        return;
    }
    free(*out);
    *out = strdup(v);
}

const char *cs_listen_scheme(const char *text, bool *tls)
{
    *tls = false;
    if (strncmp(text, "https://", 8) == 0) {
        *tls = true;
        return text + 8;
    }
    if (strncmp(text, "http://", 7) == 0)
        return text + 7;
    return text;
}

static void read_string(struct loader *ld, const config_setting_t *s, char **out)
{
    const char *v = config_setting_get_string(s);

    if (!v) {
        add_error(ld, s, "%s must be a string", config_setting_name(s));
        return;
    }
    free(*out);
    *out = strdup(v);
}

static void read_tier_type(struct loader *ld, const config_setting_t *s, struct cs_tier_config *t)
{
    static const char *const names[] = {"disk", "s3", "redis", "http"};
    const char *v = config_setting_get_string(s);
    size_t i;

    for (i = 0; v && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(v, names[i]) == 0) {
            t->type = (enum cs_tier_type)i;
            return;
        }
    }
    add_error(ld, s, "tier type must be \"disk\", \"s3\", \"redis\" or \"http\"");
}

/* What each type needs, once all its keys are read. */
static void check_tier(struct loader *ld, const config_setting_t *g, const struct cs_tier_config *t)
{
    switch (t->type) {
    case CS_TIER_DISK: break;
    case CS_TIER_S3:
        if (!t->bucket || !t->bucket[0])
            add_error(ld, g, "s3 tier needs bucket = \"...\"");
        if (t->endpoint && strncmp(t->endpoint, "http://", 7) != 0 &&
            strncmp(t->endpoint, "https://", 8) != 0)
            add_error(ld, g, "s3 endpoint must start with http:// or https://");
        if (!t->access_key != !t->secret_key)
            add_error(ld, g,
                      "s3 tier needs both access_key and secret_key (or neither, "
                      "to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
        break;
    case CS_TIER_REDIS:
        if (!t->url || (strncmp(t->url, "redis://", 8) != 0 && strncmp(t->url, "unix://", 7) != 0))
            add_error(ld, g,
                      "redis tier needs url = \"redis://[user:pass@]host:port/db\" "
                      "or \"unix:///path/to/redis.sock\"");
        break;
    case CS_TIER_HTTP:
        if (!t->url || (strncmp(t->url, "http://", 7) != 0 && strncmp(t->url, "https://", 8) != 0))
            add_error(ld, g, "http tier needs url = \"http(s)://host:port/namespace\"");
        break;
    }
}

static void load_tier(struct loader *ld, const config_setting_t *g, struct cs_tier_config *t)
{
    int i, n = config_setting_length(g);
    bool have_type = false;

    t->tls_verify = true;
    t->timeout_s = 10;
    t->connect_timeout_s = 2;
    t->backoff_s = 30;
    t->queue = 10000;
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        if (strcmp(key, "type") == 0) {
            read_tier_type(ld, s, t);
            have_type = true;
        } else if (strcmp(key, "write") == 0) {
            const char *v = config_setting_get_string(s);
            if (v && (strcmp(v, "sync") == 0 || strcmp(v, "async") == 0))
                t->write_async = strcmp(v, "async") == 0;
            else
                add_error(ld, s, "write must be \"sync\" or \"async\"");
        } else if (strcmp(key, "url") == 0) {
            read_string(ld, s, &t->url);
        } else if (strcmp(key, "endpoint") == 0) {
            read_string(ld, s, &t->endpoint);
        } else if (strcmp(key, "bucket") == 0) {
            read_string(ld, s, &t->bucket);
        } else if (strcmp(key, "region") == 0) {
            read_string(ld, s, &t->region);
        } else if (strcmp(key, "prefix") == 0) {
            read_string(ld, s, &t->prefix);
        } else if (strcmp(key, "access_key") == 0) {
            read_string(ld, s, &t->access_key);
        } else if (strcmp(key, "secret_key") == 0) {
            read_string(ld, s, &t->secret_key);
        } else if (strcmp(key, "session_token") == 0) {
            read_string(ld, s, &t->session_token);
        } else if (strcmp(key, "token") == 0) {
            read_string(ld, s, &t->token);
        } else if (strcmp(key, "ca_file") == 0) {
            read_path(ld, s, &t->ca_file);
        } else if (strcmp(key, "path_style") == 0) {
            read_bool(ld, s, &t->path_style);
        } else if (strcmp(key, "tls_verify") == 0) {
            read_bool(ld, s, &t->tls_verify);
        } else if (strcmp(key, "max_object_size") == 0) {
            read_size(ld, s, &t->max_object_size);
        } else if (strcmp(key, "ttl") == 0) {
            read_seconds(ld, s, &t->ttl_s);
        } else if (strcmp(key, "timeout") == 0) {
            read_seconds(ld, s, &t->timeout_s);
        } else if (strcmp(key, "connect_timeout") == 0) {
            read_seconds(ld, s, &t->connect_timeout_s);
        } else if (strcmp(key, "backoff") == 0) {
            read_seconds(ld, s, &t->backoff_s);
        } else if (strcmp(key, "queue") == 0) {
            read_count(ld, s, 1, 10000000, &t->queue);
        } else if (strcmp(key, "refresh_age") == 0) {
            read_seconds(ld, s, &t->refresh_age_s);
        } else {
            add_error(ld, s, "unknown tier setting '%s'", key);
        }
    }
    if (!have_type)
        add_error(ld, g,
                  "tier without a type: type = \"disk\" | \"s3\" | \"redis\" | "
                  "\"http\"");
    else
        check_tier(ld, g, t);
}

static void tier_strings_free(struct cs_tier_config *t)
{
    free(t->url);
    free(t->endpoint);
    free(t->bucket);
    free(t->region);
    free(t->prefix);
    free(t->access_key);
    free(t->secret_key);
    free(t->session_token);
    free(t->token);
    free(t->ca_file);
}

/* tiers = ( { type = "disk"; }, { type = "s3"; ... }, ... ): the disk
 * first, then the remote tiers in the order a GET tries them. */
static void load_tiers(struct loader *ld, const config_setting_t *list,
                       struct cs_namespace_config *ns)
{
    int i, n;

    if (!config_setting_is_list(list) || config_setting_length(list) == 0) {
        add_error(ld, list,
                  "tiers must be a list: ( { type = \"disk\"; }, { type = \"s3\"; "
                  "... } )");
        return;
    }
    n = config_setting_length(list);
    ns->tiers = calloc((size_t)n, sizeof *ns->tiers);
    if (!ns->tiers) {
        add_error(ld, list, "out of memory");
        return;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct cs_tier_config t = {0};
        if (!config_setting_is_group(g)) {
            add_error(ld, g, "each tier must be a group: { type = \"...\"; ... }");
            continue;
        }
        load_tier(ld, g, &t);
        if ((i == 0) != (t.type == CS_TIER_DISK))
            add_error(ld, g,
                      i == 0 ? "the first tier must be { type = \"disk\"; }: "
                               "every object passes through the local disk"
                             : "only the first tier can be the disk");
        if (i == 0) {
            tier_strings_free(&t); /* the disk has no settings to keep */
            continue;
        }
        ns->tiers[ns->n_tiers++] = t;
    }
}

static void read_compression(struct loader *ld, const config_setting_t *s,
                             struct cs_namespace_config *ns)
{
    const char *v = config_setting_get_string(s);

    if (v && strcmp(v, "zstd") == 0) {
        if (ns->compress_level == 0)
            ns->compress_level = 3;
    } else if (v && strcmp(v, "none") == 0) {
        ns->compress_level = -1; /* kept off even when a level is given */
    } else {
        add_error(ld, s, "compression must be \"zstd\" or \"none\"");
    }
}

static void load_namespace(struct loader *ld, const config_setting_t *g, struct cs_config *cfg,
                           struct cs_namespace_config *ns)
{
    int i, n = config_setting_length(g);
    bool have_name = false, compression = false;
    int level_given = 0;

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
        } else if (strcmp(key, "compression") == 0) {
            read_compression(ld, s, ns);
            compression = true;
        } else if (strcmp(key, "compression_level") == 0) {
            unsigned level;
            if (read_count(ld, s, 1, (unsigned)ZSTD_maxCLevel(), &level))
                level_given = (int)level;
        } else if (strcmp(key, "tiers") == 0) {
            load_tiers(ld, s, ns);
        } else if (strcmp(key, "read") == 0) {
            read_acl(ld, s, cfg, ns, CS_RIGHT_READ);
        } else if (strcmp(key, "write") == 0) {
            read_acl(ld, s, cfg, ns, CS_RIGHT_WRITE);
        } else if (strcmp(key, "admin") == 0) {
            read_acl(ld, s, cfg, ns, CS_RIGHT_ADMIN);
        } else {
            add_error(ld, s, "unknown namespace setting '%s'", key);
        }
    }
    if (!have_name && !ld->failed)
        add_error(ld, g, "namespace without a name");
    if (level_given && !compression)
        add_error(ld, g, "compression_level without compression = \"zstd\"");
    if (ns->compress_level > 0 && level_given)
        ns->compress_level = level_given;
    if (ns->compress_level < 0)
        ns->compress_level = 0;
}

static void load_namespaces(struct loader *ld, const config_setting_t *list, struct cs_config *cfg)
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
        const config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING
                                        ? s
                                        : config_setting_get_elem(s, (unsigned)i);
        const char *text = config_setting_get_string(e);
        bool tls = false;
        if (text)
            text = cs_listen_scheme(text, &tls);
        if (!text || cs_parse_listen_addr(text, host, sizeof host, &port) != CS_OK) {
            add_error(ld, e,
                      "listen address must be \"host:port\", \"[ipv6]:port\" or "
                      "\"https://host:port\"");
            continue;
        }
        cfg->listen_tls[cfg->n_listen] = tls;
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
    /* Users before namespaces: their ACLs name users. */
    s = config_setting_get_member(root, "users");
    if (s)
        load_users(ld, s, cfg);
    s = config_setting_get_member(root, "htpasswd");
    if (s)
        load_htpasswd(ld, s, cfg);
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
        } else if (strcmp(key, "max_blob_size") == 0 || strcmp(key, "users") == 0 ||
                   strcmp(key, "htpasswd") == 0) {
            /* read above */
        } else if (strcmp(key, "tls_cert") == 0) {
            read_path(ld, s, &cfg->tls_cert);
        } else if (strcmp(key, "tls_key") == 0) {
            read_path(ld, s, &cfg->tls_key);
        } else if (strcmp(key, "tls_client_ca") == 0) {
            read_path(ld, s, &cfg->tls_client_ca);
        } else if (strcmp(key, "limits") == 0) {
            load_limits(ld, s, &cfg->limits);
        } else if (strcmp(key, "auth_cache_entries") == 0) {
            read_count(ld, s, 0, 1u << 24, &cfg->auth_cache_entries);
        } else if (strcmp(key, "auth_cache_ttl") == 0) {
            read_seconds(ld, s, &cfg->auth_cache_ttl_s);
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
        add_error(ld, NULL,
                  "no namespaces defined: add namespaces = ( { name = \"default\"; "
                  "read = [ \"*\" ]; write = [ \"*\" ]; } );");
}

bool cs_config_tls_ok(const struct cs_config *cfg, char *why, size_t why_len)
{
    size_t i;
    bool any = false;

    for (i = 0; i < cfg->n_listen; i++)
        any |= cfg->listen_tls[i];
    if (any && (!cfg->tls_cert || !cfg->tls_key)) {
        snprintf(why, why_len, "an https:// listener needs tls_cert and tls_key");
        return false;
    }
    if (cfg->tls_client_ca && !cfg->n_users) {
        snprintf(why, why_len,
                 "tls_client_ca maps a client certificate's CN to a user: "
                 "define users");
        return false;
    }
    return true;
}

static void check_tls(struct loader *ld, const struct cs_config *cfg)
{
    char why[160];

    if (!cs_config_tls_ok(cfg, why, sizeof why))
        add_error(ld, NULL, "%s", why);
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
    cfg->auth_cache_entries = 4096;
    cfg->auth_cache_ttl_s = 300;
    default_limits(&cfg->limits);
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
    check_tls(&ld, cfg);
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

static void tiers_free(struct cs_tier_config *t, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        tier_strings_free(&t[i]);
    free(t);
}

static bool same_string(const char *a, const char *b);

static bool same_tier(const struct cs_tier_config *a, const struct cs_tier_config *b)
{
    return a->type == b->type && a->write_async == b->write_async && same_string(a->url, b->url) &&
           same_string(a->endpoint, b->endpoint) && same_string(a->bucket, b->bucket) &&
           same_string(a->region, b->region) && same_string(a->prefix, b->prefix) &&
           same_string(a->access_key, b->access_key) && same_string(a->secret_key, b->secret_key) &&
           same_string(a->session_token, b->session_token) && same_string(a->token, b->token) &&
           same_string(a->ca_file, b->ca_file) && a->path_style == b->path_style &&
           a->tls_verify == b->tls_verify && a->max_object_size == b->max_object_size &&
           a->ttl_s == b->ttl_s && a->timeout_s == b->timeout_s &&
           a->connect_timeout_s == b->connect_timeout_s && a->backoff_s == b->backoff_s &&
           a->queue == b->queue && a->refresh_age_s == b->refresh_age_s;
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
        tiers_free(cfg->namespaces[i].tiers, cfg->namespaces[i].n_tiers);
    }
    free(cfg->namespaces);
    for (i = 0; i < cfg->n_users; i++) {
        free(cfg->users[i].name);
        free(cfg->users[i].tokens);
        free(cfg->users[i].password_hash);
    }
    free(cfg->users);
    free(cfg->htpasswd);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_client_ca);
    free(cfg->data_dir);
    free(cfg->source);
    free(cfg);
}

enum cs_status cs_config_set_listen(struct cs_config *cfg, char *const *addrs, size_t n)
{
    char host[256];
    uint16_t port;
    size_t i;
    bool tls;

    if (n == 0 || n > CS_MAX_LISTEN)
        return CS_ERR_INVALID;
    for (i = 0; i < n; i++)
        if (cs_parse_listen_addr(cs_listen_scheme(addrs[i], &tls), host, sizeof host, &port) !=
            CS_OK)
            return CS_ERR_INVALID;
    for (i = 0; i < cfg->n_listen; i++)
        free(cfg->listen[i]);
    cfg->n_listen = 0;
    for (i = 0; i < n; i++) {
        cfg->listen[i] = strdup(cs_listen_scheme(addrs[i], &cfg->listen_tls[i]));
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

int cs_config_find_user(const struct cs_config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->n_users; i++)
        if (strcmp(cfg->users[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool same_string(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool cs_config_reloadable(const struct cs_config *old, const struct cs_config *new_cfg, char *why,
                          size_t why_len)
{
    size_t i;

    if (old->n_listen != new_cfg->n_listen) {
        snprintf(why, why_len, "listen changed");
        return false;
    }
    for (i = 0; i < old->n_listen; i++) {
        if (strcmp(old->listen[i], new_cfg->listen[i]) != 0 ||
            old->listen_tls[i] != new_cfg->listen_tls[i]) {
            snprintf(why, why_len, "listen changed");
            return false;
        }
    }
    if (!same_string(old->data_dir, new_cfg->data_dir)) {
        snprintf(why, why_len, "data_dir changed");
        return false;
    }
    if (old->threads != new_cfg->threads) {
        snprintf(why, why_len, "threads changed");
        return false;
    }
    if (!same_string(old->tls_cert, new_cfg->tls_cert) ||
        !same_string(old->tls_key, new_cfg->tls_key) ||
        !same_string(old->tls_client_ca, new_cfg->tls_client_ca)) {
        snprintf(why, why_len, "TLS files changed");
        return false;
    }
    if (memcmp(&old->limits, &new_cfg->limits, sizeof old->limits) != 0 ||
        old->track_access != new_cfg->track_access) {
        snprintf(why, why_len, "limits or track_access changed");
        return false;
    }
    if (old->n_namespaces != new_cfg->n_namespaces) {
        snprintf(why, why_len, "namespaces were added or removed");
        return false;
    }
    for (i = 0; i < old->n_namespaces; i++) {
        if (strcmp(old->namespaces[i].name, new_cfg->namespaces[i].name) != 0) {
            snprintf(why, why_len, "namespaces were added, removed or reordered");
            return false;
        }
        const struct cs_namespace_config *a = &old->namespaces[i], *b = &new_cfg->namespaces[i];
        bool same = a->n_tiers == b->n_tiers;
        for (size_t t = 0; same && t < a->n_tiers; t++)
            same = same_tier(&a->tiers[t], &b->tiers[t]);
        if (!same) {
            snprintf(why, why_len, "the tiers of namespace '%s' changed", a->name);
            return false;
        }
    }
    return true;
}
