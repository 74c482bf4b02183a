/* libFuzzer: preprocessor output scanning (line markers, paths under a
 * base dir) and compiler command lines (with response files absent). */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/args.h"
#include "client/ppscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_sha256 h;
    struct cs_strv inc = {0};
    cs_sha256_init(&h);
    if (cs_ppscan((const char *)data, size, "/base/p/build", "/base/p", &h, &inc) != CS_OK)
        abort();
    for (size_t i = 0; i < inc.n; i++)
        if (!inc.v[i][0] || inc.v[i][0] == '<')
            abort();
    cs_strv_free(&inc);
    /* The same bytes as NUL-separated arguments. */
    char *copy = malloc(size + 1), *argv[256];
    int argc = 0;
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (char *s = copy; s < copy + size && argc < 255; s += strlen(s) + 1)
        argv[argc++] = s;
    struct cs_args a;
    if (cs_args_parse(argc, argv, "/base/p/build", "/base/p", &a) == CS_OK) {
        if (a.reason == CS_UNC_NONE && (!a.input || !a.output || (a.dep && !a.dep_file)))
            abort();
        cs_args_free(&a);
    }
    free(copy);
    return 0;
}
