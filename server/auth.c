/* Credential verification and its cache: see auth.h. */
#include "autoconfig.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "server/auth.h"

#define WAYS 4
#define LOCK_STRIPES 64

struct token_entry {
    uint8_t hash[CS_SHA256_LEN];
    int uid;
};

struct cache_entry {
    atomic_uint seq; /* odd while being written */
    atomic_uint_fast64_t key[CS_SHA256_LEN / 8];
    atomic_int uid;
    atomic_int_fast64_t expires_ms; /* 0: empty */
};

struct cs_auth {
    const struct cs_config *cfg;
    struct token_entry *tokens; /* sorted by hash */
    size_t n_tokens;
    int *by_name;                /* user indices sorted by name */
    uint8_t salt[CS_SHA256_LEN]; /* keys the cache: random per auth object */
    struct cache_entry *cache;
    size_t n_sets;                       /* 0: no cache */
    pthread_mutex_t locks[LOCK_STRIPES]; /* writers of a set */
    int64_t ttl_ms;
    const char *dummy_hash; /* verified for unknown users, to take equal time */
    atomic_uint_fast64_t hash_checks;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_token(const void *a, const void *b)
{
    return memcmp(((const struct token_entry *)a)->hash, ((const struct token_entry *)b)->hash,
                  CS_SHA256_LEN);
}

static int cmp_name(const void *a, const void *b, void *cfg)
{
    const struct cs_user *users = ((const struct cs_config *)cfg)->users;

    return strcmp(users[*(const int *)a].name, users[*(const int *)b].name);
}

static enum cs_status build_tables(struct cs_auth *a)
{
    const struct cs_config *cfg = a->cfg;
    size_t i, j, n = 0;

    for (i = 0; i < cfg->n_users; i++)
        n += cfg->users[i].n_tokens;
    a->tokens = calloc(n ? n : 1, sizeof *a->tokens);
    a->by_name = calloc(cfg->n_users ? cfg->n_users : 1, sizeof *a->by_name);
    if (!a->tokens || !a->by_name)
        return CS_ERR_NOMEM;
    for (i = 0; i < cfg->n_users; i++) {
        a->by_name[i] = (int)i;
        for (j = 0; j < cfg->users[i].n_tokens; j++) {
            memcpy(a->tokens[a->n_tokens].hash, cfg->users[i].tokens[j], CS_SHA256_LEN);
            a->tokens[a->n_tokens++].uid = (int)i;
        }
        if (!a->dummy_hash && cfg->users[i].password_hash)
            a->dummy_hash = cfg->users[i].password_hash;
    }
    qsort(a->tokens, a->n_tokens, sizeof *a->tokens, cmp_token);
    qsort_r(a->by_name, cfg->n_users, sizeof *a->by_name, cmp_name, (void *)cfg);
    return CS_OK;
}

enum cs_status cs_auth_new(const struct cs_config *cfg, struct cs_auth **out)
{
    struct cs_auth *a = calloc(1, sizeof *a);
    size_t i;

    if (!a)
        return CS_ERR_NOMEM;
    a->cfg = cfg;
    a->ttl_ms = (int64_t)cfg->auth_cache_ttl_s * 1000;
    for (i = 0; i < LOCK_STRIPES; i++)
        pthread_mutex_init(&a->locks[i], NULL);
    if (build_tables(a) != CS_OK || RAND_bytes(a->salt, sizeof a->salt) != 1) {
        cs_auth_free(a);
        return CS_ERR_NOMEM;
    }
    if (cfg->auth_cache_entries >= WAYS) {
        a->n_sets = cfg->auth_cache_entries / WAYS;
        a->cache = calloc(a->n_sets * WAYS, sizeof *a->cache);
        if (!a->cache) {
            cs_auth_free(a);
            return CS_ERR_NOMEM;
        }
    }
    *out = a;
    return CS_OK;
}

void cs_auth_free(struct cs_auth *a)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < LOCK_STRIPES; i++)
        pthread_mutex_destroy(&a->locks[i]);
    free(a->cache);
    free(a->tokens);
    free(a->by_name);
    OPENSSL_cleanse(a->salt, sizeof a->salt);
    free(a);
}

static int find_user(const struct cs_auth *a, const char *name)
{
    size_t lo = 0, hi = a->cfg->n_users;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, a->cfg->users[a->by_name[mid]].name);
        if (c == 0)
            return a->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* The user holding a token with this sha256, or -1. The search order
 * depends on the sha256 of the guess, which tells nothing of any token. */
static int find_token(const struct cs_auth *a, const uint8_t hash[CS_SHA256_LEN])
{
    struct token_entry probe;
    const struct token_entry *e;

    memcpy(probe.hash, hash, CS_SHA256_LEN);
    e = bsearch(&probe, a->tokens, a->n_tokens, sizeof *a->tokens, cmp_token);
    if (!e || CRYPTO_memcmp(e->hash, hash, CS_SHA256_LEN) != 0)
        return -1;
    return e->uid;
}

static void cache_key(const struct cs_auth *a, const struct cs_credentials *c,
                      uint8_t key[CS_SHA256_LEN])
{
    static const char zero = 0;
    const void *parts[] = {a->salt, c->user, &zero, c->secret};
    size_t lens[] = {sizeof a->salt, strlen(c->user), 1, c->secret_len};

    cs_sha256_parts(parts, lens, 4, key);
}

static struct cache_entry *cache_set(const struct cs_auth *a, const uint8_t key[CS_SHA256_LEN],
                                     size_t *set)
{
    uint64_t h;

    memcpy(&h, key, sizeof h);
    *set = (size_t)(h % a->n_sets);
    return &a->cache[*set * WAYS];
}

/* true and *uid (a user) when key is cached and fresh. */
static bool cache_get(const struct cs_auth *a, const uint8_t key[CS_SHA256_LEN], int *uid)
{
    uint64_t k[CS_SHA256_LEN / 8];
    struct cache_entry *set;
    size_t s, i, w;
    int64_t now;

    if (!a->n_sets)
        return false;
    memcpy(k, key, sizeof k);
    set = cache_set(a, key, &s);
    now = now_ms();
    for (w = 0; w < WAYS; w++) {
        struct cache_entry *e = &set[w];
        unsigned s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
        bool same = true;
        int found;
        int64_t expires;
        if (s1 & 1)
            continue;
        for (i = 0; i < CS_SHA256_LEN / 8; i++)
            same &= atomic_load_explicit(&e->key[i], memory_order_relaxed) == k[i];
        found = atomic_load_explicit(&e->uid, memory_order_relaxed);
        expires = atomic_load_explicit(&e->expires_ms, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s1)
            continue;
        if (same && expires > now) {
            *uid = found;
            return true;
        }
    }
    return false;
}

static void cache_put(struct cs_auth *a, const uint8_t key[CS_SHA256_LEN], int uid)
{
    uint64_t k[CS_SHA256_LEN / 8];
    struct cache_entry *set, *victim;
    size_t s, i, w;
    int64_t now = now_ms();

    if (!a->n_sets)
        return;
    memcpy(k, key, sizeof k);
    set = cache_set(a, key, &s);
    pthread_mutex_lock(&a->locks[s % LOCK_STRIPES]);
    victim = &set[0];
    for (w = 0; w < WAYS; w++) {
        int64_t exp = atomic_load_explicit(&set[w].expires_ms, memory_order_relaxed);
        if (exp < atomic_load_explicit(&victim->expires_ms, memory_order_relaxed))
            victim = &set[w];
    }
    unsigned seq = atomic_load_explicit(&victim->seq, memory_order_relaxed);
    atomic_store_explicit(&victim->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (i = 0; i < CS_SHA256_LEN / 8; i++)
        atomic_store_explicit(&victim->key[i], k[i], memory_order_relaxed);
    atomic_store_explicit(&victim->uid, uid, memory_order_relaxed);
    atomic_store_explicit(&victim->expires_ms, now + a->ttl_ms, memory_order_relaxed);
    atomic_store_explicit(&victim->seq, seq + 2, memory_order_release);
    pthread_mutex_unlock(&a->locks[s % LOCK_STRIPES]);
}

/* crypt(3) of password with hash's settings equals hash. */
static bool password_matches(struct cs_auth *a, const char *password, const char *hash)
{
    struct crypt_data *data = calloc(1, sizeof *data);
    const char *out;
    bool ok;

    if (!data)
        return false;
    atomic_fetch_add_explicit(&a->hash_checks, 1, memory_order_relaxed);
    out = crypt_rn(password, hash, data, (int)sizeof *data);
    ok = out && out[0] != '*' && strlen(out) == strlen(hash) &&
         CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
    OPENSSL_cleanse(data, sizeof *data);
    free(data);
    return ok;
}

enum cs_auth_result cs_auth_lookup(struct cs_auth *a, const struct cs_credentials *c, int *uid)
{
    uint8_t key[CS_SHA256_LEN];
    enum cs_auth_result r = CS_AUTH_DENIED;
    int found = -1;

    switch (c->scheme) {
    case CS_CRED_NONE: return CS_AUTH_ANONYMOUS;
    case CS_CRED_BEARER: {
        const void *parts[] = {c->secret};
        size_t lens[] = {c->secret_len};
        cs_sha256_parts(parts, lens, 1, key);
        found = find_token(a, key);
        r = found >= 0 ? CS_AUTH_OK : CS_AUTH_DENIED;
        break;
    }
    case CS_CRED_BASIC: {
        cache_key(a, c, key);
        if (cache_get(a, key, &found) && found >= 0) {
            r = CS_AUTH_OK;
            break;
        }
        int user = find_user(a, c->user);
        /* a token as the password: ccache and Bazel put secrets in the URL */
        if (user >= 0 && a->cfg->users[user].n_tokens) {
            uint8_t hash[CS_SHA256_LEN];
            const void *parts[] = {c->secret};
            size_t lens[] = {c->secret_len};
            cs_sha256_parts(parts, lens, 1, hash);
            if (find_token(a, hash) == user) {
                cache_put(a, key, user);
                found = user;
                r = CS_AUTH_OK;
                break;
            }
        }
        r = CS_AUTH_SLOW;
        break;
    }
    default: break;
    }
    OPENSSL_cleanse(key, sizeof key);
    if (r == CS_AUTH_OK)
        *uid = found;
    return r;
}

enum cs_auth_result cs_auth_verify_slow(struct cs_auth *a, const struct cs_credentials *c, int *uid)
{
    uint8_t key[CS_SHA256_LEN];
    int user = c->scheme == CS_CRED_BASIC ? find_user(a, c->user) : -1;
    const char *hash = user >= 0 ? a->cfg->users[user].password_hash : NULL;

    if (!hash) {
        /* take the time a real check takes: no probing for user names */
        if (a->dummy_hash)
            password_matches(a, c->secret, a->dummy_hash);
        return CS_AUTH_DENIED;
    }
    if (!password_matches(a, c->secret, hash))
        return CS_AUTH_DENIED;
    cache_key(a, c, key);
    cache_put(a, key, user);
    OPENSSL_cleanse(key, sizeof key);
    *uid = user;
    return CS_AUTH_OK;
}

enum cs_auth_result cs_auth_verify(struct cs_auth *a, const struct cs_credentials *c, int *uid)
{
    enum cs_auth_result r = cs_auth_lookup(a, c, uid);

    return r == CS_AUTH_SLOW ? cs_auth_verify_slow(a, c, uid) : r;
}

uint64_t cs_auth_hash_checks(const struct cs_auth *a)
{
    return atomic_load(&a->hash_checks);
}

char *cs_auth_hash_password(const char *password)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *data;
    char *out = NULL;

    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof setting))
        return NULL;
    data = calloc(1, sizeof *data);
    if (!data)
        return NULL;
    const char *h = crypt_rn(password, setting, data, (int)sizeof *data);
    if (h && h[0] != '*')
        out = strdup(h);
    OPENSSL_cleanse(data, sizeof *data);
    free(data);
    return out;
}
