/* The one table from a cs_status to an HTTP status, for every protocol
 * adapter: two tables drifted apart before (507 against 500 for a full
 * quota). */
#ifndef CS_HTTP_STATUS_H
#define CS_HTTP_STATUS_H

#include <stdbool.h>

#include "common/status.h"

unsigned cs_http_status(enum cs_status st);

/* Whether an answer with this HTTP status gets the default Retry-After:
 * the server is overloaded or cannot record writes now. (A 429 says its
 * own time.) */
bool cs_http_status_retry(unsigned http_status);

/* Seconds a client is told to wait after a 503. */
#define CS_HTTP_RETRY_AFTER "1"

#endif
