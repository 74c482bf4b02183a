/* Deep hashes of Rust crates (see rust_deep.h). A record: "CSD1", u32
 * outputs, u32 externs, then that many sha256s, little-endian. */
#include "autoconfig.h"

#include "client/rust_deep.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LIST 4096   /* shas in one record */
#define MAX_CRATES 4096 /* crates in one tree */

static enum cs_status put_u32(struct cs_bytes *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return cs_bytes_append(b, x, 4);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void cs_rust_deep_record(struct cs_session *ss, const uint8_t (*outs)[CS_SHA256_LEN], size_t nout,
                         const uint8_t (*exts)[CS_SHA256_LEN], size_t next)
{
    if (ss->s.readonly || nout > MAX_LIST || next > MAX_LIST)
        return;
    struct cs_bytes b = {0}, old = {0};
    enum cs_status rc = cs_bytes_append(&b, "CSD1", 4);
    if (rc == CS_OK)
        rc = put_u32(&b, (uint32_t)nout);
    if (rc == CS_OK)
        rc = put_u32(&b, (uint32_t)next);
    for (size_t i = 0; rc == CS_OK && i < nout; i++)
        rc = cs_bytes_append(&b, outs[i], CS_SHA256_LEN);
    for (size_t i = 0; rc == CS_OK && i < next; i++)
        rc = cs_bytes_append(&b, exts[i], CS_SHA256_LEN);
    for (size_t i = 0; rc == CS_OK && i < nout; i++) {
        old.len = 0;
        if (cs_local_get(ss->s.dir, outs[i], CS_KIND_DEEP, &old) == CS_OK && old.len == b.len &&
            !memcmp(old.data, b.data, b.len))
            continue;
        if (cs_local_put(ss->s.dir, outs[i], CS_KIND_DEEP, b.data, b.len, ss->s.maxsize) != CS_OK)
            cs_session_count(ss, CS_ST_LOCAL_ERROR);
    }
    if (rc != CS_OK)
        cs_session_count(ss, CS_ST_INTERNAL_ERROR);
    cs_bytes_free(&b);
    cs_bytes_free(&old);
}

struct walk {
    struct cs_session *ss;
    size_t n;
    struct {
        uint8_t sha[CS_SHA256_LEN], deep[CS_SHA256_LEN];
        bool done;
    } seen[MAX_CRATES];
};

/* The deep hash of the crate one of whose outputs has sha. */
static enum cs_status deep_of(struct walk *w, const uint8_t sha[CS_SHA256_LEN],
                              uint8_t out[CS_SHA256_LEN])
{
    for (size_t i = 0; i < w->n; i++)
        if (!memcmp(w->seen[i].sha, sha, CS_SHA256_LEN)) {
            if (!w->seen[i].done)
                return CS_ERR_INVALID; /* a cycle: records no compile writes */
            memcpy(out, w->seen[i].deep, CS_SHA256_LEN);
            return CS_OK;
        }
    if (w->n == MAX_CRATES)
        return CS_ERR_TOO_LARGE;
    size_t me = w->n++;
    memcpy(w->seen[me].sha, sha, CS_SHA256_LEN);
    w->seen[me].done = false;
    struct cs_bytes b = {0};
    enum cs_status rc = cs_local_get(w->ss->s.dir, sha, CS_KIND_DEEP, &b);
    uint32_t nout = 0, next = 0;
    if (rc == CS_OK && (b.len < 12 || memcmp(b.data, "CSD1", 4) != 0))
        rc = CS_ERR_INVALID;
    if (rc == CS_OK) {
        nout = get_u32(b.data + 4);
        next = get_u32(b.data + 8);
        if (nout > MAX_LIST || next > MAX_LIST ||
            b.len != 12 + ((size_t)nout + next) * CS_SHA256_LEN)
            rc = CS_ERR_INVALID;
    }
    struct cs_sha256 h;
    cs_sha256_init(&h);
    cs_sha256_update(&h, "cstash-rust-deep-v1", 19);
    if (rc == CS_OK)
        cs_sha256_update(&h, b.data + 12, (size_t)nout * CS_SHA256_LEN);
    for (uint32_t i = 0; rc == CS_OK && i < next; i++) {
        uint8_t d[CS_SHA256_LEN];
        rc = deep_of(w, b.data + 12 + ((size_t)nout + i) * CS_SHA256_LEN, d);
        cs_sha256_update(&h, d, sizeof d);
    }
    cs_bytes_free(&b);
    if (rc != CS_OK)
        return rc;
    cs_sha256_final(&h, out);
    memcpy(w->seen[me].deep, out, CS_SHA256_LEN);
    w->seen[me].done = true;
    return CS_OK;
}

enum cs_status cs_rust_deep_hash(struct cs_session *ss, const uint8_t (*exts)[CS_SHA256_LEN],
                                 size_t next, uint8_t out[CS_SHA256_LEN])
{
    struct walk *w = malloc(sizeof *w);
    if (!w)
        return CS_ERR_NOMEM;
    w->ss = ss;
    w->n = 0;
    struct cs_sha256 h;
    cs_sha256_init(&h);
    enum cs_status rc = CS_OK;
    for (size_t i = 0; rc == CS_OK && i < next; i++) {
        uint8_t d[CS_SHA256_LEN];
        rc = deep_of(w, exts[i], d);
        cs_sha256_update(&h, d, sizeof d);
    }
    free(w);
    if (rc == CS_OK)
        cs_sha256_final(&h, out);
    return rc == CS_ERR_INVALID || rc == CS_ERR_TOO_LARGE ? CS_ERR_NOT_FOUND : rc;
}
