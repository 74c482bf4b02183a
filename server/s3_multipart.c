/* Multipart uploads, kept in the bucket's own namespace under keys no
 * client can name (S3_MPU_PREFIX, a control character):
 *   \001mpu/<id>          the upload's record: body = the target key,
 *                         metadata = what CreateMultipartUpload sent
 *   \001mpu/<id>/<00001>  each part, stored like any object (its ETag is
 *                         its MD5), so parts stream to disk with bounded
 *                         memory and count against the quota while open.
 * CompleteMultipartUpload reads each part once (through the decompressor
 * when stored compressed) into a new upload of the target key, commits it,
 * then removes the parts. Unfinished uploads older than
 * s3.multipart_max_age are removed by the next CreateMultipartUpload in
 * the namespace; LRU eviction never takes them (storage/index.h: keys that
 * start with a control byte are pinned). */
#include "autoconfig.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "server/http_status.h"
#include "server/s3_priv.h"
#include "storage/zstd_io.h"

#define UPLOAD_ID_LEN 32
#define PART_MIN (5u << 20) /* every part but the last, as on AWS */
#define COPY_BUF (256 * 1024)
#define SWEEP_MAX 1000
#define SWEEP_WALK 100000

static bool upload_id_valid(const char *id)
{
    size_t i;

    if (!id || strlen(id) != UPLOAD_ID_LEN)
        return false;
    for (i = 0; i < UPLOAD_ID_LEN; i++)
        if (cs_hex_digit(id[i]) < 0)
            return false;
    return true;
}

static size_t record_key(char *out, const char *id)
{
    return (size_t)snprintf(out, CS_KEY_MAX + 1, S3_MPU_PREFIX "%s", id);
}

static size_t part_key(char *out, const char *id, unsigned n)
{
    return (size_t)snprintf(out, CS_KEY_MAX + 1, S3_MPU_PREFIX "%s/%05u", id, n);
}

static void ns_id(const struct cs_request *req, struct cs_object_id *id, const char *key,
                  size_t len)
{
    cs_object_id_init(id, req->ns->name, key, len);
}

/* Writes a small object in one go (the upload's record). */
static enum cs_status put_small(struct cs_server *srv, struct cs_request *req,
                                const struct cs_object_id *id, const void *body, size_t len,
                                const char *content_type, const uint8_t *meta, size_t meta_len)
{
    const struct cs_backend_ops *ops = srv->backend->ops;
    struct cs_put_options opt = {.durable = req->ns->durable,
                                 .size_hint = len,
                                 .content_type = content_type,
                                 .meta = meta,
                                 .meta_len = meta_len};
    struct cs_upload *up = NULL;
    bool created;
    enum cs_status st = ops->put_begin(srv->backend->state, id, &opt, &up);

    if (st != CS_OK)
        return st;
    st = ops->put_write(up, body, len, CS_PUT_END);
    if (st != CS_OK) {
        ops->put_abort(up);
        return st;
    }
    return ops->put_commit(up, &created);
}

/* The key an upload's record names, and its metadata: CS_ERR_NOT_FOUND
 * for an unknown (or finished) upload. */
static enum cs_status read_record(struct cs_server *srv, struct cs_request *req, const char *id,
                                  struct cs_object *obj)
{
    char key[CS_KEY_MAX + 1];
    struct cs_object_id oid;
    enum cs_status st;

    ns_id(req, &oid, key, record_key(key, id));
    st = srv->backend->ops->open(srv->backend->state, &oid, CS_KEY_MAX, CS_NOTOUCH, obj);
    if (st == CS_OK && (!obj->body || obj->size == 0 || obj->size > CS_KEY_MAX)) {
        cs_object_release(obj);
        st = CS_ERR_IO;
    }
    return st;
}

static void remove_key(struct cs_server *srv, struct cs_request *req, const char *key, size_t len)
{
    struct cs_object_id id;

    ns_id(req, &id, key, len);
    (void)srv->backend->ops->remove(srv->backend->state, &id, req->ns->durable);
}

struct key_list {
    char (*keys)[CS_KEY_MAX + 1];
    size_t *lens;
    size_t n, cap;
};

static bool collect_key(void *arg, const struct cs_index_entry *e)
{
    struct key_list *l = arg;

    if (l->n == l->cap)
        return false;
    memcpy(l->keys[l->n], e->name, e->name_len);
    l->keys[l->n][e->name_len] = '\0';
    l->lens[l->n++] = e->name_len;
    return true;
}

/* Removes the parts and the record of upload id. */
static void drop_upload(struct cs_server *srv, struct cs_request *req, const char *id)
{
    char prefix[CS_KEY_MAX + 1], key[CS_KEY_MAX + 1];
    size_t plen = record_key(prefix, id);
    struct key_list l = {.cap = 256};
    struct cs_index_cursor cur = {0};

    prefix[plen++] = '/';
    prefix[plen] = '\0';
    enum cs_status st = CS_ERR_NOMEM;

    l.keys = malloc(l.cap * sizeof *l.keys);
    l.lens = malloc(l.cap * sizeof *l.lens);
    if (l.keys && l.lens && (st = cs_index_sync(srv->index)) == CS_OK) {
        do { /* batches of 256: the walk must not hold a read while removing */
            l.n = 0;
            st = cs_index_walk(srv->index, req->ns->name, prefix, plen, &cur, l.cap, collect_key,
                               &l);
            for (size_t i = 0; st == CS_OK && i < l.n; i++)
                remove_key(srv, req, l.keys[i], l.lens[i]);
        } while (st == CS_OK && !cur.done && l.n > 0);
    }
    if (st != CS_OK) /* what is left is an orphan: the next sweep takes it */
        cs_log(CS_LOG_WARN, "s3 multipart: the parts of an upload in %s stay for now: %s",
               req->ns->name, cs_strerror(st));
    free(l.keys);
    free(l.lens);
    remove_key(srv, req, key, record_key(key, id));
}

/* What one sweep removes: records older than the age, and parts whose
 * record is gone (a part committed after its upload was aborted or
 * completed). Keys sort a record just before its parts. */
struct sweep {
    time_t before;
    char ids[SWEEP_MAX][UPLOAD_ID_LEN + 1];
    size_t n;
    struct key_list orphans;
    char current[UPLOAD_ID_LEN + 1]; /* the last record seen */
    size_t seen;
};

static bool sweep_entry(void *arg, const struct cs_index_entry *e)
{
    struct sweep *s = arg;
    const char *id = e->name + S3_MPU_PREFIX_LEN;

    s->seen++;
    if (e->name_len == S3_MPU_PREFIX_LEN + UPLOAD_ID_LEN) {
        memcpy(s->current, id, UPLOAD_ID_LEN);
        s->current[UPLOAD_ID_LEN] = '\0';
        if (e->mtime < s->before && s->n < SWEEP_MAX) {
            memcpy(s->ids[s->n], id, UPLOAD_ID_LEN + 1);
            s->ids[s->n++][UPLOAD_ID_LEN] = '\0';
        }
    } else if (e->name_len > S3_MPU_PREFIX_LEN + UPLOAD_ID_LEN &&
               memcmp(id, s->current, UPLOAD_ID_LEN) != 0) {
        (void)collect_key(&s->orphans, e);
    }
    return s->n < SWEEP_MAX && s->orphans.n < s->orphans.cap;
}

/* Uploads left unfinished longer than s3.multipart_max_age, and orphaned
 * parts; at most SWEEP_WALK index entries per sweep. */
static void sweep_stale(struct cs_server *srv, struct cs_request *req)
{
    struct sweep *s = calloc(1, sizeof *s);
    struct cs_index_cursor cur = {0};

    if (!s)
        return;
    s->orphans.cap = 256;
    s->orphans.keys = malloc(s->orphans.cap * sizeof *s->orphans.keys);
    s->orphans.lens = malloc(s->orphans.cap * sizeof *s->orphans.lens);
    s->before = time(NULL) - (time_t)req->policy->cfg->s3.multipart_max_age_s;
    while (s->orphans.keys && s->orphans.lens && !cur.done && s->seen < SWEEP_WALK &&
           s->n < SWEEP_MAX && s->orphans.n < s->orphans.cap)
        if (cs_index_walk(srv->index, req->ns->name, S3_MPU_PREFIX, S3_MPU_PREFIX_LEN, &cur, 1024,
                          sweep_entry, s) != CS_OK)
            break;
    for (size_t i = 0; i < s->n; i++)
        drop_upload(srv, req, s->ids[i]);
    for (size_t i = 0; i < s->orphans.n; i++)
        remove_key(srv, req, s->orphans.keys[i], s->orphans.lens[i]);
    free(s->orphans.keys);
    free(s->orphans.lens);
    free(s);
}

void s3_mpu_create(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    struct cs_s3_req *s3 = req->s3;
    const char *ct = s3_header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
    uint8_t raw[UPLOAD_ID_LEN / 2];
    char key[CS_KEY_MAX + 1];
    struct cs_object_id id;
    struct cs_buf out;
    enum cs_status st;

    sweep_stale(srv, req);
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        s3_prepare_error(req, 500, "InternalError", "no random upload id");
        return;
    }
    cs_hex_encode(raw, sizeof raw, s3->upload_id);
    s3->meta_len = 0;
    if (!s3_meta_from_headers(req, conn))
        return;
    ns_id(req, &id, key, record_key(key, s3->upload_id));
    st = put_small(srv, req, &id, s3->key, s3->key_len,
                   ct && strlen(ct) <= CS_CONTENT_TYPE_MAX ? ct : NULL, s3->meta, s3->meta_len);
    if (st != CS_OK) {
        s3_status_error(req, cs_http_status(st), cs_strerror(st));
        return;
    }
    cs_buf_init(&out, 8192);
    (void)cs_s3_initiate_result(&out, req->ns->name, s3->key, s3->key_len, s3->upload_id);
    s3_prepare_xml(req, 200, &out);
}

/* uploadId and partNumber of an UploadPart or ListParts; false with an error. */
static bool read_upload_id(struct cs_request *req, struct MHD_Connection *conn)
{
    const char *id = s3_query(conn, "uploadId", NULL);

    if (!upload_id_valid(id)) {
        s3_prepare_error(req, 404, "NoSuchUpload", "The specified upload does not exist");
        return false;
    }
    memcpy(req->s3->upload_id, id, UPLOAD_ID_LEN + 1);
    return true;
}

/* The upload named by uploadId, for the key in the URL: false with
 * NoSuchUpload prepared otherwise. record: its record, kept open for the
 * caller, or NULL. */
static bool find_upload(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn,
                        struct cs_object *record)
{
    struct cs_object r;
    bool same_key;

    if (!read_upload_id(req, conn))
        return false;
    if (read_record(srv, req, req->s3->upload_id, &r) != CS_OK) {
        s3_prepare_error(req, 404, "NoSuchUpload", "The specified upload does not exist");
        return false;
    }
    same_key = r.size == req->s3->key_len && memcmp(r.body, req->s3->key, req->s3->key_len) == 0;
    if (!same_key) {
        cs_object_release(&r);
        s3_prepare_error(req, 404, "NoSuchUpload", "The upload is for another key");
        return false;
    }
    if (record)
        *record = r;
    else
        cs_object_release(&r);
    return true;
}

/* UploadPart, in a worker (the record may have to come from a tier): the
 * upload must exist and be for the key in the URL; the part is then
 * stored under its hidden key through the generic upload path. */
void s3_mpu_upload_part(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    struct cs_s3_req *s3 = req->s3;
    const char *pn = s3_query(conn, "partNumber", NULL);
    char *end = NULL;
    struct cs_object_id id;
    unsigned long n = pn ? strtoul(pn, &end, 10) : 0;

    if (!pn || !pn[0] || *end || n < 1 || n > 10000) {
        s3_prepare_error(req, 400, "InvalidArgument", "partNumber must be 1 to 10000");
        return;
    }
    if (!find_upload(srv, req, conn, NULL))
        return;
    s3->part_number = (unsigned)n;
    s3->key_len = part_key(s3->key, s3->upload_id, s3->part_number);
    memcpy(req->route->key, s3->key, s3->key_len + 1); /* the generic put jobs read it */
    req->route->key_len = s3->key_len;
    ns_id(req, &id, s3->key, s3->key_len);
    (void)http_begin_put(srv, req, conn, &id, 0, req->method, req->url);
}

/* The multipart ETag: MD5 of the parts' binary MD5s, "-N". */
struct composite {
    EVP_MD_CTX *md5;
    uint64_t size;   /* the object's bytes */
    uint64_t stored; /* the parts' bytes on disk (compressed ones too): the quota credit */
};

static bool part_md5(const struct cs_object *obj, uint8_t out[16])
{
    char etag[80];

    s3_object_etag(obj, etag, sizeof etag);
    if (strlen(etag) != 32)
        return false;
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)(cs_hex_digit(etag[2 * i]) * 16 + cs_hex_digit(etag[2 * i + 1]));
    return true;
}

/* Part i of the listing, opened (fd only), if it has the listed ETag. */
static enum cs_status open_part(struct cs_server *srv, struct cs_request *req,
                                const struct cs_s3_part *part, struct cs_object *obj)
{
    char key[CS_KEY_MAX + 1], etag[80];
    struct cs_object_id id;
    enum cs_status st;

    ns_id(req, &id, key, part_key(key, req->s3->upload_id, part->number));
    st = srv->backend->ops->open(srv->backend->state, &id, 0, CS_NOTOUCH, obj);
    if (st != CS_OK)
        return st;
    s3_object_etag(obj, etag, sizeof etag);
    if (strcmp(etag, part->etag) != 0) {
        cs_object_release(obj);
        return CS_ERR_DIGEST;
    }
    return CS_OK;
}

/* Every listed part before anything is written: it exists with its ETag,
 * and all but the last have 5 MiB. One part open at a time. */
static bool check_parts(struct cs_server *srv, struct cs_request *req,
                        const struct cs_s3_complete *c, struct composite *comp)
{
    struct cs_object obj;
    uint8_t md5[16];

    for (size_t i = 0; i < c->n; i++) {
        enum cs_status st = open_part(srv, req, &c->parts[i], &obj);
        if (st == CS_ERR_NOT_FOUND || st == CS_ERR_DIGEST) {
            s3_prepare_error(req, 400, "InvalidPart",
                             st == CS_ERR_DIGEST ? "part %u has another ETag"
                                                 : "part %u was not uploaded",
                             c->parts[i].number);
            return false;
        }
        if (st != CS_OK) {
            s3_status_error(req, cs_http_status(st), cs_strerror(st));
            return false;
        }
        bool ok = part_md5(&obj, md5);
        uint64_t size = obj.size;
        comp->stored += obj.offset + obj.stored_size;
        cs_object_release(&obj);
        if (!ok) {
            s3_prepare_error(req, 400, "InvalidPart", "part %u has no MD5 ETag",
                             c->parts[i].number);
            return false;
        }
        if (i + 1 < c->n && size < PART_MIN) {
            s3_prepare_error(req, 400, "EntityTooSmall",
                             "part %u is smaller than 5 MiB and not the last", c->parts[i].number);
            return false;
        }
        EVP_DigestUpdate(comp->md5, md5, 16);
        comp->size += size;
    }
    return true;
}

/* Copies one part's body into the upload: each byte read once. */
static enum cs_status copy_part(const struct cs_backend_ops *ops, struct cs_upload *up,
                                struct cs_object *obj, char *buf)
{
    struct cs_body_reader *r;
    enum cs_status st = cs_body_reader_open_uncapped(obj, &r); /* takes obj's fd */
    ssize_t n;

    if (st != CS_OK)
        return st;
    while ((n = cs_body_reader_read(r, buf, COPY_BUF)) > 0)
        if ((st = ops->put_write(up, buf, (size_t)n, 0)) != CS_OK)
            break;
    if (n < 0)
        st = (enum cs_status)n;
    cs_body_reader_close(r);
    return st;
}

/* Each part opened again as it is copied, its ETag checked again: a part
 * replaced since the check (a retried UploadPart) fails the completion
 * rather than slip other bytes under the computed ETag. */
static enum cs_status assemble(struct cs_server *srv, struct cs_request *req,
                               const struct cs_object *record, const struct cs_s3_complete *c,
                               uint64_t size, uint64_t credit)
{
    const struct cs_backend_ops *ops = srv->backend->ops;
    struct cs_object_id id;
    struct cs_put_options opt = {.durable = req->ns->durable,
                                 .size_hint = size,
                                 .content_type =
                                     record->content_type[0] ? record->content_type : NULL,
                                 .compress_level = req->ns->compress_level,
                                 .meta = req->s3->meta,
                                 .meta_len = req->s3->meta_len,
                                 .quota_credit = credit}; /* the parts go once it commits */
    struct cs_upload *up = NULL;
    struct cs_object obj;
    char *buf = malloc(COPY_BUF);
    bool created;
    enum cs_status st = buf ? CS_OK : CS_ERR_NOMEM;

    ns_id(req, &id, record->body, (size_t)record->size);
    if (st == CS_OK && size > req->ns->max_blob_size)
        st = CS_ERR_TOO_LARGE;
    if (st == CS_OK)
        st = ops->put_begin(srv->backend->state, &id, &opt, &up);
    for (size_t i = 0; st == CS_OK && i < c->n; i++) {
        st = open_part(srv, req, &c->parts[i], &obj);
        if (st == CS_OK) {
            st = copy_part(ops, up, &obj, buf);
            cs_object_release(&obj);
        }
    }
    if (st == CS_OK)
        st = ops->put_write(up, NULL, 0, CS_PUT_END);
    if (st == CS_OK)
        st = ops->put_commit(up, &created);
    else if (up)
        ops->put_abort(up);
    free(buf);
    return st;
}

/* The final object's metadata: the record's, with the multipart ETag. */
static bool final_meta(struct cs_request *req, const struct cs_object *record, const char *etag)
{
    struct cs_s3_req *s3 = req->s3;
    struct s3_meta_field f;
    size_t pos = 0;

    s3->meta_len = 0;
    if (!s3_meta_alloc(s3) ||
        !s3_meta_add(s3->meta, &s3->meta_len, CS_OBJECT_META_MAX, "etag", etag, strlen(etag)))
        return false;
    while (s3_meta_next(record->meta, record->meta_len, &pos, &f)) {
        char name[256];
        memcpy(name, f.name, f.name_len);
        name[f.name_len] = '\0';
        if (!s3_meta_add(s3->meta, &s3->meta_len, CS_OBJECT_META_MAX, name, f.value, f.value_len))
            return false;
    }
    return true;
}

static void complete(struct cs_server *srv, struct cs_request *req, struct cs_object *record,
                     const struct cs_s3_complete *c)
{
    struct composite comp = {.md5 = EVP_MD_CTX_new()};
    uint8_t digest[16];
    char hex[33], etag[48];
    unsigned dlen = 0;
    enum cs_status st;
    struct cs_buf out;

    if (!comp.md5 || EVP_DigestInit_ex(comp.md5, EVP_md5(), NULL) != 1) {
        s3_prepare_error(req, 500, "InternalError", "out of memory");
        goto done;
    }
    if (c->n == 0) {
        s3_prepare_error(req, 400, "MalformedXML", "no parts listed");
        goto done;
    }
    if (!check_parts(srv, req, c, &comp))
        goto done;
    if (comp.size > req->ns->max_blob_size) {
        s3_prepare_error(req, 400, "EntityTooLarge",
                         "the parts add up to more than max_blob_size of bucket '%s'",
                         req->ns->name);
        goto done;
    }
    EVP_DigestFinal_ex(comp.md5, digest, &dlen);
    cs_hex_encode(digest, 16, hex);
    snprintf(etag, sizeof etag, "%s-%zu", hex, c->n);
    if (!final_meta(req, record, etag)) {
        s3_prepare_error(req, 400, "MetadataTooLarge", "the upload's metadata is too large");
        goto done;
    }
    st = assemble(srv, req, record, c, comp.size, comp.stored);
    if (st == CS_ERR_DIGEST || st == CS_ERR_NOT_FOUND) {
        s3_prepare_error(req, 400, "InvalidPart", "a part changed or went away during completion");
        goto done;
    }
    if (st != CS_OK) {
        s3_status_error(req, cs_http_status(st), cs_strerror(st));
        goto done;
    }
    /* the listed parts first, by name: their bytes were credited to the
     * object, and no index walk stands between the commit and their removal */
    for (size_t i = 0; i < c->n; i++) {
        char key[CS_KEY_MAX + 1];
        remove_key(srv, req, key, part_key(key, req->s3->upload_id, c->parts[i].number));
    }
    drop_upload(srv, req, req->s3->upload_id); /* the record, and parts not listed */
    cs_buf_init(&out, 8192);
    struct cs_s3_complete_result r = {.location = req->url,
                                      .bucket = req->ns->name,
                                      .key = record->body,
                                      .key_len = (size_t)record->size,
                                      .etag = etag};
    (void)cs_s3_complete_result(&out, &r);
    s3_prepare_xml(req, 200, &out);
done:
    EVP_MD_CTX_free(comp.md5);
}

void s3_mpu_complete(struct cs_server *srv, struct cs_request *req)
{
    struct cs_s3_complete c = {0};
    struct cs_s3_parse_error err = {0};
    struct cs_object record;

    if (!find_upload(srv, req, req->conn, &record))
        return;
    if (cs_s3_parse_complete(req->s3->body.data ? req->s3->body.data : "", req->s3->body.len, &c,
                             &err) != CS_OK) {
        cs_object_release(&record);
        s3_prepare_error(req, 400, err.code ? err.code : "MalformedXML", "%s", err.message);
        return;
    }
    complete(srv, req, &record, &c);
    cs_s3_complete_free(&c);
    cs_object_release(&record);
}

void s3_mpu_abort(struct cs_server *srv, struct cs_request *req)
{
    if (!find_upload(srv, req, req->conn, NULL))
        return;
    drop_upload(srv, req, req->s3->upload_id);
    s3_prepare_empty(req, 204);
}

struct parts_walk {
    struct cs_server *srv;
    struct cs_request *req;
    struct cs_s3_list_writer *w;
    uint64_t max, count;
    bool truncated;
    unsigned last;
};

static bool on_part(void *arg, const struct cs_index_entry *e)
{
    struct parts_walk *pw = arg;
    unsigned n = (unsigned)strtoul(e->name + e->name_len - 5, NULL, 10);
    struct cs_object_id id;
    struct cs_object obj;
    char etag[80] = "";

    if (pw->count == pw->max) {
        pw->truncated = true;
        return false;
    }
    cs_object_id_init(&id, pw->req->ns->name, e->name, e->name_len);
    if (pw->srv->backend->ops->open(pw->srv->backend->state, &id, 0, CS_NOWAIT | CS_NOTOUCH,
                                    &obj) == CS_OK) {
        s3_object_etag(&obj, etag, sizeof etag);
        cs_object_release(&obj);
    }
    struct cs_s3_part_info p = {.number = n, .mtime = e->mtime, .etag = etag, .size = e->size};
    pw->count++;
    pw->last = n;
    return cs_s3_list_add_part(pw->w, &p) == CS_OK;
}

void s3_mpu_list_parts(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    const char *marker = s3_query(conn, "part-number-marker", NULL);
    char prefix[CS_KEY_MAX + 1];
    struct cs_index_cursor cur = {0};
    struct cs_s3_list_writer w;
    struct cs_s3_list_next next = {0};
    struct cs_buf out;
    size_t plen;

    if (!find_upload(srv, req, conn, NULL))
        return;
    unsigned from = marker ? (unsigned)strtoul(marker, NULL, 10) : 0;
    struct cs_s3_list_req lr = {.kind = CS_S3_LIST_PARTS,
                                .bucket = req->ns->name,
                                .max = 1000,
                                .key = req->s3->key,
                                .key_len = req->s3->key_len,
                                .upload_id = req->s3->upload_id,
                                .part_number_marker = from};
    struct parts_walk pw = {.srv = srv, .req = req, .w = &w, .max = 1000};

    plen = record_key(prefix, req->s3->upload_id);
    prefix[plen++] = '/';
    prefix[plen] = '\0';
    if (from > 0 && from <= 10000) {
        cur.key_len = part_key(cur.key, req->s3->upload_id, from);
        cur.started = true;
    }
    cs_buf_init(&out, S3_XML_REPLY_MAX);
    if (cs_index_sync(srv->index) != CS_OK || cs_s3_list_begin(&w, &out, &lr) != CS_OK) {
        cs_buf_free(&out);
        s3_prepare_error(req, 503, "SlowDown", "the index cannot be read now; retry later");
        return;
    }
    while (!cur.done && !pw.truncated)
        if (cs_index_walk(srv->index, req->ns->name, prefix, plen, &cur, 256, on_part, &pw) !=
            CS_OK)
            break;
    next.truncated = pw.truncated;
    next.part_number = pw.truncated ? pw.last : 0;
    if (cs_s3_list_end(&w, &next) != CS_OK) {
        cs_buf_free(&out);
        s3_prepare_error(req, 500, "InternalError", "the listing is too large");
        return;
    }
    s3_prepare_xml(req, 200, &out);
}

struct uploads_walk {
    struct cs_server *srv;
    struct cs_request *req;
    struct cs_s3_list_writer *w;
    const char *prefix;
    size_t prefix_len;
    uint64_t count;
};

static bool on_upload(void *arg, const struct cs_index_entry *e)
{
    struct uploads_walk *uw = arg;
    char id[UPLOAD_ID_LEN + 1];
    struct cs_object record;

    if (e->name_len != S3_MPU_PREFIX_LEN + UPLOAD_ID_LEN || uw->count >= 1000)
        return uw->count < 1000;
    memcpy(id, e->name + S3_MPU_PREFIX_LEN, UPLOAD_ID_LEN);
    id[UPLOAD_ID_LEN] = '\0';
    if (read_record(uw->srv, uw->req, id, &record) != CS_OK)
        return true;
    if (record.size >= uw->prefix_len && memcmp(record.body, uw->prefix, uw->prefix_len) == 0) {
        struct cs_s3_upload u = {.key = record.body,
                                 .key_len = (size_t)record.size,
                                 .upload_id = id,
                                 .initiated = e->mtime};
        (void)cs_s3_list_add_upload(uw->w, &u);
        uw->count++;
    }
    cs_object_release(&record);
    return true;
}

void s3_mpu_list(struct cs_server *srv, struct cs_request *req, struct MHD_Connection *conn)
{
    const char *prefix = s3_query(conn, "prefix", NULL);
    struct cs_index_cursor cur = {0};
    struct cs_s3_list_writer w;
    struct cs_s3_list_next next = {0};
    struct cs_buf out;
    struct cs_s3_list_req lr = {.kind = CS_S3_LIST_UPLOADS,
                                .bucket = req->ns->name,
                                .prefix = prefix ? prefix : "",
                                .prefix_len = prefix ? strlen(prefix) : 0,
                                .max = 1000};
    struct uploads_walk uw = {
        .srv = srv, .req = req, .w = &w, .prefix = lr.prefix, .prefix_len = lr.prefix_len};

    cs_buf_init(&out, S3_XML_REPLY_MAX);
    if (cs_index_sync(srv->index) != CS_OK || cs_s3_list_begin(&w, &out, &lr) != CS_OK) {
        cs_buf_free(&out);
        s3_prepare_error(req, 503, "SlowDown", "the index cannot be read now; retry later");
        return;
    }
    while (!cur.done && uw.count < 1000)
        if (cs_index_walk(srv->index, req->ns->name, S3_MPU_PREFIX, S3_MPU_PREFIX_LEN, &cur, 256,
                          on_upload, &uw) != CS_OK)
            break;
    next.truncated = uw.count >= 1000;
    if (cs_s3_list_end(&w, &next) != CS_OK) {
        cs_buf_free(&out);
        s3_prepare_error(req, 500, "InternalError", "the listing is too large");
        return;
    }
    s3_prepare_xml(req, 200, &out);
}
