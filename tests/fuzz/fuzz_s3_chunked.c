/* libFuzzer: aws-chunked bodies in every mode, fed in slices whose sizes
 * the input chooses. The first byte picks the mode and the trailer, the
 * second the slice size, the third whether a decoded length is declared. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/s3_chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum cs_status count(void *ctx, const void *data, size_t len)
{
    (void)data;
    *(uint64_t *)ctx += len;
    return CS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum cs_s3_payload modes[] = {CS_S3_PAYLOAD_STREAMING_SIGNED,
                                               CS_S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
                                               CS_S3_PAYLOAD_STREAMING_SIGNED_TRAILER};
    static const char *const trailers[] = {NULL, "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
                                           "x-amz-checksum-crc64nvme", "x-amz-checksum-sha256"};
    struct cs_s3_auth auth = {0};
    uint64_t got = 0;
    enum cs_s3_err why;

    if (size < 3)
        return 0;
    if (cs_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1",
                             "s3", auth.signing_key) != CS_OK)
        abort();
    strcpy(auth.amz_date, "20130524T000000Z");
    strcpy(auth.scope, "20130524/us-east-1/s3/aws4_request");
    strcpy(auth.seed_signature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    struct cs_s3_chunked_config cfg = {modes[data[0] % 3],
                                       &auth,
                                       trailers[(data[0] / 3) % 5],
                                       data[2] & 1 ? (int64_t)data[2] : -1,
                                       count,
                                       &got};
    size_t step = data[1] ? data[1] : size;
    data += 3;
    size -= 3;
    struct cs_s3_chunked *d = cs_s3_chunked_new(&cfg, &why);
    if (!d)
        return 0; /* a trailer with the plain signed mode: refused up front */
    enum cs_status st = CS_OK;
    for (size_t i = 0; i < size && st == CS_OK; i += step)
        st = cs_s3_chunked_feed(d, data + i, size - i < step ? size - i : step);
    if (st == CS_OK)
        st = cs_s3_chunked_finish(d);
    if (st != CS_OK && cs_s3_chunked_error(d) == CS_S3_OK)
        abort(); /* the sink never fails here: every refusal has an S3 error */
    if (got > size || got != cs_s3_chunked_decoded(d))
        abort(); /* payload never exceeds the body, and the count is exact */
    if (st == CS_OK && cfg.decoded_length >= 0 && got != (uint64_t)cfg.decoded_length)
        abort();
    cs_s3_chunked_free(d);
    return 0;
}
