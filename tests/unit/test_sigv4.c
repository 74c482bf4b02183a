/* The SigV4 signer against AWS's published vectors: get-vanilla and
 * post-vanilla from the Signature Version 4 test suite, a query-order case,
 * and the S3 API reference's "GET Object" example. */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "storage/sigv4.h"
#include "tests/unit/check_main.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void sign(const char *method, const char *query, const char *want_sig)
{
    const struct cs_sigv4_header h[] = {{"Host", "example.amazonaws.com"},
                                        {"X-Amz-Date", "20150830T123600Z"}};
    struct cs_sigv4_request r = {
        .method = method,
        .path = "/",
        .query = query,
        .headers = h,
        .nheaders = 2,
        .payload_sha256 = EMPTY_SHA256,
        .amz_date = "20150830T123600Z",
        .region = "us-east-1",
        .service = "service",
        .access_key = "AKIDEXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    };
    char out[512], want[512];
    ck_assert_int_eq(cs_sigv4_authorization(&r, out, sizeof out), CS_OK);
    snprintf(want, sizeof want,
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=host;x-amz-date, Signature=%s",
             want_sig);
    ck_assert_str_eq(out, want);
}

START_TEST(suite_vectors)
{
    sign("GET", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    sign("POST", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}
END_TEST

START_TEST(s3_get_object)
{
    /* Headers deliberately unsorted and with untrimmed spaces. */
    const struct cs_sigv4_header h[] = {
        {"x-amz-date", "20130524T000000Z"},
        {"Range", "  bytes=0-9"},
        {"x-amz-content-sha256", EMPTY_SHA256},
        {"Host", "examplebucket.s3.amazonaws.com"},
    };
    struct cs_sigv4_request r = {
        .method = "GET",
        .path = "/test.txt",
        .query = "",
        .headers = h,
        .nheaders = 4,
        .payload_sha256 = EMPTY_SHA256,
        .amz_date = "20130524T000000Z",
        .region = "us-east-1",
        .service = "s3",
        .access_key = "AKIAIOSFODNN7EXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    };
    char out[512];
    ck_assert_int_eq(cs_sigv4_authorization(&r, out, sizeof out), CS_OK);
    ck_assert_str_eq(
        out, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
             "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
             "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}
END_TEST

START_TEST(query_order_and_errors)
{
    /* The canonical query is sorted: both orders sign alike. */
    const struct cs_sigv4_header h[] = {{"host", "example.amazonaws.com"}};
    struct cs_sigv4_request r = {
        .method = "GET",
        .path = "/",
        .query = "Param2=value2&Param1=value1",
        .headers = h,
        .nheaders = 1,
        .payload_sha256 = EMPTY_SHA256,
        .amz_date = "20150830T123600Z",
        .region = "us-east-1",
        .service = "service",
        .access_key = "AKIDEXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    };
    char a[512], b[512];
    ck_assert_int_eq(cs_sigv4_authorization(&r, a, sizeof a), CS_OK);
    r.query = "Param1=value1&Param2=value2";
    ck_assert_int_eq(cs_sigv4_authorization(&r, b, sizeof b), CS_OK);
    ck_assert_str_eq(a, b);
    r.amz_date = "2015-08-30";
    ck_assert_int_eq(cs_sigv4_authorization(&r, a, sizeof a), CS_ERR_INVALID);
    r.amz_date = "20150830T123600Z";
    ck_assert_int_eq(cs_sigv4_authorization(&r, a, 20), CS_ERR_TOO_LARGE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sigv4");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, suite_vectors);
    tcase_add_test(tc, s3_get_object);
    tcase_add_test(tc, query_order_and_errors);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
