/* The S3 front end's SigV4 verifier: AWS's published examples (S3 API
 * reference: GET Object, PUT Object, the presigned URL and the seed of the
 * aws-chunked upload), requests botocore signed offline
 * (s3_sigv4_vectors.h), tampering, clock skew, expiry, unknown keys, the
 * signing-key cache and hostile input. */
#include "autoconfig.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "server/s3_sigv4.h"
#include "tests/unit/check_main.h"
#include "tests/unit/s3_sigv4_vectors.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define T20130524 1369353600L /* 2013-05-24T00:00:00Z */
#define MAXH 16
#define MAXQ 80

/* A request under test: copies that the tests may tamper with. */
struct req {
    char method[16], path[512];
    char qbuf[MAXQ][2][256];
    struct cs_s3_kv query[MAXQ];
    size_t nquery;
    char hbuf[MAXH][2][1024];
    struct cs_s3_kv headers[MAXH];
    size_t nheaders;
    time_t now;
};

static void add_header(struct req *r, const char *name, const char *value)
{
    ck_assert_uint_lt(r->nheaders, MAXH);
    snprintf(r->hbuf[r->nheaders][0], sizeof r->hbuf[0][0], "%s", name);
    snprintf(r->hbuf[r->nheaders][1], sizeof r->hbuf[0][1], "%s", value);
    r->nheaders++;
}

/* query is a raw "a=1&b" as on the wire */
static void set_query(struct req *r, const char *query)
{
    char copy[4096], *save = NULL;

    snprintf(copy, sizeof copy, "%s", query);
    r->nquery = 0;
    for (char *p = strtok_r(copy, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
        ck_assert_uint_lt(r->nquery, MAXQ);
        char *eq = strchr(p, '=');
        if (eq)
            *eq = '\0';
        snprintf(r->qbuf[r->nquery][0], 256, "%s", p);
        snprintf(r->qbuf[r->nquery][1], 256, "%s", eq ? eq + 1 : "");
        r->query[r->nquery].value = eq ? r->qbuf[r->nquery][1] : NULL;
        r->nquery++;
    }
}

static struct cs_s3_sigreq view(struct req *r)
{
    for (size_t i = 0; i < r->nquery; i++)
        r->query[i].name = r->qbuf[i][0];
    for (size_t i = 0; i < r->nheaders; i++)
        r->headers[i] = (struct cs_s3_kv){r->hbuf[i][0], r->hbuf[i][1]};
    return (struct cs_s3_sigreq){r->method,  r->path,     r->query, r->nquery,
                                 r->headers, r->nheaders, r->now};
}

/* Secrets: the AWS examples' key, and whatever a test puts in extra. */
static const char *extra_ak, *extra_sk;

static const char *secret_of(void *ctx, const char *ak)
{
    (void)ctx;
    if (strcmp(ak, AK) == 0)
        return SK;
    if (extra_ak && strcmp(ak, extra_ak) == 0)
        return extra_sk;
    return NULL;
}

static enum cs_s3_err check(struct req *r, struct cs_s3_auth *out)
{
    struct cs_s3_sigreq s = view(r);
    return cs_s3_sigv4_verify(&s, secret_of, NULL, NULL, out);
}

/* S3 API reference, "GET Object": the first 10 bytes of test.txt. */
static void get_object(struct req *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->method, "GET");
    strcpy(r->path, "/test.txt");
    add_header(r, "Host", "examplebucket.s3.amazonaws.com");
    add_header(r, "Range", "bytes=0-9");
    add_header(r, "x-amz-content-sha256", EMPTY_SHA256);
    add_header(r, "x-amz-date", "20130524T000000Z");
    add_header(r, "Authorization",
               "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
               "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    r->now = T20130524 + 60;
}

START_TEST(aws_get_object)
{
    struct req r;
    struct cs_s3_auth a;

    get_object(&r);
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    ck_assert(!a.anonymous && !a.presigned);
    ck_assert_str_eq(a.access_key, AK);
    ck_assert_str_eq(a.region, "us-east-1");
    ck_assert_str_eq(a.scope, "20130524/us-east-1/s3/aws4_request");
    ck_assert_str_eq(a.amz_date, "20130524T000000Z");
    ck_assert_str_eq(a.seed_signature,
                     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    ck_assert_int_eq(a.payload, CS_S3_PAYLOAD_SHA256);
    ck_assert_int_eq(a.payload_sha256[0], 0xe3);
    ck_assert_int_eq(a.payload_sha256[31], 0x55);
}
END_TEST

/* S3 API reference, "PUT Object": a signed Date header as well. */
START_TEST(aws_put_object)
{
    struct req r = {0};
    struct cs_s3_auth a;

    strcpy(r.method, "PUT");
    strcpy(r.path, "/test%24file.text");
    add_header(&r, "Host", "examplebucket.s3.amazonaws.com");
    add_header(&r, "Date", "Fri, 24 May 2013 00:00:00 GMT");
    add_header(&r, "x-amz-date", "20130524T000000Z");
    add_header(&r, "x-amz-storage-class", "REDUCED_REDUNDANCY");
    add_header(&r, "x-amz-content-sha256",
               "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    add_header(&r, "Authorization",
               "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
               "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    r.now = T20130524;
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    ck_assert_int_eq(a.payload, CS_S3_PAYLOAD_SHA256);
    /* '$' sent raw must canonicalise as %24 too */
    strcpy(r.path, "/test$file.text");
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    strcpy(r.path, "/test%24file.text%");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_INVALID_URI);
}
END_TEST

/* S3 API reference: GET Bucket Lifecycle (a bare "?lifecycle") and GET
 * Bucket (List Objects, two parameters in sorted order). */
static void bucket_get(struct req *r, const char *query, const char *sig)
{
    char auth[512];

    memset(r, 0, sizeof *r);
    strcpy(r->method, "GET");
    strcpy(r->path, "/");
    set_query(r, query);
    add_header(r, "Host", "examplebucket.s3.amazonaws.com");
    add_header(r, "x-amz-date", "20130524T000000Z");
    add_header(r, "x-amz-content-sha256", EMPTY_SHA256);
    snprintf(auth, sizeof auth,
             "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
             "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=%s",
             sig);
    add_header(r, "Authorization", auth);
    r->now = T20130524;
}

START_TEST(aws_bucket_examples)
{
    struct req r;
    struct cs_s3_auth a;

    bucket_get(&r, "lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    bucket_get(&r,
               "lifecycle=", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    ck_assert_int_eq(check(&r, &a), CS_S3_OK); /* "?lifecycle" and "?lifecycle=" sign alike */
    bucket_get(&r, "max-keys=2&prefix=J",
               "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    bucket_get(&r, "prefix=J&max-keys=2", /* received in another order */
               "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    bucket_get(&r, "max-keys=2&prefix=K",
               "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGNATURE);
}
END_TEST

static void presigned(struct req *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->method, "GET");
    strcpy(r->path, "/test.txt");
    set_query(r, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AK
                 "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                 "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
                 "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    add_header(r, "Host", "examplebucket.s3.amazonaws.com");
    r->now = T20130524 + 3600;
}

START_TEST(aws_presigned)
{
    struct req r;
    struct cs_s3_auth a;

    presigned(&r);
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    ck_assert(a.presigned);
    ck_assert_int_eq(a.payload, CS_S3_PAYLOAD_UNSIGNED);
    r.now = T20130524 + 86400;
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    r.now = T20130524 + 86401;
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_EXPIRED);
    ck_assert_str_eq(cs_s3_err_code(CS_S3_ERR_EXPIRED), "AccessDenied");
    ck_assert_str_eq(cs_s3_err_message(CS_S3_ERR_EXPIRED), "Request has expired");
    r.now = T20130524 - 901;
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SKEWED);
    /* parameter order on the wire does not matter */
    presigned(&r);
    struct cs_s3_kv t = r.query[0];
    char n0[256], v0[256];
    memcpy(n0, r.qbuf[0][0], 256);
    memcpy(v0, r.qbuf[0][1], 256);
    memcpy(r.qbuf[0], r.qbuf[5], sizeof r.qbuf[0]);
    memcpy(r.qbuf[5][0], n0, 256);
    memcpy(r.qbuf[5][1], v0, 256);
    r.query[0].value = r.qbuf[0][1];
    r.query[5].value = r.qbuf[5][1];
    (void)t;
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    /* an unsigned extra parameter breaks it */
    presigned(&r);
    snprintf(r.qbuf[r.nquery][0], 256, "x-id");
    snprintf(r.qbuf[r.nquery][1], 256, "GetObject");
    r.query[r.nquery].value = r.qbuf[r.nquery][1];
    r.nquery++;
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGNATURE);
    /* expiry over a week */
    presigned(&r);
    strcpy(r.qbuf[3][1], "604801");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_QUERY_MALFORMED);
    strcpy(r.qbuf[3][1], "-1");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_QUERY_MALFORMED);
    /* both mechanisms at once */
    presigned(&r);
    add_header(&r, "Authorization", "AWS4-HMAC-SHA256 Credential=x");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_TWO_MECHANISMS);
    /* a parameter twice */
    presigned(&r);
    strcpy(r.qbuf[1][0], "X-Amz-Date");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_QUERY_MALFORMED);
}
END_TEST

/* S3 API reference, aws-chunked upload example: the seed request. */
static void chunked_seed(struct req *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->method, "PUT");
    strcpy(r->path, "/examplebucket/chunkObject.txt");
    add_header(r, "Host", "s3.amazonaws.com");
    add_header(r, "x-amz-date", "20130524T000000Z");
    add_header(r, "x-amz-storage-class", "REDUCED_REDUNDANCY");
    add_header(r, "Authorization",
               "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;"
               "x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
               "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    add_header(r, "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    add_header(r, "Content-Encoding", "aws-chunked");
    add_header(r, "x-amz-decoded-content-length", "66560");
    add_header(r, "Content-Length", "66824");
    r->now = T20130524;
}

START_TEST(aws_chunked_seed)
{
    struct req r;
    struct cs_s3_auth a;

    chunked_seed(&r);
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    ck_assert_int_eq(a.payload, CS_S3_PAYLOAD_STREAMING_SIGNED);
    ck_assert_str_eq(a.seed_signature,
                     "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    /* the signing key, as AWS's example derives it */
    uint8_t k[32];
    char hex[65];
    ck_assert_int_eq(cs_sigv4_signing_key(SK, "20130524", "us-east-1", "s3", k), CS_OK);
    ck_assert_mem_eq(k, a.signing_key, 32);
    cs_hex_encode(k, 32, hex);
    /* and the first chunk's signature from it (65536 bytes of 'a') */
    char *data = malloc(65536);
    ck_assert_ptr_nonnull(data);
    memset(data, 'a', 65536);
    uint8_t d[32];
    char tail[130];
    const void *parts[] = {data};
    size_t lens[] = {65536};
    cs_sha256_parts(parts, lens, 1, d);
    memcpy(tail, EMPTY_SHA256 "\n", 65);
    cs_hex_encode(d, 32, tail + 65);
    cs_sigv4_chained_signature(k, "AWS4-HMAC-SHA256-PAYLOAD", a.amz_date, a.scope, a.seed_signature,
                               tail, hex);
    ck_assert_str_eq(hex, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
    free(data);
}
END_TEST

/* The signed-trailer variant of the same example: its seed request. */
START_TEST(aws_chunked_trailer_seed)
{
    struct req r = {0};
    struct cs_s3_auth a;

    strcpy(r.method, "PUT");
    strcpy(r.path, "/examplebucket/chunkObject.txt");
    add_header(&r, "Host", "s3.amazonaws.com");
    add_header(&r, "x-amz-date", "20130524T000000Z");
    add_header(&r, "x-amz-storage-class", "REDUCED_REDUNDANCY");
    add_header(&r, "Authorization",
               "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;"
               "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,"
               "Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e");
    add_header(&r, "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER");
    add_header(&r, "Content-Encoding", "aws-chunked");
    add_header(&r, "x-amz-decoded-content-length", "66560");
    add_header(&r, "x-amz-trailer", "x-amz-checksum-crc32c");
    r.now = T20130524;
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    ck_assert_int_eq(a.payload, CS_S3_PAYLOAD_STREAMING_SIGNED_TRAILER);
}
END_TEST

/* Every byte of the path, the signed header values, the query and the
 * signature matters. */
START_TEST(tampering)
{
    struct req r;
    struct cs_s3_auth a;
    static const char alt[] = "xX1%/._~ ";

    get_object(&r);
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    for (size_t i = 0; r.path[i]; i++) {
        for (const char *c = alt; *c; c++) {
            get_object(&r);
            if (r.path[i] == *c)
                continue;
            r.path[i] = *c;
            ck_assert_int_ne(check(&r, &a), CS_S3_OK);
        }
    }
    for (size_t h = 0; h < 4; h++) { /* host, range, content-sha256, date */
        get_object(&r);
        size_t n = strlen(r.hbuf[h][1]);
        for (size_t i = 0; i < n; i++) {
            get_object(&r);
            r.hbuf[h][1][i] ^= 1;
            ck_assert_msg(check(&r, &a) != CS_S3_OK, "header %zu byte %zu", h, i);
        }
    }
    /* the signature's hex, one digit at a time */
    get_object(&r);
    char *sig = strstr(r.hbuf[4][1], "Signature=") + 10;
    for (size_t i = 0; i < 64; i++) {
        get_object(&r);
        sig = strstr(r.hbuf[4][1], "Signature=") + 10;
        sig[i] = sig[i] == '0' ? '1' : '0';
        ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGNATURE);
    }
    /* a query added, a method changed */
    get_object(&r);
    set_query(&r, "versionId=1");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGNATURE);
    get_object(&r);
    set_query(&r, "acl");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGNATURE);
    get_object(&r);
    strcpy(r.method, "HEAD");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGNATURE);
    /* presigned: every byte of every parameter value */
    presigned(&r);
    for (size_t q = 0; q < r.nquery; q++) {
        size_t n = strlen(r.qbuf[q][1]);
        for (size_t i = 0; i < n; i++) {
            presigned(&r);
            r.qbuf[q][1][i] ^= 1;
            ck_assert_msg(check(&r, &a) != CS_S3_OK, "param %zu byte %zu", q, i);
        }
    }
    /* whitespace is not signed: padding a value changes nothing */
    get_object(&r);
    strcpy(r.hbuf[1][1], "   bytes=0-9  ");
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
}
END_TEST

START_TEST(clock_skew)
{
    struct req r;
    struct cs_s3_auth a;

    get_object(&r);
    r.now = T20130524 + 900;
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    r.now = T20130524 - 900;
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    r.now = T20130524 + 901;
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SKEWED);
    r.now = T20130524 - 901;
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SKEWED);
    ck_assert_str_eq(cs_s3_err_code(CS_S3_ERR_SKEWED), "RequestTimeTooSkewed");
    ck_assert_int_eq(cs_s3_err_http_status(CS_S3_ERR_SKEWED), 403);
    /* no date at all */
    get_object(&r);
    strcpy(r.hbuf[3][0], "x-amz-dat");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_NO_DATE);
    /* the credential's day must be the request's */
    get_object(&r);
    strcpy(r.hbuf[3][1], "20130525T000000Z");
    r.now = T20130524 + 86400;
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_HEADER_MALFORMED);
}
END_TEST

START_TEST(keys)
{
    struct req r;
    struct cs_s3_auth a;

    get_object(&r);
    char *c = strstr(r.hbuf[4][1], AK);
    c[0] = 'B';
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_INVALID_ACCESS_KEY);
    ck_assert_str_eq(cs_s3_err_code(CS_S3_ERR_INVALID_ACCESS_KEY), "InvalidAccessKeyId");
    /* a known key with another secret */
    extra_ak = "BKIAIOSFODNN7EXAMPLE";
    extra_sk = "not the secret";
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGNATURE);
    extra_sk = SK;
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    extra_ak = extra_sk = NULL;
}
END_TEST

static const char *rotating_secret(void *ctx, const char *ak)
{
    (void)ak;
    return *(const char **)ctx;
}

START_TEST(key_cache)
{
    struct cs_s3_keycache *cache = cs_s3_keycache_new();
    struct req r;
    struct cs_s3_auth a;
    const char *secret = SK;

    ck_assert_ptr_nonnull(cache);
    get_object(&r);
    struct cs_s3_sigreq s = view(&r);
    unsigned long n0 = cs_sigv4_key_derivations();
    ck_assert_int_eq(cs_s3_sigv4_verify(&s, rotating_secret, &secret, cache, &a), CS_S3_OK);
    ck_assert_uint_eq(cs_sigv4_key_derivations(), n0 + 1);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(cs_s3_sigv4_verify(&s, rotating_secret, &secret, cache, &a), CS_S3_OK);
    ck_assert_uint_eq(cs_sigv4_key_derivations(), n0 + 1); /* hits: no HMAC chain */
    /* a rotated secret never meets the old key */
    secret = "rotated";
    ck_assert_int_eq(cs_s3_sigv4_verify(&s, rotating_secret, &secret, cache, &a),
                     CS_S3_ERR_SIGNATURE);
    ck_assert_uint_eq(cs_sigv4_key_derivations(), n0 + 2);
    secret = SK;
    ck_assert_int_eq(cs_s3_sigv4_verify(&s, rotating_secret, &secret, cache, &a), CS_S3_OK);
    ck_assert_uint_eq(cs_sigv4_key_derivations(), n0 + 2); /* both are cached */
    /* bounded: after 2 * CS_S3_KEYCACHE_SIZE other keys, the first one was
     * replaced (derived again) and still verifies */
    for (int i = 0; i < 2 * CS_S3_KEYCACHE_SIZE; i++) {
        char ak[32], auth[512];
        snprintf(ak, sizeof ak, "K%d", i);
        const struct cs_sigv4_header h[] = {{"host", "h"},
                                            {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
                                            {"x-amz-date", "20130524T000000Z"}};
        struct cs_sigv4_request sr = {
            "GET",       "/",  "", h, 3, "UNSIGNED-PAYLOAD", "20130524T000000Z",
            "us-east-1", "s3", ak, SK};
        ck_assert_int_eq(cs_sigv4_authorization(&sr, auth, sizeof auth), CS_OK);
        struct req o = {0};
        strcpy(o.method, "GET");
        strcpy(o.path, "/");
        add_header(&o, "host", "h");
        add_header(&o, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        add_header(&o, "x-amz-date", "20130524T000000Z");
        add_header(&o, "authorization", auth);
        o.now = T20130524;
        struct cs_s3_sigreq os = view(&o);
        ck_assert_int_eq(cs_s3_sigv4_verify(&os, rotating_secret, &secret, cache, &a), CS_S3_OK);
    }
    unsigned long n1 = cs_sigv4_key_derivations();
    s = view(&r);
    ck_assert_int_eq(cs_s3_sigv4_verify(&s, rotating_secret, &secret, cache, &a), CS_S3_OK);
    ck_assert_uint_eq(cs_sigv4_key_derivations(), n1 + 1);
    cs_s3_keycache_free(cache);
}
END_TEST

/* Threads verifying at once through one cache: all succeed, and the key
 * is derived at most once per thread (a race may derive it twice, never
 * wrongly). */
struct thread_arg {
    struct cs_s3_keycache *cache;
    int failures;
};

static void *verify_loop(void *p)
{
    struct thread_arg *t = p;
    struct req r;
    struct cs_s3_auth a;
    const char *secret = SK;

    get_object(&r);
    struct cs_s3_sigreq s = view(&r);
    for (int i = 0; i < 2000; i++)
        if (cs_s3_sigv4_verify(&s, rotating_secret, &secret, t->cache, &a) != CS_S3_OK)
            t->failures++;
    return NULL;
}

START_TEST(key_cache_threads)
{
    struct cs_s3_keycache *cache = cs_s3_keycache_new();
    pthread_t th[4];
    struct thread_arg args[4];
    unsigned long n0 = cs_sigv4_key_derivations();

    ck_assert_ptr_nonnull(cache);
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){cache, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, verify_loop, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(args[i].failures, 0);
    }
    ck_assert_uint_le(cs_sigv4_key_derivations() - n0, 4);
    cs_s3_keycache_free(cache);
}
END_TEST

/* botocore signed these offline (s3_sigv4_vectors.py): odd keys, secrets,
 * query values, '+' for space on the wire, a key with '/' in it. */
START_TEST(botocore_vectors_verify)
{
    for (size_t v = 0; v < sizeof botocore_vectors / sizeof botocore_vectors[0]; v++) {
        const struct botocore_vector *b = &botocore_vectors[v];
        struct req r = {0};
        struct cs_s3_auth a;
        snprintf(r.method, sizeof r.method, "%s", b->method);
        snprintf(r.path, sizeof r.path, "%s", b->path);
        set_query(&r, b->query);
        for (size_t i = 0; i < 12 && b->headers[i][0]; i++)
            add_header(&r, b->headers[i][0], b->headers[i][1]);
        r.now = b->now;
        extra_ak = b->access_key;
        extra_sk = b->secret;
        ck_assert_msg(check(&r, &a) == CS_S3_OK, "botocore %s vector %s", BOTOCORE_VERSION,
                      b->name);
        ck_assert_str_eq(a.access_key, b->access_key);
        extra_sk = "wrong";
        ck_assert_msg(check(&r, &a) == CS_S3_ERR_SIGNATURE, "%s with a wrong secret", b->name);
        /* one changed byte of the (decoded) path */
        extra_sk = b->secret;
        r.path[strlen(r.path) - 1] ^= 1;
        ck_assert_msg(check(&r, &a) != CS_S3_OK, "%s tampered", b->name);
    }
    extra_ak = extra_sk = NULL;
}
END_TEST

/* Spellings of the Authorization header AWS accepts, and ones it refuses. */
#define CRED AK "/20130524/us-east-1/s3/aws4_request"
#define SH "host;range;x-amz-content-sha256;x-amz-date"
#define SIG "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"

static void set_auth(struct req *r, const char *cred, const char *sh, const char *sig)
{
    snprintf(r->hbuf[4][1], sizeof r->hbuf[4][1],
             "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s", cred, sh, sig);
}

START_TEST(authorization_forms)
{
    static const char *const good[] = {
        "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=" SH ", Signature=" SIG,
        "AWS4-HMAC-SHA256   Credential=" CRED " ,SignedHeaders=" SH " ,  Signature=" SIG,
        "AWS4-HMAC-SHA256 Signature=" SIG ", Credential=" CRED ", SignedHeaders=" SH,
        "AWS4-HMAC-SHA256\tCredential=" CRED ",SignedHeaders=" SH ",Signature=" SIG ",",
    };
    static const char *const bad[] = {
        "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=" SH,
        "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=" SH ", Signature=" SIG
        ", Signature=" SIG,
        "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=" SH ", Signature=" SIG ", X=1",
        "AWS4-HMAC-SHA256Credential=" CRED ", SignedHeaders=" SH ", Signature=" SIG,
        "AWS4-HMAC-SHA256 Credential=" CRED "; SignedHeaders=" SH "; Signature=" SIG,
        "AWS4-HMAC-SHA256 credential=" CRED ", SignedHeaders=" SH ", Signature=" SIG,
        "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=" SH ", Signature=" SIG "0",
    };
    struct req r;
    struct cs_s3_auth a;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        get_object(&r);
        snprintf(r.hbuf[4][1], sizeof r.hbuf[4][1], "%s", good[i]);
        ck_assert_msg(check(&r, &a) == CS_S3_OK, "good form %zu", i);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        get_object(&r);
        snprintf(r.hbuf[4][1], sizeof r.hbuf[4][1], "%s", bad[i]);
        enum cs_s3_err e = check(&r, &a);
        ck_assert_msg(e == CS_S3_ERR_HEADER_MALFORMED || e == CS_S3_ERR_UNSUPPORTED_AUTH,
                      "bad form %zu gave %d", i, e);
    }
    /* the scope: service, terminator, date, region characters, empty parts */
    static const char *const creds[] = {
        AK "/20130524/us-east-1/s4/aws4_request", AK "/20130524/us-east-1/s3/aws5_request",
        AK "/2013052/us-east-1/s3/aws4_request",  AK "/20130524/us east/s3/aws4_request",
        "/20130524/us-east-1/s3/aws4_request",    AK "/20130524//s3/aws4_request",
        "20130524/us-east-1/s3/aws4_request",     "",
    };
    for (size_t i = 0; i < sizeof creds / sizeof creds[0]; i++) {
        get_object(&r);
        set_auth(&r, creds[i], SH, SIG);
        ck_assert_msg(check(&r, &a) == CS_S3_ERR_HEADER_MALFORMED, "credential %zu", i);
    }
    /* any region is accepted (it is signed: the signature fails, not the parse) */
    get_object(&r);
    set_auth(&r, AK "/20130524/auto/s3/aws4_request", SH, SIG);
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGNATURE);
    /* host must be signed; a signed header must be there */
    get_object(&r);
    set_auth(&r, CRED, "range;x-amz-content-sha256;x-amz-date", SIG);
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_HEADER_MALFORMED);
    get_object(&r);
    strcpy(r.hbuf[1][0], "Ranges");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_HEADER_MALFORMED);
    /* the payload header is required, and must be one of the known forms */
    get_object(&r);
    strcpy(r.hbuf[2][0], "x-amz-content-sha255");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_MISSING_CONTENT_SHA);
    get_object(&r);
    strcpy(r.hbuf[2][1], "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_BAD_CONTENT_SHA);
    /* two Authorization headers */
    get_object(&r);
    add_header(&r, "authorization", r.hbuf[4][1]);
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_HEADER_MALFORMED);
}
END_TEST

/* Duplicate headers are signed as one, values joined with ','. */
START_TEST(duplicate_headers)
{
    const struct cs_sigv4_header h[] = {{"host", "h"},
                                        {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
                                        {"x-amz-date", "20130524T000000Z"},
                                        {"x-amz-meta-d", "a,b c"}};
    struct cs_sigv4_request s = {
        "GET", "/k", "", h, 4, "UNSIGNED-PAYLOAD", "20130524T000000Z", "us-east-1", "s3", AK, SK};
    char auth[512];
    struct req r = {0};
    struct cs_s3_auth a;

    ck_assert_int_eq(cs_sigv4_authorization(&s, auth, sizeof auth), CS_OK);
    strcpy(r.method, "GET");
    strcpy(r.path, "/k");
    add_header(&r, "Host", "h");
    add_header(&r, "X-Amz-Meta-D", "  a ");
    add_header(&r, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    add_header(&r, "x-amz-date", "20130524T000000Z");
    add_header(&r, "x-amz-meta-d", " b    c");
    add_header(&r, "Authorization", auth);
    r.now = T20130524;
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    ck_assert_int_eq(a.payload, CS_S3_PAYLOAD_UNSIGNED);
    strcpy(r.hbuf[4][1], "c b");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGNATURE);
}
END_TEST

START_TEST(other_schemes)
{
    struct req r = {0};
    struct cs_s3_auth a;

    strcpy(r.method, "GET");
    strcpy(r.path, "/b/k");
    add_header(&r, "Host", "h");
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    ck_assert(a.anonymous);
    ck_assert_int_eq(a.payload, CS_S3_PAYLOAD_UNSIGNED);
    add_header(&r, "x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    ck_assert_int_eq(check(&r, &a), CS_S3_OK);
    ck_assert_int_eq(a.payload, CS_S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER);
    strcpy(r.hbuf[1][1], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"); /* no seed without auth */
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_BAD_CONTENT_SHA);
    r.nheaders = 1;
    add_header(&r, "Authorization", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=");
    struct cs_s3_sigreq s = view(&r);
    ck_assert_int_eq(cs_s3_auth_kind(&s), CS_S3_AUTH_V2);
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGV2);
    ck_assert_str_eq(cs_s3_err_code(CS_S3_ERR_SIGV2), "AccessDenied");
    ck_assert_int_eq(cs_s3_err_http_status(CS_S3_ERR_SIGV2), 403);
    ck_assert_ptr_nonnull(strstr(cs_s3_err_message(CS_S3_ERR_SIGV2), "sccache 0.4"));
    strcpy(r.hbuf[1][1], "Basic YWxpY2U6cHc=");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_UNSUPPORTED_AUTH);
    r.nheaders = 1;
    set_query(&r, "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=x%3D");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_SIGV2);
    set_query(&r, "X-Amz-Signature=00");
    s = view(&r);
    ck_assert_int_eq(cs_s3_auth_kind(&s), CS_S3_AUTH_V4_QUERY);
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_QUERY_MALFORMED);
}
END_TEST

START_TEST(hostile)
{
    struct req r;
    struct cs_s3_auth a;
    static const char *const junk[] = {
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 ,,,,,",
        "AWS4-HMAC-SHA256 Credential=",
        "AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;;, Signature=",
        "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g, SignedHeaders=host, Signature=zz",
        "AWS4-HMAC-SHA256 =, ==, ===",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;;range, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd"
        "91039c6036bdb41",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;host, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd"
        "91039c6036bdb41",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        get_object(&r);
        strcpy(r.hbuf[4][1], junk[i]);
        ck_assert_msg(check(&r, &a) != CS_S3_OK, "junk %zu", i);
    }
    /* an Authorization value over the bound */
    static char big[CS_S3_HEADER_VALUE_MAX + 64];
    struct cs_s3_kv hv[5];
    get_object(&r);
    struct cs_s3_sigreq s = view(&r);
    memcpy(hv, s.headers, sizeof hv);
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "AWS4-HMAC-SHA256 Credential=", 28);
    hv[4].value = big;
    s.headers = hv;
    ck_assert_int_eq(cs_s3_sigv4_verify(&s, secret_of, NULL, NULL, &a), CS_S3_ERR_HEADER_MALFORMED);
    /* 65 signed headers, and a signed header value over the bound */
    char many[65 * 8 + 64] = "host";
    for (int i = 0; i < 64; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), ";h%d", i);
    get_object(&r);
    snprintf(big, sizeof big,
             "AWS4-HMAC-SHA256 Credential=%s/20130524/us-east-1/s3/aws4_request, "
             "SignedHeaders=%s, Signature=%064d",
             AK, many, 0);
    s = view(&r);
    memcpy(hv, s.headers, sizeof hv);
    hv[4].value = big;
    s.headers = hv;
    ck_assert_int_eq(cs_s3_sigv4_verify(&s, secret_of, NULL, NULL, &a), CS_S3_ERR_HEADER_MALFORMED);
    get_object(&r);
    s = view(&r);
    memcpy(hv, s.headers, sizeof hv);
    memset(big, 'r', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hv[1].value = big; /* range */
    s.headers = hv;
    ck_assert_int_eq(cs_s3_sigv4_verify(&s, secret_of, NULL, NULL, &a), CS_S3_ERR_TOO_BIG);
    /* 65 query parameters */
    get_object(&r);
    char q[65 * 8] = "";
    for (int i = 0; i < 65; i++)
        snprintf(q + strlen(q), sizeof q - strlen(q), "%sq%d=1", i ? "&" : "", i);
    set_query(&r, q);
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_TOO_BIG);
    /* bad escapes in the query, a path without '/' */
    get_object(&r);
    set_query(&r, "a=%4");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_INVALID_URI);
    get_object(&r);
    strcpy(r.path, "test.txt");
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_INVALID_URI);
    /* an access key over the bound */
    get_object(&r);
    char longak[CS_S3_ACCESS_KEY_MAX + 2];
    memset(longak, 'K', sizeof longak - 1);
    longak[sizeof longak - 1] = '\0';
    snprintf(r.hbuf[4][1], sizeof r.hbuf[4][1],
             "AWS4-HMAC-SHA256 Credential=%s/20130524/us-east-1/s3/aws4_request, "
             "SignedHeaders=host, Signature=%064d",
             longak, 0);
    ck_assert_int_eq(check(&r, &a), CS_S3_ERR_HEADER_MALFORMED);
}
END_TEST

START_TEST(error_table)
{
    for (int e = CS_S3_OK + 1; e <= CS_S3_ERR_INTERNAL; e++) {
        const char *code = cs_s3_err_code((enum cs_s3_err)e);
        int st = cs_s3_err_http_status((enum cs_s3_err)e);
        ck_assert(strlen(code) > 0 && strlen(cs_s3_err_message((enum cs_s3_err)e)) > 0);
        ck_assert(st == 400 || st == 403 || st == 500);
        if (strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "AccessDenied") == 0 ||
            strcmp(code, "InvalidAccessKeyId") == 0 || strcmp(code, "RequestTimeTooSkewed") == 0)
            ck_assert_int_eq(st, 403);
    }
    ck_assert_str_eq(cs_s3_err_code((enum cs_s3_err)999), "InternalError");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("s3_sigv4");
    TCase *tc = tcase_create("verify");
    tcase_add_test(tc, aws_get_object);
    tcase_add_test(tc, aws_put_object);
    tcase_add_test(tc, aws_bucket_examples);
    tcase_add_test(tc, aws_presigned);
    tcase_add_test(tc, aws_chunked_seed);
    tcase_add_test(tc, aws_chunked_trailer_seed);
    tcase_add_test(tc, tampering);
    tcase_add_test(tc, clock_skew);
    tcase_add_test(tc, keys);
    tcase_add_test(tc, key_cache);
    tcase_add_test(tc, key_cache_threads);
    tcase_add_test(tc, botocore_vectors_verify);
    tcase_add_test(tc, authorization_forms);
    tcase_add_test(tc, duplicate_headers);
    tcase_add_test(tc, other_schemes);
    tcase_add_test(tc, hostile);
    tcase_add_test(tc, error_table);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
