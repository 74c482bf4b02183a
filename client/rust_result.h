/* The record of one cached rustc call: the files it wrote (by name in the
 * output directory and by the sha256 of their content, which is where the
 * content-addressed store keeps them), the dep-info text, stdout and
 * stderr. Texts are kept with the call's roots replaced (rust.c), so a
 * record serves any checkout; one whose outputs hold a root's path is
 * pinned to the roots it was built with. One zstd blob, decoded as
 * hostile input: anything malformed is a miss. */
#ifndef CS_CLIENT_RUST_RESULT_H
#define CS_CLIENT_RUST_RESULT_H

#include <stdint.h>

#include "client/util.h"
#include "common/hash.h"

#define CS_RUST_MAX_OUTPUTS 16

struct cs_rust_output {
    char *name; /* file name in the output dir (no '/') */
    uint8_t sha[CS_SHA256_LEN];
    uint64_t size;
    uint32_t mode; /* permission bits */
};

struct cs_rust_result {
    uint32_t n;
    struct cs_rust_output out[CS_RUST_MAX_OUTPUTS];
    struct cs_bytes dep_info; /* empty when none was written */
    struct cs_bytes out_text, err_text;
    char *pin; /* NULL, or the roots the outputs embed (rust.c's form) */
};

enum cs_status cs_rust_result_encode(const struct cs_rust_result *r, struct cs_bytes *out);
enum cs_status cs_rust_result_decode(const uint8_t *data, size_t len, struct cs_rust_result *r);
void cs_rust_result_free(struct cs_rust_result *r);

#endif
