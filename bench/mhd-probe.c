/* The libmicrohttpd ceiling: answers every request with the same 1 KiB
 * body from memory, with cstashd's daemon flags (epoll, turbo, a thread
 * pool). What it reaches is what libmicrohttpd 0.9.x allows at all.
 *   cc -O2 -o mhd-probe bench/mhd-probe.c -lmicrohttpd
 *   mhd-probe PORT [THREADS] [CONNECTION_MEMORY]            */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct MHD_Response *body;

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *len, void **state)
{
    static int first;

    (void)cls, (void)url, (void)method, (void)version, (void)data;
    /* answered on the second call, once the request is read: a response
     * queued on the first makes libmicrohttpd close the connection */
    if (!*state) {
        *state = &first;
        return MHD_YES;
    }
    *len = 0;
    return MHD_queue_response(c, MHD_HTTP_OK, body);
}

int main(int argc, char **argv)
{
    static char bytes[1024];
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 18109;
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
    size_t memory = argc > 3 ? (size_t)atol(argv[3]) : 64 * 1024;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct MHD_Daemon *d;
    sigset_t set;
    int sig;

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memset(bytes, 'x', sizeof bytes);
    body = MHD_create_response_from_buffer(sizeof bytes, bytes, MHD_RESPMEM_PERSISTENT);
    d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO, (uint16_t)port, NULL, NULL,
                         answer, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&addr, MHD_OPTION_END);
    if (!body || !d) {
        fprintf(stderr, "mhd-probe: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(body);
    return 0;
}
