/* The answer to GetObject and HeadObject: conditionals (If-Match,
 * If-None-Match, If-Modified-Since, If-Unmodified-Since, compared with the
 * S3 ETag), one byte range (206), and the headers S3 gives back: ETag,
 * Last-Modified, the stored metadata, and the checksum when asked for. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "server/text.h"
#include "server/s3_priv.h"
#include "storage/zstd_io.h"

struct range {
    bool partial;
    uint64_t start, len;
};

/* "bytes=a-b", "bytes=a-", "bytes=-n". Anything else is ignored (the whole
 * object), as S3 does with several ranges; false only when unsatisfiable. */
static bool parse_range(const char *v, uint64_t size, struct range *r)
{
    unsigned long long a = 0, b = 0;
    char *end;

    r->partial = false;
    r->start = 0;
    r->len = size;
    if (!v || strncmp(v, "bytes=", 6) != 0 || strchr(v, ','))
        return true;
    v += 6;
    if (*v == '-') {
        b = strtoull(v + 1, &end, 10);
        if (end == v + 1 || *end)
            return true;
        if (b == 0)
            return false;
        r->partial = true;
        r->len = b < size ? b : size;
        r->start = size - r->len;
        return size > 0;
    }
    if (*v < '0' || *v > '9')
        return true;
    a = strtoull(v, &end, 10);
    if (*end != '-')
        return true;
    v = end + 1;
    if (*v) {
        if (*v < '0' || *v > '9')
            return true;
        b = strtoull(v, &end, 10);
        if (*end || b < a)
            return true;
    } else {
        b = size ? size - 1 : 0;
    }
    if (a >= size)
        return false;
    if (b >= size)
        b = size - 1;
    r->partial = true;
    r->start = a;
    r->len = b - a + 1;
    return true;
}

/* Whether the list ("*", or quoted tags, W/ ignored) names etag. */
static bool etag_listed(const char *list, const char *etag)
{
    size_t n = strlen(etag);
    const char *p = list;

    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        bool quoted = *p == '"';
        if (quoted)
            p++;
        const char *start = p;
        while (*p && *p != (quoted ? '"' : ','))
            p++;
        if ((size_t)(p - start) == n && memcmp(start, etag, n) == 0)
            return true;
        if (*p == '"')
            p++;
    }
    return false;
}

static bool parse_http_date(const char *v, time_t *out)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof tm);
    end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return false;
    *out = timegm(&tm);
    return true;
}

/* RFC 9110 13.2.2's order. 0: go on; else the status (304, 412). */
static unsigned preconditions(struct MHD_Connection *conn, const char *etag, time_t mtime)
{
    const char *im = s3_header(conn, MHD_HTTP_HEADER_IF_MATCH);
    const char *ius = s3_header(conn, MHD_HTTP_HEADER_IF_UNMODIFIED_SINCE);
    const char *inm = s3_header(conn, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *ims = s3_header(conn, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    time_t t;

    if (im && !etag_listed(im, etag))
        return 412;
    if (!im && ius && parse_http_date(ius, &t) && mtime > t)
        return 412;
    if (inm && etag_listed(inm, etag))
        return 304;
    if (!inm && ims && parse_http_date(ims, &t) && mtime <= t)
        return 304;
    return 0;
}

struct ranged_reader {
    struct cs_body_reader *r;
    uint64_t skip, left;
};

/* A compressed body decompressed while sent, from a range's start. */
static ssize_t read_ranged(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct ranged_reader *rr = cls;
    ssize_t n;

    (void)pos;
    while (rr->skip > 0) {
        n = cs_body_reader_read(rr->r, buf, rr->skip < max ? (size_t)rr->skip : max);
        if (n <= 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        rr->skip -= (uint64_t)n;
    }
    if (rr->left == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    n = cs_body_reader_read(rr->r, buf, rr->left < max ? (size_t)rr->left : max);
    if (n < 0) {
        cs_log(CS_LOG_ERROR, "a compressed object failed to decompress while being sent");
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (n == 0)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* shorter than recorded */
    rr->left -= (uint64_t)n;
    return n;
}

static void close_ranged(void *cls)
{
    struct ranged_reader *rr = cls;

    cs_body_reader_close(rr->r);
    free(rr);
}

static struct MHD_Response *body_response(struct cs_object *obj, const struct range *r, bool head)
{
    struct MHD_Response *resp = NULL;

    if (head)
        return http_head_response(r->len);
    if (obj->body) {
        if (!r->partial) {
            resp = MHD_create_response_from_buffer(r->len, obj->body, MHD_RESPMEM_MUST_FREE);
            if (resp)
                obj->body = NULL;
            return resp;
        }
        return MHD_create_response_from_buffer(r->len, (char *)obj->body + r->start,
                                               MHD_RESPMEM_MUST_COPY);
    }
    if (!obj->zstd) {
        resp = MHD_create_response_from_fd_at_offset64(r->len, obj->fd, obj->offset + r->start);
        if (resp)
            obj->fd = -1;
        return resp;
    }
    struct ranged_reader *rr = calloc(1, sizeof *rr);
    if (!rr || cs_body_reader_open(obj, &rr->r) != CS_OK) { /* takes obj's fd */
        free(rr);
        return NULL;
    }
    rr->skip = r->start;
    rr->left = r->len;
    resp = MHD_create_response_from_callback(r->len, 64 * 1024, read_ranged, rr, close_ranged);
    if (!resp)
        close_ranged(rr);
    return resp;
}

/* Names S3 gives back from the stored metadata: x-amz-meta-*, the
 * checksums and the kept headers (s3_body.c). A blob can come from a remote
 * tier, so nothing else becomes a response header, and a value must be
 * printable text. */
static bool header_allowed(const char *name, size_t n, const char *value, size_t vn)
{
    static const char *const kept[] = {"x-amz-storage-class", "x-amz-server-side-encryption",
                                       "x-amz-acl",           "content-encoding",
                                       "content-disposition", "content-language",
                                       "cache-control",       "expires"};
    bool ok = (n > 11 && memcmp(name, "x-amz-meta-", 11) == 0) ||
              (n > 15 && memcmp(name, "x-amz-checksum-", 15) == 0);

    for (size_t i = 0; !ok && i < sizeof kept / sizeof kept[0]; i++)
        ok = strlen(kept[i]) == n && memcmp(kept[i], name, n) == 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
             name[i] == '-' || name[i] == '_' || name[i] == '.';
    for (size_t i = 0; ok && i < vn; i++)
        ok = (unsigned char)value[i] >= 0x20 && value[i] != 0x7f;
    return ok;
}

/* The stored metadata as headers; the checksum only when asked for, and
 * only for the whole object (it is the whole object's). */
static void add_meta_headers(struct MHD_Response *resp, const struct cs_object *obj, bool checksum)
{
    struct s3_meta_field f;
    size_t pos = 0;
    char name[256], value[2048 + 1];

    while (s3_meta_next(obj->meta, obj->meta_len, &pos, &f)) {
        if (f.name_len > 15 && memcmp(f.name, "x-amz-checksum-", 15) == 0 && !checksum)
            continue;
        if (f.name_len >= sizeof name || f.value_len >= sizeof value ||
            !header_allowed(f.name, f.name_len, f.value, f.value_len))
            continue;
        memcpy(name, f.name, f.name_len);
        name[f.name_len] = '\0';
        memcpy(value, f.value, f.value_len);
        value[f.value_len] = '\0';
        if (MHD_add_response_header(resp, name, value) != MHD_YES)
            cs_log(CS_LOG_DEBUG, "s3: a stored header was not sent (%s)", name);
    }
}

/* Last-Modified of mtime: a hit on the same second as the thread's last
 * one costs no formatting (each header is already an allocation). */
static const char *http_date(time_t t)
{
    static __thread time_t last = -1;
    static __thread char text[CS_IMF_DATE_LEN + 1];

    if (t != last) {
        if (cs_imf_date(t, text, sizeof text) != CS_OK)
            text[0] = '\0';
        last = t;
    }
    return text;
}

void s3_prepare_object(struct cs_request *req, struct MHD_Connection *conn, struct cs_object *obj,
                       bool head)
{
    char etag[80], quoted[84], crange[96];
    const char *date = http_date(obj->mtime);
    const char *mode = s3_header(conn, "x-amz-checksum-mode");
    struct range r;
    unsigned pre;

    s3_object_etag(obj, etag, sizeof etag);
    size_t elen = strlen(etag);
    quoted[0] = '"';
    memcpy(quoted + 1, etag, elen);
    quoted[elen + 1] = '"';
    quoted[elen + 2] = '\0';
    pre = preconditions(conn, etag, obj->mtime);
    if (pre == 412) {
        cs_object_release(obj);
        s3_prepare_error(req, 412, "PreconditionFailed",
                         "At least one of the pre-conditions you specified did not hold");
        return;
    }
    if (pre == 304) {
        cs_object_release(obj);
        s3_prepare_empty(req, 304);
        if (req->response) {
            MHD_add_response_header(req->response, MHD_HTTP_HEADER_ETAG, quoted);
            MHD_add_response_header(req->response, MHD_HTTP_HEADER_LAST_MODIFIED, date);
        }
        return;
    }
    if (!parse_range(s3_header(conn, MHD_HTTP_HEADER_RANGE), obj->size, &r)) {
        snprintf(crange, sizeof crange, "bytes */%llu", (unsigned long long)obj->size);
        cs_object_release(obj);
        s3_prepare_error(req, 416, "InvalidRange", "The requested range is not satisfiable");
        if (req->response)
            MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_RANGE, crange);
        return;
    }
    req->response = body_response(obj, &r, head);
    req->status = r.partial ? 206 : 200;
    req->sent_bytes = r.len;
    if (!req->response) {
        cs_object_release(obj);
        s3_prepare_error(req, 503, "SlowDown", "cannot send the object now; retry later");
        return;
    }
    MHD_add_response_header(req->response, MHD_HTTP_HEADER_ETAG, quoted);
    MHD_add_response_header(req->response, MHD_HTTP_HEADER_LAST_MODIFIED, date);
    MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            obj->content_type[0] ? obj->content_type : "binary/octet-stream");
    if (r.partial) {
        snprintf(crange, sizeof crange, "bytes %llu-%llu/%llu", (unsigned long long)r.start,
                 (unsigned long long)(r.start + r.len - 1), (unsigned long long)obj->size);
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_RANGE, crange);
    }
    add_meta_headers(req->response, obj, !r.partial && mode && strcasecmp(mode, "ENABLED") == 0);
    cs_object_release(obj);
}
