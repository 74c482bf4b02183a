/* Who signed an S3 request: the request as libmicrohttpd holds it, handed
 * to the SigV4 verifier (s3_sigv4.c) with the secrets of the policy the
 * request entered with, so a SIGHUP that rotates a key takes effect for the
 * next request and never in the middle of one. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "server/s3_priv.h"

#define S3_HEADERS_MAX 128
#define S3_QUERY_MAX 64

struct kv_list {
    struct cs_s3_kv *items;
    size_t n, cap;
    bool overflow;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *name,
                               const char *value)
{
    struct kv_list *l = cls;

    (void)kind;
    if (l->n == l->cap) {
        l->overflow = true;
        return MHD_NO;
    }
    l->items[l->n].name = name;
    l->items[l->n].value = value;
    l->n++;
    return MHD_YES;
}

struct secret_lookup {
    const struct cs_config *cfg;
    int uid;
};

static const char *find_secret(void *ctx, const char *access_key)
{
    struct secret_lookup *s = ctx;
    const struct cs_s3_key *k = cs_config_find_s3_key(s->cfg, access_key);

    if (!k)
        return NULL;
    s->uid = k->uid;
    return k->secret;
}

enum cs_s3_err s3_authenticate(struct cs_server *srv, struct cs_request *req,
                               struct MHD_Connection *conn)
{
    struct cs_s3_kv headers[S3_HEADERS_MAX], query[S3_QUERY_MAX];
    struct kv_list h = {.items = headers, .cap = S3_HEADERS_MAX};
    struct kv_list q = {.items = query, .cap = S3_QUERY_MAX};
    struct secret_lookup sl = {.cfg = req->policy->cfg, .uid = -1};
    struct cs_s3_sigreq r;
    enum cs_s3_err e;

    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect, &h);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect, &q);
    if (h.overflow || q.overflow)
        return CS_S3_ERR_TOO_BIG;
    r.method = req->method;
    r.path_raw = req->url;
    r.query = query;
    r.nquery = q.n;
    r.headers = headers;
    r.nheaders = h.n;
    r.now = time(NULL);
    e = cs_s3_sigv4_verify(&r, find_secret, &sl, srv->s3_keys, &req->s3->auth);
    if (e != CS_S3_OK)
        return e;
    req->uid = req->s3->auth.anonymous ? -1 : sl.uid;
    req->s3->signed_request = !req->s3->auth.anonymous;
    return CS_S3_OK;
}

enum cs_status s3_request_id_seed(struct cs_server *srv)
{
    uint64_t seed = 0;

    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) << 20;
    atomic_init(&srv->s3_request_seq, seed);
    return CS_OK;
}
