/* Numeric hosts through getaddrinfo(AI_NUMERICHOST), which never asks a
 * server; names through glibc's getaddrinfo_a, waited for with
 * gai_suspend until the time limit. */
#include "autoconfig.h"

#include "client/resolve.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* One lookup in one block: everything glibc's resolver thread reads or
 * writes while it runs. */
struct lookup {
    struct gaicb cb;
    struct addrinfo hints;
    struct lookup *next; /* in abandoned */
    char names[];        /* host, NUL, port, NUL */
};

/* Lookups that did not end in time and could not be cancelled: the
 * resolver thread still writes to them, so they live until the process
 * ends (and stay reachable, for LeakSanitizer). */
static struct lookup *abandoned;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct lookup *lookup_new(const char *host, const char *port)
{
    size_t hl = strlen(host) + 1, pl = strlen(port) + 1;
    struct lookup *l = calloc(1, sizeof *l + hl + pl);
    if (!l)
        return NULL;
    memcpy(l->names, host, hl);
    memcpy(l->names + hl, port, pl);
    l->hints.ai_family = AF_UNSPEC;
    l->hints.ai_socktype = SOCK_STREAM;
    l->cb.ar_name = l->names;
    l->cb.ar_service = l->names + hl;
    l->cb.ar_request = &l->hints;
    return l;
}

/* Waits for l until deadline; whether it ended. */
static bool wait_lookup(struct lookup *l, int64_t deadline)
{
    const struct gaicb *list[1] = {&l->cb};
    while (gai_error(&l->cb) == EAI_INPROGRESS) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
        int e = gai_suspend(list, 1, &ts);
        if (e != 0 && e != EAI_AGAIN && e != EAI_INTR && e != EAI_ALLDONE)
            return gai_error(&l->cb) != EAI_INPROGRESS;
    }
    return true;
}

/* A lookup that ran out of time: cancelled if it has not started, else
 * left to the resolver thread. */
static void give_up(struct lookup *l)
{
    int e = gai_cancel(&l->cb);
    if (e == EAI_ALLDONE) {
        if (gai_error(&l->cb) == 0)
            freeaddrinfo(l->cb.ar_result);
        free(l);
    } else if (e == EAI_CANCELED) {
        free(l);
    } else {
        l->next = abandoned;
        abandoned = l;
    }
}

static enum cs_status lookup_name(const char *host, const char *port, uint32_t timeout_ms,
                                  struct addrinfo **res, const char **why)
{
    int64_t deadline = now_ms() + timeout_ms;
    struct lookup *l = lookup_new(host, port);
    if (!l) {
        *why = "out of memory";
        return CS_ERR_NOMEM;
    }
    struct gaicb *list[1] = {&l->cb};
    int e = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
    if (e != 0) {
        free(l);
        *why = gai_strerror(e);
        return CS_ERR_IO;
    }
    if (!wait_lookup(l, deadline)) {
        give_up(l);
        *why = "the name lookup took longer than the connect timeout";
        return CS_ERR_BUSY;
    }
    e = gai_error(&l->cb);
    *res = e == 0 ? l->cb.ar_result : NULL;
    free(l);
    if (e != 0) {
        *why = gai_strerror(e);
        return CS_ERR_IO;
    }
    return CS_OK;
}

enum cs_status cs_resolve(const char *host, const char *port, uint32_t timeout_ms,
                          struct addrinfo **res, const char **why)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    *res = NULL;
    int e = getaddrinfo(host, port, &hints, res);
    if (e == 0)
        return CS_OK;
    if (e != EAI_NONAME) {
        *why = gai_strerror(e);
        return CS_ERR_IO;
    }
    return lookup_name(host, port, timeout_ms, res, why);
}
