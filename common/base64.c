/* Base64 decoder for both alphabets (RFC 4648 sections 4 and 5). */
#include "autoconfig.h"

#include "common/base64.h"

/* 0..63, or -1 for a character of neither alphabet. *alphabet records
 * which alphabet a character belongs to: 1 standard, 2 URL-safe, 0 both. */
static int b64_value(unsigned char c, int *alphabet)
{
    *alphabet = 0;
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '/') {
        *alphabet = 1;
        return c == '+' ? 62 : 63;
    }
    if (c == '-' || c == '_') {
        *alphabet = 2;
        return c == '-' ? 62 : 63;
    }
    return -1;
}

bool cs_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
    uint32_t acc = 0;
    size_t n = 0, i, bits = 0, data_len = in_len;
    int seen_alphabet = 0;

    /* Padding: up to two '=' at the end, and then the length is a multiple of 4. */
    while (data_len > 0 && in[data_len - 1] == '=' && in_len - data_len < 2)
        data_len--;
    if (data_len < in_len && in_len % 4 != 0)
        return false;
    if (data_len % 4 == 1)
        return false; /* one leftover character cannot hold a byte */
    for (i = 0; i < data_len; i++) {
        int alphabet;
        int v = b64_value((unsigned char)in[i], &alphabet);
        if (v < 0)
            return false;
        if (alphabet) {
            if (seen_alphabet && seen_alphabet != alphabet)
                return false;
            seen_alphabet = alphabet;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return false;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, or the text was not canonical. */
    if (bits && (acc & ((1u << bits) - 1)) != 0)
        return false;
    *out_len = n;
    return true;
}

void cs_base64_encode(const uint8_t *in, size_t in_len, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 2 < in_len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (i < in_len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < in_len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < in_len ? abc[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}
