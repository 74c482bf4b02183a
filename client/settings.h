/* cstash settings: defaults, then the config file, then CSTASH_* variables.
 * Parsed and validated here once; nothing else reads the environment. */
#ifndef CS_CLIENT_SETTINGS_H
#define CS_CLIENT_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define CS_SETTINGS_KEYS 18

struct cs_settings {
    char *dir;            /* local cache directory */
    uint64_t maxsize;     /* local cache size limit, bytes */
    char *remote;         /* http(s)://host:port/ns or NULL */
    char *token;          /* bearer token for the remote or NULL */
    char *cacert;         /* CA bundle for an https:// remote (default: the system's) */
    bool readonly;        /* neither cache is written */
    bool remote_readonly; /* the remote is not written */
    bool direct;          /* direct mode (skip the preprocessor on a hit) */
    bool depend;          /* depend mode (skip it on a miss too: the compiler's -MD list) */
    bool disable;         /* run the compiler, touch nothing */
    bool recache;         /* compile and store, never use a cached result */
    char *log;            /* log file or NULL */
    char *prefix;         /* command run before the compiler on a miss */
    char *basedir;        /* absolute, normalised, or NULL */
    char *cache_buster;   /* hashed into every key */
    uint32_t connect_timeout_ms, timeout_ms;
    uint32_t remote_backoff_s; /* skip the remote this long after a failure */
    char *config_file;         /* the file read (or looked for) */
    bool config_file_read;
    /* where each setting came from, in the order cs_settings_print lists
     * them: "FILE:LINE", "CSTASH_<KEY>", or NULL for the default */
    char *origin[CS_SETTINGS_KEYS];
};

/* Loads the settings. On error returns CS_ERR_INVALID with a one-line
 * message in err (settings then hold the defaults and whatever parsed). */
enum cs_status cs_settings_load(struct cs_settings *s, char *err, size_t errlen);
void cs_settings_free(struct cs_settings *s);
/* Prints every setting and where the config file is (--show-config). */
void cs_settings_print(const struct cs_settings *s);

#endif
