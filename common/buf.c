/* The bounded buffer (see buf.h). */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

void cs_buf_init(struct cs_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->overflow = false;
    b->err = CS_OK;
}

static enum cs_status fail(struct cs_buf *b, enum cs_status st)
{
    b->overflow = true;
    b->err = st;
    return st;
}

/* Room for n more bytes and a NUL. */
static enum cs_status reserve(struct cs_buf *b, size_t n)
{
    size_t want, cap;
    char *p;

    if (b->overflow)
        return b->err;
    if (n > b->max || b->len + n + 1 > b->max)
        return fail(b, CS_ERR_TOO_LARGE);
    want = b->len + n + 1;
    if (want <= b->cap)
        return CS_OK;
    cap = b->cap ? b->cap : 4096;
    while (cap < want)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    p = realloc(b->data, cap);
    if (!p)
        return fail(b, CS_ERR_NOMEM);
    b->data = p;
    b->cap = cap;
    return CS_OK;
}

enum cs_status cs_buf_add(struct cs_buf *b, const void *s, size_t n)
{
    enum cs_status st = reserve(b, n);

    if (st != CS_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CS_OK;
}

enum cs_status cs_buf_vprintf(struct cs_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    enum cs_status st;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) {
        va_end(again);
        return fail(b, CS_ERR_INVALID);
    }
    st = reserve(b, (size_t)n);
    if (st == CS_OK) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
    return st;
}

enum cs_status cs_buf_printf(struct cs_buf *b, const char *fmt, ...)
{
    va_list ap;
    enum cs_status st;

    va_start(ap, fmt);
    st = cs_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

void cs_buf_reset(struct cs_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
    b->overflow = false;
    b->err = CS_OK;
}

void cs_buf_free(struct cs_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
