/* The s3 group of the configuration and the S3 secrets file.
 *
 * SigV4 is an HMAC keyed by the secret itself, so the server must hold
 * the secret (a hash would not do). Secrets therefore live apart from the
 * config, in a file that only its owner may read; it is read again by
 * every load, so SIGHUP rotates keys. A secret never appears in a
 * diagnostic: lines are named by number and access key id. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/config.h"
#include "server/config_priv.h"

#define SECRETS_FILE_MAX (4 << 20)
#define ACCESS_KEY_MAX 128
#define SECRET_MAX 256
#define DEFAULT_MULTIPART_AGE_S (7u * 24 * 3600)

void cs_config_load_s3(struct cs_config_loader *ld, const config_setting_t *g,
                       struct cs_config *cfg)
{
    int i, n;

    cfg->s3.multipart_max_age_s = DEFAULT_MULTIPART_AGE_S;
    if (!g)
        return;
    if (!config_setting_is_group(g)) {
        cs_config_error(ld, g, "s3 must be a group: s3 = { secrets = \"...\"; };");
        return;
    }
    n = config_setting_length(g);
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        if (strcmp(key, "domain") == 0)
            cs_config_read_string(ld, s, &cfg->s3.domain);
        else if (strcmp(key, "region") == 0)
            cs_config_read_string(ld, s, &cfg->s3.region);
        else if (strcmp(key, "secrets") == 0)
            cs_config_read_path(ld, s, &cfg->s3.secrets_file);
        else if (strcmp(key, "multipart_max_age") == 0)
            cs_config_read_seconds(ld, s, &cfg->s3.multipart_max_age_s);
        else
            cs_config_error(ld, s, "unknown s3 setting '%s'", key);
    }
    if (cfg->s3.domain && (cfg->s3.domain[0] == '\0' || cfg->s3.domain[0] == '.' ||
                           strchr(cfg->s3.domain, '/') || strchr(cfg->s3.domain, ':')))
        cs_config_error(ld, g, "s3.domain must be a host name such as \"s3.example.com\"");
    if (cfg->s3.multipart_max_age_s == 0)
        cs_config_error(ld, g, "s3.multipart_max_age must be at least 1s");
}

static bool token_ok(const char *s, size_t n, size_t max)
{
    size_t i;

    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

/* Reads the whole file, refusing one that others may read. */
static char *read_secrets(struct cs_config_loader *ld, const char *path, size_t *size)
{
    struct stat st;
    char *text = NULL;
    ssize_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0) {
        cs_config_error(ld, NULL, "s3.secrets: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        cs_config_error(ld, NULL, "s3.secrets: %s is not a regular file", path);
    } else if (st.st_mode & 077) {
        cs_config_error(ld, NULL,
                        "s3.secrets: %s is readable or writable by group or others (mode %04o): "
                        "chmod 600 it",
                        path, (unsigned)(st.st_mode & 07777));
    } else if (st.st_size > SECRETS_FILE_MAX) {
        cs_config_error(ld, NULL, "s3.secrets: %s is over 4 MiB", path);
    } else if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
        cs_config_error(ld, NULL, "s3.secrets: out of memory");
    } else if ((got = read(fd, text, (size_t)st.st_size)) != st.st_size) {
        cs_config_error(ld, NULL, "s3.secrets: cannot read %s: %s", path,
                        got < 0 ? strerror(errno) : "short read");
        free(text);
        text = NULL;
    } else {
        text[got] = '\0';
        *size = (size_t)got;
    }
    close(fd);
    return text;
}

static bool add_key(struct cs_config_loader *ld, struct cs_s3_config *s3, const char *path,
                    unsigned line, int uid, const char *ak, size_t ak_len, const char *sk,
                    size_t sk_len)
{
    struct cs_s3_key *grown;
    size_t i;

    for (i = 0; i < s3->n_keys; i++) {
        if (strlen(s3->keys[i].access_key) == ak_len &&
            memcmp(s3->keys[i].access_key, ak, ak_len) == 0) {
            cs_config_error(ld, NULL, "%s:%u: access key '%.*s' is given twice", path, line,
                            (int)ak_len, ak);
            return false;
        }
    }
    grown = realloc(s3->keys, (s3->n_keys + 1) * sizeof *grown);
    if (!grown)
        return false;
    s3->keys = grown;
    grown[s3->n_keys].access_key = strndup(ak, ak_len);
    grown[s3->n_keys].secret = strndup(sk, sk_len);
    grown[s3->n_keys].uid = uid;
    if (!grown[s3->n_keys].access_key || !grown[s3->n_keys].secret) {
        free(grown[s3->n_keys].access_key);
        free(grown[s3->n_keys].secret);
        return false;
    }
    s3->n_keys++;
    return true;
}

/* One "user access-key secret" line (fields separated by blanks). */
static void parse_line(struct cs_config_loader *ld, struct cs_config *cfg, const char *path,
                       unsigned line, char *p)
{
    const char *f[3];
    size_t len[3], n = 0;
    char user[129];
    int uid;

    while (n < 3) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        f[n] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        len[n] = (size_t)(p - f[n]);
        n++;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (n != 3 || *p) {
        cs_config_error(ld, NULL, "%s:%u: expected \"user access-key-id secret\"", path, line);
        return;
    }
    if (len[0] >= sizeof user) {
        cs_config_error(ld, NULL, "%s:%u: user name is too long", path, line);
        return;
    }
    memcpy(user, f[0], len[0]);
    user[len[0]] = '\0';
    uid = cs_config_find_user(cfg, user);
    if (uid < 0) {
        cs_config_error(ld, NULL, "%s:%u: unknown user \"%s\" (define it in users)", path, line,
                        user);
        return;
    }
    if (!token_ok(f[1], len[1], ACCESS_KEY_MAX) || memchr(f[1], '/', len[1])) {
        cs_config_error(ld, NULL,
                        "%s:%u: the access key id must be 1 to %d printable characters without "
                        "'/'",
                        path, line, ACCESS_KEY_MAX);
        return;
    }
    if (!token_ok(f[2], len[2], SECRET_MAX)) {
        cs_config_error(ld, NULL, "%s:%u: the secret must be 1 to %d printable characters", path,
                        line, SECRET_MAX);
        return;
    }
    if (!add_key(ld, &cfg->s3, path, line, uid, f[1], len[1], f[2], len[2]))
        ld->failed = true;
}

void cs_config_load_s3_secrets(struct cs_config_loader *ld, struct cs_config *cfg)
{
    const char *path = cfg->s3.secrets_file;
    char *text, *line, *next;
    unsigned lineno = 0;
    size_t size = 0; /* all of it: the parse below cuts the text into lines */

    if (!path)
        return;
    text = read_secrets(ld, path, &size);
    if (!text)
        return;
    for (line = text; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        parse_line(ld, cfg, path, lineno, p);
    }
    explicit_bzero(text, size);
    free(text);
}

const struct cs_s3_key *cs_config_find_s3_key(const struct cs_config *cfg, const char *access_key)
{
    size_t i;

    for (i = 0; i < cfg->s3.n_keys; i++)
        if (strcmp(cfg->s3.keys[i].access_key, access_key) == 0)
            return &cfg->s3.keys[i];
    return NULL;
}

void cs_config_s3_free(struct cs_s3_config *s3)
{
    size_t i;

    for (i = 0; i < s3->n_keys; i++) {
        free(s3->keys[i].access_key);
        explicit_bzero(s3->keys[i].secret, strlen(s3->keys[i].secret));
        free(s3->keys[i].secret);
    }
    free(s3->keys);
    free(s3->domain);
    free(s3->region);
    free(s3->secrets_file);
}
