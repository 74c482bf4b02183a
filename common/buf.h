/* A growable byte buffer with a hard size limit, for answers built in
 * memory (XML listings, JSON, metrics, one-line reasons). Like curl's
 * dynbuf: a write that would pass the limit fails and says so, and the
 * buffer keeps that failure, so a caller may write a whole answer and
 * check once at the end. Nothing is ever cut short silently. */
#ifndef CS_BUF_H
#define CS_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/status.h"

struct cs_buf {
    char *data; /* NUL-terminated when len > 0; owned */
    size_t len, cap, max;
    bool overflow;      /* a write failed: err says why, later writes fail too */
    enum cs_status err; /* CS_OK, CS_ERR_TOO_LARGE (over max) or CS_ERR_NOMEM */
};

void cs_buf_init(struct cs_buf *b, size_t max);
/* CS_OK, or the buffer's failure (it is left as it was before the write). */
enum cs_status cs_buf_add(struct cs_buf *b, const void *s, size_t n);
enum cs_status cs_buf_printf(struct cs_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum cs_status cs_buf_vprintf(struct cs_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Empties the buffer and clears a failure; the limit stays. */
void cs_buf_reset(struct cs_buf *b);
void cs_buf_free(struct cs_buf *b);

#endif
