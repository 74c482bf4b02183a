/* Principals: the users list, an htpasswd file, and the ACLs that grant
 * them rights on a namespace. Secrets are accepted only as hashes. */
#include "autoconfig.h"

#include <crypt.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/hash.h"
#include "server/config.h"
#include "server/config_priv.h"

#define HTPASSWD_MAX (16 << 20)

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
static bool password_hash_ok(struct cs_config_loader *ld, const config_setting_t *where,
                             const char *user, const char *hash)
{
    int ok = crypt_checksalt(hash);

    if (ok == CRYPT_SALT_OK)
        return true;
    if (strncmp(hash, "$apr1$", 6) == 0)
        cs_config_error(ld, where,
                        "user \"%s\": $apr1$ (Apache MD5) hashes are not accepted, MD5 is too "
                        "fast to guard a password; re-create it with htpasswd -B (bcrypt) or "
                        "cstashd hash-password",
                        user);
    else
        cs_config_error(ld, where,
                        "user \"%s\": password hash is not a crypt(3) hash this system accepts "
                        "(use yescrypt \"$y$\", bcrypt \"$2b$\" or sha512crypt \"$6$\": "
                        "cstashd hash-password makes one)",
                        user);
    return false;
}

static struct cs_user *new_user(struct cs_config_loader *ld, const config_setting_t *where,
                                struct cs_config *cfg, const char *name)
{
    struct cs_user *grown;

    if (!user_name_valid(name)) {
        cs_config_error(ld, where,
                        "user name \"%.64s\" must be 1-128 printable characters without ':' or "
                        "spaces, not starting with '@' or '*'",
                        name);
        return NULL;
    }
    if (cs_config_find_user(cfg, name) >= 0) {
        cs_config_error(ld, where, "user \"%s\" is defined twice", name);
        return NULL;
    }
    grown = realloc(cfg->users, (cfg->n_users + 1) * sizeof *grown);
    if (!grown) {
        cs_config_error(ld, where, "out of memory");
        return NULL;
    }
    cfg->users = grown;
    memset(&grown[cfg->n_users], 0, sizeof *grown);
    grown[cfg->n_users].name = strdup(name);
    if (!grown[cfg->n_users].name) {
        cs_config_error(ld, where, "out of memory");
        return NULL;
    }
    return &grown[cfg->n_users++];
}

static void add_token(struct cs_config_loader *ld, const config_setting_t *e, struct cs_user *u)
{
    const char *hex = config_setting_get_string(e);
    uint8_t(*grown)[CS_SHA256_BYTES];

    if (!hex || strlen(hex) != 2 * CS_SHA256_BYTES) {
        cs_config_error(ld, e,
                        "user \"%s\": a token hash is 64 hex digits (cstashd hash-token "
                        "prints it), not the token itself",
                        u->name);
        return;
    }
    grown = realloc(u->tokens, (u->n_tokens + 1) * sizeof *grown);
    if (!grown) {
        cs_config_error(ld, e, "out of memory");
        return;
    }
    u->tokens = grown;
    if (!cs_hex_decode(hex, strlen(hex), grown[u->n_tokens], CS_SHA256_BYTES)) {
        cs_config_error(ld, e, "user \"%s\": token hash must be hex digits", u->name);
        return;
    }
    u->n_tokens++;
}

static void load_user(struct cs_config_loader *ld, const config_setting_t *g, struct cs_config *cfg)
{
    const config_setting_t *s = config_setting_get_member(g, "name");
    const char *name = s ? config_setting_get_string(s) : NULL;
    struct cs_user *u;
    int i, n;

    if (!config_setting_is_group(g)) {
        cs_config_error(ld, g,
                        "each user must be a group: { name = \"...\"; token_sha256 = \"...\"; }");
        return;
    }
    if (!name) {
        cs_config_error(ld, g, "user without a name");
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
                cs_config_error(ld, e, "password_hash must be a string");
            } else if (password_hash_ok(ld, e, u->name, h)) {
                free(u->password_hash);
                u->password_hash = strdup(h);
            }
        } else if (strcmp(key, "password") == 0) {
            cs_config_error(ld, e,
                            "user \"%s\": plaintext passwords are not accepted: set "
                            "password_hash (cstashd hash-password prints one)",
                            u->name);
        } else if (strcmp(key, "token") == 0) {
            cs_config_error(ld, e,
                            "user \"%s\": plaintext tokens are not accepted: set "
                            "token_sha256 (cstashd hash-token prints it)",
                            u->name);
        } else {
            cs_config_error(ld, e, "unknown user setting '%s'", key);
        }
    }
}

void cs_config_load_users(struct cs_config_loader *ld, const config_setting_t *list,
                          struct cs_config *cfg)
{
    int i, n;

    if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
        cs_config_error(ld, list, "users must be a list: ( { name = \"...\"; ... }, ... )");
        return;
    }
    n = config_setting_length(list);
    for (i = 0; i < n; i++)
        load_user(ld, config_setting_get_elem(list, (unsigned)i), cfg);
}

/* Apache htpasswd: "user:hash" lines; '#' comments and blank lines skipped. */
void cs_config_load_htpasswd(struct cs_config_loader *ld, const config_setting_t *s,
                             struct cs_config *cfg)
{
    const char *path = config_setting_get_string(s);
    char line[1024];
    unsigned lineno = 0;
    struct stat st;
    FILE *f;

    if (!path || !path[0]) {
        cs_config_error(ld, s, "htpasswd must be a file name");
        return;
    }
    cfg->htpasswd = strdup(path);
    f = fopen(path, "r");
    if (!f) {
        cs_config_error(ld, s, "htpasswd file %s: cannot read: %s", path, strerror(errno));
        return;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > HTPASSWD_MAX) {
        cs_config_error(ld, s, "htpasswd file %s: not a regular file of at most 16 MiB", path);
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
            cs_config_error(ld, s, "htpasswd file %s line %u: expected user:hash", path, lineno);
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

int cs_config_find_user(const struct cs_config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->n_users; i++)
        if (strcmp(cfg->users[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* A list of principal names granting right: "*", "@authenticated" or
 * users (which cs_config_load_users has read already). */
void cs_config_read_acl(struct cs_config_loader *ld, const config_setting_t *s,
                        const struct cs_config *cfg, struct cs_namespace_config *ns, unsigned right)
{
    int i, n;

    if (!config_setting_is_aggregate(s)) {
        cs_config_error(ld, s, "%s must be a list of names, e.g. [ \"*\" ]",
                        config_setting_name(s));
        return;
    }
    n = config_setting_length(s);
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_get_string(e);
        int uid;
        if (!name) {
            cs_config_error(ld, e, "%s entries must be strings", config_setting_name(s));
        } else if (strcmp(name, "*") == 0) {
            ns->rights_anyone |= right;
        } else if (strcmp(name, "@authenticated") == 0) {
            ns->rights_authenticated |= right;
        } else if ((uid = cs_config_find_user(cfg, name)) < 0) {
            cs_config_error(ld, e,
                            "unknown principal \"%s\" in %s: use \"*\", \"@authenticated\" or a "
                            "name from users (or the htpasswd file)",
                            name, config_setting_name(s));
        } else {
            if (!ns->rights)
                ns->rights = calloc(cfg->n_users, 1);
            if (!ns->rights) {
                cs_config_error(ld, e, "out of memory");
                return;
            }
            ns->rights[uid] |= (uint8_t)right;
        }
    }
}
