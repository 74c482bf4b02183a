/* The ready-to-paste client settings printed by --print-client-config. */
#ifndef CS_HINTS_H
#define CS_HINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* base_url like "http://127.0.0.1:8080", ns a namespace name. */
void cs_print_client_settings(FILE *out, const char *base_url, const char *ns);
/* url as a client can use it: a wildcard host (0.0.0.0, [::]) replaced by
 * host (true), else url as it is (false). */
bool cs_client_url(const char *url, const char *host, char *out, size_t len);

#endif
