/* libFuzzer: the Destination header of MOVE/COPY (first line) with a Host
 * header (second line). A target must stay in the source's namespace. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/destination.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cs_config *cfg;
    struct cs_config_errors errs = {0};
    struct cs_route src, dst;
    char reason[256], *text, *nl;

    if (!cfg && cs_config_load_string("namespaces = ( { name = \"ns\"; }, { name = \"other\"; } );",
                                      "f", &cfg, &errs) != CS_OK)
        abort();
    if (cs_route_parse(cfg, "/ns/src", &src, reason, sizeof reason) != CS_OK)
        abort();
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    if (cs_destination_parse(cfg, text, nl ? nl + 1 : NULL, &src, &dst, reason, sizeof reason) ==
        CS_OK) {
        if (dst.ns != src.ns || dst.key_len > CS_KEY_MAX)
            abort();
    }
    free(text);
    return 0;
}
