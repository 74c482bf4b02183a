/* libFuzzer: PROPFIND request bodies (XML), and rendering an answer for
 * whatever was parsed. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>

#include "server/propfind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_propfind_request req;
    struct cs_dav_resource res = {.ns = "ns", .path = "a b/%c", .path_len = 7, .size = 3};
    struct cs_buf out;
    char reason[256];

    if (cs_propfind_parse((const char *)data, size, &req, reason, sizeof reason) != CS_OK)
        return 0;
    if (req.n_props > CS_PROPFIND_PROPS_MAX)
        abort();
    cs_buf_init(&out, 1 << 20);
    cs_propfind_begin(&out);
    cs_propfind_add(&out, &req, &res);
    cs_propfind_end(&out);
    cs_buf_free(&out);
    return 0;
}
