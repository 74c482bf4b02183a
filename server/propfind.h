/* PROPFIND: parsing the request body (with expat) and writing the
 * multistatus answer. Collections are virtual, so the properties come from
 * the index (listings) or the object's header (single objects). */
#ifndef CS_PROPFIND_H
#define CS_PROPFIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/status.h"

#define CS_PROPFIND_BODY_MAX (64 * 1024)
#define CS_PROPFIND_PROPS_MAX 64

enum cs_propfind_kind { CS_PROPFIND_ALLPROP, CS_PROPFIND_PROPNAME, CS_PROPFIND_PROP };

struct cs_prop_name {
    char ns[128]; /* namespace URI, "DAV:" for ours */
    char name[64];
};

struct cs_propfind_request {
    enum cs_propfind_kind kind;
    struct cs_prop_name props[CS_PROPFIND_PROPS_MAX];
    size_t n_props;
};

/* An empty body means allprop (RFC 4918 9.1). Malformed XML, a root that
 * is not DAV:propfind, or too many properties: CS_ERR_INVALID with a
 * one-line reason. */
enum cs_status cs_propfind_parse(const char *body, size_t len, struct cs_propfind_request *out,
                                 char *reason, size_t reason_len);

/* What one response element describes. */
struct cs_dav_resource {
    const char *ns;   /* namespace, first segment of the href */
    const char *path; /* key or collection path, decoded, no trailing slash */
    size_t path_len;
    bool collection;
    uint64_t size;
    time_t mtime;
    const uint8_t *etag;      /* 32 bytes or NULL */
    const char *content_type; /* NULL or "" = application/octet-stream */
};

void cs_propfind_begin(struct cs_buf *out);
void cs_propfind_add(struct cs_buf *out, const struct cs_propfind_request *req,
                     const struct cs_dav_resource *r);
void cs_propfind_end(struct cs_buf *out);

/* Percent-encodes a decoded path for an href: unreserved characters and
 * '/' stay, everything else becomes %XX. The href is plain ASCII whatever
 * the key's bytes (invalid UTF-8 included), and clients (rclone, OpenDAL)
 * decode it back to the exact key. */
void cs_href_encode(struct cs_buf *out, const char *s, size_t n);

/* RFC 1123 date ("Sat, 21 Nov 2026 10:00:00 GMT") into out (at least 30 bytes). */
void cs_http_date(time_t t, char *out, size_t len);

#endif
