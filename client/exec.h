/* Running the compiler: capture its stdout and stderr, or replace this
 * process with it. */
#ifndef CS_CLIENT_EXEC_H
#define CS_CLIENT_EXEC_H

#include "client/util.h"

/* Runs argv (argv[0] a path) with stdin inherited, collecting stdout and
 * stderr (each at most max bytes: beyond that CS_ERR_TOO_LARGE). *status is
 * the exit code, or 128 + signal. */
enum cs_status cs_exec_capture(char *const *argv, struct cs_bytes *out, struct cs_bytes *err,
                               size_t max, int *status);
/* The same, but each stream is also passed on to this process's stdout
 * and stderr as it comes (cargo reads rustc's messages while it runs). */
enum cs_status cs_exec_tee(char *const *argv, struct cs_bytes *out, struct cs_bytes *err,
                           size_t max, int *status);
/* execvp; returns only on failure, with errno set. */
int cs_exec_replace(char *const *argv);

#endif
