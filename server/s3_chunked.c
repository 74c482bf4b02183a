/* aws-chunked: "<hex size>[;ext]\r\n<data>\r\n" ... "0[;ext]\r\n<trailer
 * lines>\r\n". A byte-at-a-time state machine for the framing; data bytes
 * are handed on in runs, never copied. Signed chunks are checked as each
 * one ends, so a forged chunk stops the upload before the next. */
#include "autoconfig.h"

#include "server/s3_chunked.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIG_EXT "chunk-signature="
#define TRAILER_SIG "x-amz-trailer-signature"
#define MAX_SIZE_DIGITS 15 /* < 2^60: no overflow, far above any body we take */

enum state {
    S_SIZE,    /* hex digits of the chunk size */
    S_EXT,     /* ";..." up to CR */
    S_SIZE_LF, /* the LF ending the size line */
    S_DATA,
    S_DATA_CR,
    S_DATA_LF,
    S_TRAILER, /* trailer lines until an empty one */
    S_DONE,
    S_FAILED,
};

struct cs_s3_chunked {
    struct cs_s3_chunked_config cfg;
    bool signed_chunks, trailer_sig_required, has_alg;
    enum cs_checksum_alg alg;
    uint8_t key[CS_SIGV4_KEY_LEN];
    char amz_date[17], scope[CS_S3_SCOPE_MAX + 1];
    char prev_sig[CS_SIGV4_SIG_HEX + 1];

    enum state st;
    enum cs_status status; /* once failed */
    enum cs_s3_err why;
    size_t digits;
    uint64_t size, left, total;
    char line[CS_S3_CHUNK_LINE_MAX + 1]; /* the extension after ';' */
    size_t line_len;

    struct cs_sha256 chunk_sha; /* of the current chunk (signed modes) */
    struct cs_checksum sum;     /* of the whole payload (trailer checksum) */
    char tline[CS_S3_TRAILER_MAX + 1];
    size_t tline_len, trailer_bytes;
    struct cs_sha256 trailer_sha; /* canonical trailer lines (signed trailer) */
    bool got_checksum, got_trailer_sig;
    char checksum_b64[CS_CHECKSUM_B64_MAX + 1];
    char message[96];
};

static bool streaming(enum cs_s3_payload m)
{
    return m == CS_S3_PAYLOAD_STREAMING_SIGNED || m == CS_S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER ||
           m == CS_S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
}

/* x-amz-trailer: one checksum header name, spaces around it allowed. */
static bool parse_trailer_name(const char *v, enum cs_checksum_alg *alg)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return cs_checksum_alg_from_header(v, n, alg);
}

struct cs_s3_chunked *cs_s3_chunked_new(const struct cs_s3_chunked_config *cfg, enum cs_s3_err *why)
{
    bool is_signed = cfg->mode == CS_S3_PAYLOAD_STREAMING_SIGNED ||
                     cfg->mode == CS_S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
    enum cs_checksum_alg alg = CS_CHECKSUM_CRC32;

    *why = CS_S3_OK;
    if (!streaming(cfg->mode) || !cfg->sink || (is_signed && (!cfg->auth || cfg->auth->anonymous)))
        *why = CS_S3_ERR_BAD_CONTENT_SHA;
    else if (cfg->trailer && (cfg->mode == CS_S3_PAYLOAD_STREAMING_SIGNED ||
                              !parse_trailer_name(cfg->trailer, &alg)))
        *why = CS_S3_ERR_BAD_TRAILER;
    if (*why != CS_S3_OK)
        return NULL;
    struct cs_s3_chunked *d = calloc(1, sizeof *d);
    if (!d) {
        *why = CS_S3_ERR_INTERNAL;
        return NULL;
    }
    d->cfg = *cfg;
    d->cfg.auth = NULL; /* what is needed is copied below */
    d->signed_chunks = is_signed;
    d->trailer_sig_required = cfg->mode == CS_S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
    d->has_alg = cfg->trailer != NULL;
    d->alg = alg;
    if (d->has_alg)
        cs_checksum_init(&d->sum, alg);
    if (is_signed) {
        memcpy(d->key, cfg->auth->signing_key, sizeof d->key);
        memcpy(d->amz_date, cfg->auth->amz_date, sizeof d->amz_date);
        memcpy(d->scope, cfg->auth->scope, sizeof d->scope);
        memcpy(d->prev_sig, cfg->auth->seed_signature, sizeof d->prev_sig);
    }
    cs_sha256_init(&d->trailer_sha);
    d->st = S_SIZE;
    return d;
}

void cs_s3_chunked_free(struct cs_s3_chunked *d)
{
    if (!d)
        return;
    OPENSSL_cleanse(d, sizeof *d);
    free(d);
}

static enum cs_status fail(struct cs_s3_chunked *d, enum cs_s3_err why)
{
    d->st = S_FAILED;
    d->why = why;
    d->status = CS_ERR_INVALID;
    return d->status;
}

/* The extension of a signed chunk must be exactly "chunk-signature=<hex>". */
static bool chunk_signature(const struct cs_s3_chunked *d, uint8_t sig[32])
{
    const size_t plen = sizeof SIG_EXT - 1;

    return d->line_len == plen + CS_SIGV4_SIG_HEX && memcmp(d->line, SIG_EXT, plen) == 0 &&
           cs_hex_decode(d->line + plen, CS_SIGV4_SIG_HEX, sig, 32);
}

/* Checks the signature of the chunk that just ended (or the final, empty
 * one) and moves the chain on. */
static enum cs_status check_chunk(struct cs_s3_chunked *d)
{
    uint8_t digest[32], want[32], got[32];
    char tail[2 * CS_SHA256_HEX_LEN + 2], sig[CS_SIGV4_SIG_HEX + 1];

    if (!chunk_signature(d, got))
        return fail(d, CS_S3_ERR_BAD_CHUNKED);
    cs_sha256_final(&d->chunk_sha, digest);
    memcpy(tail, EMPTY_SHA256 "\n", CS_SHA256_HEX_LEN + 1);
    cs_hex_encode(digest, sizeof digest, tail + CS_SHA256_HEX_LEN + 1);
    cs_sigv4_chained_signature(d->key, "AWS4-HMAC-SHA256-PAYLOAD", d->amz_date, d->scope,
                               d->prev_sig, tail, sig);
    if (!cs_hex_decode(sig, CS_SIGV4_SIG_HEX, want, sizeof want) ||
        CRYPTO_memcmp(want, got, sizeof want) != 0)
        return fail(d, CS_S3_ERR_CHUNK_SIGNATURE);
    memcpy(d->prev_sig, sig, sizeof d->prev_sig);
    return CS_OK;
}

/* The size line is complete: start the chunk's data, or the trailer. */
static enum cs_status size_line_done(struct cs_s3_chunked *d)
{
    if (d->cfg.decoded_length >= 0 && d->total + d->size > (uint64_t)d->cfg.decoded_length)
        return fail(d, CS_S3_ERR_DECODED_LENGTH);
    if (d->signed_chunks) {
        cs_sha256_init(&d->chunk_sha);
        if (!chunk_signature(d, (uint8_t[32]){0}))
            return fail(d, CS_S3_ERR_BAD_CHUNKED);
    }
    d->left = d->size;
    if (d->size > 0) {
        d->st = S_DATA;
        return CS_OK;
    }
    if (d->signed_chunks && check_chunk(d) != CS_OK)
        return d->status;
    if (d->cfg.decoded_length >= 0 && d->total != (uint64_t)d->cfg.decoded_length)
        return fail(d, CS_S3_ERR_DECODED_LENGTH);
    d->st = S_TRAILER;
    return CS_OK;
}

static enum cs_status size_byte(struct cs_s3_chunked *d, char c)
{
    int v = cs_hex_digit(c);

    if (v >= 0) {
        if (++d->digits > MAX_SIZE_DIGITS)
            return fail(d, CS_S3_ERR_BAD_CHUNKED);
        d->size = d->size << 4 | (uint64_t)v;
        return CS_OK;
    }
    if (d->digits == 0 || (c != ';' && c != '\r'))
        return fail(d, CS_S3_ERR_BAD_CHUNKED);
    d->st = c == ';' ? S_EXT : S_SIZE_LF;
    return CS_OK;
}

static enum cs_status ext_byte(struct cs_s3_chunked *d, char c)
{
    if (c == '\r') {
        d->st = S_SIZE_LF;
        return CS_OK;
    }
    if (c == '\n' || c == '\0' || d->line_len == CS_S3_CHUNK_LINE_MAX)
        return fail(d, CS_S3_ERR_BAD_CHUNKED);
    d->line[d->line_len++] = c;
    return CS_OK;
}

static void start_size_line(struct cs_s3_chunked *d)
{
    d->st = S_SIZE;
    d->digits = 0;
    d->size = 0;
    d->line_len = 0;
}

static const char *trim(char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t')) {
        s++;
        (*n)--;
    }
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    s[*n] = '\0';
    return s;
}

/* The trailer signature: HMAC over the canonical trailer lines so far. */
static enum cs_status check_trailer_sig(struct cs_s3_chunked *d, const char *value)
{
    uint8_t digest[32], want[32], got[32];
    char hex[CS_SHA256_HEX_LEN + 1], sig[CS_SIGV4_SIG_HEX + 1];

    if (d->got_trailer_sig || !d->trailer_sig_required || strlen(value) != CS_SIGV4_SIG_HEX ||
        !cs_hex_decode(value, CS_SIGV4_SIG_HEX, got, sizeof got))
        return fail(d, CS_S3_ERR_BAD_TRAILER);
    cs_sha256_final(&d->trailer_sha, digest);
    cs_hex_encode(digest, sizeof digest, hex);
    cs_sigv4_chained_signature(d->key, "AWS4-HMAC-SHA256-TRAILER", d->amz_date, d->scope,
                               d->prev_sig, hex, sig);
    if (!cs_hex_decode(sig, CS_SIGV4_SIG_HEX, want, sizeof want) ||
        CRYPTO_memcmp(want, got, sizeof want) != 0)
        return fail(d, CS_S3_ERR_CHUNK_SIGNATURE);
    d->got_trailer_sig = true;
    return CS_OK;
}

/* One "name:value" trailer line: the declared checksum, then (signed
 * trailer) the trailer signature; anything else is refused. */
static enum cs_status trailer_line(struct cs_s3_chunked *d)
{
    char *colon = memchr(d->tline, ':', d->tline_len);

    if (!colon || d->got_trailer_sig)
        return fail(d, CS_S3_ERR_BAD_TRAILER);
    size_t nlen = (size_t)(colon - d->tline), vlen = d->tline_len - nlen - 1;
    const char *name = trim(d->tline, &nlen);
    const char *value = trim(colon + 1, &vlen);
    if (strcasecmp(name, TRAILER_SIG) == 0)
        return check_trailer_sig(d, value);
    enum cs_checksum_alg alg;
    if (!d->has_alg || d->got_checksum || !cs_checksum_alg_from_header(name, nlen, &alg) ||
        alg != d->alg || vlen > CS_CHECKSUM_B64_MAX)
        return fail(d, CS_S3_ERR_BAD_TRAILER);
    d->got_checksum = true;
    memcpy(d->checksum_b64, value, vlen + 1);
    /* what the trailer signature covers: "name:value\n", name lowercased */
    cs_sha256_update(&d->trailer_sha, cs_checksum_header(alg), strlen(cs_checksum_header(alg)));
    cs_sha256_update(&d->trailer_sha, ":", 1);
    cs_sha256_update(&d->trailer_sha, value, vlen);
    cs_sha256_update(&d->trailer_sha, "\n", 1);
    return CS_OK;
}

/* The empty line: the body is over; everything declared must have come. */
static enum cs_status trailer_done(struct cs_s3_chunked *d)
{
    if (d->has_alg && !d->got_checksum)
        return fail(d, CS_S3_ERR_BAD_TRAILER);
    if (d->trailer_sig_required && !d->got_trailer_sig)
        return fail(d, CS_S3_ERR_BAD_TRAILER);
    if (d->has_alg) {
        char b64[CS_CHECKSUM_B64_MAX + 1];
        cs_checksum_final_base64(&d->sum, b64);
        if (strcmp(b64, d->checksum_b64) != 0) {
            fail(d, CS_S3_ERR_BAD_DIGEST);
            snprintf(d->message, sizeof d->message,
                     "The %s you specified did not match the calculated checksum.",
                     cs_checksum_alg_name(d->alg));
            return d->status;
        }
    }
    d->st = S_DONE;
    return CS_OK;
}

/* Trailer bytes: lines end in LF, a CR before it is optional (SDKs differ). */
static enum cs_status trailer_byte(struct cs_s3_chunked *d, char c)
{
    if (++d->trailer_bytes > CS_S3_TRAILER_MAX)
        return fail(d, CS_S3_ERR_BAD_TRAILER);
    if (c != '\n') {
        if (c == '\0' || d->tline_len == CS_S3_TRAILER_MAX)
            return fail(d, CS_S3_ERR_BAD_TRAILER);
        d->tline[d->tline_len++] = c;
        return CS_OK;
    }
    if (d->tline_len && d->tline[d->tline_len - 1] == '\r')
        d->tline_len--;
    if (memchr(d->tline, '\r', d->tline_len))
        return fail(d, CS_S3_ERR_BAD_TRAILER);
    enum cs_status st;
    if (d->tline_len)
        st = trailer_line(d);
    else if (d->trailer_bytes <= 2 && (d->has_alg || d->trailer_sig_required) && !d->got_checksum)
        st = CS_OK; /* "0;...\r\n\r\n" then the trailer: some SDKs send the empty
                       final chunk's CRLF first */
    else
        st = trailer_done(d);
    d->tline_len = 0;
    return st;
}

/* A run of payload bytes straight from the caller's slice to the sink. */
static enum cs_status data_run(struct cs_s3_chunked *d, const uint8_t *p, size_t n)
{
    if (d->signed_chunks)
        cs_sha256_update(&d->chunk_sha, p, n);
    if (d->has_alg)
        cs_checksum_update(&d->sum, p, n);
    d->left -= n;
    d->total += n;
    enum cs_status st = d->cfg.sink(d->cfg.sink_ctx, p, n);
    if (st != CS_OK) {
        d->st = S_FAILED;
        d->status = st;
        d->why = CS_S3_OK;
    }
    return st;
}

static enum cs_status framing_byte(struct cs_s3_chunked *d, char c)
{
    switch (d->st) {
    case S_SIZE: return size_byte(d, c);
    case S_EXT: return ext_byte(d, c);
    case S_SIZE_LF: return c == '\n' ? size_line_done(d) : fail(d, CS_S3_ERR_BAD_CHUNKED);
    case S_DATA_CR:
        if (c != '\r')
            return fail(d, CS_S3_ERR_BAD_CHUNKED);
        d->st = S_DATA_LF;
        return CS_OK;
    case S_DATA_LF:
        if (c != '\n')
            return fail(d, CS_S3_ERR_BAD_CHUNKED);
        if (d->signed_chunks && check_chunk(d) != CS_OK)
            return d->status;
        start_size_line(d);
        return CS_OK;
    case S_TRAILER: return trailer_byte(d, c);
    case S_DONE: return fail(d, CS_S3_ERR_BAD_CHUNKED); /* bytes after the end */
    case S_DATA:
    case S_FAILED: break;
    }
    return fail(d, CS_S3_ERR_INTERNAL);
}

enum cs_status cs_s3_chunked_feed(struct cs_s3_chunked *d, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (d->st == S_FAILED)
        return d->status;
    while (len) {
        if (d->st == S_DATA) {
            size_t n = d->left < len ? (size_t)d->left : len;
            enum cs_status st = data_run(d, p, n);
            if (st != CS_OK)
                return st;
            p += n;
            len -= n;
            if (d->left == 0)
                d->st = S_DATA_CR;
            continue;
        }
        enum cs_status st = framing_byte(d, (char)*p);
        if (st != CS_OK)
            return st;
        p++;
        len--;
    }
    return CS_OK;
}

enum cs_status cs_s3_chunked_finish(struct cs_s3_chunked *d)
{
    if (d->st == S_FAILED)
        return d->status;
    if (d->st != S_DONE)
        return fail(d, CS_S3_ERR_INCOMPLETE_BODY);
    return CS_OK;
}

enum cs_s3_err cs_s3_chunked_error(const struct cs_s3_chunked *d)
{
    return d->why;
}

const char *cs_s3_chunked_message(const struct cs_s3_chunked *d)
{
    return d->message[0] ? d->message : cs_s3_err_message(d->why);
}

uint64_t cs_s3_chunked_decoded(const struct cs_s3_chunked *d)
{
    return d->total;
}

const char *cs_s3_chunked_checksum(const struct cs_s3_chunked *d, enum cs_checksum_alg *alg)
{
    if (d->st != S_DONE || !d->got_checksum)
        return NULL;
    if (alg)
        *alg = d->alg;
    return d->checksum_b64;
}
