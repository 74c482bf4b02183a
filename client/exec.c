/* posix_spawn with two pipes drained by poll(2), so neither stream can
 * fill up and stall the compiler. */
#include "autoconfig.h"

#include "client/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the reader went away: the capture still holds it */
        p += w;
        n -= (size_t)w;
    }
}

/* Pipes for the child's stdout and stderr, and the child. */
static enum cs_status spawn(char *const *argv, struct cs_child *child)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) != 0)
        return cs_status_from_errno(errno);
    if (pipe2(pe, O_CLOEXEC) != 0) {
        int e = errno;
        close(po[0]);
        close(po[1]);
        return cs_status_from_errno(e);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    int e = posix_spawnp(&child->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (e != 0) {
        close(po[0]);
        close(pe[0]);
        child->pid = -1;
        return cs_status_from_errno(e);
    }
    child->out = po[0];
    child->err = pe[0];
    return CS_OK;
}

static void *spawner(void *arg)
{
    struct cs_child *child = arg;
    child->spawned = spawn(child->argv.v, child);
    return NULL;
}

/* posix_spawn holds its caller until the child has exec'd (0.8 ms for gcc
 * here), and fork makes every page the caller then writes a copy; a
 * thread of its own takes the wait, and this one goes on. */
enum cs_status cs_exec_start(char *const *argv, struct cs_child *child)
{
    memset(child, 0, sizeof *child);
    child->pid = child->out = child->err = -1;
    enum cs_status rc = CS_OK;
    for (size_t i = 0; argv[i] && rc == CS_OK; i++)
        rc = cs_strv_push(&child->argv, argv[i]);
    if (rc == CS_OK && pthread_create(&child->thread, NULL, spawner, child) == 0) {
        child->threaded = true;
        return CS_OK;
    }
    if (rc == CS_OK)
        rc = spawn(child->argv.v, child); /* no thread: wait here */
    if (rc != CS_OK)
        cs_strv_free(&child->argv);
    return rc;
}

static enum cs_status collect(struct cs_child *child, struct cs_bytes *out, struct cs_bytes *err,
                              size_t max, int *status, bool tee)
{
    struct pollfd fds[2] = {{.fd = child->out, .events = POLLIN},
                            {.fd = child->err, .events = POLLIN}};
    struct cs_bytes *bufs[2] = {out, err};
    enum cs_status rc = CS_OK;
    int open_fds = 2;
    char chunk[65536];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = cs_status_from_errno(errno);
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[k].fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fds[k].fd);
                fds[k].fd = -1;
                open_fds--;
                continue;
            }
            if (tee)
                write_all(k + 1, chunk, (size_t)n);
            if (rc == CS_OK && bufs[k]->len + (size_t)n > max)
                rc = CS_ERR_TOO_LARGE; /* keep draining so the child can finish */
            if (rc == CS_OK)
                rc = cs_bytes_append(bufs[k], chunk, (size_t)n);
        }
    }
    for (int k = 0; k < 2; k++)
        if (fds[k].fd >= 0)
            close(fds[k].fd);
    child->out = child->err = -1;
    int ws;
    while (waitpid(child->pid, &ws, 0) < 0) {
        if (errno != EINTR) {
            child->pid = -1;
            return cs_status_from_errno(errno);
        }
    }
    child->pid = -1;
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    return rc;
}

enum cs_status cs_exec_collect(struct cs_child *child, struct cs_bytes *out, struct cs_bytes *err,
                               size_t max, int *status)
{
    enum cs_status rc = CS_OK;
    if (child->threaded) {
        rc = pthread_join(child->thread, NULL) == 0 ? child->spawned : CS_ERR_IO;
        child->threaded = false;
    }
    cs_strv_free(&child->argv);
    return rc == CS_OK ? collect(child, out, err, max, status, false) : rc;
}

static enum cs_status run(char *const *argv, struct cs_bytes *out, struct cs_bytes *err, size_t max,
                          int *status, bool tee)
{
    struct cs_child child;
    enum cs_status rc = spawn(argv, &child);
    return rc == CS_OK ? collect(&child, out, err, max, status, tee) : rc;
}

enum cs_status cs_exec_capture(char *const *argv, struct cs_bytes *out, struct cs_bytes *err,
                               size_t max, int *status)
{
    return run(argv, out, err, max, status, false);
}

enum cs_status cs_exec_tee(char *const *argv, struct cs_bytes *out, struct cs_bytes *err,
                           size_t max, int *status)
{
    return run(argv, out, err, max, status, true);
}

int cs_exec_replace(char *const *argv)
{
    execvp(argv[0], argv);
    return -1;
}
