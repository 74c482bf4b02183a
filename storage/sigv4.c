/* SigV4: canonical request -> string to sign -> HMAC chain -> signature.
 * The canonical request is hashed while it is built, so no part of it needs
 * a buffer; the HMAC is written over the low-level SHA-256 of common/hash.c
 * because OpenSSL 3's HMAC() fetches its digest through a provider lookup
 * that takes a process-wide lock, on every request the server verifies. */
#include "autoconfig.h"

#include "storage/sigv4.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"

#define HMAC_BLOCK 64
#define NAME_MAX_LEN 128 /* a header name as signed */

static atomic_ulong derivations;

void cs_sigv4_hmac(const void *key, size_t klen, const void *msg, size_t mlen,
                   uint8_t out[CS_SIGV4_KEY_LEN])
{
    uint8_t k[HMAC_BLOCK] = {0}, pad[HMAC_BLOCK], inner[CS_SHA256_LEN];
    struct cs_sha256 h;

    if (klen > HMAC_BLOCK) {
        const void *parts[] = {key};
        cs_sha256_parts(parts, &klen, 1, k);
    } else if (klen) {
        memcpy(k, key, klen);
    }
    for (size_t i = 0; i < HMAC_BLOCK; i++)
        pad[i] = k[i] ^ 0x36;
    cs_sha256_init(&h);
    cs_sha256_update(&h, pad, sizeof pad);
    cs_sha256_update(&h, msg, mlen);
    cs_sha256_final(&h, inner);
    for (size_t i = 0; i < HMAC_BLOCK; i++)
        pad[i] = k[i] ^ 0x5c;
    cs_sha256_init(&h);
    cs_sha256_update(&h, pad, sizeof pad);
    cs_sha256_update(&h, inner, sizeof inner);
    cs_sha256_final(&h, out);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(&h, sizeof h);
}

static void hmac_str(const void *key, size_t klen, const char *msg, uint8_t out[32])
{
    cs_sigv4_hmac(key, klen, msg, strlen(msg), out);
}

enum cs_status cs_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                                    const char *service, uint8_t out[CS_SIGV4_KEY_LEN])
{
    char seed[4 + CS_SIGV4_SECRET_MAX];
    size_t slen = strlen(secret);
    uint8_t k[32];

    if (slen > CS_SIGV4_SECRET_MAX || strlen(date8) != 8)
        return CS_ERR_INVALID;
    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, secret, slen);
    cs_sigv4_hmac(seed, 4 + slen, date8, 8, k);
    OPENSSL_cleanse(seed, sizeof seed);
    hmac_str(k, 32, region, k);
    hmac_str(k, 32, service, k);
    hmac_str(k, 32, "aws4_request", out);
    OPENSSL_cleanse(k, sizeof k);
    atomic_fetch_add_explicit(&derivations, 1, memory_order_relaxed);
    return CS_OK;
}

unsigned long cs_sigv4_key_derivations(void)
{
    return atomic_load_explicit(&derivations, memory_order_relaxed);
}

static bool unreserved(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

size_t cs_sigv4_uri_encode(const uint8_t *in, size_t n, bool keep_slash, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            if (out)
                out[len] = (char)c;
            len++;
            continue;
        }
        if (out) {
            out[len] = '%';
            out[len + 1] = hex[c >> 4];
            out[len + 2] = hex[c & 15];
        }
        len += 3;
    }
    return len;
}

static int by_name_value(const void *a, const void *b)
{
    const struct cs_sigv4_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return strcmp(x->value ? x->value : "", y->value ? y->value : "");
}

enum cs_status cs_sigv4_canonical_query(struct cs_sigv4_header *p, size_t n, char *out, size_t cap)
{
    size_t len = 0;

    if (n > CS_SIGV4_MAX_QUERY || cap == 0)
        return CS_ERR_INVALID;
    qsort(p, n, sizeof p[0], by_name_value);
    for (size_t i = 0; i < n; i++) {
        const char *v = p[i].value ? p[i].value : "";
        size_t nl = strlen(p[i].name), vl = strlen(v);
        if (len + (i > 0) + nl + 1 + vl >= cap)
            return CS_ERR_TOO_LARGE;
        if (i)
            out[len++] = '&';
        memcpy(out + len, p[i].name, nl);
        len += nl;
        out[len++] = '=';
        memcpy(out + len, v, vl);
        len += vl;
    }
    out[len] = '\0';
    return CS_OK;
}

static void hash_str(struct cs_sha256 *h, const char *s)
{
    cs_sha256_update(h, s, strlen(s));
}

static bool space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* A header value as signed: outer whitespace trimmed, inner runs collapsed
 * to one space (what botocore's ' '.join(value.split()) does). */
static void hash_value(struct cs_sha256 *h, const char *v)
{
    bool first = true;

    while (*v) {
        while (space(*v))
            v++;
        const char *start = v;
        while (*v && !space(*v))
            v++;
        if (v == start)
            break;
        if (!first)
            cs_sha256_update(h, " ", 1);
        cs_sha256_update(h, start, (size_t)(v - start));
        first = false;
    }
}

/* Header indexes sorted by lowercase name (insertion sort: the lists are at
 * most 64 long, and qsort has no context argument); false on a repeated name. */
static bool sort_headers(const struct cs_sigv4_header *h, size_t n, unsigned char *idx)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0) {
            int c = strcasecmp(h[idx[j - 1]].name, h[i].name);
            if (c == 0)
                return false;
            if (c < 0)
                break;
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = (unsigned char)i;
    }
    return true;
}

/* Appends the lowercase name to the signed-headers list. */
static bool add_name(char *out, size_t cap, size_t *len, const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > NAME_MAX_LEN || *len + n + 2 > cap)
        return false;
    if (*len)
        out[(*len)++] = ';';
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        out[(*len)++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[*len] = '\0';
    return true;
}

enum cs_status cs_sigv4_canonical_hash(const struct cs_sigv4_canon *c, char *signed_headers,
                                       size_t cap, uint8_t out[32])
{
    unsigned char idx[CS_SIGV4_MAX_HEADERS];
    size_t shlen = 0, starts[CS_SIGV4_MAX_HEADERS];
    struct cs_sha256 h;

    if (c->nheaders == 0 || c->nheaders > CS_SIGV4_MAX_HEADERS || cap == 0)
        return CS_ERR_INVALID;
    if (!sort_headers(c->headers, c->nheaders, idx))
        return CS_ERR_INVALID;
    signed_headers[0] = '\0';
    for (size_t i = 0; i < c->nheaders; i++) {
        starts[i] = shlen + (i > 0);
        if (!add_name(signed_headers, cap, &shlen, c->headers[idx[i]].name))
            return CS_ERR_TOO_LARGE;
    }
    cs_sha256_init(&h);
    hash_str(&h, c->method);
    cs_sha256_update(&h, "\n", 1);
    hash_str(&h, c->uri);
    cs_sha256_update(&h, "\n", 1);
    hash_str(&h, c->query);
    cs_sha256_update(&h, "\n", 1);
    for (size_t i = 0; i < c->nheaders; i++) {
        size_t end = i + 1 < c->nheaders ? starts[i + 1] - 1 : shlen;
        cs_sha256_update(&h, signed_headers + starts[i], end - starts[i]);
        cs_sha256_update(&h, ":", 1);
        hash_value(&h, c->headers[idx[i]].value);
        cs_sha256_update(&h, "\n", 1);
    }
    cs_sha256_update(&h, "\n", 1);
    cs_sha256_update(&h, signed_headers, shlen);
    cs_sha256_update(&h, "\n", 1);
    hash_str(&h, c->payload);
    cs_sha256_final(&h, out);
    return CS_OK;
}

/* HMAC over the '\n'-joined parts, without assembling them first. */
static void hmac_lines(const uint8_t key[32], const char *const *parts, size_t n,
                       char hex[CS_SIGV4_SIG_HEX + 1])
{
    char msg[1024];
    size_t len = 0;
    uint8_t sig[32];

    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(parts[i]);
        /* callers pass bounded parts (dates, scopes, hex digests) */
        if (len + pl + 1 > sizeof msg)
            pl = sizeof msg - len - 1;
        memcpy(msg + len, parts[i], pl);
        len += pl;
        if (i + 1 < n && len < sizeof msg)
            msg[len++] = '\n';
    }
    cs_sigv4_hmac(key, 32, msg, len, sig);
    cs_hex_encode(sig, sizeof sig, hex);
}

void cs_sigv4_signature(const uint8_t key[CS_SIGV4_KEY_LEN], const char *amz_date,
                        const char *scope, const uint8_t creq_hash[32],
                        char hex[CS_SIGV4_SIG_HEX + 1])
{
    char digest[CS_SHA256_HEX_LEN + 1];
    cs_hex_encode(creq_hash, 32, digest);
    const char *parts[] = {"AWS4-HMAC-SHA256", amz_date, scope, digest};
    hmac_lines(key, parts, 4, hex);
}

void cs_sigv4_chained_signature(const uint8_t key[CS_SIGV4_KEY_LEN], const char *algorithm,
                                const char *amz_date, const char *scope, const char *prev_sig,
                                const char *tail, char hex[CS_SIGV4_SIG_HEX + 1])
{
    const char *parts[] = {algorithm, amz_date, scope, prev_sig, tail};
    hmac_lines(key, parts, 5, hex);
}

/* --- the client-side signer ------------------------------------------- */

/* Splits the signer's encoded "a=1&b" into parameters inside copy. */
static enum cs_status split_query(char *copy, struct cs_sigv4_header *p, size_t *n)
{
    char *save = NULL;

    *n = 0;
    for (char *s = strtok_r(copy, "&", &save); s; s = strtok_r(NULL, "&", &save)) {
        if (*n == CS_SIGV4_MAX_QUERY)
            return CS_ERR_INVALID;
        char *eq = strchr(s, '=');
        if (eq)
            *eq = '\0';
        p[(*n)++] = (struct cs_sigv4_header){s, eq ? eq + 1 : NULL};
    }
    return CS_OK;
}

static bool valid_request(const struct cs_sigv4_request *r)
{
    return r->method && r->path && r->path[0] == '/' && r->amz_date && strlen(r->amz_date) == 16 &&
           r->region && r->service && r->access_key && r->secret_key && r->payload_sha256 &&
           r->nheaders > 0 && r->nheaders <= CS_SIGV4_MAX_HEADERS &&
           strlen(r->region) <= CS_SIGV4_SCOPE_PART_MAX &&
           strlen(r->service) <= CS_SIGV4_SCOPE_PART_MAX;
}

enum cs_status cs_sigv4_authorization(const struct cs_sigv4_request *r, char *out, size_t outlen)
{
    if (!valid_request(r))
        return CS_ERR_INVALID;
    size_t qlen = r->query ? strlen(r->query) : 0;
    char *copy = malloc(qlen + 1), *query = malloc(qlen + CS_SIGV4_MAX_QUERY + 1);
    char signed_headers[CS_SIGV4_MAX_HEADERS * (NAME_MAX_LEN + 1)];
    struct cs_sigv4_header params[CS_SIGV4_MAX_QUERY];
    size_t nparams = 0;
    enum cs_status rc = copy && query ? CS_OK : CS_ERR_NOMEM;

    if (rc == CS_OK) {
        memcpy(copy, r->query ? r->query : "", qlen + 1);
        rc = split_query(copy, params, &nparams);
    }
    /* each parameter gains at most a '=' */
    if (rc == CS_OK)
        rc = cs_sigv4_canonical_query(params, nparams, query, qlen + CS_SIGV4_MAX_QUERY + 1);
    uint8_t creq[32], key[32];
    if (rc == CS_OK) {
        const struct cs_sigv4_canon c = {r->method,  r->path,     query,
                                         r->headers, r->nheaders, r->payload_sha256};
        rc = cs_sigv4_canonical_hash(&c, signed_headers, sizeof signed_headers, creq);
    }
    char day[9], scope[3 * CS_SIGV4_SCOPE_PART_MAX], sig[CS_SIGV4_SIG_HEX + 1];
    memcpy(day, r->amz_date, 8);
    day[8] = '\0';
    snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", day, r->region, r->service);
    if (rc == CS_OK)
        rc = cs_sigv4_signing_key(r->secret_key, day, r->region, r->service, key);
    if (rc == CS_OK) {
        cs_sigv4_signature(key, r->amz_date, scope, creq, sig);
        OPENSSL_cleanse(key, sizeof key);
        int n = snprintf(out, outlen,
                         "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                         r->access_key, scope, signed_headers, sig);
        if (n < 0 || (size_t)n >= outlen)
            rc = CS_ERR_TOO_LARGE;
    }
    free(copy);
    free(query);
    return rc;
}
