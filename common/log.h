/* The one logging function. Lines go to stderr (journald adds time stamps). */
#ifndef CS_LOG_H
#define CS_LOG_H

enum cs_log_level { CS_LOG_ERROR, CS_LOG_WARN, CS_LOG_INFO, CS_LOG_DEBUG };

/* Set once at start-up, before any thread starts. */
void cs_log_set_level(enum cs_log_level level);
int cs_log_enabled(enum cs_log_level level);

void cs_log(enum cs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
