/* What S3 stores with an object, as the opaque blob the storage keeps in
 * the object's header: fields of
 *   1 byte name length, the name, 2 bytes value length (LE), the value.
 * Names are lowercase header names ("x-amz-meta-mtime",
 * "x-amz-checksum-crc32", "x-amz-storage-class") and "etag" (the S3 ETag,
 * unquoted). The reader checks every length against the blob: a damaged
 * blob ends the walk, it never reads past the end. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "server/s3_priv.h"

bool s3_meta_alloc(struct cs_s3_req *s3)
{
    if (!s3->meta)
        s3->meta = malloc(CS_OBJECT_META_MAX);
    return s3->meta != NULL;
}

bool s3_meta_add(uint8_t *meta, size_t *len, size_t cap, const char *name, const char *value,
                 size_t value_len)
{
    size_t n = strlen(name);

    if (n == 0 || n > 255 || value_len > 0xffff || *len + 3 + n + value_len > cap)
        return false;
    meta[(*len)++] = (uint8_t)n;
    memcpy(meta + *len, name, n);
    *len += n;
    meta[(*len)++] = (uint8_t)(value_len & 0xff);
    meta[(*len)++] = (uint8_t)(value_len >> 8);
    memcpy(meta + *len, value, value_len);
    *len += value_len;
    return true;
}

bool s3_meta_next(const uint8_t *meta, size_t len, size_t *pos, struct s3_meta_field *out)
{
    size_t p = *pos, n, v;

    if (!meta || p >= len)
        return false;
    n = meta[p++];
    if (n == 0 || p + n + 2 > len)
        return false;
    out->name = (const char *)meta + p;
    out->name_len = n;
    p += n;
    v = (size_t)meta[p] | (size_t)meta[p + 1] << 8;
    p += 2;
    if (p + v > len)
        return false;
    out->value = (const char *)meta + p;
    out->value_len = v;
    *pos = p + v;
    return true;
}

const char *s3_meta_get(const uint8_t *meta, size_t len, const char *name, size_t *value_len)
{
    struct s3_meta_field f;
    size_t pos = 0, n = strlen(name);

    *value_len = 0;
    while (s3_meta_next(meta, len, &pos, &f)) {
        if (f.name_len == n && memcmp(f.name, name, n) == 0) {
            *value_len = f.value_len;
            return f.value;
        }
    }
    return NULL;
}

void s3_object_etag(const struct cs_object *obj, char *out, size_t outlen)
{
    size_t n;
    const char *e = s3_meta_get(obj->meta, obj->meta_len, "etag", &n);

    /* an MD5 hex, or the multipart "<hex>-N": anything else (a damaged
     * blob, one from a tier) is not taken for an ETag */
    for (size_t i = 0; e && i < n; i++)
        if (!((e[i] >= '0' && e[i] <= '9') || (e[i] >= 'a' && e[i] <= 'f') || e[i] == '-'))
            e = NULL;
    if (e && n > 0 && n < outlen) {
        memcpy(out, e, n);
        out[n] = '\0';
        return;
    }
    /* stored by another protocol: the body's sha256 is as strong a tag */
    if (outlen > CS_SHA256_HEX_LEN)
        cs_hex_encode(obj->etag, CS_SHA256_LEN, out);
    else if (outlen)
        out[0] = '\0';
}
