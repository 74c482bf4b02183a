/* The S3 XML request bodies (see s3_xml.h), read with expat. One small
 * walker (struct xp) does what all three share: the root check, S3 or no
 * namespace, skipping unknown elements, bounded text capture and refusing
 * DTDs; each body adds a start and an end handler. */
#include "autoconfig.h"

#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/s3_xml.h"

#define MALFORMED "MalformedXML"
#define MAX_DEPTH 16 /* deeper than any S3 body: a nesting bomb, not a request */

struct xp;
struct xp_ops {
    const char *root;
    /* a known element at depth >= 2: true, or false to skip its subtree */
    bool (*start)(struct xp *x, const char *local);
    void (*end)(struct xp *x, const char *local);
};

struct xp {
    XML_Parser p;
    const struct xp_ops *ops;
    void *ctx;
    struct cs_s3_parse_error *err;
    bool failed;
    int depth;
    int skip_depth; /* > 0: inside an element we ignore, opened at this depth */
    /* text of the element being captured, bounded by text_max */
    char *text;
    size_t text_len, text_max;
    bool capturing, text_over;
};

static void xp_fail(struct xp *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The first failure wins, and parsing stops there. */
static void xp_fail(struct xp *x, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (x->failed)
        return;
    x->failed = true;
    x->err->code = code;
    va_start(ap, fmt);
    vsnprintf(x->err->message, sizeof x->err->message, fmt, ap);
    va_end(ap);
    XML_StopParser(x->p, XML_FALSE);
}

/* Capture the text of the element just opened into buf (max bytes, and a
 * NUL: buf has max + 1). */
static void xp_capture(struct xp *x, char *buf, size_t max)
{
    x->text = buf;
    x->text_len = 0;
    x->text_max = max;
    x->text_over = false;
    x->capturing = true;
    buf[0] = '\0';
}

/* expat with a separator gives "URI local" or "local". */
static const char *local_name(const char *full, bool *ours)
{
    const char *sep = strrchr(full, ' ');

    *ours = !sep || ((size_t)(sep - full) == strlen(CS_S3_XMLNS) &&
                     memcmp(full, CS_S3_XMLNS, strlen(CS_S3_XMLNS)) == 0);
    return sep ? sep + 1 : full;
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    struct xp *x = arg;
    bool ours;
    const char *local = local_name(name, &ours);

    (void)attrs;
    x->depth++;
    if (x->failed || x->skip_depth)
        return;
    if (x->depth > MAX_DEPTH) {
        xp_fail(x, MALFORMED, "XML nested deeper than %d elements", MAX_DEPTH);
        return;
    }
    if (x->capturing) {
        xp_fail(x, MALFORMED, "element <%.40s> inside a text element", local);
        return;
    }
    if (x->depth == 1) {
        if (!ours || strcmp(local, x->ops->root) != 0)
            xp_fail(x, MALFORMED, "root element is not %s", x->ops->root);
        return;
    }
    if (!ours || !x->ops->start(x, local))
        x->skip_depth = x->depth;
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
    struct xp *x = arg;
    bool ours;
    const char *local = local_name(name, &ours);

    if (x->skip_depth) {
        if (x->skip_depth == x->depth)
            x->skip_depth = 0;
    } else if (!x->failed && x->depth > 1) {
        if (x->capturing)
            x->text[x->text_len] = '\0';
        x->ops->end(x, local);
        x->capturing = false;
    }
    x->depth--;
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
    struct xp *x = arg;
    size_t n = (size_t)len;

    if (x->failed || x->skip_depth || !x->capturing || x->text_over)
        return;
    if (n > x->text_max - x->text_len) {
        x->text_over = true; /* the end handler says which error */
        return;
    }
    memcpy(x->text + x->text_len, s, n);
    x->text_len += n;
}

/* No DTD at all: it is where entity expansion (billion laughs) and
 * external entities live, and no S3 body has one. */
static void XMLCALL on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    xp_fail(arg, MALFORMED, "a DOCTYPE is not allowed");
}

static void XMLCALL on_entity(void *arg, const XML_Char *name, int is_param, const XML_Char *value,
                              int value_len, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    xp_fail(arg, MALFORMED, "entity declarations are not allowed");
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Runs the walker over the whole body. */
static enum cs_status xp_run(struct xp *x, const char *body, size_t len)
{
    enum XML_Status rc;
    bool ok;

    if (len > (size_t)INT32_MAX) {
        x->err->code = MALFORMED;
        snprintf(x->err->message, sizeof x->err->message, "body too large");
        return CS_ERR_INVALID;
    }
    x->p = XML_ParserCreateNS("UTF-8", ' ');
    if (!x->p)
        return CS_ERR_NOMEM;
    XML_SetUserData(x->p, x);
    XML_SetElementHandler(x->p, on_start, on_end);
    XML_SetCharacterDataHandler(x->p, on_text);
    XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
    XML_SetEntityDeclHandler(x->p, on_entity);
    XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
    rc = XML_Parse(x->p, body, (int)len, 1);
    ok = rc == XML_STATUS_OK;
    if (!ok && !x->failed) {
        x->failed = true;
        x->err->code = MALFORMED;
        snprintf(x->err->message, sizeof x->err->message,
                 "The XML you provided was not well-formed: %s (line %lu)",
                 XML_ErrorString(XML_GetErrorCode(x->p)),
                 (unsigned long)XML_GetCurrentLineNumber(x->p));
    }
    XML_ParserFree(x->p);
    x->p = NULL;
    return x->failed ? CS_ERR_INVALID : CS_OK;
}

/* Text without the blanks around it (for numbers, booleans, ETags). */
static const char *trimmed(char *s, size_t *n)
{
    while (*n && blank(s + *n - 1, 1))
        s[--*n] = '\0';
    while (*n && blank(s, 1)) {
        s++;
        --*n;
    }
    return s;
}

/* --- DeleteObjects ---------------------------------------------------------- */

enum del_field { DEL_NONE, DEL_QUIET, DEL_KEY, DEL_VID };

struct del_state {
    cs_s3_delete_cb cb; /* NULL in the checking pass */
    void *arg;
    enum cs_status cb_status;
    bool quiet;
    size_t count;
    bool in_object, have_key, have_vid;
    enum del_field field;
    char small[16];
    char key[CS_S3_KEY_MAX + 1];
    size_t key_len;
    char vid[CS_S3_VERSION_ID_MAX + 1];
};

static bool del_start(struct xp *x, const char *local)
{
    struct del_state *d = x->ctx;

    d->field = DEL_NONE;
    if (x->depth == 2 && strcmp(local, "Quiet") == 0) {
        d->field = DEL_QUIET;
        xp_capture(x, d->small, sizeof d->small - 1);
    } else if (x->depth == 2 && strcmp(local, "Object") == 0) {
        d->in_object = true;
        d->have_key = d->have_vid = false;
    } else if (x->depth == 3 && d->in_object && strcmp(local, "Key") == 0) {
        if (d->have_key)
            xp_fail(x, MALFORMED, "an Object has two Keys");
        d->field = DEL_KEY;
        xp_capture(x, d->key, CS_S3_KEY_MAX);
    } else if (x->depth == 3 && d->in_object && strcmp(local, "VersionId") == 0) {
        if (d->have_vid)
            xp_fail(x, MALFORMED, "an Object has two VersionIds");
        d->field = DEL_VID;
        xp_capture(x, d->vid, CS_S3_VERSION_ID_MAX);
    } else {
        return false;
    }
    return true;
}

static void del_quiet(struct xp *x, struct del_state *d)
{
    size_t n = x->text_len;
    const char *v = trimmed(x->text, &n);

    /* xs:boolean */
    if (!x->text_over && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0))
        d->quiet = true;
    else if (!x->text_over && (strcmp(v, "false") == 0 || strcmp(v, "0") == 0))
        d->quiet = false;
    else
        xp_fail(x, MALFORMED, "Quiet must be true or false");
}

static void del_object_end(struct xp *x, struct del_state *d)
{
    struct cs_s3_delete_obj obj;

    d->in_object = false;
    if (!d->have_key) {
        xp_fail(x, MALFORMED, "an Object has no Key");
        return;
    }
    if (d->key_len == 0) {
        xp_fail(x, "UserKeyMustBeSpecified", "an Object has an empty Key");
        return;
    }
    if (++d->count > CS_S3_DELETE_MAX) {
        xp_fail(x, MALFORMED, "more than %d objects in one DeleteObjects", CS_S3_DELETE_MAX);
        return;
    }
    if (!d->cb)
        return;
    obj.key = d->key;
    obj.key_len = d->key_len;
    obj.version_id = d->have_vid ? d->vid : NULL;
    d->cb_status = d->cb(d->arg, &obj);
    if (d->cb_status != CS_OK)
        XML_StopParser(x->p, XML_FALSE);
}

static void del_end(struct xp *x, const char *local)
{
    struct del_state *d = x->ctx;
    enum del_field f = d->field;

    d->field = DEL_NONE;
    if (x->depth == 2 && strcmp(local, "Object") == 0) {
        del_object_end(x, d);
    } else if (f == DEL_QUIET) {
        del_quiet(x, d);
    } else if (f == DEL_KEY) {
        if (x->text_over)
            xp_fail(x, "KeyTooLongError", "a Key is longer than %d bytes", CS_S3_KEY_MAX);
        d->key_len = x->text_len;
        d->have_key = true;
    } else if (f == DEL_VID) {
        if (x->text_over)
            xp_fail(x, "InvalidArgument", "a VersionId is too long");
        d->have_vid = true;
    }
}

static const struct xp_ops del_ops = {"Delete", del_start, del_end};

/* One pass; cb NULL only checks. */
static enum cs_status del_pass(const char *body, size_t len, struct del_state *d,
                               struct cs_s3_parse_error *err)
{
    struct xp x = {.ops = &del_ops, .ctx = d, .err = err};
    enum cs_status st = xp_run(&x, body, len);

    if (d->cb_status != CS_OK)
        return d->cb_status; /* the callback stopped the walk */
    if (st == CS_OK && d->count == 0) {
        err->code = MALFORMED;
        snprintf(err->message, sizeof err->message, "DeleteObjects names no Object");
        return CS_ERR_INVALID;
    }
    return st;
}

enum cs_status cs_s3_parse_delete(const char *body, size_t len, bool *quiet, cs_s3_delete_cb cb,
                                  void *arg, struct cs_s3_parse_error *err)
{
    struct del_state *d = calloc(1, sizeof *d); /* 2 KiB of keys: not on the stack */
    enum cs_status st;

    err->code = NULL;
    err->message[0] = '\0';
    if (!d)
        return CS_ERR_NOMEM;
    /* check the whole body first, then hand out objects: a refusal at
     * object 1001 or a broken tail must not follow 1000 deletions */
    st = del_pass(body, len, d, err);
    if (st == CS_OK) {
        *quiet = d->quiet;
        memset(d, 0, sizeof *d);
        d->cb = cb;
        d->arg = arg;
        st = del_pass(body, len, d, err);
    }
    free(d);
    return st;
}

/* --- CompleteMultipartUpload ------------------------------------------------ */

enum part_field { PART_NONE, PART_NUMBER, PART_ETAG, PART_CHECKSUM };

struct complete_state {
    struct cs_s3_complete *out;
    size_t cap;
    bool in_part, have_number, have_etag;
    struct cs_s3_part part;
    enum part_field field;
    enum cs_s3_checksum field_kind;
    char text[CS_S3_ETAG_MAX * 2 + 1]; /* room for blanks and quotes around */
};

static const char *const checksum_names[] = {
    [CS_S3_CHECKSUM_NONE] = NULL,
    [CS_S3_CHECKSUM_CRC32] = "ChecksumCRC32",
    [CS_S3_CHECKSUM_CRC32C] = "ChecksumCRC32C",
    [CS_S3_CHECKSUM_CRC64NVME] = "ChecksumCRC64NVME",
    [CS_S3_CHECKSUM_SHA1] = "ChecksumSHA1",
    [CS_S3_CHECKSUM_SHA256] = "ChecksumSHA256",
};

const char *cs_s3_checksum_name(enum cs_s3_checksum kind)
{
    if ((size_t)kind >= sizeof checksum_names / sizeof checksum_names[0])
        return NULL;
    return checksum_names[kind];
}

static enum cs_s3_checksum checksum_kind(const char *local)
{
    for (size_t i = 1; i < sizeof checksum_names / sizeof checksum_names[0]; i++)
        if (strcmp(local, checksum_names[i]) == 0)
            return (enum cs_s3_checksum)i;
    return CS_S3_CHECKSUM_NONE;
}

static bool complete_start(struct xp *x, const char *local)
{
    struct complete_state *c = x->ctx;

    c->field = PART_NONE;
    if (x->depth == 2 && strcmp(local, "Part") == 0) {
        /* counted here, before a number past 10000 is seen as bad */
        if (c->out->n == CS_S3_PARTS_MAX)
            xp_fail(x, MALFORMED, "more than %d parts", CS_S3_PARTS_MAX);
        c->in_part = true;
        c->have_number = c->have_etag = false;
        memset(&c->part, 0, sizeof c->part);
        return true;
    }
    if (x->depth != 3 || !c->in_part)
        return false;
    if (strcmp(local, "PartNumber") == 0)
        c->field = PART_NUMBER;
    else if (strcmp(local, "ETag") == 0)
        c->field = PART_ETAG;
    else if ((c->field_kind = checksum_kind(local)) != CS_S3_CHECKSUM_NONE)
        c->field = PART_CHECKSUM;
    else
        return false;
    xp_capture(x, c->text, sizeof c->text - 1);
    return true;
}

static void part_number_end(struct xp *x, struct complete_state *c)
{
    size_t n = x->text_len;
    const char *v = trimmed(x->text, &n);
    unsigned long num = 0;
    size_t i;

    if (c->have_number) {
        xp_fail(x, MALFORMED, "a Part has two PartNumbers");
        return;
    }
    for (i = 0; i < n && v[i] >= '0' && v[i] <= '9' && num <= CS_S3_PARTS_MAX; i++)
        num = num * 10 + (unsigned long)(v[i] - '0');
    if (x->text_over || n == 0 || i < n || num < 1 || num > CS_S3_PARTS_MAX) {
        xp_fail(x, "InvalidArgument", "Part number must be an integer between 1 and %d, inclusive",
                CS_S3_PARTS_MAX);
        return;
    }
    c->part.number = (uint32_t)num;
    c->have_number = true;
}

static void part_etag_end(struct xp *x, struct complete_state *c)
{
    size_t n = x->text_len;
    const char *v = trimmed(x->text, &n);

    if (c->have_etag) {
        xp_fail(x, MALFORMED, "a Part has two ETags");
        return;
    }
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (x->text_over || n == 0 || n > CS_S3_ETAG_MAX) {
        xp_fail(x, "InvalidPart", "a Part's ETag is not one this server gave out");
        return;
    }
    memcpy(c->part.etag, v, n);
    c->part.etag[n] = '\0';
    c->have_etag = true;
}

static void part_checksum_end(struct xp *x, struct complete_state *c)
{
    size_t n = x->text_len;
    const char *v = trimmed(x->text, &n);

    if (c->part.checksum_kind != CS_S3_CHECKSUM_NONE) {
        xp_fail(x, MALFORMED, "a Part has two checksums");
        return;
    }
    if (x->text_over || n > CS_S3_CHECKSUM_MAX) {
        xp_fail(x, "InvalidPart", "a Part's checksum is too long");
        return;
    }
    memcpy(c->part.checksum, v, n);
    c->part.checksum[n] = '\0';
    c->part.checksum_kind = c->field_kind;
}

static void part_end(struct xp *x, struct complete_state *c)
{
    struct cs_s3_complete *out = c->out;

    c->in_part = false;
    if (!c->have_number || !c->have_etag) {
        xp_fail(x, MALFORMED, "a Part needs a PartNumber and an ETag");
        return;
    }
    if (out->n && c->part.number <= out->parts[out->n - 1].number) {
        xp_fail(x, "InvalidPartOrder", "The list of parts was not in ascending order");
        return;
    }
    if (out->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct cs_s3_part *p;

        if (cap > CS_S3_PARTS_MAX)
            cap = CS_S3_PARTS_MAX;
        p = realloc(out->parts, cap * sizeof *p);
        if (!p) {
            xp_fail(x, "InternalError", "out of memory");
            return;
        }
        out->parts = p;
        c->cap = cap;
    }
    out->parts[out->n++] = c->part;
}

static void complete_end(struct xp *x, const char *local)
{
    struct complete_state *c = x->ctx;
    enum part_field f = c->field;

    c->field = PART_NONE;
    if (x->depth == 2 && strcmp(local, "Part") == 0)
        part_end(x, c);
    else if (f == PART_NUMBER)
        part_number_end(x, c);
    else if (f == PART_ETAG)
        part_etag_end(x, c);
    else if (f == PART_CHECKSUM)
        part_checksum_end(x, c);
}

static const struct xp_ops complete_ops = {"CompleteMultipartUpload", complete_start, complete_end};

enum cs_status cs_s3_parse_complete(const char *body, size_t len, struct cs_s3_complete *out,
                                    struct cs_s3_parse_error *err)
{
    struct complete_state c = {.out = out};
    struct xp x = {.ops = &complete_ops, .ctx = &c, .err = err};
    enum cs_status st;

    err->code = NULL;
    err->message[0] = '\0';
    out->parts = NULL;
    out->n = 0;
    st = xp_run(&x, body, len);
    if (st == CS_OK && out->n == 0) {
        err->code = MALFORMED;
        snprintf(err->message, sizeof err->message, "CompleteMultipartUpload names no Part");
        st = CS_ERR_INVALID;
    }
    if (st != CS_OK && err->code && strcmp(err->code, "InternalError") == 0)
        st = CS_ERR_NOMEM;
    if (st != CS_OK)
        cs_s3_complete_free(out);
    return st;
}

void cs_s3_complete_free(struct cs_s3_complete *c)
{
    free(c->parts);
    c->parts = NULL;
    c->n = 0;
}

/* --- CreateBucketConfiguration ---------------------------------------------- */

struct create_state {
    char *region;
    bool capturing;
};

static bool create_start(struct xp *x, const char *local)
{
    struct create_state *c = x->ctx;

    if (x->depth != 2 || strcmp(local, "LocationConstraint") != 0)
        return false;
    c->capturing = true;
    xp_capture(x, c->region, CS_S3_LOCATION_MAX);
    return true;
}

static void create_end(struct xp *x, const char *local)
{
    struct create_state *c = x->ctx;
    size_t n = x->text_len;
    const char *v;

    (void)local;
    if (!c->capturing)
        return;
    c->capturing = false;
    if (x->text_over) {
        xp_fail(x, "InvalidLocationConstraint", "the location constraint is too long");
        return;
    }
    v = trimmed(x->text, &n);
    memmove(c->region, v, n);
    c->region[n] = '\0';
}

static const struct xp_ops create_ops = {"CreateBucketConfiguration", create_start, create_end};

enum cs_status cs_s3_parse_create_bucket(const char *body, size_t len,
                                         char region[CS_S3_LOCATION_MAX + 1],
                                         struct cs_s3_parse_error *err)
{
    struct create_state c = {.region = region};
    struct xp x = {.ops = &create_ops, .ctx = &c, .err = err};
    enum cs_status st;

    err->code = NULL;
    err->message[0] = '\0';
    region[0] = '\0';
    if (blank(body, len)) /* rclone and awscli send none for us-east-1 */
        return CS_OK;
    st = xp_run(&x, body, len);
    if (st != CS_OK)
        region[0] = '\0';
    return st;
}
