/* Record layout, inside the blob envelope "CSU1": u32 n, then per output
 * u32 name length, name, sha256, u64 size, u32 mode; then dep-info,
 * stdout, stderr and pin as u64 length + bytes (pin length 0: none).
 * Little-endian. */
#include "autoconfig.h"

#include "client/rust_result.h"

#include <stdlib.h>
#include <string.h>

#include "client/blob.h"

static enum cs_status put_int(struct cs_bytes *b, uint64_t v, int bytes)
{
    uint8_t x[8];
    for (int i = 0; i < bytes; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return cs_bytes_append(b, x, (size_t)bytes);
}

static enum cs_status put_bytes(struct cs_bytes *b, const void *p, size_t n)
{
    enum cs_status rc = put_int(b, n, 8);
    return rc == CS_OK && n ? cs_bytes_append(b, p, n) : rc;
}

enum cs_status cs_rust_result_encode(const struct cs_rust_result *r, struct cs_bytes *out)
{
    struct cs_bytes raw = {0};
    enum cs_status rc = r->n <= CS_RUST_MAX_OUTPUTS ? put_int(&raw, r->n, 4) : CS_ERR_INVALID;
    for (uint32_t i = 0; rc == CS_OK && i < r->n; i++) {
        size_t nl = strlen(r->out[i].name);
        rc = put_int(&raw, nl, 4);
        if (rc == CS_OK)
            rc = cs_bytes_append(&raw, r->out[i].name, nl);
        if (rc == CS_OK)
            rc = cs_bytes_append(&raw, r->out[i].sha, CS_SHA256_LEN);
        if (rc == CS_OK)
            rc = put_int(&raw, r->out[i].size, 8);
        if (rc == CS_OK)
            rc = put_int(&raw, r->out[i].mode, 4);
    }
    const struct cs_bytes *texts[] = {&r->dep_info, &r->out_text, &r->err_text};
    for (int t = 0; rc == CS_OK && t < 3; t++)
        rc = put_bytes(&raw, texts[t]->data, texts[t]->len);
    if (rc == CS_OK)
        rc = put_bytes(&raw, r->pin, r->pin ? strlen(r->pin) : 0);
    if (rc == CS_OK)
        rc = cs_blob_seal("CSU1", &raw, out);
    cs_bytes_free(&raw);
    return rc;
}

struct reader {
    const uint8_t *p;
    size_t left;
    bool bad;
};

static uint64_t get_int(struct reader *rd, int bytes)
{
    if (rd->bad || rd->left < (size_t)bytes) {
        rd->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | rd->p[i];
    rd->p += bytes;
    rd->left -= (size_t)bytes;
    return v;
}

static const uint8_t *get_span(struct reader *rd, uint64_t n)
{
    if (rd->bad || n > rd->left) {
        rd->bad = true;
        return NULL;
    }
    const uint8_t *at = rd->p;
    rd->p += n;
    rd->left -= (size_t)n;
    return at;
}

static bool good_name(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 255 || (n <= 2 && p[0] == '.' && (n == 1 || p[1] == '.')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '/' || p[i] == 0)
            return false;
    return true;
}

enum cs_status cs_rust_result_decode(const uint8_t *data, size_t len, struct cs_rust_result *r)
{
    memset(r, 0, sizeof *r);
    struct cs_bytes raw = {0};
    enum cs_status rc = cs_blob_unseal("CSU1", data, len, &raw);
    if (rc != CS_OK) {
        cs_bytes_free(&raw);
        return rc;
    }
    struct reader rd = {raw.data, raw.len, false};
    uint64_t n = get_int(&rd, 4);
    if (n > CS_RUST_MAX_OUTPUTS)
        rd.bad = true;
    for (uint64_t i = 0; !rd.bad && i < n; i++) {
        uint64_t nl = get_int(&rd, 4);
        const uint8_t *name = get_span(&rd, nl);
        const uint8_t *sha = get_span(&rd, CS_SHA256_LEN);
        if (rd.bad || !good_name(name, (size_t)nl))
            break;
        struct cs_rust_output *o = &r->out[r->n];
        if (!(o->name = strndup((const char *)name, (size_t)nl))) {
            rc = CS_ERR_NOMEM;
            break;
        }
        r->n++;
        memcpy(o->sha, sha, CS_SHA256_LEN);
        o->size = get_int(&rd, 8);
        o->mode = (uint32_t)get_int(&rd, 4) & 07777;
    }
    struct cs_bytes *texts[] = {&r->dep_info, &r->out_text, &r->err_text};
    for (int t = 0; rc == CS_OK && !rd.bad && t < 3; t++) {
        uint64_t tl = get_int(&rd, 8);
        const uint8_t *p = get_span(&rd, tl);
        if (p)
            rc = cs_bytes_append(texts[t], tl ? p : (const uint8_t *)"", (size_t)tl);
    }
    if (rc == CS_OK && !rd.bad) {
        uint64_t pl = get_int(&rd, 8);
        const uint8_t *p = get_span(&rd, pl);
        if (p && pl && (memchr(p, 0, (size_t)pl) || !(r->pin = strndup((const char *)p, pl))))
            rc = memchr(p, 0, (size_t)pl) ? CS_ERR_INVALID : CS_ERR_NOMEM;
    }
    if (rc == CS_OK && (rd.bad || r->n != n || rd.left != 0))
        rc = CS_ERR_INVALID;
    cs_bytes_free(&raw);
    if (rc != CS_OK)
        cs_rust_result_free(r);
    return rc;
}

void cs_rust_result_free(struct cs_rust_result *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        free(r->out[i].name);
    cs_bytes_free(&r->dep_info);
    cs_bytes_free(&r->out_text);
    cs_bytes_free(&r->err_text);
    free(r->pin);
    memset(r, 0, sizeof *r);
}
