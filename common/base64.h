/* Base64 decoding that accepts both alphabets: the standard one (+/) and
 * the URL-safe one (-_) that Bazel uses for Basic credentials. */
#ifndef CS_BASE64_H
#define CS_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes in[0..in_len) into out (cap bytes). Padding is optional, but
 * when present it must be right; the two alphabets may not be mixed; no
 * whitespace. Returns false on malformed input or when out is too small. */
bool cs_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
                      size_t *out_len);

/* Bytes needed to decode in_len characters. */
static inline size_t cs_base64_decoded_max(size_t in_len)
{
    return (in_len + 3) / 4 * 3;
}

#endif
