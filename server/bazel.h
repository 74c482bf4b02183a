/* Bazel's remote cache rules that the server enforces. */
#ifndef CS_BAZEL_H
#define CS_BAZEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

/* Bazel's CAS: a key ending in "cas/<64 lowercase hex>" (at any prefix)
 * names the sha256 of its body; true and the digest in out if key is one. */
bool cs_bazel_cas_digest(const char *key, size_t len, uint8_t out[CS_SHA256_LEN]);

#endif
