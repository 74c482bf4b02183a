/* Object ids: storage names objects by a hash of (namespace, key), so no
 * key, however crafted, maps to a path of its choosing. */
#include "autoconfig.h"

#include <string.h>

#include "storage/backend.h"

void cs_object_id_init(struct cs_object_id *id, const char *ns, const char *key, size_t key_len)
{
    const void *parts[3] = {ns, "", key};
    size_t lens[3] = {strlen(ns), 1, key_len};

    id->ns = ns;
    id->key = key;
    id->key_len = key_len;
    cs_sha256_parts(parts, lens, 3, id->digest);
}
