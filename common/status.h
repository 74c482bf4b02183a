/* One status type for the whole program: CS_OK or a negative error.
 * cs_strerror() gives the one-line text; the router maps statuses to HTTP. */
#ifndef CS_STATUS_H
#define CS_STATUS_H

enum cs_status {
    CS_OK = 0,
    CS_ERR_NOMEM = -1,
    CS_ERR_IO = -2,        /* an unexpected system call failure */
    CS_ERR_NOT_FOUND = -3, /* no such object */
    CS_ERR_BAD_KEY = -4,   /* key failed validation */
    CS_ERR_TOO_LARGE = -5, /* body over max_blob_size */
    CS_ERR_NO_SPACE = -6,  /* ENOSPC / EDQUOT while storing */
    CS_ERR_INVALID = -7,   /* bad argument or configuration value */
    CS_ERR_EXISTS = -8,
    CS_ERR_BUSY = -9,         /* resource held by someone else (data dir lock) */
    CS_ERR_PERM = -10,        /* EACCES / EPERM / EROFS */
    CS_ERR_DIGEST = -11,      /* body does not hash to the digest its key names */
    CS_ERR_CONFLICT = -12,    /* parent collection missing, or kind mismatch */
    CS_ERR_QUOTA = -13,       /* namespace or data dir at its hard size limit */
    CS_ERR_UNAVAILABLE = -14, /* a remote tier failed, timed out or is switched off */
    CS_ERR_INDEX = -15,       /* the index cannot commit writes (not for lack of space) */
    CS_ERR_OVERLOAD = -16,    /* a bounded queue is full: retry later */
    CS_ERR_WOULD_BLOCK = -17, /* asked not to wait, and the work would have to */
};

/* On functions whose status decides whether a request may be acknowledged:
 * the compiler refuses a caller that drops it. */
#define CS_MUST_CHECK __attribute__((warn_unused_result))

const char *cs_strerror(enum cs_status st);

/* Map an errno value from a storage operation to a status. */
enum cs_status cs_status_from_errno(int err);

#endif
