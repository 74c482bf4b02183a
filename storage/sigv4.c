/* SigV4: canonical request -> string to sign -> HMAC chain -> signature. */
#include "autoconfig.h"

#include "storage/sigv4.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"

#define MAX_HEADERS 32
#define MAX_TEXT 16384

struct text {
    char buf[MAX_TEXT];
    size_t len;
    bool overflow;
};

static void add(struct text *t, const char *s, size_t n)
{
    if (t->len + n >= sizeof t->buf) {
        t->overflow = true;
        return;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void adds(struct text *t, const char *s)
{
    add(t, s, strlen(s));
}

static int by_name(const void *a, const void *b)
{
    const struct cs_sigv4_header *x = a, *y = b;
    return strcasecmp(x->name, y->name);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Header value as signed: outer spaces trimmed, inner runs collapsed. */
static void add_value(struct text *t, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    bool space = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space)
            add(t, " ", 1);
        space = false;
        add(t, v, 1);
    }
}

static void add_lower(struct text *t, const char *s)
{
    for (; *s; s++) {
        char c = (char)tolower((unsigned char)*s);
        add(t, &c, 1);
    }
}

/* Query parameters sorted by their encoded form ("a=1" before "b="). */
static enum cs_status add_query(struct text *t, const char *query)
{
    if (!query || !*query)
        return CS_OK;
    char *copy = strdup(query), *parts[64], *save = NULL;
    size_t n = 0;
    if (!copy)
        return CS_ERR_NOMEM;
    for (char *p = strtok_r(copy, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
        if (n == 64) {
            free(copy);
            return CS_ERR_INVALID;
        }
        parts[n++] = p;
    }
    qsort(parts, n, sizeof parts[0], by_string);
    for (size_t i = 0; i < n; i++) {
        if (i)
            add(t, "&", 1);
        adds(t, parts[i]);
        if (!strchr(parts[i], '='))
            add(t, "=", 1);
    }
    free(copy);
    return CS_OK;
}

static void hmac(const void *key, size_t klen, const char *msg, uint8_t out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

enum cs_status cs_sigv4_authorization(const struct cs_sigv4_request *r, char *out, size_t outlen)
{
    if (!r->method || !r->path || r->path[0] != '/' || !r->amz_date || strlen(r->amz_date) != 16 ||
        !r->region || !r->service || !r->access_key || !r->secret_key || !r->payload_sha256 ||
        r->nheaders == 0 || r->nheaders > MAX_HEADERS)
        return CS_ERR_INVALID;
    struct cs_sigv4_header sorted[MAX_HEADERS];
    memcpy(sorted, r->headers, r->nheaders * sizeof sorted[0]);
    qsort(sorted, r->nheaders, sizeof sorted[0], by_name);

    /* canonical request, signed-header list, string to sign: 16 KiB each */
    struct text *c = malloc(sizeof *c), *sh = malloc(sizeof *sh), *s = malloc(sizeof *s);
    enum cs_status rc = c && sh && s ? CS_OK : CS_ERR_NOMEM;
    if (rc != CS_OK)
        goto out;
    c->len = sh->len = s->len = 0;
    c->overflow = sh->overflow = s->overflow = false;
    adds(c, r->method);
    add(c, "\n", 1);
    adds(c, r->path);
    add(c, "\n", 1);
    if ((rc = add_query(c, r->query)) != CS_OK)
        goto out;
    add(c, "\n", 1);
    for (size_t i = 0; i < r->nheaders; i++) {
        add_lower(c, sorted[i].name);
        add(c, ":", 1);
        add_value(c, sorted[i].value);
        add(c, "\n", 1);
        if (i)
            add(sh, ";", 1);
        add_lower(sh, sorted[i].name);
    }
    add(c, "\n", 1);
    add(c, sh->buf, sh->len);
    add(c, "\n", 1);
    adds(c, r->payload_sha256);

    uint8_t digest[CS_SHA256_LEN];
    char hex[CS_SHA256_HEX_LEN + 1], day[9], scope[256];
    const void *parts[] = {c->buf};
    size_t lens[] = {c->len};
    cs_sha256_parts(parts, lens, 1, digest);
    cs_hex_encode(digest, sizeof digest, hex);
    memcpy(day, r->amz_date, 8);
    day[8] = '\0';
    if ((size_t)snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", day, r->region,
                         r->service) >= sizeof scope) {
        rc = CS_ERR_INVALID;
        goto out;
    }
    adds(s, "AWS4-HMAC-SHA256\n");
    adds(s, r->amz_date);
    add(s, "\n", 1);
    adds(s, scope);
    add(s, "\n", 1);
    adds(s, hex);
    if (c->overflow || sh->overflow || s->overflow) {
        rc = CS_ERR_TOO_LARGE;
        goto out;
    }

    char kseed[512];
    if ((size_t)snprintf(kseed, sizeof kseed, "AWS4%s", r->secret_key) >= sizeof kseed) {
        rc = CS_ERR_INVALID;
        goto out;
    }
    uint8_t k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac(kseed, strlen(kseed), day, k1);
    hmac(k1, 32, r->region, k2);
    hmac(k2, 32, r->service, k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, s->buf, sig);
    OPENSSL_cleanse(kseed, sizeof kseed);
    cs_hex_encode(sig, sizeof sig, hex);
    int n =
        snprintf(out, outlen, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                 r->access_key, scope, sh->buf, hex);
    if (n < 0 || (size_t)n >= outlen)
        rc = CS_ERR_TOO_LARGE;
out:
    free(c);
    free(sh);
    free(s);
    return rc;
}
