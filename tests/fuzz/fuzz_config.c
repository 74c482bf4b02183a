/* libFuzzer: configuration text. Loading never crashes; a valid config is
 * consistent (every ACL names a real user, limits are set). */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_config_errors errs = {0};
    struct cs_config *cfg = NULL;
    char *text = malloc(size + 1);
    size_t i;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (cs_config_load_string(text, "fuzz.conf", &cfg, &errs) == CS_OK) {
        if (!cfg->n_namespaces || !cfg->n_listen || !cfg->limits.connections)
            abort();
        for (i = 0; i < cfg->n_namespaces; i++)
            if (!cfg->namespaces[i].name)
                abort();
        cs_config_free(cfg);
    } else if (!errs.count) {
        abort(); /* every refusal is explained */
    }
    cs_config_errors_clear(&errs);
    free(text);
    return 0;
}
