/* Keys: the part of the URL after /<namespace>/. Every key is decoded and
 * validated here and nowhere else, so no request can name a file outside
 * the data directory or smuggle control characters into logs. */
#ifndef CS_KEY_H
#define CS_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define CS_KEY_MAX 1024        /* bytes of a decoded key */
#define CS_KEY_SEGMENT_MAX 255 /* bytes of one '/'-separated segment */
#define CS_NAMESPACE_MAX 64    /* bytes of a namespace name */

/* Percent-decodes raw[0..raw_len) into out (at least CS_KEY_MAX + 1 bytes)
 * and validates it. On CS_ERR_BAD_KEY, *reason is a static one-line text. */
enum cs_status cs_key_normalize(const char *raw, size_t raw_len, char *out, size_t *out_len,
                                const char **reason);

/* Validates a key that is already decoded (from an XML body, say). */
enum cs_status cs_key_validate(const char *key, size_t len, const char **reason);

/* Namespace names: 1..64 of [A-Za-z0-9._-], not starting with '.', '_' or '-'. */
bool cs_namespace_name_valid(const char *name, size_t len);

#endif
