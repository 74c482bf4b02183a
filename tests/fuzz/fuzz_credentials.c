/* libFuzzer: Authorization header values. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/credentials.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_credentials c;
    const char *why = NULL;
    char *h = malloc(size + 1);

    if (!h)
        return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    if (cs_credentials_parse(h, &c, &why) == CS_OK) {
        if (c.secret_len > CS_CRED_SECRET_MAX || strlen(c.user) > CS_CRED_USER_MAX ||
            strchr(c.user, ':'))
            abort();
    } else if (!why) {
        abort(); /* every refusal has a reason */
    }
    cs_credentials_clear(&c);
    free(h);
    return 0;
}
