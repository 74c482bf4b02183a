/* cstashd's configuration: read once from a libconfig file (or the embedded
 * default) into a typed struct. Nothing else in the program reads libconfig
 * or the environment. */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "storage/remote.h"

#define CS_DEFAULT_LISTEN "127.0.0.1:8080"
#define CS_DEFAULT_MAX_BLOB_SIZE (UINT64_C(1) << 30)
#define CS_DEFAULT_MAX_SIZE (UINT64_C(10) << 30)
#define CS_MAX_LISTEN 16
#define CS_MAX_THREADS 1024
#define CS_SHA256_BYTES 32

/* Rights on a namespace. Each implies the ones before it: write can read,
 * admin can write (and purge, and see the namespace's stats). */
#define CS_RIGHT_READ 1u
#define CS_RIGHT_WRITE 3u
#define CS_RIGHT_ADMIN 7u

/* A principal. Secrets are kept only as hashes. */
struct cs_user {
    char *name;
    uint8_t (*tokens)[CS_SHA256_BYTES]; /* sha256 of each bearer token */
    size_t n_tokens;
    char *password_hash; /* crypt(3) string, or NULL */
};

/* Hardening limits; 0 never means "none" here, defaults are in config.c. */
struct cs_limits {
    unsigned connections;        /* open connections per listener */
    unsigned connections_per_ip; /* per client address, per listener */
    unsigned header_size;        /* bytes of request line and headers */
    unsigned url_length;         /* bytes of the request target */
    unsigned idle_timeout_s;     /* no byte in either direction */
    unsigned header_timeout_s;   /* from connection (or last answer) to full headers */
    unsigned request_timeout_s;  /* one request, headers to last byte of the answer */
    unsigned propfind_results;   /* entries in one Depth: 1 answer */
    unsigned index_queue;        /* index writes waiting to commit (503 when full) */
    unsigned auth_failures;      /* failed password hashes per address per minute (429) */
    unsigned workers;            /* threads for blocking request work, off the event threads */
    unsigned work_queue;         /* requests waiting for a worker (503 when full) */
    uint64_t memory_cache;       /* bytes of small objects kept ready to send (server/hot.h) */
};

struct cs_namespace_config {
    char *name;
    uint64_t max_blob_size;
    uint64_t max_size;        /* LRU eviction above this many bytes on disk; 0 = none of its own */
    bool durable;             /* fsync object and directory before acknowledging a PUT */
    bool drop_read_only_puts; /* a PUT from a reader who may not write: 202, nothing stored */
    int compress_level;       /* zstd at rest: 0 = off */
    struct cs_tier_config *tiers; /* after the disk; NULL when the disk is all */
    size_t n_tiers;
    unsigned rights_anyone;        /* CS_RIGHT_* granted by "*" (anonymous too) */
    unsigned rights_authenticated; /* granted by "@authenticated" */
    uint8_t *rights;               /* per user (index in cfg->users), or NULL */
};

/* An S3 access key: SigV4 needs the secret itself, so secrets come from a
 * separate file (mode 0600), never from the config or the logs. */
struct cs_s3_key {
    char *access_key;
    char *secret;
    int uid; /* the user it signs for */
};

/* The S3 front end (docs/s3.md). */
struct cs_s3_config {
    char *domain;           /* virtual-hosted style: <bucket>.<domain>; NULL: path-style only */
    char *region;           /* what GetBucketLocation answers; any region signs */
    char *secrets_file;     /* "user access-key secret" lines; NULL: no keys */
    struct cs_s3_key *keys; /* from secrets_file, re-read by every load (SIGHUP) */
    size_t n_keys;
    unsigned multipart_max_age_s; /* unfinished multipart uploads are removed after this */
};

struct cs_config {
    char *source;                   /* file name, or "(embedded default)" */
    char *listen[CS_MAX_LISTEN];    /* "host:port", without the scheme */
    bool listen_tls[CS_MAX_LISTEN]; /* given as "https://host:port" */
    bool listen_s3[CS_MAX_LISTEN];  /* "s3://" or "s3+https://": every request is S3 */
    size_t n_listen;
    char *tls_cert, *tls_key; /* PEM files, needed by https listeners */
    char *tls_client_ca;      /* PEM CA: ask clients for a certificate (mTLS) */
    char *data_dir;
    char *access_log;          /* file, "-" for stdout, NULL: none (server/access_log.h) */
    unsigned threads;          /* worker threads per listener; 0 in a file = CPU count */
    uint64_t max_blob_size;    /* default for namespaces that set none */
    uint64_t max_size;         /* whole data dir; 0 = no limit */
    bool track_access;         /* record reads for LRU order */
    unsigned stats_interval_s; /* one sample of the status page's history per this */
    struct cs_namespace_config *namespaces;
    size_t n_namespaces;
    struct cs_user *users;
    size_t n_users;
    char *htpasswd;              /* file the users (also) come from, or NULL */
    unsigned auth_cache_entries; /* verified Basic passwords remembered */
    unsigned auth_cache_ttl_s;
    struct cs_limits limits;
    struct cs_s3_config s3;
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

/* The key with this access key id, or NULL. */
const struct cs_s3_key *cs_config_find_s3_key(const struct cs_config *cfg, const char *access_key);

/* Index of the user called name, or -1. */
int cs_config_find_user(const struct cs_config *cfg, const char *name);

/* The rights of user uid (-1: anonymous) on ns. */
static inline unsigned cs_config_rights(const struct cs_namespace_config *ns, int uid)
{
    if (uid < 0)
        return ns->rights_anyone;
    return ns->rights_anyone | ns->rights_authenticated | (ns->rights ? ns->rights[uid] : 0u);
}

/* Whether a reload from old to new can be applied to a running server:
 * what needs a restart (listeners, data dir, threads, TLS files, the list
 * of namespaces) must be equal. On false, why says what differs. */
bool cs_config_reloadable(const struct cs_config *old, const struct cs_config *new_cfg, char *why,
                          size_t why_len);

/* TLS settings agree with the listeners (also after --listen). */
bool cs_config_tls_ok(const struct cs_config *cfg, char *why, size_t why_len);

/* Splits "https://host:port", "http://host:port", "s3://host:port",
 * "s3+https://host:port" or "host:port" into the address (a pointer into
 * text), whether it is TLS and whether it is an S3 listener. */
const char *cs_listen_scheme(const char *text, bool *tls, bool *s3);

const struct cs_namespace_config *cs_config_find_namespace(const struct cs_config *cfg,
                                                           const char *name, size_t len);

/* Splits "host:port" or "[v6]:port" into host (without brackets) and port.
 * host must hold at least 256 bytes. */
enum cs_status cs_parse_listen_addr(const char *text, char *host, size_t hostlen, uint16_t *port);
/* When text (without its scheme) is not an address cs_parse_listen_addr
 * takes: true, with a one-line reason in why (no port, not a number, out
 * of range, no host, IPv6 without brackets). */
bool cs_listen_addr_why(const char *text, char *why, size_t len);

#endif
