/* libFuzzer: the build-id reader takes any file as a compiler; whatever
 * it is, it reads within bounds and finds at most one well-formed id. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/buildid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
    const uint8_t *p;
    size_t n;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n, off_t off)
{
    const struct mem *m = ctx;
    if (off < 0 || (uint64_t)off >= m->n)
        return 0;
    size_t k = m->n - (size_t)off < n ? m->n - (size_t)off : n;
    memcpy(buf, m->p + off, k);
    return (ssize_t)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mem m = {data, size};
    char hex[2 * CS_BUILD_ID_MAX + 1];
    if (cs_build_id_parse(mem_read, &m, hex) == CS_OK) {
        size_t n = strlen(hex);
        if (n == 0 || n % 2 || n > 2 * CS_BUILD_ID_MAX || strspn(hex, "0123456789abcdef") != n)
            abort();
    }
    return 0;
}
