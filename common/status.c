/* Text for each cs_status, and the errno mapping used by the storage code. */
#include "autoconfig.h"

#include <errno.h>

#include "common/status.h"

const char *cs_strerror(enum cs_status st)
{
    switch (st) {
    case CS_OK: return "ok";
    case CS_ERR_NOMEM: return "out of memory";
    case CS_ERR_IO: return "input/output error";
    case CS_ERR_NOT_FOUND: return "not found";
    case CS_ERR_BAD_KEY: return "invalid key";
    case CS_ERR_TOO_LARGE: return "too large";
    case CS_ERR_NO_SPACE: return "no space left on the storage device";
    case CS_ERR_INVALID: return "invalid value";
    case CS_ERR_EXISTS: return "already exists";
    case CS_ERR_BUSY: return "in use";
    case CS_ERR_PERM: return "permission denied";
    case CS_ERR_DIGEST: return "body does not match the sha256 digest in its key";
    case CS_ERR_CONFLICT: return "conflict";
    case CS_ERR_QUOTA: return "size limit reached and eviction could not free space in time";
    case CS_ERR_UNAVAILABLE: return "remote storage tier unavailable";
    case CS_ERR_INDEX: return "the index cannot record writes now";
    case CS_ERR_OVERLOAD: return "too many writes waiting to be recorded";
    case CS_ERR_WOULD_BLOCK: return "would have to wait (asked not to)";
    }
    return "unknown error";
}

enum cs_status cs_status_from_errno(int err)
{
    switch (err) {
    case 0: return CS_OK;
    case ENOENT: return CS_ERR_NOT_FOUND;
    case ENOSPC:
    case EDQUOT: return CS_ERR_NO_SPACE;
    case ENOMEM: return CS_ERR_NOMEM;
    case EEXIST: return CS_ERR_EXISTS;
    case EACCES:
    case EPERM:
    case EROFS: return CS_ERR_PERM;
    case EFBIG: return CS_ERR_TOO_LARGE;
    default: return CS_ERR_IO;
    }
}
