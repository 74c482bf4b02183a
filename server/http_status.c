/* cs_status → HTTP status. */
#include "autoconfig.h"

#include <microhttpd.h>

#include "server/http_status.h"

unsigned cs_http_status(enum cs_status st)
{
    switch (st) {
    case CS_OK: return MHD_HTTP_OK;
    case CS_ERR_NOT_FOUND: return MHD_HTTP_NOT_FOUND;
    case CS_ERR_BAD_KEY:
    case CS_ERR_INVALID:
    case CS_ERR_DIGEST: return MHD_HTTP_BAD_REQUEST;
    case CS_ERR_CONFLICT: return MHD_HTTP_CONFLICT;
    case CS_ERR_EXISTS: return MHD_HTTP_PRECONDITION_FAILED;
    case CS_ERR_TOO_LARGE: return MHD_HTTP_CONTENT_TOO_LARGE;
    case CS_ERR_NO_SPACE:
    case CS_ERR_QUOTA: return MHD_HTTP_INSUFFICIENT_STORAGE;
    case CS_ERR_BUSY:
    case CS_ERR_UNAVAILABLE:
    case CS_ERR_INDEX:
    case CS_ERR_OVERLOAD: return MHD_HTTP_SERVICE_UNAVAILABLE;
    case CS_ERR_WOULD_BLOCK: /* never reaches a client: the work moves to a worker */
    case CS_ERR_NOMEM:
    case CS_ERR_IO:
    case CS_ERR_PERM: return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

bool cs_http_status_retry(unsigned http_status)
{
    return http_status == MHD_HTTP_SERVICE_UNAVAILABLE;
}
