/* cstashd's configuration: read once from a libconfig file (or the embedded
 * default) into a typed struct. Nothing else in the program reads libconfig
 * or the environment. */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define CS_DEFAULT_LISTEN "127.0.0.1:8080"
#define CS_DEFAULT_MAX_BLOB_SIZE (UINT64_C(1) << 30)
#define CS_DEFAULT_MAX_SIZE (UINT64_C(10) << 30)
#define CS_MAX_LISTEN 16
#define CS_MAX_THREADS 1024

struct cs_namespace_config {
    char *name;
    uint64_t max_blob_size;
    uint64_t max_size;  /* LRU eviction above this many bytes on disk; 0 = none of its own */
    bool durable;       /* fsync object and directory before acknowledging a PUT */
    bool read_anyone;   /* "*" in read: anyone, anonymous included */
    bool write_anyone;  /* "*" in write */
};

struct cs_config {
    char *source;              /* file name, or "(embedded default)" */
    char *listen[CS_MAX_LISTEN];
    size_t n_listen;
    char *data_dir;
    unsigned threads;          /* worker threads per listener; 0 in a file = CPU count */
    uint64_t max_blob_size;    /* default for namespaces that set none */
    uint64_t max_size;         /* whole data dir; 0 = no limit */
    bool track_access;         /* record reads for LRU order */
    struct cs_namespace_config *namespaces;
    size_t n_namespaces;
};

/* Diagnostics collected while loading: one "file:line: reason" per entry. */
struct cs_config_errors {
    char **lines;
    size_t count;
};

/* Loads path (NULL = the embedded default) into a new config owned by the
 * caller. On CS_ERR_INVALID, errs lists every problem found. */
enum cs_status cs_config_load(const char *path, struct cs_config **out,
                              struct cs_config_errors *errs);
/* Same, from text in memory; name is used in diagnostics. */
enum cs_status cs_config_load_string(const char *text, const char *name, struct cs_config **out,
                                     struct cs_config_errors *errs);
void cs_config_free(struct cs_config *cfg);
void cs_config_errors_clear(struct cs_config_errors *errs);

/* Command-line overrides. */
enum cs_status cs_config_set_listen(struct cs_config *cfg, char *const *addrs, size_t n);
enum cs_status cs_config_set_data_dir(struct cs_config *cfg, const char *dir);

const struct cs_namespace_config *cs_config_find_namespace(const struct cs_config *cfg,
                                                           const char *name, size_t len);

/* Splits "host:port" or "[v6]:port" into host (without brackets) and port.
 * host must hold at least 256 bytes. */
enum cs_status cs_parse_listen_addr(const char *text, char *host, size_t hostlen,
                                    uint16_t *port);

#endif
