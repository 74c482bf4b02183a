/* The body of a PutObject or UploadPart as it streams into an upload.
 *
 * What S3 promises about a body is checked before the commit, so a body
 * that breaks a promise is never stored: the signed sha256
 * (x-amz-content-sha256, through the upload's expected digest), the
 * signature of every aws-chunked chunk, Content-MD5, and a flexible
 * checksum given as a header or a trailer. The MD5 is computed here (it is
 * the ETag clients compare); the object's metadata is laid out at the
 * start, with room for the values known only at the end, because the
 * body's place in the file is fixed when the upload begins. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "common/hash.h"
#include "server/s3_priv.h"

#define USER_META_MAX 2048 /* what S3 allows of x-amz-meta-* */
#define ETAG_PLACEHOLDER "00000000000000000000000000000000"

/* Headers kept with the object and given back on GET/HEAD. */
static const char *const kept_headers[] = {"x-amz-storage-class",
                                           "x-amz-server-side-encryption",
                                           "x-amz-acl",
                                           "content-encoding",
                                           "content-disposition",
                                           "content-language",
                                           "cache-control",
                                           "expires",
                                           NULL};

struct meta_walk {
    struct cs_s3_req *s3;
    size_t user_bytes;
    bool failed;
    const char *why;
};

/* Content-Encoding without "aws-chunked": that one is the request's
 * framing, undone here, not the stored object's encoding. */
static enum MHD_Result add_content_encoding(struct meta_walk *w, const char *value)
{
    char out[256];
    size_t n = 0;
    const char *p = value;

    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        size_t len = (size_t)(p - start);
        while (len && start[len - 1] == ' ')
            len--;
        if (len == 0 || (len == 11 && strncasecmp(start, "aws-chunked", 11) == 0))
            continue;
        if (n + len + 1 >= sizeof out) {
            w->failed = true;
            w->why = "InvalidArgument";
            return MHD_NO;
        }
        if (n)
            out[n++] = ',';
        memcpy(out + n, start, len);
        n += len;
    }
    if (n && !s3_meta_add(w->s3->meta, &w->s3->meta_len, CS_OBJECT_META_MAX, "content-encoding",
                          out, n)) {
        w->failed = true;
        w->why = "MetadataTooLarge";
        return MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result add_header_field(void *cls, enum MHD_ValueKind kind, const char *name,
                                        const char *value)
{
    struct meta_walk *w = cls;
    char lower[256];
    size_t i, n = strlen(name);
    bool keep = false;

    (void)kind;
    if (n >= sizeof lower || !value)
        return MHD_YES;
    for (i = 0; i <= n; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    if (strncmp(lower, "x-amz-meta-", 11) == 0) {
        keep = true;
        w->user_bytes += n + strlen(value);
    }
    for (i = 0; !keep && kept_headers[i]; i++)
        keep = strcmp(lower, kept_headers[i]) == 0;
    if (!keep)
        return MHD_YES;
    if (strcmp(lower, "content-encoding") == 0)
        return add_content_encoding(w, value);
    if (w->user_bytes > USER_META_MAX) {
        w->failed = true;
        w->why = "MetadataTooLarge";
        return MHD_NO;
    }
    if (!s3_meta_add(w->s3->meta, &w->s3->meta_len, CS_OBJECT_META_MAX, lower, value,
                     strlen(value))) {
        w->failed = true;
        w->why = "MetadataTooLarge";
        return MHD_NO;
    }
    return MHD_YES;
}

/* x-amz-checksum-<alg> as a header (its value is checked at the end), or
 * named by x-amz-trailer (the value comes after the body). */
static bool setup_checksum(struct cs_request *req, struct MHD_Connection *conn)
{
    struct cs_s3_req *s3 = req->s3;
    static const enum cs_checksum_alg algs[] = {CS_CHECKSUM_CRC32, CS_CHECKSUM_CRC32C,
                                                CS_CHECKSUM_CRC64NVME, CS_CHECKSUM_SHA1,
                                                CS_CHECKSUM_SHA256};
    const char *trailer = s3_header(conn, "x-amz-trailer");
    const char *value = NULL;
    size_t i, found = SIZE_MAX, count = 0;

    for (i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        const char *name = cs_checksum_header(algs[i]);
        const char *v = s3_header(conn, name);
        bool in_trailer = trailer && strcasecmp(trailer, name) == 0;
        if (v || in_trailer) {
            count += (v != NULL) + in_trailer;
            found = i;
            value = v;
        }
    }
    if (trailer && found == SIZE_MAX) {
        s3_prepare_error(req, 400, "InvalidRequest", "x-amz-trailer names no checksum we know");
        return false;
    }
    if (found == SIZE_MAX)
        return true;
    if (count > 1) { /* each promise is checked, so only one may be made */
        s3_prepare_error(req, 400, "InvalidRequest",
                         "give one x-amz-checksum-* header or trailer, not several");
        return false;
    }
    snprintf(s3->checksum_name, sizeof s3->checksum_name, "%s", cs_checksum_header(algs[found]));
    cs_checksum_init(&s3->checksum, algs[found]);
    s3->has_checksum = true;
    if (value) {
        if (strlen(value) >= sizeof s3->checksum_want) {
            s3_prepare_error(req, 400, "InvalidRequest", "%s is too long", s3->checksum_name);
            return false;
        }
        strcpy(s3->checksum_want, value);
    }
    return true;
}

/* The metadata blob: the ETag's room first, then the checksum's, then
 * what the client sent. */
static bool build_meta(struct cs_request *req, struct MHD_Connection *conn)
{
    struct cs_s3_req *s3 = req->s3;
    size_t b64 = s3->has_checksum ? 4 * ((cs_checksum_len(s3->checksum.alg) + 2) / 3) : 0;
    char room[96];

    if (!s3_meta_alloc(s3)) {
        s3_prepare_error(req, 500, "InternalError", "out of memory");
        return false;
    }
    s3->meta_len = 0;
    s3->etag_at = 1 + 4 + 2;
    if (!s3_meta_add(s3->meta, &s3->meta_len, CS_OBJECT_META_MAX, "etag", ETAG_PLACEHOLDER, 32))
        return false;
    if (s3->has_checksum && b64 < sizeof room) {
        memset(room, 'A', b64);
        s3->checksum_at = s3->meta_len + 1 + strlen(s3->checksum_name) + 2;
        if (!s3_meta_add(s3->meta, &s3->meta_len, CS_OBJECT_META_MAX, s3->checksum_name, room, b64))
            return false;
    }
    return s3_meta_from_headers(req, conn);
}

bool s3_meta_from_headers(struct cs_request *req, struct MHD_Connection *conn)
{
    struct meta_walk w = {.s3 = req->s3};

    if (!s3_meta_alloc(req->s3)) {
        s3_prepare_error(req, 500, "InternalError", "out of memory");
        return false;
    }
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header_field, &w);
    if (w.failed) {
        s3_prepare_error(req, 400, w.why, "x-amz-meta-* headers are over %d bytes", USER_META_MAX);
        return false;
    }
    return true;
}

static bool parse_content_md5(struct cs_request *req, struct MHD_Connection *conn)
{
    struct cs_s3_req *s3 = req->s3;
    const char *v = s3_header(conn, "Content-MD5");
    uint8_t raw[32];
    size_t n = 0;

    if (!v)
        return true;
    if (!cs_base64_decode(v, strlen(v), raw, sizeof raw, &n) || n != 16) {
        s3_prepare_error(req, 400, "InvalidDigest", "Content-MD5 is not the base64 of 16 bytes");
        return false;
    }
    memcpy(s3->content_md5, raw, 16);
    s3->has_content_md5 = true;
    return true;
}

static enum cs_status collect_decoded(void *ctx, const void *data, size_t len)
{
    struct cs_s3_req *s3 = ctx;

    if (s3->decoded_len + len > s3->decoded_cap)
        return CS_ERR_TOO_LARGE; /* cannot be: a slice decodes to fewer bytes */
    memcpy(s3->decoded + s3->decoded_len, data, len);
    s3->decoded_len += len;
    return CS_OK;
}

/* aws-chunked: the body carries its own framing; the object is the
 * decoded payload, whose length x-amz-decoded-content-length gives. */
static bool setup_streaming(struct cs_request *req, struct MHD_Connection *conn,
                            struct cs_put_options *opt)
{
    struct cs_s3_req *s3 = req->s3;
    const char *dl = s3_header(conn, "x-amz-decoded-content-length");
    struct cs_s3_chunked_config cc = {.mode = s3->auth.payload,
                                      .auth = &s3->auth,
                                      .trailer = s3_header(conn, "x-amz-trailer"),
                                      .decoded_length = -1,
                                      .sink = collect_decoded,
                                      .sink_ctx = s3};
    char *end = NULL;
    unsigned long long n;
    enum cs_s3_err e = CS_S3_OK;

    if (!dl) {
        s3_prepare_error(req, 411, "MissingContentLength",
                         "an aws-chunked body needs x-amz-decoded-content-length");
        return false;
    }
    n = strtoull(dl, &end, 10);
    if (end == dl || *end || dl[0] == '-' || n > INT64_MAX) {
        s3_prepare_error(req, 400, "InvalidArgument",
                         "x-amz-decoded-content-length is not a number");
        return false;
    }
    cc.decoded_length = (int64_t)n;
    s3->chunked = cs_s3_chunked_new(&cc, &e);
    if (!s3->chunked) {
        s3_prepare_error(req, (unsigned)cs_s3_err_http_status(e), cs_s3_err_code(e), "%s",
                         cs_s3_err_message(e));
        return false;
    }
    opt->size_hint = n;
    return true;
}

bool s3_put_options(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                    struct cs_put_options *opt, unsigned char expect_sha256[32])
{
    struct cs_s3_req *s3 = req->s3;
    const char *ct = s3_header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);

    (void)srv;
    if (!s3->storing) { /* once: a begin that waited runs again in a worker */
        s3->md5 = EVP_MD_CTX_new();
        if (!s3->md5 || EVP_DigestInit_ex(s3->md5, EVP_md5(), NULL) != 1) {
            s3_prepare_error(req, 500, "InternalError", "cannot start MD5");
            return false;
        }
        s3->storing = true;
        if (!parse_content_md5(req, conn) || !setup_checksum(req, conn) || !build_meta(req, conn))
            return false;
        if (s3->auth.payload != CS_S3_PAYLOAD_UNSIGNED &&
            s3->auth.payload != CS_S3_PAYLOAD_SHA256 && !setup_streaming(req, conn, opt))
            return false;
        s3->size_hint = opt->size_hint;
    }
    opt->size_hint = s3->size_hint;
    if (ct && strlen(ct) <= CS_CONTENT_TYPE_MAX)
        opt->content_type = ct; /* S3 gives back what was sent */
    opt->meta = s3->meta;
    opt->meta_len = s3->meta_len;
    if (s3->auth.payload == CS_S3_PAYLOAD_SHA256) {
        memcpy(expect_sha256, s3->auth.payload_sha256, 32);
        opt->expect_sha256 = expect_sha256;
    }
    return true;
}

static void digest_bytes(struct cs_s3_req *s3, const void *data, size_t len)
{
    if (len == 0)
        return;
    EVP_DigestUpdate(s3->md5, data, len);
    if (s3->has_checksum)
        cs_checksum_update(&s3->checksum, data, len);
}

static void fail_body(struct cs_server *srv, struct cs_request *req)
{
    enum cs_s3_err e = cs_s3_chunked_error(req->s3->chunked);

    http_put_drop(srv, req);
    s3_prepare_error(req, (unsigned)cs_s3_err_http_status(e), cs_s3_err_code(e),
                     "aws-chunked body refused: %s", cs_s3_err_message(e));
}

bool s3_body_data(struct cs_server *srv, struct cs_request *req, const char *data, size_t len)
{
    struct cs_s3_req *s3 = req->s3;
    if (!s3->chunked) {
        digest_bytes(s3, data, len);
        return http_continue_put(srv, req, data, len, CS_NOWAIT, req->method, req->url);
    }
    /* One call decodes into one buffer, handed over whole: a put_write
     * that waits for quota must see no further bytes before its flush. */
    if (len > s3->decoded_cap) {
        char *grown = realloc(s3->decoded, len);
        if (!grown) {
            http_put_drop(srv, req);
            s3_prepare_error(req, 500, "InternalError", "out of memory");
            return true;
        }
        s3->decoded = grown;
        s3->decoded_cap = len;
    }
    s3->decoded_len = 0;
    if (cs_s3_chunked_feed(s3->chunked, data, len) != CS_OK) {
        fail_body(srv, req);
        return true;
    }
    digest_bytes(s3, s3->decoded, s3->decoded_len);
    return http_continue_put(srv, req, s3->decoded, s3->decoded_len, CS_NOWAIT, req->method,
                             req->url);
}

static bool check_checksum(struct cs_request *req, const char *got)
{
    struct cs_s3_req *s3 = req->s3;
    const char *want = s3->checksum_want;

    if (s3->chunked && !want[0]) {
        enum cs_checksum_alg alg;
        want = cs_s3_chunked_checksum(s3->chunked, &alg);
        if (want && alg != s3->checksum.alg)
            want = NULL;
    }
    if (!want || !want[0]) {
        s3_prepare_error(req, 400, "InvalidRequest", "%s was announced but not sent",
                         s3->checksum_name);
        return false;
    }
    if (strcmp(want, got) != 0) {
        s3_prepare_error(req, 400, "BadDigest",
                         "the %s you specified did not match the calculated checksum",
                         s3->checksum_name);
        return false;
    }
    return true;
}

bool s3_body_end(struct cs_server *srv, struct cs_request *req)
{
    struct cs_s3_req *s3 = req->s3;
    uint8_t md5[16];
    unsigned md5_len = 0;
    char hex[33], got[CS_CHECKSUM_B64_MAX + 1];
    enum cs_status st;

    if (s3->chunked && cs_s3_chunked_finish(s3->chunked) != CS_OK) {
        fail_body(srv, req);
        return false;
    }
    if (EVP_DigestFinal_ex(s3->md5, md5, &md5_len) != 1 || md5_len != 16) {
        http_put_drop(srv, req);
        s3_prepare_error(req, 500, "InternalError", "MD5 failed");
        return false;
    }
    if (s3->has_content_md5 && memcmp(md5, s3->content_md5, 16) != 0) {
        http_put_drop(srv, req);
        s3_prepare_error(req, 400, "BadDigest",
                         "the Content-MD5 you specified did not match what was received");
        return false;
    }
    if (s3->has_checksum) {
        cs_checksum_final_base64(&s3->checksum, got);
        if (!check_checksum(req, got)) {
            http_put_drop(srv, req);
            return false;
        }
        /* into the room build_meta left: exactly the base64 length */
        if (strlen(got) != 4 * ((cs_checksum_len(s3->checksum.alg) + 2) / 3)) {
            http_put_drop(srv, req);
            s3_prepare_error(req, 500, "InternalError", "checksum of an unexpected length");
            return false;
        }
        memcpy(s3->meta + s3->checksum_at, got, strlen(got));
    }
    cs_hex_encode(md5, 16, hex);
    memcpy(s3->meta + s3->etag_at, hex, 32);
    memcpy(s3->body_md5, md5, 16);
    st = srv->backend->ops->put_meta(req->upload, s3->meta, s3->meta_len);
    if (st != CS_OK) {
        http_put_drop(srv, req);
        s3_prepare_error(req, 500, "InternalError", "cannot record the object's metadata");
        return false;
    }
    return true;
}

void s3_body_free(struct cs_s3_req *s3)
{
    EVP_MD_CTX_free(s3->md5);
    s3->md5 = NULL;
    cs_s3_chunked_free(s3->chunked);
    s3->chunked = NULL;
    free(s3->decoded);
    s3->decoded = NULL;
}
