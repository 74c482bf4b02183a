/* Work that leaves the event threads. A request whose next step may block
 * (see enum cs_job) has its connection suspended and the step handed to
 * the worker pool; the worker does it and resumes the connection, and
 * libmicrohttpd calls the access handler again in the state it was
 * suspended in (measured on 0.9.75):
 *   - suspended in the first call: called again with no body, and may
 *     still queue an answer before the body (a refusal);
 *   - suspended in a body call whose bytes were taken: called with the
 *     next bytes. But a chunked body's chunks already read are handed to
 *     the handler in a loop that does not look at the suspension, so it
 *     is called while suspended too: http.c then takes nothing, and the
 *     bytes come again after the resume;
 *   - suspended in the last call: called again, and queues the answer.
 * While the worker runs, the event thread does not touch the request, and
 * the worker does not queue anything: only the access handler does. */
#include "autoconfig.h"

#include <stddef.h>
#include <stdio.h>

#include "common/log.h"
#include "server/http_priv.h"

static void run(struct cs_work *w)
{
    struct cs_request *req = (struct cs_request *)((char *)w - offsetof(struct cs_request, work));
    struct MHD_Connection *conn = req->conn;

    http_run_job(req->srv, req);
    /* req belongs to the event thread again from here on */
    MHD_resume_connection(conn);
}

bool http_work_start(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                     enum cs_job job)
{
    char reason[REASON_MAX];
    struct cs_work_stats ws;

    if (!cs_work_reserve(srv->work)) {
        cs_work_pool_stats(srv->work, &ws);
        if (ws.stopping)
            snprintf(reason, sizeof reason, "server shutting down: it takes no new work; retry");
        else
            snprintf(reason, sizeof reason,
                     "server busy: %llu requests wait for a worker (limits.work_queue); "
                     "retry later",
                     (unsigned long long)ws.queued);
        http_prepare_error(req, req->method, req->url, MHD_HTTP_SERVICE_UNAVAILABLE, reason);
        return false;
    }
    req->srv = srv;
    req->conn = conn;
    req->job = job;
    req->work.run = run;
    /* suspended before it is posted: a resume must never come first */
    MHD_suspend_connection(conn);
    cs_work_post(srv->work, &req->work);
    return true;
}
