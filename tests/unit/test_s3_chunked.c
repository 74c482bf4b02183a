/* The aws-chunked decoder: AWS's two signed examples (66560 bytes of 'a',
 * without and with a signed trailer) decoded byte-exact whether fed whole,
 * byte by byte or in odd slices; a body botocore framed with a CRC32
 * trailer; each kind of corruption; every trailer checksum algorithm;
 * truncation at every point. */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/s3_chunked.h"
#include "tests/unit/check_main.h"

#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define PAYLOAD_LEN 66560

struct sink {
    char *buf;
    size_t len, cap, calls;
    size_t fail_after; /* 0: never */
};

static enum cs_status collect(void *ctx, const void *data, size_t len)
{
    struct sink *s = ctx;
    s->calls++;
    if (s->fail_after && s->len + len > s->fail_after)
        return CS_ERR_NO_SPACE;
    ck_assert_uint_le(s->len + len, s->cap);
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return CS_OK;
}

static struct cs_s3_auth aws_auth(const char *seed)
{
    struct cs_s3_auth a = {0};
    ck_assert_int_eq(cs_sigv4_signing_key(SK, "20130524", "us-east-1", "s3", a.signing_key), CS_OK);
    strcpy(a.access_key, "AKIAIOSFODNN7EXAMPLE");
    strcpy(a.region, "us-east-1");
    strcpy(a.date8, "20130524");
    strcpy(a.amz_date, "20130524T000000Z");
    strcpy(a.scope, "20130524/us-east-1/s3/aws4_request");
    strcpy(a.seed_signature, seed);
    return a;
}

/* body: the raw aws-chunked bytes; grows as parts are appended, and is kept
 * NUL-terminated (past len) so the tests may strstr() into it */
struct body {
    char *p;
    size_t len;
};

static void put(struct body *b, const void *s, size_t n)
{
    b->p = realloc(b->p, b->len + n + 1);
    ck_assert_ptr_nonnull(b->p);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct body *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_a(struct body *b, size_t n)
{
    char *a = malloc(n);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', n);
    put(b, a, n);
    free(a);
}

/* AWS's chunked upload example (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
static struct body aws_signed_body(void)
{
    struct body b = {0};
    puts_(&b, "10000;chunk-signature="
              "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
    put_a(&b, 65536);
    puts_(&b, "\r\n400;chunk-signature="
              "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
    put_a(&b, 1024);
    puts_(&b, "\r\n0;chunk-signature="
              "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
    return b;
}

/* The same with a signed CRC32C trailer (...-PAYLOAD-TRAILER). */
static struct body aws_trailer_body(void)
{
    struct body b = {0};
    puts_(&b, "10000;chunk-signature="
              "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n");
    put_a(&b, 65536);
    puts_(&b, "\r\n400;chunk-signature="
              "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n");
    put_a(&b, 1024);
    puts_(
        &b,
        "\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n"
        "x-amz-checksum-crc32c:sOO8/Q==\r\n"
        "x-amz-trailer-signature:"
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"
        "\r\n");
    return b;
}

struct run {
    enum cs_s3_payload mode;
    const char *seed, *trailer;
    int64_t decoded_length;
};

/* Feeds body in slices of `step` bytes (0: whole); returns the first
 * failing status (from feed or finish) and the S3 error in *why. */
static enum cs_status decode(const struct run *r, const struct body *b, size_t step, struct sink *s,
                             enum cs_s3_err *why)
{
    struct cs_s3_auth a = aws_auth(r->seed ? r->seed : "");
    struct cs_s3_chunked_config cfg = {r->mode, &a, r->trailer, r->decoded_length, collect, s};
    struct cs_s3_chunked *d = cs_s3_chunked_new(&cfg, why);
    enum cs_status st = CS_OK;

    ck_assert_ptr_nonnull(d);
    s->len = s->calls = 0;
    for (size_t i = 0; i < b->len && st == CS_OK;) {
        size_t n = step == 0 || b->len - i < step ? b->len - i : step;
        st = cs_s3_chunked_feed(d, b->p + i, n);
        i += n;
    }
    if (st == CS_OK)
        st = cs_s3_chunked_finish(d);
    *why = cs_s3_chunked_error(d);
    if (st != CS_OK)
        ck_assert(strlen(cs_s3_chunked_message(d)) > 0);
    else
        ck_assert_uint_eq(cs_s3_chunked_decoded(d), s->len);
    cs_s3_chunked_free(d);
    return st;
}

static void assert_all_a(const struct sink *s)
{
    ck_assert_uint_eq(s->len, PAYLOAD_LEN);
    for (size_t i = 0; i < s->len; i++)
        if (s->buf[i] != 'a')
            ck_abort_msg("byte %zu is %d", i, s->buf[i]);
}

static struct sink new_sink(void)
{
    struct sink s = {malloc(PAYLOAD_LEN + 64), 0, PAYLOAD_LEN + 64, 0, 0};
    ck_assert_ptr_nonnull(s.buf);
    return s;
}

static const struct run signed_run = {
    CS_S3_PAYLOAD_STREAMING_SIGNED,
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", NULL, PAYLOAD_LEN};
static const struct run trailer_run = {
    CS_S3_PAYLOAD_STREAMING_SIGNED_TRAILER,
    "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e", "x-amz-checksum-crc32c",
    PAYLOAD_LEN};

START_TEST(aws_signed_example)
{
    struct body b = aws_signed_body();
    struct sink s = new_sink();
    enum cs_s3_err why;
    static const size_t steps[] = {0, 1, 2, 3, 7, 64, 1000, 8191, 65536, 65537};

    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        ck_assert_msg(decode(&signed_run, &b, steps[i], &s, &why) == CS_OK, "step %zu: %s",
                      steps[i], cs_s3_err_code(why));
        assert_all_a(&s);
    }
    /* payload reached the sink as it streamed, not per chunk: one call per
     * slice of data when fed byte by byte */
    ck_assert_int_eq(decode(&signed_run, &b, 1, &s, &why), CS_OK);
    ck_assert_uint_eq(s.calls, PAYLOAD_LEN);
    /* without x-amz-decoded-content-length */
    struct run r = signed_run;
    r.decoded_length = -1;
    ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_OK);
    free(b.p);
    free(s.buf);
}
END_TEST

START_TEST(aws_signed_trailer_example)
{
    struct body b = aws_trailer_body();
    struct sink s = new_sink();
    enum cs_s3_err why;

    for (size_t step = 0; step < 4; step++) {
        ck_assert_msg(decode(&trailer_run, &b, step, &s, &why) == CS_OK, "step %zu: %s", step,
                      cs_s3_err_code(why));
        assert_all_a(&s);
    }
    /* the trailer signature, and the checksum it covers */
    char *t = strstr(b.p + 66000, "d81f82fc");
    t[0] = 'e';
    ck_assert_int_eq(decode(&trailer_run, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_CHUNK_SIGNATURE);
    t[0] = 'd';
    t = strstr(b.p + 66000, "sOO8");
    t[0] = 'x';
    ck_assert_int_eq(decode(&trailer_run, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_CHUNK_SIGNATURE);
    t[0] = 's';
    free(b.p);
    free(s.buf);
}
END_TEST

/* Corrupting the data, a signature, a size, the framing or the length. */
START_TEST(corruption)
{
    struct body b = aws_signed_body();
    struct sink s = new_sink();
    enum cs_s3_err why;
    size_t first_data = strlen("10000;chunk-signature=") + 64 + 2;

    b.p[first_data + 100] = 'b';
    ck_assert_int_eq(decode(&signed_run, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_CHUNK_SIGNATURE);
    ck_assert_str_eq(cs_s3_err_code(why), "SignatureDoesNotMatch");
    b.p[first_data + 100] = 'a';
    ck_assert_int_eq(decode(&signed_run, &b, 0, &s, &why), CS_OK);
    /* each signature's first hex digit */
    for (char *p = b.p; (p = strstr(p, "signature=")) != NULL; p++) {
        char save = p[10];
        p[10] = save == '0' ? '1' : '0';
        ck_assert_int_eq(decode(&signed_run, &b, 7, &s, &why), CS_ERR_INVALID);
        ck_assert_int_eq(why, CS_S3_ERR_CHUNK_SIGNATURE);
        p[10] = save;
    }
    /* a size one off: framing or signature fails */
    b.p[4] = '1'; /* 10001 */
    ck_assert_int_eq(decode(&signed_run, &b, 0, &s, &why), CS_ERR_INVALID);
    b.p[4] = '0';
    /* the CRLF after data */
    b.p[first_data + 65536] = '\n';
    ck_assert_int_eq(decode(&signed_run, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_BAD_CHUNKED);
    b.p[first_data + 65536] = '\r';
    /* x-amz-decoded-content-length either side */
    struct run r = signed_run;
    r.decoded_length = PAYLOAD_LEN - 1;
    ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_DECODED_LENGTH);
    r.decoded_length = PAYLOAD_LEN + 1;
    ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_DECODED_LENGTH);
    /* another seed: the chain breaks at the first chunk */
    r = signed_run;
    r.seed = "0000000000000000000000000000000000000000000000000000000000000000";
    ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_CHUNK_SIGNATURE);
    /* a chunk without its signature extension */
    struct body u = {0};
    puts_(&u, "5\r\nhello\r\n0\r\n\r\n");
    ck_assert_int_eq(decode(&signed_run, &u, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_BAD_CHUNKED);
    free(u.p);
    /* bytes after the end */
    puts_(&b, "x");
    ck_assert_int_eq(decode(&signed_run, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_BAD_CHUNKED);
    free(b.p);
    free(s.buf);
}
END_TEST

/* Cut anywhere, the body is incomplete, never accepted. */
START_TEST(truncated)
{
    struct body b = aws_signed_body();
    struct sink s = new_sink();
    enum cs_s3_err why;
    size_t full = b.len;

    for (size_t cut = 0; cut < full; cut += (cut < 200 || full - cut < 200) ? 1 : 997) {
        b.len = cut;
        ck_assert_msg(decode(&signed_run, &b, 0, &s, &why) == CS_ERR_INVALID, "cut %zu", cut);
        ck_assert_msg(why == CS_S3_ERR_INCOMPLETE_BODY || why == CS_S3_ERR_DECODED_LENGTH,
                      "cut %zu: %d", cut, why);
    }
    free(b.p);
    free(s.buf);
}
END_TEST

static const struct run unsigned_run = {CS_S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, NULL,
                                        "x-amz-checksum-crc32", -1};

/* botocore 1.29.27's AwsChunkedWrapper framed this (chunk_size=16). */
START_TEST(botocore_unsigned_trailer)
{
    static const char wire[] = "10\r\nHello, World! tw\r\n10\r\nice: Hello, Worl\r\n2\r\nd!\r\n"
                               "0\r\nx-amz-checksum-crc32:hRwYbQ==\r\n\r\n";
    struct body b = {0};
    struct sink s = new_sink();
    enum cs_s3_err why;
    struct run r = unsigned_run;

    puts_(&b, wire);
    r.decoded_length = 34;
    for (size_t step = 0; step < 3; step++)
        ck_assert_int_eq(decode(&r, &b, step, &s, &why), CS_OK);
    ck_assert_uint_eq(s.len, 34);
    ck_assert_mem_eq(s.buf, "Hello, World! twice: Hello, World!", 34);
    /* the wrong checksum: BadDigest naming the algorithm */
    b.p[strstr(b.p, "hRwY") - b.p] = 'H';
    ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_BAD_DIGEST);
    ck_assert_str_eq(cs_s3_err_code(why), "BadDigest");
    {
        struct cs_s3_auth a = {0};
        struct cs_s3_chunked_config cfg = {r.mode, &a, r.trailer, -1, collect, &s};
        struct cs_s3_chunked *d = cs_s3_chunked_new(&cfg, &why);
        s.len = 0;
        ck_assert_int_eq(cs_s3_chunked_feed(d, b.p, b.len), CS_ERR_INVALID);
        ck_assert_ptr_nonnull(strstr(cs_s3_chunked_message(d), "CRC32"));
        ck_assert_ptr_null(cs_s3_chunked_checksum(d, NULL));
        cs_s3_chunked_free(d);
    }
    free(b.p);
    free(s.buf);
}
END_TEST

/* Each algorithm as a trailer; the trailer missing, undeclared, too long. */
START_TEST(trailer_algorithms)
{
    static const char *const names[] = {"x-amz-checksum-crc32", "x-amz-checksum-crc32c",
                                        "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1",
                                        "x-amz-checksum-sha256"};
    struct sink s = new_sink();
    enum cs_s3_err why;

    for (size_t i = 0; i < 5; i++) {
        enum cs_checksum_alg alg;
        ck_assert(cs_checksum_alg_from_header(names[i], strlen(names[i]), &alg));
        struct cs_checksum c;
        char b64[CS_CHECKSUM_B64_MAX + 1], line[128];
        cs_checksum_init(&c, alg);
        cs_checksum_update(&c, "Hello, World!", 13);
        cs_checksum_final_base64(&c, b64);
        struct body b = {0};
        puts_(&b, "5\r\nHello\r\n8\r\n, World!\r\n0\r\n");
        snprintf(line, sizeof line, "%s:%s\r\n\r\n", names[i], b64);
        puts_(&b, line);
        struct run r = {CS_S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, NULL, names[i], 13};
        ck_assert_msg(decode(&r, &b, 1, &s, &why) == CS_OK, "%s: %d", names[i], why);
        /* the verified value comes back for storing */
        struct cs_s3_auth a = {0};
        struct cs_s3_chunked_config cfg = {r.mode, &a, r.trailer, 13, collect, &s};
        struct cs_s3_chunked *d = cs_s3_chunked_new(&cfg, &why);
        s.len = 0;
        ck_assert_int_eq(cs_s3_chunked_feed(d, b.p, b.len), CS_OK);
        ck_assert_int_eq(cs_s3_chunked_finish(d), CS_OK);
        enum cs_checksum_alg got;
        ck_assert_str_eq(cs_s3_chunked_checksum(d, &got), b64);
        ck_assert_int_eq(got, alg);
        cs_s3_chunked_free(d);
        /* one wrong bit in the payload */
        b.p[3] ^= 1;
        ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_ERR_INVALID);
        ck_assert_int_eq(why, CS_S3_ERR_BAD_DIGEST);
        free(b.p);
    }
    /* declared but missing; present but undeclared; another algorithm */
    struct body b = {0};
    puts_(&b, "5\r\nHello\r\n0\r\n\r\n");
    ck_assert_int_eq(decode(&unsigned_run, &b, 0, &s, &why), CS_ERR_INVALID);
    free(b.p);
    b = (struct body){0};
    puts_(&b, "5\r\nHello\r\n0\r\nx-amz-checksum-crc32:9gjOFw==\r\n\r\n");
    struct run r = unsigned_run;
    r.trailer = NULL;
    ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_BAD_TRAILER);
    r.trailer = "x-amz-checksum-sha1";
    ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_BAD_TRAILER);
    free(b.p);
    /* a trailer over 4 KiB */
    b = (struct body){0};
    puts_(&b, "0\r\nx-amz-checksum-crc32:");
    for (int i = 0; i < 5000; i++)
        puts_(&b, "A");
    puts_(&b, "\r\n\r\n");
    ck_assert_int_eq(decode(&unsigned_run, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_BAD_TRAILER);
    free(b.p);
    /* bad x-amz-trailer values are refused up front */
    struct cs_s3_auth a = {0};
    struct cs_s3_chunked_config cfg = {
        CS_S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, &a, "x-amz-checksum-md5", -1, collect, &s};
    ck_assert_ptr_null(cs_s3_chunked_new(&cfg, &why));
    ck_assert_int_eq(why, CS_S3_ERR_BAD_TRAILER);
    cfg.mode = CS_S3_PAYLOAD_UNSIGNED;
    ck_assert_ptr_null(cs_s3_chunked_new(&cfg, &why));
    free(s.buf);
}
END_TEST

/* Framing limits and garbage; the sink's own failure passes through. */
START_TEST(garbage_and_sink)
{
    static const char *const bad[] = {
        "\r\n",
        "g\r\n",
        ";\r\n",
        "5\n\nhello\r\n0\r\n\r\n",
        "5\r\nhello\n0\r\n\r\n",
        "10000000000000000\r\n",
        "-5\r\nhello\r\n",
        "5 \r\nhello\r\n0\r\n\r\n",
        "0\r\nno colon here\r\n\r\n",
    };
    struct sink s = new_sink();
    enum cs_s3_err why;
    struct run r = unsigned_run;
    r.trailer = NULL;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct body b = {0};
        puts_(&b, bad[i]);
        ck_assert_msg(decode(&r, &b, 1, &s, &why) == CS_ERR_INVALID, "garbage %zu", i);
        free(b.p);
    }
    /* a chunk extension over the bound */
    struct body b = {0};
    puts_(&b, "1;");
    for (int i = 0; i < CS_S3_CHUNK_LINE_MAX + 1; i++)
        puts_(&b, "x");
    puts_(&b, "\r\na\r\n0\r\n\r\n");
    ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_ERR_INVALID);
    ck_assert_int_eq(why, CS_S3_ERR_BAD_CHUNKED);
    free(b.p);
    /* an unsigned body with an extension is fine */
    b = (struct body){0};
    puts_(&b, "1;name=value\r\na\r\n0\r\n\r\n");
    ck_assert_int_eq(decode(&r, &b, 0, &s, &why), CS_OK);
    free(b.p);
    /* the sink refuses: its status comes back unchanged, no S3 error */
    b = aws_signed_body();
    s.fail_after = 1000;
    ck_assert_int_eq(decode(&signed_run, &b, 0, &s, &why), CS_ERR_NO_SPACE);
    ck_assert_int_eq(why, CS_S3_OK);
    free(b.p);
    free(s.buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("s3_chunked");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, aws_signed_example);
    tcase_add_test(tc, aws_signed_trailer_example);
    tcase_add_test(tc, corruption);
    tcase_add_test(tc, truncated);
    tcase_add_test(tc, botocore_unsigned_trailer);
    tcase_add_test(tc, trailer_algorithms);
    tcase_add_test(tc, garbage_and_sink);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
