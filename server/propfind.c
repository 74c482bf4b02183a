/* PROPFIND bodies in, multistatus XML out. The request body is parsed by
 * expat (never by hand); only its structure matters to us: allprop,
 * propname, or a list of property names. */
#include "autoconfig.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "server/propfind.h"
#include "server/text.h"

/* --- request body ---------------------------------------------------------- */

struct parse_state {
    struct cs_propfind_request *req;
    int depth;
    bool saw_root, saw_child, saw_kind, in_prop;
    const char *error;
};

/* expat with a namespace separator gives "URI local" or just "local".
 * False when either part does not fit: a name cut short would be echoed
 * in a 404 propstat as a property nobody asked for, maybe cut inside a
 * UTF-8 sequence. */
static bool split_name(const char *full, struct cs_prop_name *out)
{
    const char *sep = strrchr(full, ' ');
    const char *local = sep ? sep + 1 : full;
    size_t ns_len = sep ? (size_t)(sep - full) : 0;

    if (ns_len >= sizeof out->ns || strlen(local) >= sizeof out->name)
        return false;
    memcpy(out->ns, full, ns_len);
    out->ns[ns_len] = '\0';
    memcpy(out->name, local, strlen(local) + 1);
    return true;
}

static bool is_dav(const struct cs_prop_name *n, const char *local)
{
    return strcmp(n->ns, "DAV:") == 0 && strcmp(n->name, local) == 0;
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    struct parse_state *ps = arg;
    struct cs_prop_name n;
    /* a name too long for cs_prop_name is none of DAV:'s we look for */
    bool fits;

    (void)attrs;
    ps->depth++;
    if (ps->error || ps->depth > 3)
        return;
    fits = split_name(name, &n);
    if (ps->depth == 1) {
        if (!fits || !is_dav(&n, "propfind"))
            ps->error = "PROPFIND body's root element is not DAV:propfind";
        ps->saw_root = true;
    } else if (ps->depth == 2) {
        /* The first of allprop, propname and prop decides. Elements we do
         * not know are ignored (RFC 4918 17: extensibility), and so is
         * the include element that may follow allprop. */
        ps->saw_child = true;
        if (ps->saw_kind || !fits)
            return;
        if (is_dav(&n, "allprop"))
            ps->req->kind = CS_PROPFIND_ALLPROP;
        else if (is_dav(&n, "propname"))
            ps->req->kind = CS_PROPFIND_PROPNAME;
        else if (is_dav(&n, "prop")) {
            ps->req->kind = CS_PROPFIND_PROP;
            ps->in_prop = true;
        } else
            return;
        ps->saw_kind = true;
    } else if (ps->in_prop) { /* depth 3: a property asked for */
        if (!fits) {
            ps->error = "PROPFIND asks for a property whose name or namespace is too long";
            return;
        }
        if (ps->req->n_props == CS_PROPFIND_PROPS_MAX) {
            ps->error = "PROPFIND asks for too many properties";
            return;
        }
        ps->req->props[ps->req->n_props++] = n;
    }
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
    struct parse_state *ps = arg;

    (void)name;
    if (ps->depth == 2)
        ps->in_prop = false;
    ps->depth--;
}

/* Refuse DTDs outright: a PROPFIND body has no use for them, and they are
 * where entity expansion attacks live. */
static void XMLCALL on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    struct parse_state *ps = arg;

    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    ps->error = "PROPFIND body must not contain a DOCTYPE";
}

enum cs_status cs_propfind_parse(const char *body, size_t len, struct cs_propfind_request *out,
                                 char *reason, size_t reason_len)
{
    struct parse_state ps = {.req = out};
    XML_Parser p;
    enum XML_Status rc;
    size_t i;

    memset(out, 0, sizeof *out);
    out->kind = CS_PROPFIND_ALLPROP;
    for (i = 0;
         i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'); i++)
        ;
    if (i == len)
        return CS_OK;
    p = XML_ParserCreateNS(NULL, ' ');
    if (!p)
        return CS_ERR_NOMEM;
    XML_SetUserData(p, &ps);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    rc = XML_Parse(p, body, (int)len, 1);
    if (rc != XML_STATUS_OK) {
        snprintf(reason, reason_len, "PROPFIND body is not well-formed XML: %s (line %lu)",
                 XML_ErrorString(XML_GetErrorCode(p)), (unsigned long)XML_GetCurrentLineNumber(p));
        XML_ParserFree(p);
        return CS_ERR_INVALID;
    }
    XML_ParserFree(p);
    if (!ps.error && !ps.saw_root)
        ps.error = "PROPFIND body has no root element";
    /* <propfind/> stays allprop, as it always was here; children that
     * are all unknown ask for something we cannot tell */
    if (!ps.error && ps.saw_child && !ps.saw_kind)
        ps.error = "PROPFIND body must hold allprop, propname or prop";
    if (ps.error) {
        snprintf(reason, reason_len, "%s", ps.error);
        return CS_ERR_INVALID;
    }
    return CS_OK;
}

/* --- multistatus output ----------------------------------------------------- */

/* The date, escaping and percent-encoding are shared with the S3 answers
 * (text.h), so both treat key bytes the same way. */
void cs_http_date(time_t t, char *out, size_t len)
{
    if (cs_imf_date(t, out, len) != CS_OK && len)
        out[0] = '\0';
}

void cs_href_encode(struct cs_buf *out, const char *s, size_t n)
{
    cs_url_encode(out, s, n);
}

enum prop_id {
    P_RESOURCETYPE,
    P_LASTMODIFIED,
    P_CONTENTLENGTH,
    P_ETAG,
    P_CONTENTTYPE,
    P_DISPLAYNAME,
    P_COUNT
};
static const char *const prop_names[P_COUNT] = {
    "resourcetype", "getlastmodified", "getcontentlength",
    "getetag",      "getcontenttype",  "displayname",
};

static bool prop_applies(enum prop_id id, const struct cs_dav_resource *r)
{
    if (id == P_CONTENTLENGTH)
        return !r->collection;
    if (id == P_ETAG)
        return !r->collection && r->etag;
    if (id == P_CONTENTTYPE) /* listings come from the index, which has no types */
        return !r->collection && r->content_type;
    return true;
}

static void add_prop(struct cs_buf *out, enum prop_id id, const struct cs_dav_resource *r,
                     bool name_only)
{
    char tmp[80];
    const char *slash;

    if (name_only) {
        cs_buf_printf(out, "<D:%s/>", prop_names[id]);
        return;
    }
    switch (id) {
    case P_RESOURCETYPE:
        cs_buf_printf(out, r->collection ? "<D:resourcetype><D:collection/></D:resourcetype>"
                                         : "<D:resourcetype/>");
        break;
    case P_LASTMODIFIED:
        cs_http_date(r->mtime, tmp, sizeof tmp);
        cs_buf_printf(out, "<D:getlastmodified>%s</D:getlastmodified>", tmp);
        break;
    case P_CONTENTLENGTH:
        cs_buf_printf(out, "<D:getcontentlength>%llu</D:getcontentlength>",
                      (unsigned long long)r->size);
        break;
    case P_ETAG:
        cs_hex_encode(r->etag, CS_SHA256_LEN, tmp);
        cs_buf_printf(out, "<D:getetag>\"%s\"</D:getetag>", tmp);
        break;
    case P_CONTENTTYPE:
        cs_buf_add(out, "<D:getcontenttype>", 18);
        if (r->content_type && *r->content_type)
            cs_xml_escape(out, r->content_type, strlen(r->content_type));
        else
            cs_buf_add(out, "application/octet-stream", 24);
        cs_buf_add(out, "</D:getcontenttype>", 19);
        break;
    case P_DISPLAYNAME:
        slash = r->path_len ? memrchr(r->path, '/', r->path_len) : NULL;
        cs_buf_add(out, "<D:displayname>", 15);
        if (r->path_len == 0)
            cs_xml_escape(out, r->ns, strlen(r->ns));
        else if (slash)
            cs_xml_escape(out, slash + 1, r->path_len - (size_t)(slash + 1 - r->path));
        else
            cs_xml_escape(out, r->path, r->path_len);
        cs_buf_add(out, "</D:displayname>", 16);
        break;
    case P_COUNT: break;
    }
}

static int find_prop(const struct cs_prop_name *n)
{
    int i;

    if (strcmp(n->ns, "DAV:") != 0)
        return -1;
    for (i = 0; i < P_COUNT; i++)
        if (strcmp(n->name, prop_names[i]) == 0)
            return i;
    return -1;
}

void cs_propfind_begin(struct cs_buf *out)
{
    cs_buf_printf(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                       "<D:multistatus xmlns:D=\"DAV:\">\n");
}

void cs_propfind_end(struct cs_buf *out)
{
    cs_buf_printf(out, "</D:multistatus>\n");
}

/* Whether property i of a prop request is one r has. */
static bool have_prop(const struct cs_propfind_request *req, size_t i,
                      const struct cs_dav_resource *r)
{
    int id = find_prop(&req->props[i]);

    return id >= 0 && prop_applies((enum prop_id)id, r);
}

void cs_propfind_add(struct cs_buf *out, const struct cs_propfind_request *req,
                     const struct cs_dav_resource *r)
{
    static const char ok[] = "<D:status>HTTP/1.1 200 OK</D:status></D:propstat>";
    size_t i, found = 0;

    cs_buf_add(out, "<D:response><D:href>/", 21);
    cs_href_encode(out, r->ns, strlen(r->ns));
    cs_buf_add(out, "/", 1);
    if (r->path_len) {
        cs_href_encode(out, r->path, r->path_len);
        if (r->collection)
            cs_buf_add(out, "/", 1);
    }
    cs_buf_add(out, "</D:href>", 9);
    if (req->kind != CS_PROPFIND_PROP) {
        cs_buf_add(out, "<D:propstat><D:prop>", 20);
        for (int id = 0; id < P_COUNT; id++)
            if (prop_applies((enum prop_id)id, r))
                add_prop(out, (enum prop_id)id, r, req->kind == CS_PROPFIND_PROPNAME);
        cs_buf_printf(out, "</D:prop>%s</D:response>\n", ok);
        return;
    }
    for (i = 0; i < req->n_props; i++)
        found += have_prop(req, i, r);
    /* A 200 propstat only when it holds something (an empty <D:prop/> asks
     * for nothing and gets an empty one: a response needs a propstat). */
    if (found || req->n_props == 0) {
        cs_buf_add(out, "<D:propstat><D:prop>", 20);
        for (i = 0; i < req->n_props; i++)
            if (have_prop(req, i, r))
                add_prop(out, (enum prop_id)find_prop(&req->props[i]), r, false);
        cs_buf_printf(out, "</D:prop>%s", ok);
    }
    if (found < req->n_props) {
        /* properties we do not have: named in a 404 propstat (RFC 4918 9.1) */
        cs_buf_add(out, "<D:propstat><D:prop>", 20);
        for (i = 0; i < req->n_props; i++) {
            if (have_prop(req, i, r))
                continue;
            bool has_ns = req->props[i].ns[0] != '\0';
            cs_buf_add(out, has_ns ? "<x:" : "<", has_ns ? 3 : 1);
            cs_xml_escape(out, req->props[i].name, strlen(req->props[i].name));
            cs_buf_add(out, has_ns ? " xmlns:x=\"" : " xmlns=\"", has_ns ? 10 : 8);
            cs_xml_escape(out, req->props[i].ns, strlen(req->props[i].ns));
            cs_buf_add(out, "\"/>", 3);
        }
        cs_buf_printf(out, "</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>");
    }
    cs_buf_add(out, "</D:response>\n", 14);
}
