/* libFuzzer: cstash's result and manifest decoders read blobs from a
 * remote server; anything they accept must re-encode and decode the same. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_result r, r2;
    struct cs_manifest m, m2;
    struct cs_bytes b = {0};
    if (cs_result_decode(data, size, &r) == CS_OK) {
        if (cs_result_encode(&r, &b) != CS_OK || cs_result_decode(b.data, b.len, &r2) != CS_OK)
            abort();
        for (int t = 1; t <= 4; t++)
            if (r.has[t] != r2.has[t] || r.sec[t].len != r2.sec[t].len ||
                (r.sec[t].len && memcmp(r.sec[t].data, r2.sec[t].data, r.sec[t].len)))
                abort();
        cs_result_free(&r2);
        cs_result_free(&r);
    }
    b.len = 0;
    if (cs_manifest_decode(data, size, &m) == CS_OK) {
        if (cs_manifest_encode(&m, &b) != CS_OK ||
            cs_manifest_decode(b.data, b.len, &m2) != CS_OK || m.n != m2.n)
            abort();
        cs_manifest_free(&m2);
        cs_manifest_free(&m);
    }
    cs_bytes_free(&b);
    return 0;
}
