/* Deep hashes of Rust crates (see rust_deep.h). A record: "CSD2", u32
 * outputs, u32 externs, the outputs' sha256s, then per extern its sha256,
 * u16 path length and the path (roots' form); little-endian. */
#include "autoconfig.h"

#include "client/rust_deep.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LIST 4096    /* entries in one record */
#define MAX_CRATES 16384 /* crates in one tree */
#define MAX_FILE ((size_t)1 << 30)

static enum cs_status put_le(struct cs_bytes *b, uint32_t v, int n)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return cs_bytes_append(b, x, (size_t)n);
}

static uint32_t get_le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void cs_rust_deep_record(struct cs_session *ss, const uint8_t (*outs)[CS_SHA256_LEN], size_t nout,
                         const uint8_t (*exts)[CS_SHA256_LEN], char *const *paths, size_t next)
{
    if (nout > MAX_LIST || next > MAX_LIST)
        return;
    struct cs_bytes b = {0}, old = {0};
    enum cs_status rc = cs_bytes_append(&b, "CSD2", 4);
    if (rc == CS_OK)
        rc = put_le(&b, (uint32_t)nout, 4);
    if (rc == CS_OK)
        rc = put_le(&b, (uint32_t)next, 4);
    for (size_t i = 0; rc == CS_OK && i < nout; i++)
        rc = cs_bytes_append(&b, outs[i], CS_SHA256_LEN);
    for (size_t i = 0; rc == CS_OK && i < next; i++) {
        size_t pl = strlen(paths[i]);
        rc = pl <= 0xffff ? cs_bytes_append(&b, exts[i], CS_SHA256_LEN) : CS_ERR_INVALID;
        if (rc == CS_OK)
            rc = put_le(&b, (uint32_t)pl, 2);
        if (rc == CS_OK)
            rc = cs_bytes_append(&b, paths[i], pl);
    }
    for (size_t i = 0; rc == CS_OK && i < nout; i++) {
        old.len = 0;
        if (cs_local_get(ss->s.dir, outs[i], CS_KIND_DEEP, &old) == CS_OK && old.len == b.len &&
            !memcmp(old.data, b.data, b.len))
            continue;
        /* Read-only cache dirs may refuse it: then crates that link miss. */
        if (cs_local_put(ss->s.dir, outs[i], CS_KIND_DEEP, b.data, b.len, ss->s.maxsize) != CS_OK &&
            !ss->s.readonly)
            cs_session_count(ss, CS_ST_LOCAL_ERROR);
    }
    if (rc != CS_OK)
        cs_session_count(ss, CS_ST_INTERNAL_ERROR);
    cs_bytes_free(&b);
    cs_bytes_free(&old);
}

struct walk {
    struct cs_session *ss;
    const struct cs_rust_roots *r;
    size_t n;
    struct {
        uint8_t sha[CS_SHA256_LEN], deep[CS_SHA256_LEN];
        bool done;
    } seen[MAX_CRATES];
};

static enum cs_status hash_path(const char *path, uint8_t out[CS_SHA256_LEN])
{
    struct cs_bytes b = {0};
    enum cs_status rc = cs_read_file(path, MAX_FILE, &b);
    if (rc == CS_OK) {
        const void *parts[] = {b.data ? (const void *)b.data : ""};
        size_t lens[] = {b.len};
        cs_sha256_parts(parts, lens, 1, out);
    }
    cs_bytes_free(&b);
    return rc;
}

/* The sha256 a dependency is taken by: its file in this tree as it is now
 * (an .rmeta's .rlib when there is one), else the recorded sha. */
static enum cs_status dep_sha(const struct walk *w, const char *path, bool normalised,
                              const uint8_t recorded[CS_SHA256_LEN], uint8_t out[CS_SHA256_LEN])
{
    char *p = normalised ? cs_rust_denorm_path(w->r, path) : strdup(path);
    size_t n = p ? strlen(p) : 0;
    struct stat st;
    enum cs_status rc = CS_ERR_NOT_FOUND;
    if (p && n > 6 && !strcmp(p + n - 6, ".rmeta")) {
        char *rlib = malloc(n);
        if (rlib) {
            memcpy(rlib, p, n - 6);
            memcpy(rlib + n - 6, ".rlib", 6);
            if (stat(rlib, &st) == 0 && S_ISREG(st.st_mode))
                rc = hash_path(rlib, out);
            free(rlib);
        }
    }
    if (rc == CS_ERR_NOT_FOUND && p && stat(p, &st) == 0 && S_ISREG(st.st_mode))
        rc = hash_path(p, out);
    if (rc == CS_ERR_NOT_FOUND) {
        memcpy(out, recorded, CS_SHA256_LEN);
        rc = CS_OK;
    }
    free(p);
    return rc;
}

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
    if (rc == CS_OK && (b.len < 12 || memcmp(b.data, "CSD2", 4) != 0))
        rc = CS_ERR_INVALID;
    if (rc == CS_OK) {
        nout = get_le(b.data + 4, 4);
        next = get_le(b.data + 8, 4);
        if (nout > MAX_LIST || next > MAX_LIST || b.len < 12 + (size_t)nout * CS_SHA256_LEN)
            rc = CS_ERR_INVALID;
    }
    struct cs_sha256 h;
    cs_sha256_init(&h);
    cs_sha256_update(&h, "cstash-rust-deep-v2", 19);
    size_t at = 12 + (size_t)nout * CS_SHA256_LEN;
    if (rc == CS_OK)
        cs_sha256_update(&h, b.data + 12, (size_t)nout * CS_SHA256_LEN);
    for (uint32_t i = 0; rc == CS_OK && i < next; i++) {
        if (b.len - at < CS_SHA256_LEN + 2) {
            rc = CS_ERR_INVALID;
            break;
        }
        const uint8_t *rec = b.data + at;
        size_t pl = get_le(b.data + at + CS_SHA256_LEN, 2);
        at += CS_SHA256_LEN + 2;
        char *path = b.len - at >= pl && !memchr(b.data + at, 0, pl)
                         ? strndup((const char *)b.data + at, pl)
                         : NULL;
        at += pl;
        uint8_t now[CS_SHA256_LEN], d[CS_SHA256_LEN];
        rc = !path ? CS_ERR_INVALID : dep_sha(w, path, true, rec, now);
        if (rc == CS_OK)
            rc = deep_of(w, now, d);
        cs_sha256_update(&h, d, sizeof d);
        free(path);
    }
    if (rc == CS_OK && at != b.len)
        rc = CS_ERR_INVALID;
    cs_bytes_free(&b);
    if (rc != CS_OK)
        return rc;
    cs_sha256_final(&h, out);
    memcpy(w->seen[me].deep, out, CS_SHA256_LEN);
    w->seen[me].done = true;
    return CS_OK;
}

enum cs_status cs_rust_deep_hash(struct cs_session *ss, const struct cs_rust_roots *r,
                                 const uint8_t (*exts)[CS_SHA256_LEN], char *const *paths,
                                 size_t next, uint8_t out[CS_SHA256_LEN])
{
    struct walk *w = malloc(sizeof *w);
    if (!w)
        return CS_ERR_NOMEM;
    w->ss = ss;
    w->r = r;
    w->n = 0;
    struct cs_sha256 h;
    cs_sha256_init(&h);
    enum cs_status rc = CS_OK;
    for (size_t i = 0; rc == CS_OK && i < next; i++) {
        uint8_t now[CS_SHA256_LEN], d[CS_SHA256_LEN];
        rc = dep_sha(w, paths[i], false, exts[i], now);
        if (rc == CS_OK)
            rc = deep_of(w, now, d);
        cs_sha256_update(&h, d, sizeof d);
    }
    free(w);
    if (rc == CS_OK)
        cs_sha256_final(&h, out);
    return rc == CS_ERR_INVALID || rc == CS_ERR_TOO_LARGE ? CS_ERR_NOT_FOUND : rc;
}
