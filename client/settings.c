/* Settings of the cstash client: "key = value" lines in
 * ~/.config/cstash/cstash.conf (or $CSTASH_CONFIG), each overridden by the
 * environment variable CSTASH_<KEY>. */
#include "autoconfig.h"

#include "client/settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/util.h"
#include "common/size.h"

enum kind { K_STR, K_BOOL, K_SIZE, K_MS, K_SECONDS };

struct key {
    const char *name;
    enum kind kind;
    size_t off;
};

#define OFF(f) offsetof(struct cs_settings, f)
static const struct key keys[] = {
    {"dir", K_STR, OFF(dir)},
    {"maxsize", K_SIZE, OFF(maxsize)},
    {"remote", K_STR, OFF(remote)},
    {"token", K_STR, OFF(token)},
    {"cacert", K_STR, OFF(cacert)},
    {"readonly", K_BOOL, OFF(readonly)},
    {"remote_readonly", K_BOOL, OFF(remote_readonly)},
    {"direct", K_BOOL, OFF(direct)},
    {"depend", K_BOOL, OFF(depend)},
    {"disable", K_BOOL, OFF(disable)},
    {"recache", K_BOOL, OFF(recache)},
    {"log", K_STR, OFF(log)},
    {"prefix", K_STR, OFF(prefix)},
    {"basedir", K_STR, OFF(basedir)},
    {"cache_buster", K_STR, OFF(cache_buster)},
    {"connect_timeout", K_MS, OFF(connect_timeout_ms)},
    {"timeout", K_MS, OFF(timeout_ms)},
    {"remote_backoff", K_SECONDS, OFF(remote_backoff_s)},
};

_Static_assert(sizeof keys / sizeof keys[0] == CS_SETTINGS_KEYS, "CS_SETTINGS_KEYS");

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
             !strcasecmp(v, "off") || !strcmp(v, ""))
        *out = false;
    else
        return false;
    return true;
}

static enum cs_status parse_value(struct cs_settings *s, const struct key *k, const char *v,
                                  const char *where, char *err, size_t errlen)
{
    void *field = (char *)s + k->off;
    uint64_t n;
    switch (k->kind) {
    case K_STR: {
        char **p = field;
        free(*p);
        *p = v[0] ? strdup(v) : NULL;
        if (v[0] && !*p)
            return CS_ERR_NOMEM;
        return CS_OK;
    }
    case K_BOOL:
        if (!parse_bool(v, field)) {
            snprintf(err, errlen, "%s: %s = \"%s\": want true or false", where, k->name, v);
            return CS_ERR_INVALID;
        }
        return CS_OK;
    case K_SIZE:
        if (cs_parse_size(v, &n) != CS_OK || n == 0) {
            snprintf(err, errlen, "%s: %s = \"%s\": want a size like 5G or 500M", where, k->name,
                     v);
            return CS_ERR_INVALID;
        }
        *(uint64_t *)field = n;
        return CS_OK;
    case K_MS:
    case K_SECONDS:
        if (cs_parse_duration(v, &n) != CS_OK || n > 3600 * 1000) {
            snprintf(err, errlen, "%s: %s = \"%s\": want a duration like 500ms or 10s (at most 1h)",
                     where, k->name, v);
            return CS_ERR_INVALID;
        }
        *(uint32_t *)field = (uint32_t)(k->kind == K_MS ? n : n / 1000);
        return CS_OK;
    }
    return CS_ERR_INVALID;
}

/* Sets k from v and records where (a file line or a variable) it came from. */
static enum cs_status set_value(struct cs_settings *s, const struct key *k, const char *v,
                                const char *where, char *err, size_t errlen)
{
    size_t i = (size_t)(k - keys);
    enum cs_status rc = parse_value(s, k, v, where, err, errlen);

    if (rc != CS_OK)
        return rc;
    free(s->origin[i]);
    s->origin[i] = strdup(where);
    return s->origin[i] ? CS_OK : CS_ERR_NOMEM;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static enum cs_status read_config_file(struct cs_settings *s, char *err, size_t errlen)
{
    FILE *f = fopen(s->config_file, "r");
    if (!f) {
        if (errno == ENOENT)
            return CS_OK;
        snprintf(err, errlen, "cannot read %s: %s", s->config_file, strerror(errno));
        return CS_ERR_INVALID;
    }
    s->config_file_read = true;
    /* Room for long bearer tokens (client/http.c sends 16 KiB of headers). */
    char line[16384], where[4200];
    enum cs_status rc = CS_OK;
    for (unsigned lineno = 1; rc == CS_OK && fgets(line, sizeof line, f); lineno++) {
        snprintf(where, sizeof where, "%s:%u", s->config_file, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s: line longer than %zu bytes", where, sizeof line - 2);
            rc = CS_ERR_INVALID;
            break;
        }
        char *t = trim(line);
        if (!*t || *t == '#')
            continue;
        char *eq = strchr(t, '=');
        if (!eq) {
            snprintf(err, errlen, "%s: want key = value", where);
            rc = CS_ERR_INVALID;
            break;
        }
        *eq = '\0';
        char *name = trim(t), *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        const struct key *k = find_key(name);
        if (!k) {
            snprintf(err, errlen, "%s: unknown key \"%s\"", where, name);
            rc = CS_ERR_INVALID;
            break;
        }
        rc = set_value(s, k, value, where, err, errlen);
    }
    fclose(f);
    return rc;
}

static enum cs_status read_env(struct cs_settings *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char var[64] = "CSTASH_";
        size_t o = strlen(var);
        for (const char *c = keys[i].name; *c && o < sizeof var - 1; c++)
            var[o++] = (char)toupper((unsigned char)*c);
        var[o] = '\0';
        const char *v = getenv(var);
        if (!v)
            continue;
        enum cs_status rc = set_value(s, &keys[i], v, var, err, errlen);
        if (rc != CS_OK)
            return rc;
    }
    return CS_OK;
}

static char *home_path(const char *xdg_var, const char *fallback, const char *leaf)
{
    const char *x = getenv(xdg_var);
    if (x && x[0] == '/')
        return cs_path_join(x, leaf);
    const char *home = getenv("HOME");
    if (!home || home[0] != '/')
        home = "/tmp";
    char *base = cs_path_join(home, fallback);
    if (!base)
        return NULL;
    char *p = cs_path_join(base, leaf);
    free(base);
    return p;
}

enum cs_status cs_settings_load(struct cs_settings *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    err[0] = '\0';
    s->maxsize = 5ULL << 30;
    s->direct = true;
    s->connect_timeout_ms = 1000;
    s->timeout_ms = 10000;
    s->remote_backoff_s = 30;
    s->dir = home_path("XDG_CACHE_HOME", ".cache", "cstash");
    const char *cf = getenv("CSTASH_CONFIG");
    s->config_file =
        cf ? strdup(cf) : home_path("XDG_CONFIG_HOME", ".config", "cstash/cstash.conf");
    if (!s->dir || !s->config_file)
        return CS_ERR_NOMEM;
    enum cs_status rc = read_config_file(s, err, errlen);
    if (rc == CS_OK)
        rc = read_env(s, err, errlen);
    if (rc != CS_OK)
        return rc;
    if (!s->dir || s->dir[0] != '/') {
        snprintf(err, errlen, "dir must be an absolute path (CSTASH_DIR)");
        return CS_ERR_INVALID;
    }
    if (s->remote && !cs_starts_with(s->remote, "http://") &&
        !cs_starts_with(s->remote, "https://")) {
        snprintf(err, errlen, "remote \"%s\": want http://host:port/namespace or https://…",
                 s->remote);
        return CS_ERR_INVALID;
    }
    if (s->remote) {
        size_t n = strlen(s->remote);
        while (n && s->remote[n - 1] == '/')
            s->remote[--n] = '\0';
    }
    if (s->basedir) {
        if (s->basedir[0] != '/') {
            snprintf(err, errlen, "basedir \"%s\" must be an absolute path", s->basedir);
            return CS_ERR_INVALID;
        }
        /* The physical path: getcwd() reports it, so compare like with like. */
        char *real = realpath(s->basedir, NULL);
        char *norm = cs_path_absolute(real ? real : s->basedir, "/");
        free(real);
        if (!norm)
            return CS_ERR_NOMEM;
        free(s->basedir);
        s->basedir = norm;
    }
    return CS_OK;
}

void cs_settings_free(struct cs_settings *s)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].kind == K_STR) {
            char **p = (char **)((char *)s + keys[i].off);
            free(*p);
            *p = NULL;
        }
    free(s->config_file);
    s->config_file = NULL;
    for (size_t i = 0; i < CS_SETTINGS_KEYS; i++) {
        free(s->origin[i]);
        s->origin[i] = NULL;
    }
}

/* "  (from CSTASH_DIR)", "  (from FILE:3)" or "  (default)". */
static void print_origin(const struct cs_settings *s, size_t i)
{
    if (s->origin[i])
        printf("  (from %s%s)\n", strncmp(s->origin[i], "CSTASH_", 7) == 0 ? "env " : "",
               s->origin[i]);
    else
        printf("  (default)\n");
}

void cs_settings_print(const struct cs_settings *s)
{
    printf("config_file = %s (%s)\n", s->config_file, s->config_file_read ? "read" : "not present");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const void *field = (const char *)s + keys[i].off;
        char size[32];
        switch (keys[i].kind) {
        case K_STR: {
            const char *v = *(char *const *)field;
            if (v && !strcmp(keys[i].name, "token"))
                v = "(set)";
            const char *scheme = v && !strcmp(keys[i].name, "remote") ? strstr(v, "://") : NULL;
            const char *at = scheme ? strchr(scheme, '@') : NULL;
            if (at && !memchr(scheme + 3, '/', (size_t)(at - scheme - 3)))
                printf("%s = %.*s***%s", keys[i].name, (int)(scheme + 3 - v), v, at);
            else
                printf("%s = %s", keys[i].name, v ? v : "");
            break;
        }
        case K_BOOL:
            printf("%s = %s", keys[i].name, *(const bool *)field ? "true" : "false");
            break;
        case K_SIZE:
            cs_format_size(*(const uint64_t *)field, size, sizeof size);
            printf("%s = %s", keys[i].name, size);
            break;
        case K_MS: printf("%s = %ums", keys[i].name, *(const uint32_t *)field); break;
        case K_SECONDS: printf("%s = %us", keys[i].name, *(const uint32_t *)field); break;
        }
        print_origin(s, i);
    }
}
