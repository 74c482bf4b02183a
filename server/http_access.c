/* Access: who the client is (Basic, Bearer, an mTLS certificate) and
 * whether it may do what it asks, plus the request's size limits. */
#include "autoconfig.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "server/auth_flight.h"
#include "server/credentials.h"
#include "server/http_priv.h"

#define WRONG_CREDENTIALS "wrong credentials: unknown user, wrong password or unknown token"

struct cs_conn *http_conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* mTLS: the CN of a client certificate that the configured CA signed.
 * Checked once per connection: the handshake does not change. */
static void check_client_cert(struct cs_conn *c, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    const gnutls_datum_t *certs;
    gnutls_x509_crt_t crt;
    unsigned status = 0, n = 0;
    size_t size = sizeof c->cn - 1;

    c->cert_checked = true;
    if (!ci || !ci->tls_session)
        return;
    certs = gnutls_certificate_get_peers(ci->tls_session, &n);
    if (!certs || n == 0)
        return; /* no certificate: the request is anonymous */
    c->cn[0] = '\0';
    if (gnutls_certificate_verify_peers2(ci->tls_session, &status) != GNUTLS_E_SUCCESS ||
        status != 0 || gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS)
        goto bad;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) != GNUTLS_E_SUCCESS ||
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, c->cn, &size) !=
            GNUTLS_E_SUCCESS) {
        gnutls_x509_crt_deinit(crt);
        goto bad;
    }
    gnutls_x509_crt_deinit(crt);
    c->cn[size < sizeof c->cn ? size : sizeof c->cn - 1] = '\0';
    c->cert_ok = true;
    return;
bad:
    c->cn[0] = '\1'; /* presented, not trusted: no user has this name */
    c->cn[1] = '\0';
}

static const struct sockaddr *client_addr(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    return ci ? ci->client_addr : NULL;
}

/* 429: the client's address spent its budget of failed hashes. */
static void prepare_throttled(struct cs_request *req, unsigned retry_s, const char *method,
                              const char *url)
{
    char reason[REASON_MAX], retry[16];

    snprintf(reason, sizeof reason,
             "too many failed authentications from this address: retry in %u s", retry_s);
    http_prepare_error(req, method, url, MHD_HTTP_TOO_MANY_REQUESTS, reason);
    snprintf(retry, sizeof retry, "%u", retry_s);
    if (req->response)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, retry);
}

/* Keeps the credentials for JOB_AUTH, unless the address has spent its
 * budget already (429 without a hash, nor a worker). false when the
 * request is answered. The budget itself is taken in the worker, just
 * before the hash: hashes that run at once must each find it. */
static bool keep_for_hash(struct cs_server *srv, struct cs_request *req,
                          struct cs_credentials *cred, const struct sockaddr *addr,
                          const char *method, const char *url)
{
    unsigned retry_s = 1;

    if (!cs_auth_limit_allow(srv->auth_limit, addr, &retry_s)) {
        cs_credentials_clear(cred);
        prepare_throttled(req, retry_s, method, url);
        return false;
    }
    req->client_addr = addr;
    req->cred = malloc(sizeof *req->cred);
    if (!req->cred) {
        cs_credentials_clear(cred);
        http_prepare_error(req, method, url, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return false;
    }
    *req->cred = *cred;
    cs_credentials_clear(cred);
    return true;
}

void http_auth_cancel(struct cs_server *srv, struct cs_request *req)
{
    (void)srv;
    if (req->cred) {
        cs_credentials_clear(req->cred);
        free(req->cred);
        req->cred = NULL;
    }
}

/* What names one credential for the single-flight table. */
static void credential_key(const struct cs_credentials *c, uint8_t key[CS_SHA256_LEN])
{
    const void *parts[] = {c->user, "", c->secret};
    size_t lens[] = {strlen(c->user), 1, c->secret_len};

    cs_sha256_parts(parts, lens, 3, key);
}

/* One hash, within the address's budget and alone for its credential.
 * false: the budget is spent (*retry_s). */
static bool hash_once(struct cs_server *srv, struct cs_request *req, int place, int *uid,
                      enum cs_auth_result *r, unsigned *retry_s)
{
    if (!cs_auth_limit_begin(srv->auth_limit, req->client_addr, retry_s)) {
        cs_auth_flight_end(srv->auth_flight, place);
        return false;
    }
    *r = cs_auth_verify_slow(req->policy->auth, req->cred, uid);
    cs_auth_limit_end(srv->auth_limit, req->client_addr,
                      *r == CS_AUTH_DENIED ? CS_AUTH_LIMIT_WRONG : CS_AUTH_LIMIT_RIGHT);
    cs_auth_flight_end(srv->auth_flight, place);
    return true;
}

void http_verify_password(struct cs_server *srv, struct cs_request *req)
{
    uint8_t key[CS_SHA256_LEN];
    enum cs_auth_result r;
    unsigned retry_s = 1;
    int uid = -1;

    credential_key(req->cred, key);
    req->auth_throttled = false;
    for (;;) {
        /* another request may have verified the same password meanwhile */
        r = cs_auth_lookup(req->policy->auth, req->cred, &uid);
        if (r != CS_AUTH_SLOW)
            break;
        int place = cs_auth_flight_begin(srv->auth_flight, key);
        if (place == CS_FLIGHT_WAITED)
            continue;
        if (!hash_once(srv, req, place, &uid, &r, &retry_s)) {
            req->auth_throttled = true;
            req->retry_s = retry_s;
            r = CS_AUTH_DENIED;
        }
        break;
    }
    http_auth_cancel(srv, req);
    req->uid = r == CS_AUTH_DENIED ? -1 : uid;
    req->auth_result = r;
    req->auth_done = true;
}

static enum http_auth denied(struct cs_request *req, const char *method, const char *url)
{
    req->uid = -1;
    http_prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED, WRONG_CREDENTIALS);
    return HTTP_AUTH_ANSWERED;
}

/* An mTLS client: its certificate's CN names the user. */
static enum http_auth authenticate_cert(struct cs_server *srv, struct cs_request *req,
                                        struct MHD_Connection *conn, const char *method,
                                        const char *url)
{
    struct cs_conn *c = srv->tls_ca ? http_conn_of(conn) : NULL;

    if (!c)
        return HTTP_AUTH_OK;
    if (!c->cert_checked)
        check_client_cert(c, conn);
    if (c->cn[0] == '\0')
        return HTTP_AUTH_OK;
    req->uid = c->cert_ok ? cs_config_find_user(req->policy->cfg, c->cn) : -1;
    if (req->uid >= 0)
        return HTTP_AUTH_OK;
    http_prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED,
                       "client certificate not trusted, or its CN names no user");
    return HTTP_AUTH_ANSWERED;
}

enum http_auth http_authenticate(struct cs_server *srv, struct cs_request *req,
                                 struct MHD_Connection *conn, const char *method, const char *url)
{
    const char *h =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    struct cs_credentials cred;
    char reason[REASON_MAX];
    const char *why = "";
    enum cs_auth_result r;

    if (req->auth_done && req->auth_throttled) {
        req->uid = -1;
        prepare_throttled(req, req->retry_s, method, url);
        return HTTP_AUTH_ANSWERED;
    }
    if (req->auth_done) /* the hash ran in a worker and set req->uid */
        return req->auth_result == CS_AUTH_DENIED ? denied(req, method, url) : HTTP_AUTH_OK;
    req->uid = -1;
    if (!h)
        return authenticate_cert(srv, req, conn, method, url);
    if (cs_credentials_parse(h, &cred, &why) != CS_OK) {
        snprintf(reason, sizeof reason, "malformed Authorization header: %s", why);
        http_prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED, reason);
        return HTTP_AUTH_ANSWERED;
    }
    r = cs_auth_lookup(req->policy->auth, &cred, &req->uid);
    if (r == CS_AUTH_SLOW) {
        const struct sockaddr *addr = client_addr(conn);
        req->uid = -1;
        return keep_for_hash(srv, req, &cred, addr, method, url) ? HTTP_AUTH_SLOW
                                                                 : HTTP_AUTH_ANSWERED;
    }
    cs_credentials_clear(&cred);
    return r == CS_AUTH_DENIED ? denied(req, method, url) : HTTP_AUTH_OK;
}

/* The right a method needs, and whether the client has it on ns; if not,
 * the answer is prepared: 401 for anonymous clients (credentials may
 * help), 403 for users. Said before looking at the key, so the answer
 * does not depend on whether it exists. */
bool http_authorize(struct cs_request *req, const struct cs_namespace_config *ns, unsigned need,
                    const char *method, const char *url)
{
    char reason[REASON_MAX];

    if ((cs_config_rights(ns, req->uid) & need) == need)
        return true;
    if (req->uid < 0) {
        snprintf(reason, sizeof reason, "namespace '%s' needs credentials to %s", ns->name,
                 need == CS_RIGHT_READ ? "read" : "write");
        http_prepare_error(req, method, url, MHD_HTTP_UNAUTHORIZED, reason);
    } else {
        snprintf(reason, sizeof reason, "user '%s' may not %s namespace '%s'",
                 req->policy->cfg->users[req->uid].name,
                 need == CS_RIGHT_READ ? "read" : "write to", ns->name);
        http_prepare_error(req, method, url, MHD_HTTP_FORBIDDEN, reason);
    }
    return false;
}

/* Request target and header sizes against the limits: 414 / 431. */
bool http_within_limits(struct cs_server *srv, struct cs_request *req, const char *method,
                        const char *url)
{
    char reason[REASON_MAX];
    size_t n = strlen(url);

    if (n > srv->limits.url_length) {
        snprintf(reason, sizeof reason, "request path of %zu bytes is over limits.url_length %u", n,
                 srv->limits.url_length);
        http_prepare_error(req, method, url, MHD_HTTP_URI_TOO_LONG, reason);
        return false;
    }
    n += strlen(method) + 12 + req->header_bytes;
    if (n > srv->limits.header_size) {
        snprintf(reason, sizeof reason,
                 "request line and headers of %zu bytes are over limits.header_size %u", n,
                 srv->limits.header_size);
        http_prepare_error(req, method, url, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, reason);
        return false;
    }
    return true;
}
