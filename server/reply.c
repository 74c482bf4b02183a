/* Handler answers (see reply.h). */
#include "autoconfig.h"

#include <stdarg.h>
#include <string.h>

#include "server/reply.h"

void cs_reply_init(struct cs_reply *r)
{
    memset(r, 0, sizeof *r);
    cs_buf_init(&r->body, CS_REPLY_MAX);
}

void cs_reply_free(struct cs_reply *r)
{
    cs_buf_free(&r->body);
}

void cs_reply_error(struct cs_reply *out, unsigned status, const char *fmt, ...)
{
    va_list ap;

    cs_buf_free(&out->body);
    cs_buf_init(&out->body, CS_REPLY_MAX);
    va_start(ap, fmt);
    /* a reason never nears the limit; if it fails the answer has no body */
    if (cs_buf_vprintf(&out->body, fmt, ap) == CS_OK)
        (void)cs_buf_add(&out->body, "\n", 1);
    va_end(ap);
    out->status = status;
    out->content_type = "text/plain; charset=utf-8";
    out->error = true;
}
