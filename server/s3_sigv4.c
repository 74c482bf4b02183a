/* SigV4 verification for the S3 front end: parse the Authorization header or
 * the presigned query, rebuild the canonical request from what was received
 * (the path and query decoded and re-encoded AWS-style, as MinIO does), and
 * compare signatures in constant time. The canonicalisation and the HMAC
 * chain are storage/sigv4.c's, shared with our client-side signer. */
#include "autoconfig.h"

#include "server/s3_sigv4.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define SIGNED_HEADERS_MAX (CS_SIGV4_MAX_HEADERS * 129)
#define HEADER_BYTES_MAX 16384 /* all signed header values together */
#define MAX_REQUEST_HEADERS 512

/* --- errors ------------------------------------------------------------ */

static const struct {
    const char *code, *message;
    int status;
} errors[] = {
    [CS_S3_OK] = {"OK", "OK", 200},
    [CS_S3_ERR_HEADER_MALFORMED] = {"AuthorizationHeaderMalformed",
                                    "The authorization header is malformed", 400},
    [CS_S3_ERR_QUERY_MALFORMED] = {"AuthorizationQueryParametersError",
                                   "The X-Amz-* authorization query parameters are malformed", 400},
    [CS_S3_ERR_INVALID_ACCESS_KEY] = {"InvalidAccessKeyId",
                                      "The AWS access key Id you provided does not exist in our "
                                      "records.",
                                      403},
    [CS_S3_ERR_SIGNATURE] = {"SignatureDoesNotMatch",
                             "The request signature we calculated does not match the signature "
                             "you provided. Check your key and signing method.",
                             403},
    [CS_S3_ERR_SKEWED] = {"RequestTimeTooSkewed",
                          "The difference between the request time and the server's time is too "
                          "large.",
                          403},
    [CS_S3_ERR_EXPIRED] = {"AccessDenied", "Request has expired", 403},
    [CS_S3_ERR_NO_DATE] = {"AccessDenied",
                           "AWS authentication requires a valid Date or x-amz-date header", 403},
    [CS_S3_ERR_SIGV2] = {"AccessDenied",
                         "Signature Version 2 is not supported: use AWS4-HMAC-SHA256 (sccache "
                         "0.4 or newer)",
                         403},
    [CS_S3_ERR_MISSING_CONTENT_SHA] = {"MissingSecurityHeader",
                                       "Your request is missing a required header: "
                                       "x-amz-content-sha256",
                                       400},
    [CS_S3_ERR_BAD_CONTENT_SHA] = {"InvalidArgument",
                                   "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a supported "
                                   "STREAMING-* value, or a valid sha256 value",
                                   400},
    [CS_S3_ERR_TWO_MECHANISMS] = {"InvalidArgument",
                                  "Only one auth mechanism allowed; only the X-Amz-Algorithm "
                                  "query parameter or the Authorization header should be "
                                  "specified",
                                  400},
    [CS_S3_ERR_UNSUPPORTED_AUTH] = {"InvalidArgument", "Unsupported Authorization Type", 400},
    [CS_S3_ERR_INVALID_URI] = {"InvalidURI", "Couldn't parse the specified URI.", 400},
    [CS_S3_ERR_TOO_BIG] = {"InvalidRequest",
                           "The request's path, query or signed headers are too long", 400},
    [CS_S3_ERR_INCOMPLETE_BODY] = {"IncompleteBody",
                                   "You did not provide the number of bytes specified by the "
                                   "Content-Length HTTP header",
                                   400},
    [CS_S3_ERR_BAD_CHUNKED] = {"InvalidRequest", "Malformed aws-chunked request body", 400},
    [CS_S3_ERR_CHUNK_SIGNATURE] = {"SignatureDoesNotMatch",
                                   "The chunk or trailer signature we calculated does not match "
                                   "the signature you provided",
                                   403},
    [CS_S3_ERR_BAD_TRAILER] = {"InvalidRequest",
                               "The aws-chunked trailer does not match x-amz-trailer", 400},
    [CS_S3_ERR_BAD_DIGEST] = {"BadDigest",
                              "The checksum you specified did not match the calculated "
                              "checksum",
                              400},
    [CS_S3_ERR_DECODED_LENGTH] = {"IncompleteBody",
                                  "The decoded body length differs from "
                                  "x-amz-decoded-content-length",
                                  400},
    [CS_S3_ERR_UNSIGNED_HEADERS] = {"AccessDenied",
                                    "There were headers present in the request which were not "
                                    "signed (every x-amz-* header and Content-MD5 must be)",
                                    403},
    [CS_S3_ERR_INTERNAL] = {"InternalError", "We encountered an internal error. Please try again.",
                            500},
};

static bool known_err(enum cs_s3_err e)
{
    return (size_t)e < sizeof errors / sizeof errors[0] && errors[e].code;
}

const char *cs_s3_err_code(enum cs_s3_err e)
{
    return known_err(e) ? errors[e].code : "InternalError";
}

const char *cs_s3_err_message(enum cs_s3_err e)
{
    return known_err(e) ? errors[e].message : "Unknown error";
}

int cs_s3_err_http_status(enum cs_s3_err e)
{
    return known_err(e) ? errors[e].status : 500;
}

/* --- small parsers ----------------------------------------------------- */

/* The one value of header name, NULL when absent; *dup is set when the
 * header is repeated (a request that says two things is refused). */
static const char *header(const struct cs_s3_sigreq *r, const char *name, bool *dup)
{
    const char *v = NULL;

    *dup = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) != 0)
            continue;
        if (v)
            *dup = true;
        else
            v = r->headers[i].value ? r->headers[i].value : "";
    }
    return v;
}

/* Decodes in[0..n) (%XX, and '+' as a space when plus_space) and re-encodes
 * each byte AWS-style into out (when not NULL). The encoded length goes to
 * *len. False on a malformed escape. */
static bool recode(const char *in, size_t n, bool plus_space, bool keep_slash, char *out,
                   size_t *len)
{
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)in[i];
        if (b == '%') {
            if (i + 2 >= n)
                return false;
            int hi = cs_hex_digit(in[i + 1]), lo = cs_hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            b = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (b == '+' && plus_space) {
            b = ' ';
        }
        *len += cs_sigv4_uri_encode(&b, 1, keep_slash, out ? out + *len : NULL);
    }
    return true;
}

/* Plain percent-decoding (for the X-Amz-* values) into out[cap], with a
 * NUL; false on a bad escape, an embedded NUL or when out is too small. */
static bool decode(const char *in, char *out, size_t cap)
{
    size_t len = 0;

    for (size_t i = 0; in[i]; i++) {
        char c = in[i];
        if (c == '%') {
            int hi = in[i + 1] ? cs_hex_digit(in[i + 1]) : -1;
            int lo = hi >= 0 && in[i + 2] ? cs_hex_digit(in[i + 2]) : -1;
            if (lo < 0)
                return false;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0' || len + 1 >= cap)
            return false;
        out[len++] = c;
    }
    out[len] = '\0';
    return true;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Seconds since the epoch of a UTC civil time (Howard Hinnant's
 * days_from_civil): timegm() is not in C11, and this cannot fail. */
static time_t epoch(int y, int mo, int d, int h, int mi, int s)
{
    y -= mo <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long days = era * 146097 + doe - 719468;
    return (time_t)days * 86400 + h * 3600 + mi * 60 + s;
}

static bool valid_civil(int y, int mo, int d, int h, int mi, int s)
{
    return y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60;
}

/* "YYYYMMDDTHHMMSSZ" */
static bool parse_amz_date(const char *v, time_t *t)
{
    if (strlen(v) != 16 || v[8] != 'T' || v[15] != 'Z' || !digits(v, 8) || !digits(v + 9, 6))
        return false;
    int y = num(v, 4), mo = num(v + 4, 2), d = num(v + 6, 2);
    int h = num(v + 9, 2), mi = num(v + 11, 2), s = num(v + 13, 2);
    if (!valid_civil(y, mo, d, h, mi, s))
        return false;
    *t = epoch(y, mo, d, h, mi, s);
    return true;
}

/* RFC 1123 "Thu, 24 May 2013 00:00:00 GMT" (the Date header), written
 * back as an x-amz-date into amz[17]. */
static bool parse_http_date(const char *v, time_t *t, char amz[17])
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (strlen(v) != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' ||
        v[16] != ' ' || v[19] != ':' || v[22] != ':' || v[25] != ' ' || strcmp(v + 26, "GMT") ||
        !digits(v + 5, 2) || !digits(v + 12, 4) || !digits(v + 17, 2) || !digits(v + 20, 2) ||
        !digits(v + 23, 2))
        return false;
    int mo = 0;
    for (int i = 0; i < 12; i++)
        if (strncmp(v + 8, months + 3 * i, 3) == 0)
            mo = i + 1;
    int y = num(v + 12, 4), d = num(v + 5, 2);
    int h = num(v + 17, 2), mi = num(v + 20, 2), s = num(v + 23, 2);
    if (mo == 0 || !valid_civil(y, mo, d, h, mi, s))
        return false;
    *t = epoch(y, mo, d, h, mi, s);
    /* the fields were checked to be digits: copy them, no formatting */
    memcpy(amz, v + 12, 4);
    amz[4] = (char)('0' + mo / 10);
    amz[5] = (char)('0' + mo % 10);
    memcpy(amz + 6, v + 5, 2);
    amz[8] = 'T';
    memcpy(amz + 9, v + 17, 2);
    memcpy(amz + 11, v + 20, 2);
    memcpy(amz + 13, v + 23, 2);
    amz[15] = 'Z';
    amz[16] = '\0';
    return true;
}

static bool region_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/* "AK/yyyymmdd/region/s3/aws4_request". The access key may itself hold a
 * '/', as MinIO allows: the scope is the last four parts. */
static bool parse_credential(const char *cred, struct cs_s3_auth *out)
{
    const char *end = cred + strlen(cred), *cut[4], *p = end;

    for (int i = 3; i >= 0; i--) {
        while (p > cred && p[-1] != '/')
            p--;
        if (p == cred)
            return false;
        cut[i] = p; /* start of part i+1; p[-1] is its '/' */
        p--;
    }
    size_t aklen = (size_t)(cut[0] - 1 - cred);
    size_t dlen = (size_t)(cut[1] - 1 - cut[0]), rlen = (size_t)(cut[2] - 1 - cut[1]);
    size_t slen = (size_t)(cut[3] - 1 - cut[2]);
    if (aklen == 0 || aklen > CS_S3_ACCESS_KEY_MAX || dlen != 8 || !digits(cut[0], 8) ||
        rlen == 0 || rlen > CS_S3_REGION_MAX || slen != 2 || strncmp(cut[2], "s3", 2) ||
        strcmp(cut[3], "aws4_request"))
        return false;
    for (size_t i = 0; i < aklen; i++)
        if ((unsigned char)cred[i] <= ' ' || cred[i] == ',' || cred[i] == 0x7f)
            return false;
    for (size_t i = 0; i < rlen; i++)
        if (!region_char(cut[1][i]))
            return false;
    memcpy(out->access_key, cred, aklen);
    out->access_key[aklen] = '\0';
    memcpy(out->date8, cut[0], 8);
    out->date8[8] = '\0';
    memcpy(out->region, cut[1], rlen);
    out->region[rlen] = '\0';
    /* "<date8>/<region>/s3/aws4_request", without printf on every request */
    size_t rl = strlen(out->region), at = 0;
    memcpy(out->scope, out->date8, 8);
    at = 8;
    out->scope[at++] = '/';
    memcpy(out->scope + at, out->region, rl);
    at += rl;
    memcpy(out->scope + at, "/s3/aws4_request", sizeof "/s3/aws4_request");
    return true;
}

/* The SignedHeaders list "host;x-amz-date": copied into names (a buffer of
 * SIGNED_HEADERS_MAX), split in place into list[CS_SIGV4_MAX_HEADERS]. */
static bool parse_signed_headers(const char *v, char *names, const char **list, size_t *n)
{
    size_t len = strlen(v);
    bool host = false;

    *n = 0;
    if (len == 0 || len >= SIGNED_HEADERS_MAX)
        return false;
    memcpy(names, v, len + 1);
    for (char *p = names;;) {
        char *semi = strchr(p, ';');
        if (semi)
            *semi = '\0';
        size_t nl = strlen(p);
        if (nl == 0 || nl > 128 || *n == CS_SIGV4_MAX_HEADERS)
            return false;
        for (size_t i = 0; i < nl; i++)
            if ((unsigned char)p[i] <= ' ' || p[i] == ':' || p[i] == 0x7f)
                return false;
        host |= strcasecmp(p, "host") == 0;
        list[(*n)++] = p;
        if (!semi)
            break;
        p = semi + 1;
    }
    return host;
}

/* The signature as 64 lowercase hex digits: compared as text with ours,
 * which is what the signer computes (no decode on every request). */
static bool hex_sig(const char *v, char out[CS_SIGV4_SIG_HEX + 1])
{
    if (strlen(v) != CS_SIGV4_SIG_HEX)
        return false;
    for (size_t i = 0; i < CS_SIGV4_SIG_HEX; i++) {
        char c = v[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        out[i] = c;
    }
    out[CS_SIGV4_SIG_HEX] = '\0';
    return true;
}

/* --- the two forms ----------------------------------------------------- */

/* What either form yields before the signature is checked. */
struct parsed {
    char signed_names[SIGNED_HEADERS_MAX];
    const char *signed_list[CS_SIGV4_MAX_HEADERS];
    size_t nsigned;
    char sig[CS_SIGV4_SIG_HEX + 1]; /* lowercase hex */
    time_t date;
    long expires; /* presigned only */
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    return s;
}

/* "AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..": the
 * three components once each, in any order, separated by ',' with any
 * spaces around them (what AWS tolerates). */
static enum cs_s3_err parse_authorization(const char *v, struct cs_s3_auth *out, struct parsed *p)
{
    char buf[CS_S3_HEADER_VALUE_MAX + 1];
    size_t len = strlen(v);
    const char *cred = NULL, *sh = NULL, *sig = NULL;

    if (len > CS_S3_HEADER_VALUE_MAX)
        return CS_S3_ERR_HEADER_MALFORMED;
    if (strncmp(v, ALGORITHM, sizeof ALGORITHM - 1) != 0 ||
        (v[sizeof ALGORITHM - 1] != ' ' && v[sizeof ALGORITHM - 1] != '\t'))
        return CS_S3_ERR_HEADER_MALFORMED;
    memcpy(buf, v, len + 1);
    char *save = NULL;
    for (char *c = strtok_r(buf + sizeof ALGORITHM, ",", &save); c;
         c = strtok_r(NULL, ",", &save)) {
        c = trim(c);
        if (*c == '\0')
            continue;
        char *eq = strchr(c, '=');
        if (!eq)
            return CS_S3_ERR_HEADER_MALFORMED;
        *eq = '\0';
        const char **slot = strcmp(c, "Credential") == 0      ? &cred
                            : strcmp(c, "SignedHeaders") == 0 ? &sh
                            : strcmp(c, "Signature") == 0     ? &sig
                                                              : NULL;
        if (!slot || *slot)
            return CS_S3_ERR_HEADER_MALFORMED;
        *slot = trim(eq + 1);
    }
    if (!cred || !sh || !sig || !parse_credential(cred, out) ||
        !parse_signed_headers(sh, p->signed_names, p->signed_list, &p->nsigned) ||
        !hex_sig(sig, p->sig))
        return CS_S3_ERR_HEADER_MALFORMED;
    return CS_S3_OK;
}

/* The one decoded value of query parameter name (names compared decoded,
 * case-sensitively, as AWS does); *dup on a repeat. */
static bool query_param(const struct cs_s3_sigreq *r, const char *name, char *out, size_t cap,
                        bool *found, bool *dup)
{
    char nb[64];

    *found = *dup = false;
    for (size_t i = 0; i < r->nquery; i++) {
        if (!decode(r->query[i].name, nb, sizeof nb) || strcmp(nb, name) != 0)
            continue;
        if (*found) {
            *dup = true;
            continue;
        }
        *found = true;
        if (!decode(r->query[i].value ? r->query[i].value : "", out, cap))
            return false;
    }
    return true;
}

static bool query_has(const struct cs_s3_sigreq *r, const char *name)
{
    char nb[64];

    for (size_t i = 0; i < r->nquery; i++)
        if (decode(r->query[i].name, nb, sizeof nb) && strcmp(nb, name) == 0)
            return true;
    return false;
}

/* X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders and
 * -Signature, each exactly once. */
static enum cs_s3_err parse_presigned(const struct cs_s3_sigreq *r, struct cs_s3_auth *out,
                                      struct parsed *p)
{
    static const char *const names[] = {"X-Amz-Algorithm",     "X-Amz-Credential",
                                        "X-Amz-Date",          "X-Amz-Expires",
                                        "X-Amz-SignedHeaders", "X-Amz-Signature"};
    char v[6][CS_S3_ACCESS_KEY_MAX + CS_S3_SCOPE_MAX + 8] = {{0}};
    char sh[SIGNED_HEADERS_MAX];

    sh[0] = '\0';

    for (size_t i = 0; i < 6; i++) {
        bool found, dup;
        char *dst = i == 4 ? sh : v[i];
        size_t cap = i == 4 ? sizeof sh : sizeof v[i];
        if (!query_param(r, names[i], dst, cap, &found, &dup) || !found || dup)
            return CS_S3_ERR_QUERY_MALFORMED;
    }
    if (strcmp(v[0], ALGORITHM) != 0 || !parse_credential(v[1], out) ||
        !parse_amz_date(v[2], &p->date) ||
        !parse_signed_headers(sh, p->signed_names, p->signed_list, &p->nsigned) ||
        !hex_sig(v[5], p->sig))
        return CS_S3_ERR_QUERY_MALFORMED;
    size_t el = strlen(v[3]);
    if (el == 0 || el > 7 || !digits(v[3], el) || num(v[3], el) > CS_S3_MAX_EXPIRES)
        return CS_S3_ERR_QUERY_MALFORMED;
    p->expires = num(v[3], el);
    memcpy(out->amz_date, v[2], 17);
    return CS_S3_OK;
}

enum cs_s3_auth_kind cs_s3_auth_kind(const struct cs_s3_sigreq *r)
{
    bool dup;
    const char *a = header(r, "authorization", &dup);

    if (a) {
        if (strncmp(a, ALGORITHM, sizeof ALGORITHM - 1) == 0 &&
            (a[sizeof ALGORITHM - 1] == ' ' || a[sizeof ALGORITHM - 1] == '\t'))
            return CS_S3_AUTH_V4_HEADER;
        if (strncmp(a, "AWS ", 4) == 0)
            return CS_S3_AUTH_V2;
        return CS_S3_AUTH_OTHER;
    }
    if (query_has(r, "X-Amz-Algorithm") || query_has(r, "X-Amz-Credential") ||
        query_has(r, "X-Amz-Signature"))
        return CS_S3_AUTH_V4_QUERY;
    if (query_has(r, "AWSAccessKeyId") || (query_has(r, "Signature") && query_has(r, "Expires")))
        return CS_S3_AUTH_V2;
    return CS_S3_AUTH_NONE;
}

/* --- payload ----------------------------------------------------------- */

static enum cs_s3_err parse_payload(const char *v, struct cs_s3_auth *out)
{
    static const struct {
        const char *value;
        enum cs_s3_payload mode;
    } modes[] = {
        {"UNSIGNED-PAYLOAD", CS_S3_PAYLOAD_UNSIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", CS_S3_PAYLOAD_STREAMING_SIGNED},
        {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", CS_S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", CS_S3_PAYLOAD_STREAMING_SIGNED_TRAILER},
    };

    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(v, modes[i].value) == 0) {
            out->payload = modes[i].mode;
            return CS_S3_OK;
        }
    }
    if (strlen(v) == CS_SHA256_HEX_LEN &&
        cs_hex_decode(v, CS_SHA256_HEX_LEN, out->payload_sha256, 32)) {
        out->payload = CS_S3_PAYLOAD_SHA256;
        return CS_S3_OK;
    }
    return CS_S3_ERR_BAD_CONTENT_SHA;
}

/* --- the canonical request --------------------------------------------- */

/* Buffers of one verification, one allocation (freed by the caller). */
struct canon_bufs {
    char *uri, *query, *values;
    struct cs_sigv4_header params[CS_SIGV4_MAX_QUERY];
    struct cs_sigv4_header signed_hdrs[CS_SIGV4_MAX_HEADERS];
};

static enum cs_s3_err canonical_uri(const struct cs_s3_sigreq *r, char **uri)
{
    size_t n = strlen(r->path_raw), len;

    if (n > CS_S3_PATH_MAX)
        return CS_S3_ERR_TOO_BIG;
    if (!recode(r->path_raw, n, false, true, NULL, &len))
        return CS_S3_ERR_INVALID_URI;
    *uri = malloc(len + 1);
    if (!*uri)
        return CS_S3_ERR_INTERNAL;
    (void)recode(r->path_raw, n, false, true, *uri, &len);
    (*uri)[len] = '\0';
    return CS_S3_OK;
}

static bool recoded_len(const char *s, size_t *total)
{
    size_t len;
    if (!recode(s, strlen(s), true, false, NULL, &len))
        return false;
    *total += len + 1;
    return true;
}

/* Every parameter but the signature itself, decoded, re-encoded and sorted.
 * params[] point into one buffer; the joined form goes to b->query. */
static enum cs_s3_err canonical_query(const struct cs_s3_sigreq *r, bool presigned,
                                      struct canon_bufs *b)
{
    size_t total = 0, n = 0, raw = 0;
    char nb[64];

    for (size_t i = 0; i < r->nquery; i++)
        raw += strlen(r->query[i].name) + (r->query[i].value ? strlen(r->query[i].value) : 0);
    if (r->nquery > CS_SIGV4_MAX_QUERY || raw > CS_S3_QUERY_BYTES_MAX)
        return CS_S3_ERR_TOO_BIG;
    for (size_t i = 0; i < r->nquery; i++)
        if (!recoded_len(r->query[i].name, &total) ||
            (r->query[i].value && !recoded_len(r->query[i].value, &total)))
            return CS_S3_ERR_INVALID_URI;
    /* the parameters, then their joined form (each adds '=' and '&') */
    char *buf = malloc(2 * total + 2 * r->nquery + 1);
    if (!buf)
        return CS_S3_ERR_INTERNAL;
    b->query = buf; /* freed with b */
    char *p = buf + total + 2 * r->nquery + 1;
    for (size_t i = 0; i < r->nquery; i++) {
        const struct cs_s3_kv *q = &r->query[i];
        if (presigned && decode(q->name, nb, sizeof nb) && strcmp(nb, "X-Amz-Signature") == 0)
            continue;
        size_t len;
        b->params[n].name = p;
        (void)recode(q->name, strlen(q->name), true, false, p, &len);
        p[len] = '\0';
        p += len + 1;
        b->params[n].value = NULL;
        if (q->value) {
            b->params[n].value = p;
            (void)recode(q->value, strlen(q->value), true, false, p, &len);
            p[len] = '\0';
            p += len + 1;
        }
        n++;
    }
    if (cs_sigv4_canonical_query(b->params, n, buf, total + 2 * r->nquery + 1) != CS_OK)
        return CS_S3_ERR_INTERNAL; /* sized above: cannot happen */
    return CS_S3_OK;
}

/* Appends value trimmed, inner whitespace collapsed (so that duplicates
 * joined with ',' read "a,b" whatever their spacing). */
static bool append_trimmed(char *out, size_t cap, size_t *len, const char *v)
{
    bool first = true;

    while (*v) {
        while (*v == ' ' || *v == '\t')
            v++;
        const char *s = v;
        while (*v && *v != ' ' && *v != '\t')
            v++;
        if (v == s)
            break;
        size_t n = (size_t)(v - s) + !first;
        if (*len + n >= cap)
            return false;
        if (!first)
            out[(*len)++] = ' ';
        memcpy(out + *len, s, (size_t)(v - s));
        *len += (size_t)(v - s);
        first = false;
    }
    out[*len] = '\0';
    return true;
}

/* The value of each signed header: every request header of that name,
 * trimmed, joined with ','. A signed header the request lacks fails. */
static enum cs_s3_err signed_values(const struct cs_s3_sigreq *r, const struct parsed *p,
                                    bool presigned, struct canon_bufs *b)
{
    enum cs_s3_err malformed = presigned ? CS_S3_ERR_QUERY_MALFORMED : CS_S3_ERR_HEADER_MALFORMED;
    size_t len = 0;

    if (r->nheaders > MAX_REQUEST_HEADERS)
        return CS_S3_ERR_TOO_BIG;
    b->values = malloc(HEADER_BYTES_MAX);
    if (!b->values)
        return CS_S3_ERR_INTERNAL;
    for (size_t i = 0; i < p->nsigned; i++) {
        size_t start = len, found = 0;
        for (size_t j = 0; j < r->nheaders; j++) {
            const char *v = r->headers[j].value ? r->headers[j].value : "";
            if (strcasecmp(r->headers[j].name, p->signed_list[i]) != 0)
                continue;
            if (strlen(v) > CS_S3_HEADER_VALUE_MAX)
                return CS_S3_ERR_TOO_BIG;
            if (found++) {
                if (len + 1 >= HEADER_BYTES_MAX)
                    return CS_S3_ERR_TOO_BIG;
                b->values[len++] = ',';
            }
            if (!append_trimmed(b->values, HEADER_BYTES_MAX, &len, v))
                return CS_S3_ERR_TOO_BIG;
        }
        if (!found)
            return malformed;
        if (len + 1 >= HEADER_BYTES_MAX)
            return CS_S3_ERR_TOO_BIG;
        b->values[len++] = '\0';
        b->signed_hdrs[i] = (struct cs_sigv4_header){p->signed_list[i], b->values + start};
    }
    return CS_S3_OK;
}

/* --- the signing-key cache --------------------------------------------- */

#define STRIPES 64
#define PER_STRIPE (CS_S3_KEYCACHE_SIZE / STRIPES)

struct key_entry {
    bool used;
    char access_key[CS_S3_ACCESS_KEY_MAX + 1];
    char date8[9];
    char region[CS_S3_REGION_MAX + 1];
    uint8_t secret_hash[CS_SHA256_LEN]; /* the secret is not kept, its hash is */
    uint8_t key[CS_SIGV4_KEY_LEN];
};

struct key_stripe {
    pthread_mutex_t mu;
    unsigned next; /* round-robin victim: entries are a day's worth, LRU buys little */
    struct key_entry e[PER_STRIPE];
};

struct cs_s3_keycache {
    struct key_stripe s[STRIPES];
};

struct cs_s3_keycache *cs_s3_keycache_new(void)
{
    struct cs_s3_keycache *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    for (size_t i = 0; i < STRIPES; i++) {
        if (pthread_mutex_init(&c->s[i].mu, NULL) != 0) {
            while (i--)
                pthread_mutex_destroy(&c->s[i].mu);
            free(c);
            return NULL;
        }
    }
    return c;
}

void cs_s3_keycache_free(struct cs_s3_keycache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&c->s[i].mu);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

static size_t stripe_of(const struct cs_s3_auth *a)
{
    uint32_t h = 2166136261u; /* FNV-1a over the cache key */
    const char *parts[] = {a->access_key, a->date8, a->region};

    for (size_t i = 0; i < 3; i++) {
        for (const char *s = parts[i]; *s; s++)
            h = (h ^ (uint8_t)*s) * 16777619u;
        h = (h ^ '/') * 16777619u;
    }
    return h % STRIPES;
}

static bool entry_matches(const struct key_entry *e, const struct cs_s3_auth *a,
                          const uint8_t secret_hash[32])
{
    return e->used && strcmp(e->access_key, a->access_key) == 0 &&
           strcmp(e->date8, a->date8) == 0 && strcmp(e->region, a->region) == 0 &&
           CRYPTO_memcmp(e->secret_hash, secret_hash, 32) == 0;
}

/* The signing key into a->signing_key, from the cache or derived (and then
 * cached). The HMAC chain runs outside the stripe's lock. */
static enum cs_s3_err signing_key(struct cs_s3_keycache *c, const char *secret,
                                  struct cs_s3_auth *a)
{
    uint8_t sh[CS_SHA256_LEN];
    size_t slen = strlen(secret);
    const void *parts[] = {secret};

    if (c) {
        cs_sha256_parts(parts, &slen, 1, sh);
        struct key_stripe *s = &c->s[stripe_of(a)];
        bool hit = false;
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < PER_STRIPE && !hit; i++) {
            if (entry_matches(&s->e[i], a, sh)) {
                memcpy(a->signing_key, s->e[i].key, sizeof a->signing_key);
                hit = true;
            }
        }
        pthread_mutex_unlock(&s->mu);
        if (hit)
            return CS_S3_OK;
    }
    if (cs_sigv4_signing_key(secret, a->date8, a->region, "s3", a->signing_key) != CS_OK)
        return CS_S3_ERR_SIGNATURE; /* an over-long secret can match nothing */
    if (c) {
        struct key_stripe *s = &c->s[stripe_of(a)];
        pthread_mutex_lock(&s->mu);
        struct key_entry *e = &s->e[s->next];
        s->next = (s->next + 1) % PER_STRIPE;
        e->used = true;
        memcpy(e->access_key, a->access_key, sizeof e->access_key);
        memcpy(e->date8, a->date8, sizeof e->date8);
        memcpy(e->region, a->region, sizeof e->region);
        memcpy(e->secret_hash, sh, sizeof sh);
        memcpy(e->key, a->signing_key, sizeof e->key);
        pthread_mutex_unlock(&s->mu);
    }
    return CS_S3_OK;
}

/* --- verification ------------------------------------------------------ */

/* The header form's date: x-amz-date, else Date, and it must agree with the
 * credential's day. */
static enum cs_s3_err header_date(const struct cs_s3_sigreq *r, struct cs_s3_auth *out, time_t *t)
{
    bool dup;
    const char *v = header(r, "x-amz-date", &dup);

    if (v) {
        if (dup || !parse_amz_date(v, t))
            return CS_S3_ERR_NO_DATE;
        memcpy(out->amz_date, v, 17);
    } else {
        v = header(r, "date", &dup);
        if (!v || dup || !parse_http_date(v, t, out->amz_date))
            return CS_S3_ERR_NO_DATE;
    }
    if (strncmp(out->amz_date, out->date8, 8) != 0)
        return CS_S3_ERR_HEADER_MALFORMED;
    return CS_S3_OK;
}

static enum cs_s3_err check_time(const struct cs_s3_sigreq *r, const struct parsed *p,
                                 bool presigned)
{
    if (p->date > r->now + CS_S3_MAX_SKEW)
        return CS_S3_ERR_SKEWED;
    if (presigned)
        return r->now > p->date + p->expires ? CS_S3_ERR_EXPIRED : CS_S3_OK;
    return p->date < r->now - CS_S3_MAX_SKEW ? CS_S3_ERR_SKEWED : CS_S3_OK;
}

/* The payload mode: x-amz-content-sha256, required by the header form;
 * presigned URLs default to UNSIGNED-PAYLOAD. */
static enum cs_s3_err payload_mode(const struct cs_s3_sigreq *r, bool required,
                                   struct cs_s3_auth *out, const char **value)
{
    bool dup;
    const char *v = header(r, "x-amz-content-sha256", &dup);

    *value = "UNSIGNED-PAYLOAD";
    out->payload = CS_S3_PAYLOAD_UNSIGNED;
    if (!v)
        return required ? CS_S3_ERR_MISSING_CONTENT_SHA : CS_S3_OK;
    if (dup)
        return CS_S3_ERR_BAD_CONTENT_SHA;
    *value = v;
    return parse_payload(v, out);
}

/* Rebuilds the canonical request and compares signatures. */
static enum cs_s3_err check_signature(const struct cs_s3_sigreq *r, const struct parsed *p,
                                      const char *payload, struct cs_s3_auth *out)
{
    /* on the stack, nothing zeroed: this runs on every signed request */
    struct canon_bufs bufs, *b = &bufs;
    char signed_list[SIGNED_HEADERS_MAX];
    uint8_t creq[32];
    enum cs_s3_err e = CS_S3_OK;

    b->uri = b->query = b->values = NULL;

    if (e == CS_S3_OK)
        e = canonical_uri(r, &b->uri);
    if (e == CS_S3_OK)
        e = canonical_query(r, out->presigned, b);
    if (e == CS_S3_OK)
        e = signed_values(r, p, out->presigned, b);
    if (e == CS_S3_OK) {
        const struct cs_sigv4_canon c = {r->method,      b->uri,     b->query,
                                         b->signed_hdrs, p->nsigned, payload};
        if (cs_sigv4_canonical_hash(&c, signed_list, sizeof signed_list, creq) != CS_OK)
            e = out->presigned ? CS_S3_ERR_QUERY_MALFORMED : CS_S3_ERR_HEADER_MALFORMED;
    }
    if (e == CS_S3_OK) {
        cs_sigv4_signature(out->signing_key, out->amz_date, out->scope, creq, out->seed_signature);
        if (CRYPTO_memcmp(out->seed_signature, p->sig, CS_SIGV4_SIG_HEX) != 0)
            e = CS_S3_ERR_SIGNATURE;
    }
    free(b->uri);
    free(b->query);
    free(b->values);
    return e;
}

static bool is_signed(const struct parsed *p, const char *name)
{
    for (size_t i = 0; i < p->nsigned; i++)
        if (strcasecmp(p->signed_list[i], name) == 0)
            return true;
    return false;
}

/* A signature covers only the headers it lists: an x-amz-* header (or
 * Content-MD5) sent beside it unsigned would change what the request does
 * (x-amz-copy-source turns a presigned PUT into a copy) without the
 * signer's say. Refused, as AWS does. A presigned URL carries its date and
 * payload mode in the query; the JavaScript SDK never signs its user agent. */
static enum cs_s3_err check_unsigned(const struct cs_s3_sigreq *r, const struct parsed *p,
                                     bool presigned)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *n = r->headers[i].name;
        if (strncasecmp(n, "x-amz-", 6) != 0 && strcasecmp(n, "content-md5") != 0)
            continue;
        if (strcasecmp(n, "x-amz-user-agent") == 0 ||
            (presigned &&
             (strcasecmp(n, "x-amz-date") == 0 || strcasecmp(n, "x-amz-content-sha256") == 0)))
            continue;
        if (!is_signed(p, n))
            return CS_S3_ERR_UNSIGNED_HEADERS;
    }
    return CS_S3_OK;
}

static enum cs_s3_err anonymous(const struct cs_s3_sigreq *r, struct cs_s3_auth *out)
{
    const char *v;
    enum cs_s3_err e = payload_mode(r, false, out, &v);

    out->anonymous = true;
    /* a chain of chunk signatures needs a seed: none without auth */
    if (e == CS_S3_OK && (out->payload == CS_S3_PAYLOAD_STREAMING_SIGNED ||
                          out->payload == CS_S3_PAYLOAD_STREAMING_SIGNED_TRAILER))
        e = CS_S3_ERR_BAD_CONTENT_SHA;
    return e;
}

static enum cs_s3_err verify(const struct cs_s3_sigreq *r, cs_s3_secret_fn secret, void *secret_ctx,
                             struct cs_s3_keycache *cache, struct cs_s3_auth *out, struct parsed *p)
{
    enum cs_s3_auth_kind kind = cs_s3_auth_kind(r);
    const char *payload, *a;
    bool dup;
    enum cs_s3_err e;

    switch (kind) {
    case CS_S3_AUTH_NONE: return anonymous(r, out);
    case CS_S3_AUTH_V2: return CS_S3_ERR_SIGV2;
    case CS_S3_AUTH_OTHER: return CS_S3_ERR_UNSUPPORTED_AUTH;
    case CS_S3_AUTH_V4_QUERY: break;
    case CS_S3_AUTH_V4_HEADER:
        if (query_has(r, "X-Amz-Algorithm") || query_has(r, "X-Amz-Signature"))
            return CS_S3_ERR_TWO_MECHANISMS;
        break;
    }
    if (!r->method || !r->path_raw || r->path_raw[0] != '/')
        return CS_S3_ERR_INVALID_URI;
    out->presigned = kind == CS_S3_AUTH_V4_QUERY;
    if (out->presigned) {
        e = parse_presigned(r, out, p);
        if (e == CS_S3_OK && strncmp(out->amz_date, out->date8, 8) != 0)
            e = CS_S3_ERR_QUERY_MALFORMED;
    } else {
        a = header(r, "authorization", &dup);
        e = dup ? CS_S3_ERR_HEADER_MALFORMED : parse_authorization(a, out, p);
        if (e == CS_S3_OK)
            e = header_date(r, out, &p->date);
    }
    if (e == CS_S3_OK)
        e = check_time(r, p, out->presigned);
    if (e == CS_S3_OK)
        e = payload_mode(r, !out->presigned, out, &payload);
    if (e != CS_S3_OK)
        return e;
    const char *s = secret(secret_ctx, out->access_key);
    if (!s)
        return CS_S3_ERR_INVALID_ACCESS_KEY;
    e = signing_key(cache, s, out);
    if (e == CS_S3_OK)
        e = check_signature(r, p, payload, out);
    if (e == CS_S3_OK)
        e = check_unsigned(r, p, out->presigned);
    return e;
}

enum cs_s3_err cs_s3_sigv4_verify(const struct cs_s3_sigreq *r, cs_s3_secret_fn secret,
                                  void *secret_ctx, struct cs_s3_keycache *cache,
                                  struct cs_s3_auth *out)
{
    struct parsed parsed, *p = &parsed; /* its buffers are filled before they are read */
    enum cs_s3_err e;

    memset(out, 0, sizeof *out);
    p->nsigned = 0;
    p->date = 0;
    p->expires = 0;
    e = verify(r, secret, secret_ctx, cache, out, p);
    if (e != CS_S3_OK) /* nothing half-verified leaks out: no key, no seed */
        OPENSSL_cleanse(out, sizeof *out);
    return e;
}
