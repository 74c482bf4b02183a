/* libFuzzer: the Rust path reads result records from a remote server and
 * dep-info files rustc wrote, and turns stored texts back into paths.
 * The first byte picks the part: 0 the record (anything accepted must
 * re-encode and decode the same), 1 dep-info, 2 placeholders (a text
 * put through the roots and back must come out as it went in). */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/rust_depinfo.h"
#include "client/rust_paths.h"
#include "client/rust_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void record(const uint8_t *data, size_t size)
{
    struct cs_rust_result r, r2;
    struct cs_bytes b = {0};
    if (cs_rust_result_decode(data, size, &r) != CS_OK)
        return;
    if (cs_rust_result_encode(&r, &b) != CS_OK ||
        cs_rust_result_decode(b.data, b.len, &r2) != CS_OK)
        abort();
    if (r.n != r2.n || r.err_text.len != r2.err_text.len || r.dep_info.len != r2.dep_info.len ||
        (r.pin == NULL) != (r2.pin == NULL))
        abort();
    for (uint32_t i = 0; i < r.n; i++)
        if (strcmp(r.out[i].name, r2.out[i].name) || strchr(r.out[i].name, '/'))
            abort();
    cs_rust_result_free(&r);
    cs_rust_result_free(&r2);
    cs_bytes_free(&b);
}

static void depinfo(const uint8_t *data, size_t size)
{
    char *text = strndup((const char *)data, size);
    struct cs_rust_depinfo d = {0};
    if (text)
        (void)cs_rust_depinfo_parse(text, &d);
    cs_rust_depinfo_free(&d);
    free(text);
}

static void placeholders(const uint8_t *data, size_t size)
{
    struct cs_rust_roots r = {(char *)"/ws/x", (char *)"/ws/x/target/debug"};
    struct cs_bytes n = {0}, back = {0}, in = {0};
    if (cs_rust_norm_text(&r, data, size, &n) != CS_OK ||
        cs_rust_denorm_text(&r, &n, &back) != CS_OK || back.len != size ||
        (size && memcmp(back.data, data, size)))
        abort();
    /* Hostile stored text: any outcome but a crash. */
    if (cs_bytes_append(&in, data, size) == CS_OK) {
        back.len = 0;
        (void)cs_rust_denorm_text(&r, &in, &back);
    }
    cs_bytes_free(&n);
    cs_bytes_free(&back);
    cs_bytes_free(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 3 == 0)
        record(data + 1, size - 1);
    else if (data[0] % 3 == 1)
        depinfo(data + 1, size - 1);
    else
        placeholders(data + 1, size - 1);
    return 0;
}
