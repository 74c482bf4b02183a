/* A handler's answer, built in memory: status, body and a few headers.
 * The WebDAV and admin handlers fill one; http_response.c turns it into a
 * libmicrohttpd response (and takes the body). */
#ifndef CS_REPLY_H
#define CS_REPLY_H

#include <stdbool.h>

#include "common/buf.h"

#define CS_REPLY_MAX (64u << 20) /* bytes of one body (a multistatus listing) */

struct cs_reply {
    unsigned status;
    struct cs_buf body;       /* owned: XML, JSON, text, or a one-line reason */
    const char *content_type; /* of body; NULL with an empty body */
    const char *allow;        /* static Allow header value, or NULL */
    bool dav_header;          /* add "DAV: 1" */
    bool error;               /* body is a reason worth logging */
    bool no_store;            /* figures of the moment: Cache-Control: no-store */
    bool page;                /* an HTML page: its Content-Security-Policy and framing */
};

void cs_reply_init(struct cs_reply *r);
void cs_reply_free(struct cs_reply *r);
/* A plain-text one-line answer (a reason, logged by http.c as an error);
 * replaces what the body held. */
void cs_reply_error(struct cs_reply *out, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
