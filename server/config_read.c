/* The typed values of a config file (sizes, durations, counts, strings)
 * and the list of problems found while reading them, one "file:line:
 * reason" each. */
#include "autoconfig.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/size.h"
#include "server/config.h"
#include "server/config_priv.h"

/* A file that is wrong everywhere still gets a readable answer. */
#define MAX_ERRORS 100

/* Takes ownership of line. */
void cs_config_errors_push(struct cs_config_errors *errs, char *line)
{
    char **grown;

    if (!line || errs->count >= MAX_ERRORS) {
        free(line);
        return;
    }
    grown = realloc(errs->lines, (errs->count + 1) * sizeof *grown);
    if (!grown) {
        free(line);
        return;
    }
    errs->lines = grown;
    errs->lines[errs->count++] = line;
}

void cs_config_error(struct cs_config_loader *ld, const config_setting_t *where, const char *fmt,
                     ...)
{
    char reason[512];
    char *line = NULL;
    va_list ap;
    const char *file = ld->file;
    int lineno = 0;

    ld->failed = true;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (where) {
        lineno = (int)config_setting_source_line(where);
        if (config_setting_source_file(where))
            file = config_setting_source_file(where);
    }
    if (lineno > 0) {
        if (asprintf(&line, "%s:%d: %s", file, lineno, reason) < 0)
            line = NULL;
    } else if (asprintf(&line, "%s: %s", file, reason) < 0) {
        line = NULL;
    }
    cs_config_errors_push(ld->errs, line);
}

void cs_config_errors_clear(struct cs_config_errors *errs)
{
    size_t i;

    for (i = 0; i < errs->count; i++)
        free(errs->lines[i]);
    free(errs->lines);
    errs->lines = NULL;
    errs->count = 0;
}

/* Reads a size given as an integer or a string like "1G". */
bool cs_config_read_size(struct cs_config_loader *ld, const config_setting_t *s, uint64_t *out)
{
    int type = config_setting_type(s);

    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        if (v < 0) {
            cs_config_error(ld, s, "%s must not be negative", config_setting_name(s));
            return false;
        }
        *out = (uint64_t)v;
        return true;
    }
    if (type == CONFIG_TYPE_STRING && cs_parse_size(config_setting_get_string(s), out) == CS_OK)
        return true;
    cs_config_error(ld, s, "%s must be a size like 1048576, \"512K\", \"64M\" or \"1G\"",
                    config_setting_name(s));
    return false;
}

bool cs_config_read_bool(struct cs_config_loader *ld, const config_setting_t *s, bool *out)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        cs_config_error(ld, s, "%s must be true or false", config_setting_name(s));
        return false;
    }
    *out = config_setting_get_bool(s) != 0;
    return true;
}

/* A duration in whole seconds, from a number of seconds or "30s", "10m". */
bool cs_config_read_seconds(struct cs_config_loader *ld, const config_setting_t *s, unsigned *out)
{
    int type = config_setting_type(s);
    uint64_t ms = 0;

    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        ms = v > 0 && v < 100000000 ? (uint64_t)v * 1000 : 0;
    } else if (type == CONFIG_TYPE_STRING) {
        if (cs_parse_duration(config_setting_get_string(s), &ms) != CS_OK)
            ms = 0;
    }
    if (ms < 1000 || ms / 1000 > 100000000) {
        cs_config_error(ld, s,
                        "%s must be a duration of at least 1s, like 30, \"30s\", \"10m\" or "
                        "\"1h\"",
                        config_setting_name(s));
        return false;
    }
    *out = (unsigned)(ms / 1000);
    return true;
}

bool cs_config_read_count(struct cs_config_loader *ld, const config_setting_t *s, unsigned min,
                          unsigned max, unsigned *out)
{
    uint64_t v;

    if (!cs_config_read_size(ld, s, &v))
        return false;
    if (v < min || v > max) {
        cs_config_error(ld, s, "%s must be from %u to %u", config_setting_name(s), min, max);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

void cs_config_read_path(struct cs_config_loader *ld, const config_setting_t *s, char **out)
{
    const char *v = config_setting_get_string(s);

    if (!v || !v[0]) {
        cs_config_error(ld, s, "%s must be a file name", config_setting_name(s));
        return;
    }
    free(*out);
    *out = strdup(v);
}

void cs_config_read_string(struct cs_config_loader *ld, const config_setting_t *s, char **out)
{
    const char *v = config_setting_get_string(s);

    if (!v) {
        cs_config_error(ld, s, "%s must be a string", config_setting_name(s));
        return;
    }
    free(*out);
    *out = strdup(v);
}
