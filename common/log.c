/* Logging to stderr: one write(2) per line so lines from several threads
 * never interleave. */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* Written once in main before threads start, read-only afterwards. */
static enum cs_log_level log_threshold = CS_LOG_INFO;

void cs_log_set_level(enum cs_log_level level)
{
    log_threshold = level;
}

int cs_log_enabled(enum cs_log_level level)
{
    return level <= log_threshold;
}

void cs_log(enum cs_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char line[2048];
    va_list ap;
    int n;

    if (!cs_log_enabled(level))
        return;
    n = snprintf(line, sizeof line, "cstashd[%d]: %s: ", (int)getpid(), names[level]);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nowhere left to report it */
    }
}
