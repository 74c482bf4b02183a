/* ListObjects (V1), ListObjectsV2 and ListObjectVersions, from the index:
 * prefix, delimiter (CommonPrefixes, each subtree skipped with one index
 * seek), max-keys, markers and continuation tokens, encoding-type=url.
 * The ETag of each entry is the one HEAD gives (the stored MD5), read from
 * the object's header; multipart state (keys under S3_MPU_PREFIX) and
 * WebDAV collection markers are not objects and are never listed. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "server/s3_priv.h"
#include "server/s3_xml.h"
#include "server/text.h"

#define TOKEN_MAX (2 * CS_KEY_MAX + 1)

struct list_state {
    struct cs_server *srv;
    struct cs_request *req;
    struct cs_s3_list_writer *w;
    const char *prefix, *delim;
    size_t prefix_len, delim_len;
    uint64_t max, count;
    bool url;
    bool truncated, skip_to;   /* skip_to: the cursor must jump past last_prefix */
    char last[CS_KEY_MAX + 1]; /* the last key or prefix written */
    size_t last_len;
    bool last_is_prefix;
    enum cs_status err;
};

/* The ETag HEAD would give: the object's stored one, else the index's. */
static void entry_etag(struct list_state *ls, const struct cs_index_entry *e, char *out,
                       size_t outlen)
{
    struct cs_object_id id;
    struct cs_object obj;

    cs_object_id_init(&id, ls->req->ns->name, e->name, e->name_len);
    if (ls->srv->backend->ops->open(ls->srv->backend->state, &id, 0, CS_NOWAIT | CS_NOTOUCH,
                                    &obj) == CS_OK) {
        s3_object_etag(&obj, out, outlen);
        cs_object_release(&obj);
        return;
    }
    if (e->etag && outlen > CS_SHA256_HEX_LEN)
        cs_hex_encode(e->etag, CS_SHA256_LEN, out);
    else if (outlen)
        out[0] = '\0';
}

static void remember(struct list_state *ls, const char *s, size_t n, bool is_prefix)
{
    memcpy(ls->last, s, n);
    ls->last[n] = '\0';
    ls->last_len = n;
    ls->last_is_prefix = is_prefix;
}

static bool on_entry(void *arg, const struct cs_index_entry *e)
{
    struct list_state *ls = arg;
    const char *rest;
    const char *d = NULL;
    char etag[80];

    if (e->kind != CS_INDEX_OBJECT || (e->name_len && e->name[0] == S3_MPU_PREFIX[0]))
        return true;
    /* a key that is not UTF-8 (stored over HTTP) cannot be named in XML
     * without encoding-type=url: left out rather than shown as another */
    if (!ls->url && !cs_xml_text_exact(e->name, e->name_len))
        return true;
    if (ls->count == ls->max) {
        ls->truncated = true;
        return false;
    }
    rest = e->name + ls->prefix_len;
    if (ls->delim_len)
        d = memmem(rest, e->name_len - ls->prefix_len, ls->delim, ls->delim_len);
    if (d) {
        size_t n = (size_t)(d - e->name) + ls->delim_len;
        if (ls->last_is_prefix && n == ls->last_len && memcmp(ls->last, e->name, n) == 0)
            return true; /* the subtree of a prefix given already */
        ls->err = cs_s3_list_add_prefix(ls->w, e->name, n);
        ls->count++;
        remember(ls, e->name, n, true);
        ls->skip_to = true;
        return false; /* the caller moves the cursor past the subtree */
    }
    entry_etag(ls, e, etag, sizeof etag);
    struct cs_s3_object o = {
        .key = e->name, .key_len = e->name_len, .mtime = e->mtime, .etag = etag, .size = e->size};
    ls->err = cs_s3_list_add_object(ls->w, &o);
    ls->count++;
    remember(ls, e->name, e->name_len, false);
    return ls->err == CS_OK;
}

/* The cursor after every key under prefix p: the shortest string above
 * them all (p without its trailing 0xff bytes, the last byte left raised),
 * inclusive. false when p is all 0xff (the walk then goes through, and
 * the repeats are skipped by their prefix). */
static bool cursor_past(struct cs_index_cursor *cur, const char *p, size_t n)
{
    while (n > 0 && (unsigned char)p[n - 1] == 0xff)
        n--;
    if (n == 0 || n >= sizeof cur->key)
        return false;
    memcpy(cur->key, p, n);
    cur->key[n - 1] = (char)((unsigned char)p[n - 1] + 1);
    cur->key_len = n;
    cur->started = true;
    cur->inclusive = true;
    cur->done = false;
    return true;
}

static void cursor_after(struct list_state *ls, struct cs_index_cursor *cur, const char *start,
                         size_t n)
{
    const char *d;

    memset(cur, 0, sizeof *cur);
    if (n == 0 || n >= sizeof cur->key)
        return;
    /* a start inside a common prefix already given resumes after it (and,
     * where no cursor can jump past it, skips its repeats) */
    if (ls->delim_len && n > ls->prefix_len &&
        (d = memmem(start + ls->prefix_len, n - ls->prefix_len, ls->delim, ls->delim_len))) {
        size_t plen = (size_t)(d - start) + ls->delim_len;
        remember(ls, start, plen, true);
        if (cursor_past(cur, start, plen))
            return;
    }
    memcpy(cur->key, start, n);
    cur->key_len = n;
    cur->started = true;
}

static enum cs_status walk(struct list_state *ls, struct cs_index_cursor *cur)
{
    enum cs_status st;

    while (!cur->done && ls->err == CS_OK && !ls->truncated) {
        ls->skip_to = false;
        st = cs_index_walk(ls->srv->index, ls->req->ns->name, ls->prefix, ls->prefix_len, cur, 256,
                           on_entry, ls);
        if (st != CS_OK)
            return st;
        if (ls->skip_to && !cursor_past(cur, ls->last, ls->last_len))
            continue; /* walks on through the subtree, skipping what it already gave */
    }
    return ls->err;
}

/* "0".."1000", default 1000. */
static bool read_max(struct cs_request *req, struct MHD_Connection *conn, const char *name,
                     uint64_t *out)
{
    const char *v = s3_query(conn, name, NULL);
    char *end = NULL;
    unsigned long long n;

    *out = S3_MAX_KEYS;
    if (!v)
        return true;
    n = strtoull(v, &end, 10);
    if (!v[0] || *end || v[0] == '-') {
        s3_prepare_error(req, 400, "InvalidArgument", "%s must be a number", name);
        return false;
    }
    *out = n < S3_MAX_KEYS ? n : S3_MAX_KEYS;
    return true;
}

/* A query value percent-decoded into out (cap bytes with the NUL). */
static bool query_text(struct cs_request *req, struct MHD_Connection *conn, const char *name,
                       char *out, size_t cap, size_t *len)
{
    const char *v = s3_query(conn, name, NULL);
    size_t i, n = 0;

    *len = 0;
    out[0] = '\0';
    if (!v)
        return true;
    for (i = 0; v[i]; i++) {
        char c = v[i];
        if (c == '%' && cs_hex_digit(v[i + 1]) >= 0 && cs_hex_digit(v[i + 2]) >= 0) {
            c = (char)(cs_hex_digit(v[i + 1]) * 16 + cs_hex_digit(v[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (n + 1 >= cap) {
            s3_prepare_error(req, 400, "InvalidArgument", "%s is too long", name);
            return false;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    *len = n;
    return true;
}

/* Continuation tokens are the hex of the key to resume after: opaque to
 * clients, and no state kept here. */
static bool token_decode(const char *t, char *out, size_t *len)
{
    size_t i, n = strlen(t);

    if (n % 2 || n / 2 > CS_KEY_MAX)
        return false;
    for (i = 0; i < n / 2; i++) {
        int hi = cs_hex_digit(t[2 * i]), lo = cs_hex_digit(t[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (char)(hi * 16 + lo);
    }
    *len = n / 2;
    return true;
}

struct list_params {
    char prefix[CS_KEY_MAX + 1], delim[64], start[CS_KEY_MAX + 1], token[TOKEN_MAX];
    size_t prefix_len, delim_len, start_len;
    uint64_t max;
    bool url;
};

static bool read_params(struct cs_request *req, struct MHD_Connection *conn,
                        enum cs_s3_list_kind kind, struct list_params *p)
{
    const char *enc = s3_query(conn, "encoding-type", NULL);
    size_t tlen = 0;

    memset(p, 0, sizeof *p);
    if (enc && strcmp(enc, "url") != 0) {
        s3_prepare_error(req, 400, "InvalidArgument", "encoding-type must be url");
        return false;
    }
    p->url = enc != NULL;
    if (!read_max(req, conn, "max-keys", &p->max) ||
        !query_text(req, conn, "prefix", p->prefix, sizeof p->prefix, &p->prefix_len) ||
        !query_text(req, conn, "delimiter", p->delim, sizeof p->delim, &p->delim_len))
        return false;
    if (kind == CS_S3_LIST_V2) {
        if (!query_text(req, conn, "continuation-token", p->token, sizeof p->token, &tlen))
            return false;
        if (tlen && !token_decode(p->token, p->start, &p->start_len)) {
            s3_prepare_error(req, 400, "InvalidArgument", "the continuation token is not valid");
            return false;
        }
        if (!tlen &&
            !query_text(req, conn, "start-after", p->start, sizeof p->start, &p->start_len))
            return false;
    } else {
        if (!query_text(req, conn, kind == CS_S3_LIST_V1 ? "marker" : "key-marker", p->start,
                        sizeof p->start, &p->start_len))
            return false;
    }
    return true;
}

static const struct cs_s3_owner *owner_of(const struct cs_request *req)
{
    static const struct cs_s3_owner owner = {.id = "cstash", .display_name = "cstash"};

    (void)req;
    return &owner;
}

void s3_list_objects(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                     enum cs_s3_list_kind kind)
{
    struct list_params p;
    struct cs_s3_list_writer w;
    struct cs_s3_list_next next = {0};
    struct cs_index_cursor cur;
    struct cs_buf out;
    char token[TOKEN_MAX];
    enum cs_status st;

    if (!read_params(req, conn, kind, &p))
        return;
    const char *start_after = s3_query(conn, "start-after", NULL) ? p.start : NULL;
    struct cs_s3_list_req lr = {.kind = kind,
                                .bucket = req->ns->name,
                                .prefix = p.prefix,
                                .prefix_len = p.prefix_len,
                                .delimiter = p.delim_len ? p.delim : NULL,
                                .delimiter_len = p.delim_len,
                                .max = p.max,
                                .url = p.url,
                                .marker = p.start,
                                .marker_len = p.start_len,
                                .continuation_token = p.token[0] ? p.token : NULL,
                                .start_after = start_after,
                                .start_after_len = start_after ? p.start_len : 0,
                                .owner = kind == CS_S3_LIST_V2 ? NULL : owner_of(req)};
    struct list_state ls = {.srv = srv,
                            .req = req,
                            .w = &w,
                            .prefix = p.prefix,
                            .prefix_len = p.prefix_len,
                            .delim = p.delim,
                            .delim_len = p.delim_len,
                            .max = p.max,
                            .url = p.url};

    st = cs_index_sync(srv->index);
    if (st != CS_OK) {
        s3_prepare_error(req, 503, "SlowDown", "the index cannot be read now; retry later");
        return;
    }
    cs_buf_init(&out, S3_XML_REPLY_MAX);
    if (cs_s3_list_begin(&w, &out, &lr) != CS_OK) {
        cs_buf_free(&out);
        s3_prepare_error(req, 500, "InternalError", "out of memory");
        return;
    }
    cursor_after(&ls, &cur, p.start, p.start_len);
    if (p.max > 0)
        st = walk(&ls, &cur);
    else
        ls.truncated = false;
    if (st != CS_OK) {
        cs_s3_list_discard(&w);
        cs_buf_free(&out);
        s3_prepare_error(req, 500, "InternalError", "the listing failed: %s", cs_strerror(st));
        return;
    }
    next.truncated = ls.truncated;
    if (ls.truncated) {
        cs_hex_encode((const uint8_t *)ls.last, ls.last_len, token);
        next.token = kind == CS_S3_LIST_V2 ? token : NULL;
        next.marker = ls.last;
        next.marker_len = ls.last_len;
        next.id = kind == CS_S3_LIST_VERSIONS ? "null" : NULL;
    }
    if (cs_s3_list_end(&w, &next) != CS_OK) {
        cs_buf_free(&out);
        s3_prepare_error(req, 500, "InternalError", "the listing is too large to send");
        return;
    }
    s3_prepare_xml(req, 200, &out);
}

void s3_list_buckets(struct cs_server *srv, struct cs_request *req)
{
    const struct cs_config *cfg = req->policy->cfg;
    struct cs_buf out;
    size_t i;

    (void)srv;
    cs_buf_init(&out, S3_XML_REPLY_MAX);
    (void)cs_s3_buckets_begin(&out, owner_of(req));
    for (i = 0; i < cfg->n_namespaces; i++)
        if (cs_config_rights(&cfg->namespaces[i], req->uid) & CS_RIGHT_READ)
            (void)cs_s3_buckets_add(&out, cfg->namespaces[i].name, 0);
    (void)cs_s3_buckets_end(&out);
    s3_prepare_xml(req, 200, &out);
}
