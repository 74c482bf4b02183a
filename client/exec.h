/* Running the compiler: capture its stdout and stderr, or replace this
 * process with it. */
#ifndef CS_CLIENT_EXEC_H
#define CS_CLIENT_EXEC_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

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
/* The same in two steps, for a caller with other work to do while the
 * child runs: cs_exec_start starts it (stdin inherited, stdout and stderr
 * into pipes the child struct owns) and returns at once; cs_exec_collect
 * drains them, reaps the child and releases what the struct holds. Every
 * started child is collected exactly once, and its output should be
 * small (it blocks on a full pipe until then). The struct must stay
 * where it is from start to collect (the spawning thread writes to it). */
struct cs_child {
    pid_t pid;
    int out, err;
    /* the thread that spawns it, and its copy of argv */
    pthread_t thread;
    bool threaded;
    struct cs_strv argv;
    enum cs_status spawned;
};
enum cs_status cs_exec_start(char *const *argv, struct cs_child *child);
enum cs_status cs_exec_collect(struct cs_child *child, struct cs_bytes *out, struct cs_bytes *err,
                               size_t max, int *status);
/* execvp; returns only on failure, with errno set. */
int cs_exec_replace(char *const *argv);

#endif
