/* Base64: encoding, and decoding that accepts both alphabets: the standard one (+/) and
 * the URL-safe one (-_) that Bazel uses for Basic credentials. */
#ifndef CS_BASE64_H
#define CS_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes in[0..in_len) into out (cap bytes). Padding is optional, but
 * when present it must be right; the two alphabets may not be mixed; no
 * whitespace. Returns false on malformed input or when out is too small. */
bool cs_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len);

/* Standard-alphabet encoding with padding; out needs
 * cs_base64_encoded_len(in_len) + 1 bytes (NUL-terminated). */
void cs_base64_encode(const uint8_t *in, size_t in_len, char *out);

static inline size_t cs_base64_encoded_len(size_t in_len)
{
    return (in_len + 2) / 3 * 4;
}

/* Bytes needed to decode in_len characters. */
static inline size_t cs_base64_decoded_max(size_t in_len)
{
    return (in_len + 3) / 4 * 3;
}

#endif
