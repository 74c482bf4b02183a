/* Authorization header parsing. */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "server/credentials.h"

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static size_t trimmed_len(const char *p)
{
    size_t n = strlen(p);

    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return n;
}

static enum cs_status parse_basic(const char *p, struct cs_credentials *out, const char **reason)
{
    uint8_t buf[CS_CRED_USER_MAX + 1 + CS_CRED_SECRET_MAX];
    size_t len = trimmed_len(p), n, i, user_len;
    const uint8_t *colon;

    n = 0;
    if (!cs_base64_decode(p, len, buf, sizeof buf, &n)) {
        *reason = "Basic credentials are not valid base64 (or too long)";
        goto refuse;
    }
    colon = memchr(buf, ':', n);
    if (!colon) {
        *reason = "Basic credentials lack the ':' between user and password";
        goto refuse;
    }
    user_len = (size_t)(colon - buf);
    if (user_len > CS_CRED_USER_MAX || n - user_len - 1 > CS_CRED_SECRET_MAX) {
        *reason = "Basic credentials too long";
        goto refuse;
    }
    for (i = 0; i < n; i++) {
        if (buf[i] == '\0' || buf[i] < 0x20 || buf[i] == 0x7f) {
            *reason = "Basic credentials contain control characters";
            goto refuse;
        }
    }
    memcpy(out->user, buf, user_len);
    out->user[user_len] = '\0';
    out->secret_len = n - user_len - 1;
    memcpy(out->secret, colon + 1, out->secret_len);
    out->secret[out->secret_len] = '\0';
    out->scheme = CS_CRED_BASIC;
    explicit_bzero(buf, n);
    return CS_OK;
refuse:
    explicit_bzero(buf, n < sizeof buf ? n : sizeof buf); /* the decoded password too */
    return CS_ERR_INVALID;
}

static enum cs_status parse_bearer(const char *p, struct cs_credentials *out, const char **reason)
{
    size_t len = trimmed_len(p), i;

    if (len == 0 || len > CS_CRED_SECRET_MAX) {
        *reason = len ? "Bearer token too long" : "empty Bearer token";
        return CS_ERR_INVALID;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f) {
            *reason = "Bearer token contains spaces or non-ASCII characters";
            return CS_ERR_INVALID;
        }
    }
    memcpy(out->secret, p, len);
    out->secret[len] = '\0';
    out->secret_len = len;
    out->scheme = CS_CRED_BEARER;
    return CS_OK;
}

enum cs_status cs_credentials_parse(const char *header, struct cs_credentials *out,
                                    const char **reason)
{
    const char *p;

    /* not the whole struct: its 8 KiB secret is written only as far as used */
    out->scheme = CS_CRED_NONE;
    out->user[0] = '\0';
    out->secret[0] = '\0';
    out->secret_len = 0;
    if (!header)
        return CS_OK;
    p = skip_spaces(header);
    if (strncasecmp(p, "Basic", 5) == 0 && (p[5] == ' ' || p[5] == '\t'))
        return parse_basic(skip_spaces(p + 5), out, reason);
    if (strncasecmp(p, "Bearer", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
        return parse_bearer(skip_spaces(p + 6), out, reason);
    *reason = "unsupported Authorization scheme (use Basic or Bearer)";
    return CS_ERR_INVALID;
}

void cs_credentials_clear(struct cs_credentials *c)
{
    /* explicit_bzero: the compiler may not drop a store to dead memory */
    explicit_bzero(c->secret,
                   c->secret_len < sizeof c->secret ? c->secret_len + 1 : sizeof c->secret);
    c->secret_len = 0;
}
