/* The ready-to-paste client settings printed by --print-client-config. */
#ifndef CS_HINTS_H
#define CS_HINTS_H

#include <stdio.h>

/* base_url like "http://127.0.0.1:8080", ns a namespace name. */
void cs_print_client_settings(FILE *out, const char *base_url, const char *ns);

#endif
