/* http:// through client/http.c; https:// through libcurl, loaded with
 * dlopen. Either way one connection per process, reused for every request
 * of the compile. */
#include "autoconfig.h"

#include "client/remote.h"

#include "client/http.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY ((size_t)1 << 30)

struct curl_api {
    void *lib;
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_reset)(CURL *);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
};

struct cs_remote {
    struct cs_http *http; /* plain http://; else libcurl below */
    struct curl_api api;
    CURL *h;
    char *base;
    char *cacert;
    struct curl_slist *headers;
    uint32_t connect_timeout_ms, timeout_ms;
    bool unreachable;
    char error[CURL_ERROR_SIZE + 64];
    char errbuf[CURL_ERROR_SIZE];
};

static bool load(struct curl_api *a)
{
    a->lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!a->lib)
        return false;
#define SYM(f, n) (*(void **)&a->f = dlsym(a->lib, n)) != NULL
    bool ok = SYM(easy_init, "curl_easy_init") && SYM(easy_setopt, "curl_easy_setopt") &&
              SYM(easy_perform, "curl_easy_perform") && SYM(easy_getinfo, "curl_easy_getinfo") &&
              SYM(easy_reset, "curl_easy_reset") && SYM(easy_cleanup, "curl_easy_cleanup") &&
              SYM(easy_strerror, "curl_easy_strerror") && SYM(slist_append, "curl_slist_append") &&
              SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
    if (!ok) {
        dlclose(a->lib);
        a->lib = NULL;
    }
    return ok;
}

struct cs_remote *cs_remote_open(const struct cs_settings *s, const char **why)
{
    struct cs_remote *r = calloc(1, sizeof *r);
    if (!r) {
        *why = "out of memory";
        return NULL;
    }
    if (cs_starts_with(s->remote, "http://")) {
        r->http = cs_http_open(s->remote, s->token, s->connect_timeout_ms, s->timeout_ms, why);
        if (!r->http) {
            free(r);
            return NULL;
        }
        return r;
    }
    if (!load(&r->api)) {
        *why = "cannot load libcurl.so.4 (install libcurl4)";
        free(r);
        return NULL;
    }
    r->h = r->api.easy_init();
    r->base = strdup(s->remote);
    r->connect_timeout_ms = s->connect_timeout_ms;
    r->timeout_ms = s->timeout_ms;
    r->cacert = s->cacert ? strdup(s->cacert) : NULL;
    if (r->h && s->token) {
        size_t n = strlen(s->token) + 32;
        char *hdr = malloc(n);
        if (hdr) {
            snprintf(hdr, n, "Authorization: Bearer %s", s->token);
            r->headers = r->api.slist_append(NULL, hdr);
            free(hdr);
        }
    }
    if (!r->h || !r->base || (s->token && !r->headers)) {
        *why = "cannot set up libcurl";
        cs_remote_close(r);
        return NULL;
    }
    return r;
}

struct sink {
    struct cs_bytes *out;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct sink *k = arg;
    size_t len = size * n;
    if (k->out->len + len > MAX_BODY) {
        k->too_big = true;
        return 0;
    }
    return cs_bytes_append(k->out, p, len) == CS_OK ? len : 0;
}

struct source {
    const uint8_t *data;
    size_t len, off;
};

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
    struct source *s = arg;
    size_t len = size * n;
    if (len > s->len - s->off)
        len = s->len - s->off;
    memcpy(p, s->data + s->off, len);
    s->off += len;
    return len;
}

/* "ab/cdef…": ccache's subdirs layout. */
static void key_rel(const uint8_t key[CS_SHA256_LEN], char rel[CS_SHA256_HEX_LEN + 2])
{
    char hex[CS_SHA256_HEX_LEN + 1];
    cs_hex_encode(key, CS_SHA256_LEN, hex);
    snprintf(rel, CS_SHA256_HEX_LEN + 2, "%.2s/%s", hex, hex + 2);
}

/* An HTTP status as the cache sees it, for both transports: GET wants
 * 200 (404 is a miss), PUT any 2xx. reason: the server's one-line
 * reason for an error ("" when none). */
static enum cs_status status_of(struct cs_remote *r, long code, const char *what, bool get,
                                const char *reason)
{
    if ((get && code == 200) || (!get && code >= 200 && code < 300))
        return CS_OK;
    if (get && code == 404)
        return CS_ERR_NOT_FOUND;
    snprintf(r->error, sizeof r->error, "%s: HTTP %ld%s%s", what, code, reason[0] ? ": " : "",
             reason);
    return code == 401 || code == 403 ? CS_ERR_PERM : CS_ERR_IO;
}

/* The outcome of a request through client/http.c. */
static enum cs_status http_outcome(struct cs_remote *r, enum cs_status rc, int code,
                                   const char *what, bool get)
{
    r->unreachable = cs_http_unreachable(r->http);
    if (rc != CS_OK) {
        snprintf(r->error, sizeof r->error, "%s: %s", what, cs_http_error(r->http));
        return rc == CS_ERR_BUSY ? CS_ERR_BUSY : CS_ERR_IO;
    }
    return status_of(r, code, what, get, cs_http_reason(r->http));
}

static char *key_url(const struct cs_remote *r, const uint8_t key[CS_SHA256_LEN])
{
    char rel[CS_SHA256_HEX_LEN + 2];
    key_rel(key, rel);
    size_t n = strlen(r->base) + sizeof rel + 1;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%s/%s", r->base, rel);
    return u;
}

static void common_options(struct cs_remote *r, const char *url)
{
    struct curl_api *a = &r->api;
    a->easy_setopt(r->h, CURLOPT_URL, url);
    a->easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
    a->easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS, (long)r->connect_timeout_ms);
    a->easy_setopt(r->h, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
    a->easy_setopt(r->h, CURLOPT_ERRORBUFFER, r->errbuf);
    a->easy_setopt(r->h, CURLOPT_USERAGENT, "cstash/" PACKAGE_VERSION);
    if (r->headers)
        a->easy_setopt(r->h, CURLOPT_HTTPHEADER, r->headers);
    a->easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (r->cacert)
        a->easy_setopt(r->h, CURLOPT_CAINFO, r->cacert);
    r->errbuf[0] = '\0';
}

/* Maps a finished libcurl transfer to a status and remembers why it failed. */
static enum cs_status outcome(struct cs_remote *r, CURLcode cc, const char *what, bool get,
                              const char *reason)
{
    r->unreachable = false;
    if (cc != CURLE_OK) {
        r->unreachable = cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_COULDNT_CONNECT ||
                         cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_GOT_NOTHING ||
                         cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR;
        snprintf(r->error, sizeof r->error, "%s: %s", what,
                 r->errbuf[0] ? r->errbuf : r->api.easy_strerror(cc));
        return cc == CURLE_OPERATION_TIMEDOUT ? CS_ERR_BUSY : CS_ERR_IO;
    }
    long code = 0;
    r->api.easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &code);
    return status_of(r, code, what, get, reason);
}

enum cs_status cs_remote_get(struct cs_remote *r, const uint8_t key[CS_SHA256_LEN],
                             struct cs_bytes *out)
{
    if (r->http) {
        char rel[CS_SHA256_HEX_LEN + 2];
        int code = 0;
        key_rel(key, rel);
        size_t before = out->len;
        enum cs_status rc = cs_http_request(r->http, "GET", rel, NULL, 0, out, &code);
        rc = http_outcome(r, rc, code, "GET", true);
        if (rc != CS_OK)
            out->len = before;
        return rc;
    }
    char *url = key_url(r, key);
    if (!url)
        return CS_ERR_NOMEM;
    struct sink k = {.out = out};
    r->api.easy_reset(r->h);
    common_options(r, url);
    r->api.easy_setopt(r->h, CURLOPT_HTTPGET, 1L);
    r->api.easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_data);
    r->api.easy_setopt(r->h, CURLOPT_WRITEDATA, &k);
    CURLcode cc = r->api.easy_perform(r->h);
    enum cs_status rc = outcome(r, cc, "GET", true, "");
    if (k.too_big)
        snprintf(r->error, sizeof r->error, "GET: body over 1 GiB");
    free(url);
    return rc;
}

enum cs_status cs_remote_put(struct cs_remote *r, const uint8_t key[CS_SHA256_LEN],
                             const void *data, size_t len)
{
    if (r->http) {
        char rel[CS_SHA256_HEX_LEN + 2];
        int code = 0;
        key_rel(key, rel);
        enum cs_status rc = cs_http_request(r->http, "PUT", rel, data, len, NULL, &code);
        return http_outcome(r, rc, code, "PUT", false);
    }
    char *url = key_url(r, key);
    if (!url)
        return CS_ERR_NOMEM;
    struct source src = {.data = data, .len = len};
    struct cs_bytes discard = {0};
    struct sink k = {.out = &discard};
    r->api.easy_reset(r->h);
    common_options(r, url);
    r->api.easy_setopt(r->h, CURLOPT_UPLOAD, 1L);
    r->api.easy_setopt(r->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    r->api.easy_setopt(r->h, CURLOPT_READFUNCTION, on_read);
    r->api.easy_setopt(r->h, CURLOPT_READDATA, &src);
    r->api.easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_data);
    r->api.easy_setopt(r->h, CURLOPT_WRITEDATA, &k);
    CURLcode cc = r->api.easy_perform(r->h);
    char reason[200];
    cs_first_line(discard.data, discard.len, reason, sizeof reason);
    enum cs_status rc = outcome(r, cc, "PUT", false, reason);
    cs_bytes_free(&discard);
    free(url);
    return rc;
}

bool cs_remote_unreachable(const struct cs_remote *r)
{
    return r->unreachable;
}

const char *cs_remote_error(const struct cs_remote *r)
{
    return r->error;
}

void cs_remote_close(struct cs_remote *r)
{
    if (!r)
        return;
    cs_http_close(r->http);
    if (r->headers)
        r->api.slist_free_all(r->headers);
    if (r->h)
        r->api.easy_cleanup(r->h);
    /* libcurl stays loaded: unloading it at exit gains nothing. */
    free(r->base);
    free(r->cacert);
    free(r);
}
