/* Internals shared by the files that read the configuration: config.c (the
 * top level, namespaces, limits), config_read.c (typed values, the error
 * list), config_users.c, config_tiers.c, config_listen.c and
 * config_reload.c. Not for use outside them. */
#ifndef CS_CONFIG_PRIV_H
#define CS_CONFIG_PRIV_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config.h"

/* One load in progress. Readers record a problem and go on, so that one
 * --check-config run lists all of them; failed then refuses the result. */
struct cs_config_loader {
    const char *file; /* for problems libconfig knows no file of */
    struct cs_config_errors *errs;
    bool failed;
};

/* Adds "file:line: reason" for the setting where (NULL: no line) and marks
 * the load failed. */
void cs_config_error(struct cs_config_loader *ld, const config_setting_t *where, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));
/* Takes ownership of line. A NULL one (asprintf failed) and those past a
 * hundred are dropped. */
void cs_config_errors_push(struct cs_config_errors *errs, char *line);

/* Typed readers. A bad value is an error that names the setting; the
 * bool ones return false then, so callers can skip what depends on it. */
bool cs_config_read_size(struct cs_config_loader *ld, const config_setting_t *s, uint64_t *out);
bool cs_config_read_bool(struct cs_config_loader *ld, const config_setting_t *s, bool *out);
bool cs_config_read_seconds(struct cs_config_loader *ld, const config_setting_t *s, unsigned *out);
/* A size from min to max. */
bool cs_config_read_count(struct cs_config_loader *ld, const config_setting_t *s, unsigned min,
                          unsigned max, unsigned *out);
void cs_config_read_path(struct cs_config_loader *ld, const config_setting_t *s, char **out);
void cs_config_read_string(struct cs_config_loader *ld, const config_setting_t *s, char **out);

/* Users must be loaded before any namespace: ACLs name them. */
void cs_config_load_users(struct cs_config_loader *ld, const config_setting_t *list,
                          struct cs_config *cfg);
void cs_config_load_htpasswd(struct cs_config_loader *ld, const config_setting_t *s,
                             struct cs_config *cfg);
void cs_config_read_acl(struct cs_config_loader *ld, const config_setting_t *s,
                        const struct cs_config *cfg, struct cs_namespace_config *ns,
                        unsigned right);

/* The s3 group; its secrets file is read by cs_config_load_s3_secrets
 * once the users are known. */
void cs_config_load_s3(struct cs_config_loader *ld, const config_setting_t *g,
                       struct cs_config *cfg);
void cs_config_load_s3_secrets(struct cs_config_loader *ld, struct cs_config *cfg);
void cs_config_s3_free(struct cs_s3_config *s3);

void cs_config_load_tiers(struct cs_config_loader *ld, const config_setting_t *list,
                          struct cs_namespace_config *ns);
void cs_config_tiers_free(struct cs_tier_config *t, size_t n);

void cs_config_load_listen(struct cs_config_loader *ld, const config_setting_t *s,
                           struct cs_config *cfg);
/* Once every setting is read: TLS files and users agree with the listeners. */
void cs_config_check_tls(struct cs_config_loader *ld, const struct cs_config *cfg);

#endif
