/* What the remote tiers (s3.c, redis.c, upstream.c) and the tier layer
 * (tiers.c) share: remote.h's helpers. It depends on no tier, so the
 * tiers use it and none of them reaches into another. */
#include "autoconfig.h"

#include "common/hash.h"
#include "storage/remote.h"

void cs_remote_digest_hex(const struct cs_object_id *id, char out[CS_SHA256_HEX_LEN + 1])
{
    cs_hex_encode(id->digest, CS_SHA256_LEN, out);
}
