/* S3 answers: errors as S3 XML with their code, XML bodies, empty ones.
 * Every one carries x-amz-request-id (s3_finish_response). */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/http_status.h"
#include "server/s3_priv.h"
#include "server/s3_xml.h"

#define S3_MESSAGE_MAX 512

void s3_prepare_xml(struct cs_request *req, unsigned status, struct cs_buf *b)
{
    if (req->response && !req->shared_response)
        MHD_destroy_response(req->response);
    req->response = NULL;
    req->shared_response = false;
    req->status = status;
    if (b->overflow) {
        cs_buf_free(b);
        s3_prepare_error(req, 500, "InternalError", "the answer is too large to build");
        return;
    }
    req->response =
        MHD_create_response_from_buffer(b->len, b->data ? b->data : (char *)"",
                                        b->data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (req->response) {
        b->data = NULL; /* the response owns it */
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/xml");
    }
    cs_buf_free(b);
}

void s3_prepare_empty(struct cs_request *req, unsigned status)
{
    if (req->response && !req->shared_response)
        MHD_destroy_response(req->response);
    req->shared_response = false;
    req->response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    req->status = status;
}

static void prepare_error_v(struct cs_request *req, unsigned status, const char *code,
                            const char *fmt, va_list ap)
{
    char message[S3_MESSAGE_MAX];
    struct cs_buf b;
    const struct cs_s3_req *s3 = req->s3;

    vsnprintf(message, sizeof message, fmt, ap);
    cs_log(status >= 500 ? CS_LOG_ERROR : CS_LOG_DEBUG, "s3 %s ns=%s %s %s: %u %s %s",
           s3->request_id, req->ns ? req->ns->name : "-", req->method, req->url, status, code,
           message);
    cs_buf_init(&b, 64 * 1024);
    struct cs_s3_error e = {.code = code,
                            .message = message,
                            .resource = s3->resource ? s3->resource : "/",
                            .request_id = s3->request_id,
                            .bucket = s3->bucket[0] ? s3->bucket : NULL,
                            .key = s3->has_key ? s3->key : NULL,
                            .key_len = s3->has_key ? s3->key_len : 0};
    (void)cs_s3_error_xml(&b, &e);
    if (b.overflow) { /* a message cannot be that long: out of memory */
        cs_buf_free(&b);
        s3_prepare_empty(req, status);
        return;
    }
    s3_prepare_xml(req, status, &b);
    if (req->response && cs_http_status_retry(status))
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, CS_HTTP_RETRY_AFTER);
}

void s3_prepare_error(struct cs_request *req, unsigned status, const char *code, const char *fmt,
                      ...)
{
    va_list ap;

    va_start(ap, fmt);
    prepare_error_v(req, status, code, fmt, ap);
    va_end(ap);
}

/* The generic paths (quota, index, limits) name a status; S3 clients read
 * a code. 507 keeps its status: a full store is not a client error, and
 * botocore does not retry it (docs/s3.md). */
static const char *code_of_status(unsigned status)
{
    switch (status) {
    case 400: return "InvalidRequest";
    case 401:
    case 403: return "AccessDenied";
    case 404: return "NoSuchKey";
    case 405: return "MethodNotAllowed";
    case 409: return "OperationAborted";
    case 411: return "MissingContentLength";
    case 412: return "PreconditionFailed";
    case 413: return "EntityTooLarge";
    case 414:
    case 431: return "RequestHeaderSectionTooLarge";
    case 429:
    case 503: return "SlowDown";
    case 501: return "NotImplemented";
    case 507: return "XCstashStorageFull";
    default: return "InternalError";
    }
}

void s3_status_error(struct cs_request *req, unsigned status, const char *reason)
{
    if (status == 401)
        status = 403; /* S3 has no 401: a missing signature is AccessDenied */
    s3_prepare_error(req, status, code_of_status(status), "%s", reason);
}
