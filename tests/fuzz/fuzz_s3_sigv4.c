/* libFuzzer: SigV4 verification of hostile requests. The input is lines:
 * the method, the raw path, the raw query, then "name:value" headers (an
 * Authorization header among them, or X-Amz-* in the query). */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/s3_sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *secret(void *ctx, const char *ak)
{
    (void)ctx;
    return strcmp(ak, "AKIAIOSFODNN7EXAMPLE") == 0 ? "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
                                                   : NULL;
}

#define MAXKV 80

/* Splits "a=1&b" in place. */
static size_t split_query(char *q, struct cs_s3_kv *kv)
{
    size_t n = 0;
    for (char *p = q; p && *p && n < MAXKV;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq)
            *eq = '\0';
        kv[n++] = (struct cs_s3_kv){p, eq ? eq + 1 : NULL};
        p = amp ? amp + 1 : NULL;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cs_s3_keycache *cache;
    char *buf = malloc(size + 1), *lines[3 + MAXKV];
    struct cs_s3_kv query[MAXKV], headers[MAXKV];
    size_t nlines = 0, nh = 0;

    if (!cache)
        cache = cs_s3_keycache_new();
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (char *p = buf; p && nlines < 3 + MAXKV;) {
        lines[nlines++] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    if (nlines < 3) {
        free(buf);
        return 0;
    }
    for (size_t i = 3; i < nlines; i++) {
        char *colon = strchr(lines[i], ':');
        if (colon)
            *colon = '\0';
        headers[nh++] = (struct cs_s3_kv){lines[i], colon ? colon + 1 : NULL};
    }
    struct cs_s3_sigreq r = {lines[0], lines[1], query,     split_query(lines[2], query),
                             headers,  nh,       1369353600};
    struct cs_s3_auth out;
    enum cs_s3_err e = cs_s3_sigv4_verify(&r, secret, NULL, cache, &out);
    if (cs_s3_err_code(e) == NULL || cs_s3_err_message(e) == NULL)
        abort();
    if (e == CS_S3_OK && !out.anonymous && strcmp(out.access_key, "AKIAIOSFODNN7EXAMPLE") != 0)
        abort(); /* only the one known key can ever verify */
    (void)cs_s3_auth_kind(&r);
    free(buf);
    return 0;
}
