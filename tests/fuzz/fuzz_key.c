/* libFuzzer: request paths through key normalisation and routing. A valid
 * key must never contain what normalisation promises to refuse. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/key.h"
#include "server/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cs_config *cfg;
    struct cs_config_errors errs = {0};
    char out[CS_KEY_MAX + 1], *url, reason[256];
    const char *why = NULL;
    struct cs_route r;
    size_t len = 0;

    if (!cfg &&
        cs_config_load_string("namespaces = ( { name = \"ns\"; } );", "f", &cfg, &errs) != CS_OK)
        abort();
    if (cs_key_normalize((const char *)data, size, out, &len, &why) == CS_OK) {
        if (len > CS_KEY_MAX || memchr(out, '\0', len) || strstr(out, "/../") ||
            strncmp(out, "../", 3) == 0 || out[0] == '/')
            abort();
    }
    (void)cs_namespace_name_valid((const char *)data, size);
    url = malloc(size + 5);
    if (!url)
        return 0;
    memcpy(url, "/ns/", 4);
    memcpy(url + 4, data, size);
    url[size + 4] = '\0';
    if (cs_route_parse(cfg, url, &r, reason, sizeof reason) == CS_OK && r.key_len > CS_KEY_MAX)
        abort();
    url[0] = size ? (char)data[0] : '/';
    (void)cs_route_parse(cfg, url, &r, reason, sizeof reason);
    free(url);
    return 0;
}
