/* Hex digits of bytes and back (keys, digests, tokens). */
#include "autoconfig.h"

#include "common/hash.h"

void cs_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int cs_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool cs_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t len)
{
    size_t i;

    if (in_len != 2 * len)
        return false;
    for (i = 0; i < len; i++) {
        int hi = cs_hex_digit(in[2 * i]), lo = cs_hex_digit(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}
