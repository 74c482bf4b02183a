/* Listening addresses ("host:port", "[v6]:port", "https://...") from the
 * file or the command line, and the TLS settings they need. */
#include "autoconfig.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/config_priv.h"

const char *cs_listen_scheme(const char *text, bool *tls, bool *s3)
{
    *tls = false;
    *s3 = false;
    if (strncmp(text, "s3+https://", 11) == 0) {
        *tls = *s3 = true;
        return text + 11;
    }
    if (strncmp(text, "s3://", 5) == 0) {
        *s3 = true;
        return text + 5;
    }
    if (strncmp(text, "https://", 8) == 0) {
        *tls = true;
        return text + 8;
    }
    if (strncmp(text, "http://", 7) == 0)
        return text + 7;
    return text;
}

enum cs_status cs_parse_listen_addr(const char *text, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon, *hstart = text;
    size_t hlen;
    char *end;
    unsigned long p;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return CS_ERR_INVALID;
        hstart = text + 1;
        hlen = (size_t)(close - hstart);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || memchr(text, ':', (size_t)(colon - text)))
            return CS_ERR_INVALID; /* bare IPv6 needs brackets */
        hlen = (size_t)(colon - text);
    }
    if (hlen == 0 || hlen >= hostlen)
        return CS_ERR_INVALID;
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || p > 65535 || colon[1] == '-' ||
        colon[1] == '+')
        return CS_ERR_INVALID;
    memcpy(host, hstart, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return CS_OK;
}

bool cs_listen_addr_why(const char *text, char *why, size_t len)
{
    char host[256];
    uint16_t port;
    if (cs_parse_listen_addr(text, host, sizeof host, &port) == CS_OK)
        return false;
    const char *colon = text[0] == '[' ? strstr(text, "]:") : strrchr(text, ':');
    const char *p = colon ? colon + (text[0] == '[' ? 2 : 1) : NULL;
    size_t digits = p ? strspn(p, "0123456789") : 0;
    if (text[0] == '[' && !colon)
        snprintf(why, len, "an IPv6 address takes the form [ADDR]:PORT");
    else if (!colon)
        snprintf(why, len, "no port: give HOST:PORT, e.g. 127.0.0.1:8080");
    else if (text[0] != '[' && memchr(text, ':', (size_t)(colon - text)))
        snprintf(why, len, "an IPv6 address needs brackets: [ADDR]:PORT");
    else if (colon == text || (text[0] == '[' && colon == text + 1))
        snprintf(why, len,
                 "no host before the port: 0.0.0.0:PORT for every address, 127.0.0.1:PORT for "
                 "this machine only");
    else if (!*p)
        snprintf(why, len, "no port after the ':'");
    else if (p[digits] != '\0' || digits == 0)
        snprintf(why, len, "port '%s' is not a number", p);
    else if (digits > 5 || strtoul(p, NULL, 10) > 65535)
        snprintf(why, len, "port %s is out of range (0 to 65535, 0 for any free port)", p);
    else
        snprintf(why, len, "host name too long");
    return true;
}

void cs_config_load_listen(struct cs_config_loader *ld, const config_setting_t *s,
                           struct cs_config *cfg)
{
    int i, n;

    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        n = 1;
    } else if (config_setting_is_aggregate(s)) {
        n = config_setting_length(s);
    } else {
        cs_config_error(ld, s, "listen must be a list of \"host:port\" strings");
        return;
    }
    if (n == 0 || n > CS_MAX_LISTEN) {
        cs_config_error(ld, s, "listen needs 1 to %d addresses", CS_MAX_LISTEN);
        return;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING
                                        ? s
                                        : config_setting_get_elem(s, (unsigned)i);
        const char *text = config_setting_get_string(e);
        bool tls = false, s3 = false;
        if (text)
            text = cs_listen_scheme(text, &tls, &s3);
        char why[160] = "not a string";
        if (!text || cs_listen_addr_why(text, why, sizeof why)) {
            cs_config_error(ld, e,
                            "listen address %s%s%s: %s (forms: \"host:port\", \"[ipv6]:port\", "
                            "\"http://host:port\", \"https://host:port\", \"s3://host:port\", "
                            "\"s3+https://host:port\")",
                            text ? "'" : "", text ? text : "", text ? "'" : "", why);
            continue;
        }
        cfg->listen_tls[cfg->n_listen] = tls;
        cfg->listen_s3[cfg->n_listen] = s3;
        cfg->listen[cfg->n_listen] = strdup(text);
        if (cfg->listen[cfg->n_listen])
            cfg->n_listen++;
    }
}

enum cs_status cs_config_set_listen(struct cs_config *cfg, char *const *addrs, size_t n)
{
    char host[256];
    uint16_t port;
    size_t i;
    bool tls, s3;

    if (n == 0 || n > CS_MAX_LISTEN)
        return CS_ERR_INVALID;
    for (i = 0; i < n; i++)
        if (cs_parse_listen_addr(cs_listen_scheme(addrs[i], &tls, &s3), host, sizeof host, &port) !=
            CS_OK)
            return CS_ERR_INVALID;
    for (i = 0; i < cfg->n_listen; i++)
        free(cfg->listen[i]);
    cfg->n_listen = 0;
    for (i = 0; i < n; i++) {
        cfg->listen[i] =
            strdup(cs_listen_scheme(addrs[i], &cfg->listen_tls[i], &cfg->listen_s3[i]));
        if (!cfg->listen[i])
            return CS_ERR_NOMEM;
        cfg->n_listen++;
    }
    return CS_OK;
}

bool cs_config_tls_ok(const struct cs_config *cfg, char *why, size_t why_len)
{
    size_t i;
    bool any = false;

    for (i = 0; i < cfg->n_listen; i++)
        any |= cfg->listen_tls[i];
    if (any && (!cfg->tls_cert || !cfg->tls_key)) {
        snprintf(why, why_len, "an https:// listener needs tls_cert and tls_key");
        return false;
    }
    if (cfg->tls_client_ca && !cfg->n_users) {
        snprintf(why, why_len,
                 "tls_client_ca maps a client certificate's CN to a user: "
                 "define users");
        return false;
    }
    return true;
}

void cs_config_check_tls(struct cs_config_loader *ld, const struct cs_config *cfg)
{
    char why[160];

    if (!cs_config_tls_ok(cfg, why, sizeof why))
        cs_config_error(ld, NULL, "%s", why);
}
