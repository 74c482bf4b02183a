/* libFuzzer: the S3 request bodies (DeleteObjects, CompleteMultipartUpload,
 * CreateBucketConfiguration), and writing a DeleteResult for whatever keys
 * were parsed. The first byte picks the parser. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
    struct cs_buf out;
    size_t n;
    bool quiet;
};

static enum cs_status on_object(void *arg, const struct cs_s3_delete_obj *o)
{
    struct ctx *c = arg;

    if (o->key_len == 0 || o->key_len > CS_S3_KEY_MAX || ++c->n > CS_S3_DELETE_MAX)
        abort();
    if (o->version_id && strlen(o->version_id) > CS_S3_VERSION_ID_MAX)
        abort();
    return cs_s3_delete_deleted(&c->out, c->quiet, o->key, o->key_len, o->version_id);
}

static void fuzz_complete(const char *body, size_t len)
{
    struct cs_s3_complete c;
    struct cs_s3_parse_error err;

    if (cs_s3_parse_complete(body, len, &c, &err) != CS_OK) {
        if (!err.code || c.parts || c.n)
            abort();
        return;
    }
    if (c.n == 0 || c.n > CS_S3_PARTS_MAX)
        abort();
    for (size_t i = 0; i < c.n; i++) {
        const struct cs_s3_part *p = &c.parts[i];
        if (p->number < 1 || p->number > CS_S3_PARTS_MAX ||
            (i && p->number <= c.parts[i - 1].number))
            abort();
        if (!p->etag[0] || strlen(p->etag) > CS_S3_ETAG_MAX)
            abort();
    }
    cs_s3_complete_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_s3_parse_error err;
    struct ctx c = {0};
    char region[CS_S3_LOCATION_MAX + 1];
    const char *body = (const char *)data + 1;

    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        cs_buf_init(&c.out, 1 << 22);
        cs_s3_delete_begin(&c.out);
        if (cs_s3_parse_delete(body, size - 1, &c.quiet, on_object, &c, &err) == CS_OK)
            cs_s3_delete_end(&c.out);
        else if (!err.code)
            abort();
        cs_buf_free(&c.out);
        break;
    case 1: fuzz_complete(body, size - 1); break;
    default:
        if (cs_s3_parse_create_bucket(body, size - 1, region, &err) == CS_OK &&
            strlen(region) > CS_S3_LOCATION_MAX)
            abort();
        break;
    }
    return 0;
}
