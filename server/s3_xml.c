/* The S3 XML answers (see s3_xml.h). Every value goes through
 * cs_xml_escape() or cs_url_encode() (text.h): nothing from a request or
 * the index reaches the document unescaped. */
#include "autoconfig.h"

#include <string.h>

#include "server/s3_xml.h"
#include "server/text.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS " xmlns=\"" CS_S3_XMLNS "\""

static enum cs_status status(const struct cs_buf *out)
{
    return out->overflow ? out->err : CS_OK;
}

static void put(struct cs_buf *out, const char *s)
{
    cs_buf_add(out, s, strlen(s));
}

/* <name>escaped bytes</name> */
static void el_bytes(struct cs_buf *out, const char *name, const char *s, size_t n)
{
    cs_buf_printf(out, "<%s>", name);
    cs_xml_escape(out, s ? s : "", s ? n : 0);
    cs_buf_printf(out, "</%s>", name);
}

static void el_str(struct cs_buf *out, const char *name, const char *s)
{
    el_bytes(out, name, s, s ? strlen(s) : 0);
}

/* A key, prefix, delimiter or marker: percent-encoded when the client
 * asked for encoding-type=url, else escaped (invalid UTF-8 -> U+FFFD). */
static void el_key(struct cs_buf *out, const char *name, const char *s, size_t n, bool url)
{
    if (!url) {
        el_bytes(out, name, s, n);
        return;
    }
    cs_buf_printf(out, "<%s>", name);
    cs_url_encode(out, s ? s : "", s ? n : 0);
    cs_buf_printf(out, "</%s>", name);
}

static void el_u64(struct cs_buf *out, const char *name, uint64_t v)
{
    cs_buf_printf(out, "<%s>%llu</%s>", name, (unsigned long long)v, name);
}

static void el_bool(struct cs_buf *out, const char *name, bool v)
{
    cs_buf_printf(out, "<%s>%s</%s>", name, v ? "true" : "false", name);
}

/* A time S3 style. A time that cannot be written (year past 9999) fails
 * the whole answer rather than printing something a client misreads. */
static void el_time(struct cs_buf *out, const char *name, time_t t)
{
    char iso[CS_ISO8601_LEN];

    if (cs_iso8601_ms(t, 0, iso, sizeof iso) != CS_OK) {
        out->overflow = true;
        out->err = CS_ERR_INVALID;
        return;
    }
    cs_buf_printf(out, "<%s>%s</%s>", name, iso, name);
}

/* ETags are quoted in S3 XML; the quotes are entities, as AWS writes them. */
static void el_etag(struct cs_buf *out, const char *etag)
{
    put(out, "<ETag>&quot;");
    cs_xml_escape(out, etag ? etag : "", etag ? strlen(etag) : 0);
    put(out, "&quot;</ETag>");
}

static void el_owner(struct cs_buf *out, const char *name, const struct cs_s3_owner *o)
{
    cs_buf_printf(out, "<%s>", name);
    el_str(out, "ID", o->id);
    el_str(out, "DisplayName", o->display_name);
    cs_buf_printf(out, "</%s>", name);
}

/* --- Error ------------------------------------------------------------------ */

enum cs_status cs_s3_error_xml(struct cs_buf *out, const struct cs_s3_error *e)
{
    /* AWS's <Error> carries no namespace */
    put(out, XML_DECL "<Error>");
    el_str(out, "Code", e->code);
    el_str(out, "Message", e->message);
    if (e->key)
        el_bytes(out, "Key", e->key, e->key_len);
    if (e->bucket)
        el_str(out, "BucketName", e->bucket);
    if (e->resource)
        el_str(out, "Resource", e->resource);
    el_str(out, "RequestId", e->request_id);
    put(out, "</Error>");
    return status(out);
}

/* --- listings --------------------------------------------------------------- */

static const char *list_root(enum cs_s3_list_kind kind)
{
    switch (kind) {
    case CS_S3_LIST_V1:
    case CS_S3_LIST_V2: return "ListBucketResult";
    case CS_S3_LIST_VERSIONS: return "ListVersionsResult";
    case CS_S3_LIST_UPLOADS: return "ListMultipartUploadsResult";
    case CS_S3_LIST_PARTS: return "ListPartsResult";
    }
    return NULL;
}

/* Delimiter and EncodingType, which every listing but ListParts echoes.
 * botocore decodes the keys only when it sees EncodingType url. */
static void list_delimiter_encoding(struct cs_buf *out, const struct cs_s3_list_req *r)
{
    if (r->delimiter)
        el_key(out, "Delimiter", r->delimiter, r->delimiter_len, r->url);
    if (r->url)
        put(out, "<EncodingType>url</EncodingType>");
}

static void list_head(struct cs_buf *out, const struct cs_s3_list_req *r)
{
    switch (r->kind) {
    case CS_S3_LIST_V1:
    case CS_S3_LIST_V2:
    case CS_S3_LIST_VERSIONS:
        el_str(out, "Name", r->bucket);
        el_key(out, "Prefix", r->prefix, r->prefix_len, r->url);
        if (r->kind == CS_S3_LIST_V1)
            el_key(out, "Marker", r->marker, r->marker_len, r->url);
        if (r->kind == CS_S3_LIST_V2 && r->start_after)
            el_key(out, "StartAfter", r->start_after, r->start_after_len, r->url);
        if (r->kind == CS_S3_LIST_V2 && r->continuation_token)
            el_str(out, "ContinuationToken", r->continuation_token);
        if (r->kind == CS_S3_LIST_VERSIONS) {
            el_key(out, "KeyMarker", r->marker, r->marker_len, r->url);
            el_str(out, "VersionIdMarker", r->id_marker);
        }
        el_u64(out, "MaxKeys", r->max);
        list_delimiter_encoding(out, r);
        break;
    case CS_S3_LIST_UPLOADS:
        el_str(out, "Bucket", r->bucket);
        el_key(out, "KeyMarker", r->marker, r->marker_len, r->url);
        el_str(out, "UploadIdMarker", r->id_marker);
        el_key(out, "Prefix", r->prefix, r->prefix_len, r->url);
        el_u64(out, "MaxUploads", r->max);
        list_delimiter_encoding(out, r);
        break;
    case CS_S3_LIST_PARTS:
        el_str(out, "Bucket", r->bucket);
        el_key(out, "Key", r->key, r->key_len, r->url);
        el_str(out, "UploadId", r->upload_id);
        if (r->owner) {
            el_owner(out, "Initiator", r->owner);
            el_owner(out, "Owner", r->owner);
        }
        put(out, "<StorageClass>STANDARD</StorageClass>");
        el_u64(out, "PartNumberMarker", r->part_number_marker);
        el_u64(out, "MaxParts", r->max);
        break;
    }
}

enum cs_status cs_s3_list_begin(struct cs_s3_list_writer *w, struct cs_buf *out,
                                const struct cs_s3_list_req *req)
{
    const char *root = list_root(req->kind);

    memset(w, 0, sizeof *w);
    w->out = out;
    w->req = req;
    cs_buf_init(&w->prefixes, out->max);
    if (!root)
        return CS_ERR_INVALID;
    cs_buf_printf(out, XML_DECL "<%s" NS ">", root);
    list_head(out, req);
    w->mark = out->len;
    return status(out);
}

enum cs_status cs_s3_list_add_object(struct cs_s3_list_writer *w, const struct cs_s3_object *o)
{
    struct cs_buf *out = w->out;
    const struct cs_s3_list_req *r = w->req;
    bool version = r->kind == CS_S3_LIST_VERSIONS;

    if (r->kind != CS_S3_LIST_V1 && r->kind != CS_S3_LIST_V2 && !version)
        return CS_ERR_INVALID;
    put(out, version ? "<Version>" : "<Contents>");
    el_key(out, "Key", o->key, o->key_len, r->url);
    if (version)
        put(out, "<VersionId>null</VersionId><IsLatest>true</IsLatest>");
    el_time(out, "LastModified", o->mtime);
    el_etag(out, o->etag);
    el_u64(out, "Size", o->size);
    if (r->owner)
        el_owner(out, "Owner", r->owner);
    put(out, "<StorageClass>STANDARD</StorageClass>");
    put(out, version ? "</Version>" : "</Contents>");
    w->key_count++;
    return status(out);
}

enum cs_status cs_s3_list_add_upload(struct cs_s3_list_writer *w, const struct cs_s3_upload *u)
{
    struct cs_buf *out = w->out;

    if (w->req->kind != CS_S3_LIST_UPLOADS)
        return CS_ERR_INVALID;
    put(out, "<Upload>");
    el_key(out, "Key", u->key, u->key_len, w->req->url);
    el_str(out, "UploadId", u->upload_id);
    if (w->req->owner) {
        el_owner(out, "Initiator", w->req->owner);
        el_owner(out, "Owner", w->req->owner);
    }
    put(out, "<StorageClass>STANDARD</StorageClass>");
    el_time(out, "Initiated", u->initiated);
    put(out, "</Upload>");
    w->key_count++;
    return status(out);
}

enum cs_status cs_s3_list_add_part(struct cs_s3_list_writer *w, const struct cs_s3_part_info *p)
{
    struct cs_buf *out = w->out;

    if (w->req->kind != CS_S3_LIST_PARTS)
        return CS_ERR_INVALID;
    put(out, "<Part>");
    el_u64(out, "PartNumber", p->number);
    el_time(out, "LastModified", p->mtime);
    el_etag(out, p->etag);
    el_u64(out, "Size", p->size);
    put(out, "</Part>");
    w->key_count++;
    return status(out);
}

enum cs_status cs_s3_list_add_prefix(struct cs_s3_list_writer *w, const char *prefix, size_t n)
{
    if (w->req->kind == CS_S3_LIST_PARTS)
        return CS_ERR_INVALID;
    put(&w->prefixes, "<CommonPrefixes>");
    el_key(&w->prefixes, "Prefix", prefix, n, w->req->url);
    put(&w->prefixes, "</CommonPrefixes>");
    w->key_count++;
    /* the prefixes end up in out: failing here is failing there */
    if (w->prefixes.overflow && !w->out->overflow) {
        w->out->overflow = true;
        w->out->err = w->prefixes.err;
    }
    return w->out->overflow ? w->out->err : CS_OK;
}

/* The elements only the end knows, in AWS's order. */
static void list_counts(struct cs_buf *b, const struct cs_s3_list_writer *w,
                        const struct cs_s3_list_next *next)
{
    const struct cs_s3_list_req *r = w->req;
    bool more = next->truncated;

    switch (r->kind) {
    case CS_S3_LIST_V1:
        el_bool(b, "IsTruncated", more);
        if (more && next->marker)
            el_key(b, "NextMarker", next->marker, next->marker_len, r->url);
        break;
    case CS_S3_LIST_V2:
        el_u64(b, "KeyCount", w->key_count);
        el_bool(b, "IsTruncated", more);
        if (more && next->token)
            el_str(b, "NextContinuationToken", next->token);
        break;
    case CS_S3_LIST_VERSIONS:
        el_bool(b, "IsTruncated", more);
        if (more && next->marker)
            el_key(b, "NextKeyMarker", next->marker, next->marker_len, r->url);
        if (more && next->id)
            el_str(b, "NextVersionIdMarker", next->id);
        break;
    case CS_S3_LIST_UPLOADS:
        if (more && next->marker)
            el_key(b, "NextKeyMarker", next->marker, next->marker_len, r->url);
        if (more && next->id)
            el_str(b, "NextUploadIdMarker", next->id);
        el_bool(b, "IsTruncated", more);
        break;
    case CS_S3_LIST_PARTS:
        if (more && next->part_number)
            el_u64(b, "NextPartNumberMarker", next->part_number);
        el_bool(b, "IsTruncated", more);
        break;
    }
}

/* Moves the last n bytes of out to offset at, keeping their order and
 * shifting what was between. */
static void move_tail_to(struct cs_buf *out, size_t at, size_t n)
{
    char tmp[512];
    size_t done = 0, between = out->len - n - at;

    /* in chunks through tmp: the tail is small (counts and a marker) but
     * may pass 512, and out has no spare room for a second copy */
    while (done < n) {
        size_t k = n - done < sizeof tmp ? n - done : sizeof tmp;
        memcpy(tmp, out->data + at + done + between, k);
        memmove(out->data + at + done + k, out->data + at + done, between);
        memcpy(out->data + at + done, tmp, k);
        done += k;
    }
}

enum cs_status cs_s3_list_end(struct cs_s3_list_writer *w, const struct cs_s3_list_next *next)
{
    struct cs_buf *out = w->out;
    struct cs_buf counts;
    size_t before = out->len;

    cs_buf_init(&counts, out->max);
    list_counts(&counts, w, next);
    if (counts.overflow) {
        out->overflow = true;
        out->err = counts.err;
    }
    if (!out->overflow && cs_buf_add(out, counts.data, counts.len) == CS_OK && counts.len)
        move_tail_to(out, w->mark, out->len - before);
    cs_buf_free(&counts);
    if (w->prefixes.len)
        cs_buf_add(out, w->prefixes.data, w->prefixes.len);
    cs_buf_printf(out, "</%s>", list_root(w->req->kind));
    cs_s3_list_discard(w);
    return status(out);
}

void cs_s3_list_discard(struct cs_s3_list_writer *w)
{
    cs_buf_free(&w->prefixes);
}

/* --- buckets ---------------------------------------------------------------- */

enum cs_status cs_s3_buckets_begin(struct cs_buf *out, const struct cs_s3_owner *owner)
{
    put(out, XML_DECL "<ListAllMyBucketsResult" NS ">");
    el_owner(out, "Owner", owner);
    put(out, "<Buckets>");
    return status(out);
}

enum cs_status cs_s3_buckets_add(struct cs_buf *out, const char *name, time_t created)
{
    put(out, "<Bucket>");
    el_str(out, "Name", name);
    el_time(out, "CreationDate", created);
    put(out, "</Bucket>");
    return status(out);
}

enum cs_status cs_s3_buckets_end(struct cs_buf *out)
{
    put(out, "</Buckets></ListAllMyBucketsResult>");
    return status(out);
}

/* --- DeleteObjects ---------------------------------------------------------- */

enum cs_status cs_s3_delete_begin(struct cs_buf *out)
{
    put(out, XML_DECL "<DeleteResult" NS ">");
    return status(out);
}

enum cs_status cs_s3_delete_deleted(struct cs_buf *out, bool quiet, const char *key, size_t key_len,
                                    const char *version_id)
{
    if (quiet)
        return status(out);
    put(out, "<Deleted>");
    el_bytes(out, "Key", key, key_len);
    if (version_id)
        el_str(out, "VersionId", version_id);
    put(out, "</Deleted>");
    return status(out);
}

enum cs_status cs_s3_delete_failed(struct cs_buf *out, const char *key, size_t key_len,
                                   const char *version_id, const char *code, const char *message)
{
    put(out, "<Error>");
    el_bytes(out, "Key", key, key_len);
    if (version_id)
        el_str(out, "VersionId", version_id);
    el_str(out, "Code", code);
    el_str(out, "Message", message);
    put(out, "</Error>");
    return status(out);
}

enum cs_status cs_s3_delete_end(struct cs_buf *out)
{
    put(out, "</DeleteResult>");
    return status(out);
}

/* --- single answers --------------------------------------------------------- */

enum cs_status cs_s3_copy_result(struct cs_buf *out, bool part, time_t mtime, const char *etag)
{
    const char *root = part ? "CopyPartResult" : "CopyObjectResult";

    cs_buf_printf(out, XML_DECL "<%s" NS ">", root);
    el_time(out, "LastModified", mtime);
    el_etag(out, etag);
    cs_buf_printf(out, "</%s>", root);
    return status(out);
}

enum cs_status cs_s3_initiate_result(struct cs_buf *out, const char *bucket, const char *key,
                                     size_t key_len, const char *upload_id)
{
    put(out, XML_DECL "<InitiateMultipartUploadResult" NS ">");
    el_str(out, "Bucket", bucket);
    el_bytes(out, "Key", key, key_len);
    el_str(out, "UploadId", upload_id);
    put(out, "</InitiateMultipartUploadResult>");
    return status(out);
}

enum cs_status cs_s3_complete_result(struct cs_buf *out, const struct cs_s3_complete_result *r)
{
    put(out, XML_DECL "<CompleteMultipartUploadResult" NS ">");
    el_str(out, "Location", r->location);
    el_str(out, "Bucket", r->bucket);
    el_bytes(out, "Key", r->key, r->key_len);
    el_etag(out, r->etag);
    /* the element name is ours (cs_s3_checksum_name), never the client's */
    if (r->checksum_name && r->checksum)
        el_str(out, r->checksum_name, r->checksum);
    put(out, "</CompleteMultipartUploadResult>");
    return status(out);
}

enum cs_status cs_s3_location(struct cs_buf *out, const char *region)
{
    /* AWS answers us-east-1 buckets with an empty constraint, and SDKs
     * map the empty one back to us-east-1 */
    if (!region || !*region || strcmp(region, "us-east-1") == 0) {
        put(out, XML_DECL "<LocationConstraint" NS "/>");
        return status(out);
    }
    put(out, XML_DECL "<LocationConstraint" NS ">");
    cs_xml_escape(out, region, strlen(region));
    put(out, "</LocationConstraint>");
    return status(out);
}

enum cs_status cs_s3_versioning(struct cs_buf *out)
{
    put(out, XML_DECL "<VersioningConfiguration" NS "/>");
    return status(out);
}

enum cs_status cs_s3_acl(struct cs_buf *out, const struct cs_s3_owner *owner)
{
    put(out, XML_DECL "<AccessControlPolicy" NS ">");
    el_owner(out, "Owner", owner);
    put(out, "<AccessControlList><Grant>"
             "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
             " xsi:type=\"CanonicalUser\">");
    el_str(out, "ID", owner->id);
    el_str(out, "DisplayName", owner->display_name);
    put(out, "</Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList>"
             "</AccessControlPolicy>");
    return status(out);
}
