/* Blob layout: 4-byte magic, u64 raw length, then one zstd frame of the
 * raw sections. Integers are little-endian. */
#include "autoconfig.h"

#include "client/blob.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define MAX_RAW (4ULL << 30) /* refuse to inflate anything larger */

/* One decompression context for the process (a hit unseals a manifest and
 * a result): made at the first use, kept to the exit. The client runs one
 * thread. */
static ZSTD_DCtx *dctx(void)
{
    static ZSTD_DCtx *d;
    if (!d)
        d = ZSTD_createDCtx();
    return d;
}

static enum cs_status put_u64(struct cs_bytes *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return cs_bytes_append(b, x, 8);
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

enum cs_status cs_blob_seal(const char magic[4], const struct cs_bytes *raw, struct cs_bytes *out)
{
    size_t bound = ZSTD_compressBound(raw->len);
    enum cs_status rc = cs_bytes_append(out, magic, 4);
    if (rc == CS_OK)
        rc = put_u64(out, raw->len);
    if (rc != CS_OK)
        return rc;
    size_t at = out->len;
    if (out->cap < at + bound + 1) {
        uint8_t *p = realloc(out->data, at + bound + 1);
        if (!p)
            return CS_ERR_NOMEM;
        out->data = p;
        out->cap = at + bound + 1;
    }
    /* Level 1: compiles are latency-bound; zstd -1 still shrinks objects ~3x. */
    size_t n =
        ZSTD_compress(out->data + at, bound, raw->data ? raw->data : (uint8_t *)"", raw->len, 1);
    if (ZSTD_isError(n))
        return CS_ERR_INVALID;
    out->len = at + n;
    out->data[out->len] = 0;
    return CS_OK;
}

enum cs_status cs_blob_unseal(const char magic[4], const uint8_t *data, size_t len,
                              struct cs_bytes *raw)
{
    if (len < 12 || memcmp(data, magic, 4) != 0)
        return CS_ERR_INVALID;
    uint64_t n = get_u64(data + 4);
    if (n > MAX_RAW)
        return CS_ERR_INVALID;
    unsigned long long content = ZSTD_getFrameContentSize(data + 12, len - 12);
    if (content != n)
        return CS_ERR_INVALID;
    raw->len = 0;
    if (cs_bytes_append(raw, "", 0) != CS_OK)
        return CS_ERR_NOMEM;
    uint8_t *p = realloc(raw->data, (size_t)n + 1);
    if (!p)
        return CS_ERR_NOMEM;
    raw->data = p;
    raw->cap = (size_t)n + 1;
    ZSTD_DCtx *d = dctx();
    if (!d)
        return CS_ERR_NOMEM;
    size_t got = ZSTD_decompressDCtx(d, raw->data, (size_t)n, data + 12, len - 12);
    if (ZSTD_isError(got) || got != n)
        return CS_ERR_INVALID;
    raw->len = got;
    raw->data[got] = 0;
    return CS_OK;
}

enum cs_status cs_result_encode(const struct cs_result *r, struct cs_bytes *out)
{
    struct cs_bytes raw = {0};
    enum cs_status rc = CS_OK;
    for (int t = 1; t <= 4 && rc == CS_OK; t++) {
        if (!r->has[t])
            continue;
        uint8_t type = (uint8_t)t;
        rc = cs_bytes_append(&raw, &type, 1);
        if (rc == CS_OK)
            rc = put_u64(&raw, r->sec[t].len);
        if (rc == CS_OK)
            rc = cs_bytes_append(&raw, r->sec[t].data, r->sec[t].len);
    }
    if (rc == CS_OK)
        rc = cs_blob_seal("CSR1", &raw, out);
    cs_bytes_free(&raw);
    return rc;
}

enum cs_status cs_result_decode(const uint8_t *data, size_t len, struct cs_result *r)
{
    memset(r, 0, sizeof *r);
    struct cs_bytes raw = {0};
    enum cs_status rc = cs_blob_unseal("CSR1", data, len, &raw);
    size_t o = 0;
    while (rc == CS_OK && o < raw.len) {
        if (raw.len - o < 9) {
            rc = CS_ERR_INVALID;
            break;
        }
        uint8_t t = raw.data[o];
        uint64_t n = get_u64(raw.data + o + 1);
        o += 9;
        if (t < 1 || t > 4 || r->has[t] || n > raw.len - o) {
            rc = CS_ERR_INVALID;
            break;
        }
        r->has[t] = true;
        rc = cs_bytes_append(&r->sec[t], raw.data + o, (size_t)n);
        o += (size_t)n;
    }
    if (rc == CS_OK && !r->has[CS_SEC_OBJECT])
        rc = CS_ERR_INVALID;
    cs_bytes_free(&raw);
    if (rc != CS_OK)
        cs_result_free(r);
    return rc;
}

void cs_result_free(struct cs_result *r)
{
    for (int t = 0; t < 5; t++)
        cs_bytes_free(&r->sec[t]);
    memset(r, 0, sizeof *r);
}

enum cs_status cs_manifest_encode(const struct cs_manifest *m, struct cs_bytes *out)
{
    struct cs_bytes raw = {0};
    enum cs_status rc = put_u64(&raw, m->n);
    for (uint32_t i = 0; rc == CS_OK && i < m->n; i++) {
        const struct cs_manifest_entry *e = &m->e[i];
        rc = cs_bytes_append(&raw, e->result_key, CS_SHA256_LEN);
        if (rc == CS_OK)
            rc = put_u64(&raw, e->nfiles);
        for (uint32_t f = 0; rc == CS_OK && f < e->nfiles; f++) {
            const struct cs_manifest_file *mf = &e->files[f];
            size_t pl = strlen(mf->path);
            rc = put_u64(&raw, pl);
            if (rc == CS_OK)
                rc = cs_bytes_append(&raw, mf->path, pl);
            if (rc == CS_OK)
                rc = put_u64(&raw, mf->size);
            if (rc == CS_OK)
                rc = put_u64(&raw, (uint64_t)mf->mtime);
            if (rc == CS_OK)
                rc = put_u64(&raw, (uint64_t)mf->ctime);
            if (rc == CS_OK)
                rc = cs_bytes_append(&raw, mf->hash, CS_SHA256_LEN);
        }
    }
    if (rc == CS_OK)
        rc = cs_blob_seal("CSM1", &raw, out);
    cs_bytes_free(&raw);
    return rc;
}

enum cs_status cs_manifest_decode(const uint8_t *data, size_t len, struct cs_manifest *m)
{
    memset(m, 0, sizeof *m);
    struct cs_bytes raw = {0};
    enum cs_status rc = cs_blob_unseal("CSM1", data, len, &raw);
    size_t o = 0;
#define NEED(k)                                                                                    \
    do {                                                                                           \
        if (raw.len - o < (size_t)(k)) {                                                           \
            rc = CS_ERR_INVALID;                                                                   \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)
    if (rc != CS_OK)
        goto out;
    NEED(8);
    uint64_t n = get_u64(raw.data);
    o = 8;
    if (n > CS_MANIFEST_MAX_ENTRIES) {
        rc = CS_ERR_INVALID;
        goto out;
    }
    if (!(m->e = calloc(n ? n : 1, sizeof *m->e))) {
        rc = CS_ERR_NOMEM;
        goto out;
    }
    for (uint64_t i = 0; i < n; i++) {
        struct cs_manifest_entry *e = &m->e[i];
        m->n = (uint32_t)i + 1;
        NEED(CS_SHA256_LEN + 8);
        memcpy(e->result_key, raw.data + o, CS_SHA256_LEN);
        uint64_t nf = get_u64(raw.data + o + CS_SHA256_LEN);
        o += CS_SHA256_LEN + 8;
        if (nf > 100000) {
            rc = CS_ERR_INVALID;
            goto out;
        }
        if (!(e->files = calloc(nf ? nf : 1, sizeof *e->files))) {
            rc = CS_ERR_NOMEM;
            goto out;
        }
        for (uint64_t f = 0; f < nf; f++) {
            struct cs_manifest_file *mf = &e->files[f];
            e->nfiles = (uint32_t)f + 1;
            NEED(8);
            uint64_t pl = get_u64(raw.data + o);
            o += 8;
            if (pl == 0 || pl > 4096) {
                rc = CS_ERR_INVALID;
                goto out;
            }
            NEED(pl + 24 + CS_SHA256_LEN);
            if (memchr(raw.data + o, 0, pl) || !(mf->path = strndup((char *)raw.data + o, pl))) {
                rc = mf->path ? CS_ERR_INVALID : CS_ERR_NOMEM;
                goto out;
            }
            o += pl;
            mf->size = get_u64(raw.data + o);
            mf->mtime = (int64_t)get_u64(raw.data + o + 8);
            mf->ctime = (int64_t)get_u64(raw.data + o + 16);
            memcpy(mf->hash, raw.data + o + 24, CS_SHA256_LEN);
            o += 24 + CS_SHA256_LEN;
        }
    }
    if (o != raw.len)
        rc = CS_ERR_INVALID;
#undef NEED
out:
    cs_bytes_free(&raw);
    if (rc != CS_OK)
        cs_manifest_free(m);
    return rc;
}

static void entry_free(struct cs_manifest_entry *e)
{
    for (uint32_t f = 0; f < e->nfiles; f++)
        free(e->files[f].path);
    free(e->files);
    e->files = NULL;
    e->nfiles = 0;
}

enum cs_status cs_manifest_add(struct cs_manifest *m, struct cs_manifest_entry *e)
{
    struct cs_manifest_entry *ne = calloc(CS_MANIFEST_MAX_ENTRIES, sizeof *ne);
    if (!ne)
        return CS_ERR_NOMEM;
    uint32_t n = 0;
    ne[n++] = *e;
    memset(e, 0, sizeof *e);
    for (uint32_t i = 0; i < m->n; i++) {
        if (n < CS_MANIFEST_MAX_ENTRIES &&
            memcmp(m->e[i].result_key, ne[0].result_key, CS_SHA256_LEN) != 0)
            ne[n++] = m->e[i];
        else
            entry_free(&m->e[i]);
    }
    free(m->e);
    m->e = ne;
    m->n = n;
    return CS_OK;
}

void cs_manifest_free(struct cs_manifest *m)
{
    for (uint32_t i = 0; i < m->n; i++)
        entry_free(&m->e[i]);
    free(m->e);
    m->e = NULL;
    m->n = 0;
}
