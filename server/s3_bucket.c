/* Bucket calls. Buckets are the config's namespaces: HeadBucket,
 * GetBucketLocation, GetBucketVersioning (never enabled), the listings,
 * and CreateBucket of an existing namespace (200 to its writers: rclone
 * sends it before its first upload). Namespaces are made and removed in
 * the config, so CreateBucket of a new name and DeleteBucket are refused
 * with the reason. Sub-resources we do not keep answer as a bucket without
 * them does on AWS (s3cmd info asks for each). */
#include "autoconfig.h"

#include <string.h>

#include "server/s3_priv.h"

static const char *region_of(const struct cs_request *req)
{
    const char *r = req->policy->cfg->s3.region;

    return r ? r : "us-east-1";
}

void s3_bucket_head(struct cs_server *srv, struct cs_request *req)
{
    (void)srv;
    s3_prepare_empty(req, 200);
    if (req->response)
        MHD_add_response_header(req->response, "x-amz-bucket-region", region_of(req));
}

void s3_bucket_put(struct cs_server *srv, struct cs_request *req)
{
    (void)srv;
    s3_prepare_empty(req, 200);
    if (req->response)
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_LOCATION, req->url);
}

void s3_bucket_delete(struct cs_server *srv, struct cs_request *req)
{
    (void)srv;
    s3_prepare_error(req, 403, "AccessDenied",
                     "bucket '%s' is a namespace defined in the config: remove it there",
                     req->ns->name);
}

/* Sub-resources a bucket has none of, and the error AWS gives for each. */
static const struct {
    const char *query, *code, *message;
} absent[] = {
    {"policy", "NoSuchBucketPolicy", "The bucket policy does not exist"},
    {"cors", "NoSuchCORSConfiguration", "The CORS configuration does not exist"},
    {"lifecycle", "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"},
    {"tagging", "NoSuchTagSet", "The TagSet does not exist"},
    {"website", "NoSuchWebsiteConfiguration",
     "The specified bucket does not have a website "
     "configuration"},
    {"encryption", "ServerSideEncryptionConfigurationNotFoundError",
     "The server side encryption configuration was not found"},
    {"replication", "ReplicationConfigurationNotFoundError",
     "The replication configuration was not found"},
    {"object-lock", "ObjectLockConfigurationNotFoundError",
     "Object Lock configuration does not exist for this bucket"},
};

static bool has(struct MHD_Connection *conn, const char *name)
{
    bool present;

    (void)s3_query(conn, name, &present);
    return present;
}

static void answer_xml(struct cs_request *req, enum cs_status (*write)(struct cs_buf *))
{
    struct cs_buf out;

    cs_buf_init(&out, 64 * 1024);
    (void)write(&out);
    s3_prepare_xml(req, 200, &out);
}

static enum cs_status write_acl(struct cs_buf *out)
{
    static const struct cs_s3_owner owner = {.id = "cstash", .display_name = "cstash"};

    return cs_s3_acl(out, &owner);
}

void s3_bucket_get(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    const char *lt = s3_query(conn, "list-type", NULL);
    struct cs_buf out;
    size_t i;

    for (i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        if (has(conn, absent[i].query)) {
            s3_prepare_error(req, 404, absent[i].code, "%s", absent[i].message);
            return;
        }
    }
    if (has(conn, "location")) {
        cs_buf_init(&out, 4096);
        (void)cs_s3_location(&out, region_of(req));
        s3_prepare_xml(req, 200, &out);
    } else if (has(conn, "versioning")) {
        answer_xml(req, cs_s3_versioning);
    } else if (has(conn, "acl")) {
        answer_xml(req, write_acl);
    } else if (has(conn, "versions")) {
        s3_list_objects(srv, req, conn, CS_S3_LIST_VERSIONS);
    } else if (lt && strcmp(lt, "2") == 0) {
        s3_list_objects(srv, req, conn, CS_S3_LIST_V2);
    } else if (lt) {
        s3_prepare_error(req, 400, "InvalidArgument", "list-type must be 2");
    } else {
        s3_list_objects(srv, req, conn, CS_S3_LIST_V1);
    }
}
