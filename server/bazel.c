/* Bazel's remote cache: the rule that a CAS key names its body's digest. */
#include "autoconfig.h"

#include <string.h>

#include "server/bazel.h"

bool cs_bazel_cas_digest(const char *key, size_t len, uint8_t out[CS_SHA256_LEN])
{
    size_t i;

    if (len < 4 + CS_SHA256_HEX_LEN)
        return false;
    const char *hex = key + len - CS_SHA256_HEX_LEN;
    if (memcmp(hex - 4, "cas/", 4) != 0 || (hex - 4 != key && hex[-5] != '/'))
        return false;
    for (i = 0; i < CS_SHA256_HEX_LEN; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return false;
    return cs_hex_decode(hex, CS_SHA256_HEX_LEN, out, CS_SHA256_LEN);
}
