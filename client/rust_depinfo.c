/* rustc dep-info parsing (see rust_depinfo.h). */
#include "autoconfig.h"

#include "client/rust_depinfo.h"

#include <stdlib.h>
#include <string.h>

void cs_rust_depinfo_free(struct cs_rust_depinfo *d)
{
    cs_strv_free(&d->files);
    cs_strv_free(&d->env);
}

/* rustc's dep-info: "target: dep dep..." (spaces escaped as "\ "), then a
 * rule per dep, then "# env-dep:NAME=VALUE" lines. */
enum cs_status cs_rust_depinfo_parse(const char *text, struct cs_rust_depinfo *d)
{
    enum cs_status rc = CS_OK;
    const char *line = text;
    bool first = true;
    while (*line && rc == CS_OK) {
        size_t n = strcspn(line, "\n");
        if (cs_starts_with(line, "# env-dep:")) {
            char *v = strndup(line + 10, n - 10);
            rc = cs_strv_push_own(&d->env, v);
        } else if (first && n > 0 && line[0] != '#') {
            first = false;
            const char *p = line;
            const char *end = line + n;
            while (p < end && !(p[0] == ':' && (p + 1 == end || p[1] == ' ')))
                p += p[0] == '\\' && p + 1 < end ? 2 : 1;
            if (p >= end)
                return CS_ERR_INVALID;
            p++;
            while (p < end && rc == CS_OK) {
                while (p < end && *p == ' ')
                    p++;
                if (p >= end)
                    break;
                struct cs_bytes w = {0};
                while (p < end && *p != ' ' && rc == CS_OK) {
                    if (p[0] == '\\' && p + 1 < end && p[1] == ' ')
                        p++;
                    rc = cs_bytes_append(&w, p, 1);
                    p++;
                }
                if (rc == CS_OK)
                    rc = cs_strv_push(&d->files, (char *)w.data);
                cs_bytes_free(&w);
            }
        }
        line += n;
        if (*line == '\n')
            line++;
    }
    return rc;
}

/* An env var as dep-info writes it: "NAME=VALUE" with \n, \r and \\
 * escaped, or "NAME" when unset. malloc'd. */
char *cs_rust_env_dep_text(const char *name)
{
    const char *v = getenv(name);
    struct cs_bytes b = {0};
    enum cs_status rc = cs_bytes_append_str(&b, name);
    if (rc == CS_OK && v) {
        rc = cs_bytes_append(&b, "=", 1);
        for (; *v && rc == CS_OK; v++)
            rc = *v == '\n'   ? cs_bytes_append(&b, "\\n", 2)
                 : *v == '\r' ? cs_bytes_append(&b, "\\r", 2)
                 : *v == '\\' ? cs_bytes_append(&b, "\\\\", 2)
                              : cs_bytes_append(&b, v, 1);
    }
    if (rc != CS_OK) {
        cs_bytes_free(&b);
        return NULL;
    }
    return (char *)b.data;
}
