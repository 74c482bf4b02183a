/* Parsing and printing of byte sizes. */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/size.h"

enum cs_status cs_parse_size(const char *text, uint64_t *out)
{
    static const char units[] = "KMGTPE";
    const char *p = text;
    uint64_t value = 0;
    unsigned shift = 0;

    if (!p || !isdigit((unsigned char)*p))
        return CS_ERR_INVALID;
    while (isdigit((unsigned char)*p)) {
        unsigned digit = (unsigned)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return CS_ERR_INVALID;
        value = value * 10 + digit;
        p++;
    }
    while (*p == ' ')
        p++;
    if (*p) {
        const char *u = strchr(units, toupper((unsigned char)*p));
        if (!u)
            return (*p == 'b' || *p == 'B') && p[1] == '\0' ? (*out = value, CS_OK)
                                                            : CS_ERR_INVALID;
        shift = 10u * (unsigned)(u - units + 1);
        p++;
        if (*p == 'i')
            p++;
        if (*p == 'B' || *p == 'b')
            p++;
        if (*p)
            return CS_ERR_INVALID;
    }
    if (shift && value > (UINT64_MAX >> shift))
        return CS_ERR_INVALID;
    *out = value << shift;
    return CS_OK;
}

enum cs_status cs_parse_duration(const char *text, uint64_t *ms)
{
    static const struct {
        const char *suffix;
        uint64_t ms;
    } units[] = {
        {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    const char *p = text;
    uint64_t value = 0;
    size_t i;

    if (!p || !isdigit((unsigned char)*p))
        return CS_ERR_INVALID;
    while (isdigit((unsigned char)*p)) {
        unsigned digit = (unsigned)(*p - '0');
        if (value > (UINT64_MAX / 86400000 - digit) / 10)
            return CS_ERR_INVALID;
        value = value * 10 + digit;
        p++;
    }
    while (*p == ' ')
        p++;
    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].suffix) == 0) {
            *ms = value * units[i].ms;
            return CS_OK;
        }
    }
    return CS_ERR_INVALID;
}

void cs_format_size(uint64_t size, char *buf, unsigned buflen)
{
    static const char units[] = "KMGTPE";
    int unit = -1;

    while (size && size % 1024 == 0 && unit < 5) {
        size /= 1024;
        unit++;
    }
    if (unit < 0)
        snprintf(buf, buflen, "%llu", (unsigned long long)size);
    else
        snprintf(buf, buflen, "%llu%c", (unsigned long long)size, units[unit]);
}
