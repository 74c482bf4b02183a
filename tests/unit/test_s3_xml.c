/* The S3 XML writers and parsers (server/s3_xml.h, server/text.h). Every
 * answer is parsed back with expat here and checked element by element;
 * the parsers get valid bodies, the limits and hostile XML. */
#include "autoconfig.h"

#include <check.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/s3_xml.h"
#include "server/text.h"
#include "tests/unit/check_main.h"

/* --- a tiny DOM built with expat, for reading answers back ------------------ */

#define NODES_MAX 8192

struct node {
    char name[64]; /* local name */
    char ns[64];   /* namespace URI or "" */
    int parent;
    char *text; /* malloc'd, NUL-terminated */
    size_t text_len;
};

struct dom {
    struct node n[NODES_MAX];
    int count, cur;
    bool ok;
};

static void XMLCALL dom_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    struct dom *d = arg;
    const char *sep = strrchr(name, ' ');
    struct node *n;

    (void)attrs;
    ck_assert_int_lt(d->count, NODES_MAX);
    n = &d->n[d->count];
    memset(n, 0, sizeof *n);
    if (sep) {
        snprintf(n->ns, sizeof n->ns, "%.*s", (int)(sep - name), name);
        snprintf(n->name, sizeof n->name, "%s", sep + 1);
    } else {
        snprintf(n->name, sizeof n->name, "%s", name);
    }
    n->parent = d->cur;
    n->text = calloc(1, 1);
    d->cur = d->count++;
}

static void XMLCALL dom_end(void *arg, const XML_Char *name)
{
    struct dom *d = arg;

    (void)name;
    d->cur = d->n[d->cur].parent;
}

static void XMLCALL dom_text(void *arg, const XML_Char *s, int len)
{
    struct dom *d = arg;
    struct node *n = &d->n[d->cur];

    n->text = realloc(n->text, n->text_len + (size_t)len + 1);
    memcpy(n->text + n->text_len, s, (size_t)len);
    n->text_len += (size_t)len;
    n->text[n->text_len] = '\0';
}

/* Parses an answer; fails the test when it is not well-formed. */
static struct dom *dom_parse(const struct cs_buf *b)
{
    struct dom *d = calloc(1, sizeof *d);
    XML_Parser p = XML_ParserCreateNS(NULL, ' ');

    d->cur = -1;
    XML_SetUserData(p, d);
    XML_SetElementHandler(p, dom_start, dom_end);
    XML_SetCharacterDataHandler(p, dom_text);
    ck_assert_msg(b->len > 0, "empty answer");
    ck_assert_msg(XML_Parse(p, b->data, (int)b->len, 1) == XML_STATUS_OK,
                  "answer is not well-formed: %s\n%s", XML_ErrorString(XML_GetErrorCode(p)),
                  b->data);
    XML_ParserFree(p);
    ck_assert(strncmp(b->data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38) == 0);
    return d;
}

static void dom_free(struct dom *d)
{
    for (int i = 0; i < d->count; i++)
        free(d->n[i].text);
    free(d);
}

/* The idx-th child of parent (-1: the root level) named name, or -1. */
static int child(const struct dom *d, int parent, const char *name, int idx)
{
    for (int i = 0; i < d->count; i++)
        if (d->n[i].parent == parent && strcmp(d->n[i].name, name) == 0 && idx-- == 0)
            return i;
    return -1;
}

static int count_children(const struct dom *d, int parent, const char *name)
{
    int k = 0;

    for (int i = 0; i < d->count; i++)
        k += d->n[i].parent == parent && (!name || strcmp(d->n[i].name, name) == 0);
    return k;
}

/* Text of parent's first child named name; the child must exist. */
static const char *text(const struct dom *d, int parent, const char *name)
{
    int i = child(d, parent, name, 0);

    ck_assert_msg(i >= 0, "no <%s>", name);
    return d->n[i].text;
}

/* The children of parent, in order, as "A,B,C". */
static void order(const struct dom *d, int parent, char *out, size_t len)
{
    out[0] = '\0';
    for (int i = 0; i < d->count; i++)
        if (d->n[i].parent == parent)
            snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "," : "", d->n[i].name);
}

static int root(const struct dom *d, const char *name, bool ns)
{
    ck_assert_str_eq(d->n[0].name, name);
    ck_assert_str_eq(d->n[0].ns, ns ? CS_S3_XMLNS : "");
    return 0;
}

static const struct cs_s3_owner owner = {"owner-id", "alice"};
static const char hostile[] = "a<b>&c\"d'e\r\n\tf";

/* --- text helpers ------------------------------------------------------------ */

START_TEST(dates)
{
    char b[CS_IMF_DATE_LEN];

    ck_assert_int_eq(cs_iso8601_ms(1796139608, 0, b, sizeof b), CS_OK);
    ck_assert_str_eq(b, "2026-12-01T15:40:08.000Z");
    ck_assert_int_eq(cs_iso8601_ms(1796139608, 7, b, sizeof b), CS_OK);
    ck_assert_str_eq(b, "2026-12-01T15:40:08.007Z");
    ck_assert_int_eq(cs_iso8601_ms(0, 0, b, CS_ISO8601_LEN - 1), CS_ERR_INVALID);
    ck_assert_int_eq(cs_iso8601_ms(0, 1000, b, sizeof b), CS_ERR_INVALID);
    ck_assert_int_eq(cs_imf_date(1796139608, b, sizeof b), CS_OK);
    ck_assert_str_eq(b, "Tue, 01 Dec 2026 15:40:08 GMT");
    ck_assert_int_eq(cs_imf_date(0, b, sizeof b), CS_OK);
    ck_assert_str_eq(b, "Thu, 01 Jan 1970 00:00:00 GMT");
    ck_assert_int_eq(cs_imf_date(0, b, CS_IMF_DATE_LEN - 1), CS_ERR_INVALID);
    /* a year past 9999 would not fit the formats */
    ck_assert_int_eq(cs_imf_date((time_t)400000000000LL, b, sizeof b), CS_ERR_INVALID);
}
END_TEST

START_TEST(decimal)
{
    uint64_t v = 42;

    ck_assert_int_eq(cs_parse_decimal("1000", 4, 1000, &v), CS_OK);
    ck_assert_uint_eq(v, 1000);
    ck_assert_int_eq(cs_parse_decimal("5000", 4, 1000, &v), CS_OK);
    ck_assert_uint_eq(v, 1000);
    ck_assert_int_eq(cs_parse_decimal("0", 1, 1000, &v), CS_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(cs_parse_decimal("7", 1, 5, &v), CS_OK);
    ck_assert_uint_eq(v, 5);
    ck_assert_int_eq(cs_parse_decimal("99999999999999999999999", 23, UINT64_MAX, &v), CS_OK);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(cs_parse_decimal("18446744073709551615", 20, UINT64_MAX, &v), CS_OK);
    ck_assert_uint_eq(v, UINT64_MAX);
    v = 42;
    ck_assert_int_eq(cs_parse_decimal("", 0, 1000, &v), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_decimal("-1", 2, 1000, &v), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_decimal("+1", 2, 1000, &v), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_decimal(" 1", 2, 1000, &v), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_decimal("0x10", 4, 1000, &v), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_decimal("99999999999999999999x", 21, 1000, &v), CS_ERR_INVALID);
    ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(url_encode)
{
    struct cs_buf b;

    cs_buf_init(&b, 1024);
    ck_assert_int_eq(cs_url_encode(&b, "a b/c+d%e~_.-(1)\xc3\xa9\xff", 19), CS_OK);
    ck_assert_str_eq(b.data, "a%20b/c%2Bd%25e~_.-%281%29%C3%A9%FF");
    cs_buf_free(&b);
}
END_TEST

START_TEST(escape_utf8)
{
    struct cs_buf b;

    cs_buf_init(&b, 1024);
    /* valid UTF-8 stays, a stray byte, an overlong '/', a surrogate, a
     * control and U+FFFE each become U+FFFD */
    ck_assert_int_eq(cs_xml_escape(&b, "\xc3\xa9|\x80|\xc0\xaf|\xed\xa0\x80|\x01|\xef\xbf\xbe", 17),
                     CS_OK);
    ck_assert_str_eq(b.data, "\xc3\xa9|\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|"
                             "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD|"
                             "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    ck_assert(cs_xml_text_exact("\xc3\xa9 x", 4));
    ck_assert(!cs_xml_text_exact("\xff", 1));
    ck_assert(!cs_xml_text_exact("\xc3", 1));
    cs_buf_reset(&b);
    ck_assert_int_eq(cs_xml_escape(&b, hostile, strlen(hostile)), CS_OK);
    ck_assert_str_eq(b.data, "a&lt;b&gt;&amp;c&quot;d'e&#13;\n\tf");
    cs_buf_free(&b);
}
END_TEST

/* --- Error ------------------------------------------------------------------- */

START_TEST(error_doc)
{
    struct cs_buf b;
    struct cs_s3_error e = {.code = "NoSuchKey",
                            .message = "The specified key does not exist.",
                            .resource = "/b/a<&>",
                            .request_id = "req-1",
                            .bucket = "b",
                            .key = hostile,
                            .key_len = strlen(hostile)};
    struct dom *d;
    char o[256];

    cs_buf_init(&b, 4096);
    ck_assert_int_eq(cs_s3_error_xml(&b, &e), CS_OK);
    d = dom_parse(&b);
    root(d, "Error", false);
    ck_assert_str_eq(text(d, 0, "Code"), "NoSuchKey");
    ck_assert_str_eq(text(d, 0, "Message"), "The specified key does not exist.");
    ck_assert_str_eq(text(d, 0, "Resource"), "/b/a<&>");
    ck_assert_str_eq(text(d, 0, "RequestId"), "req-1");
    ck_assert_str_eq(text(d, 0, "BucketName"), "b");
    ck_assert_str_eq(text(d, 0, "Key"), hostile); /* CR survives as &#13; */
    order(d, 0, o, sizeof o);
    ck_assert_str_eq(o, "Code,Message,Key,BucketName,Resource,RequestId");
    dom_free(d);
    /* optional parts left out */
    cs_buf_reset(&b);
    e.key = NULL;
    e.bucket = NULL;
    e.resource = NULL;
    ck_assert_int_eq(cs_s3_error_xml(&b, &e), CS_OK);
    d = dom_parse(&b);
    order(d, 0, o, sizeof o);
    ck_assert_str_eq(o, "Code,Message,RequestId");
    dom_free(d);
    cs_buf_free(&b);
}
END_TEST

START_TEST(overflow_is_reported)
{
    struct cs_buf b;
    struct cs_s3_error e = {.code = "NoSuchKey", .message = "m", .request_id = "r"};
    struct cs_s3_list_req req = {.kind = CS_S3_LIST_V2, .bucket = "b", .max = 1000};
    struct cs_s3_list_writer w;
    struct cs_s3_object o = {.key = "k", .key_len = 1, .etag = "e"};
    struct cs_s3_list_next next = {0};
    size_t i;
    enum cs_status st = CS_OK;

    cs_buf_init(&b, 64);
    ck_assert_int_eq(cs_s3_error_xml(&b, &e), CS_ERR_TOO_LARGE);
    cs_buf_free(&b);
    /* a listing that outgrows its buffer fails at some add, and end says so too */
    cs_buf_init(&b, 2048);
    ck_assert_int_eq(cs_s3_list_begin(&w, &b, &req), CS_OK);
    for (i = 0; i < 100 && st == CS_OK; i++)
        st = cs_s3_list_add_object(&w, &o);
    ck_assert_int_eq(st, CS_ERR_TOO_LARGE);
    ck_assert_int_eq(cs_s3_list_end(&w, &next), CS_ERR_TOO_LARGE);
    cs_buf_free(&b);
    /* prefixes are held apart but count against the same limit */
    cs_buf_init(&b, 2048);
    ck_assert_int_eq(cs_s3_list_begin(&w, &b, &req), CS_OK);
    for (i = 0, st = CS_OK; i < 100 && st == CS_OK; i++)
        st = cs_s3_list_add_prefix(&w, "dir/", 4);
    ck_assert_int_eq(st, CS_ERR_TOO_LARGE);
    ck_assert_int_eq(cs_s3_list_end(&w, &next), CS_ERR_TOO_LARGE);
    cs_buf_free(&b);
}
END_TEST

/* --- listings ---------------------------------------------------------------- */

static const struct cs_s3_object objs[] = {
    {.key = "a&b<c>", .key_len = 6, .mtime = 1796139608, .etag = "0123abcd", .size = 0},
    {.key = "dir/x y+z", .key_len = 9, .mtime = 1796139609, .etag = "ffff-2", .size = 10485760},
    {.key = "bad\xff"
            "key\xc3\xa9",
     .key_len = 9,
     .mtime = 0,
     .etag = "00",
     .size = 1},
};

static struct dom *list_v2(struct cs_buf *b, bool url, bool truncated)
{
    struct cs_s3_list_req req = {.kind = CS_S3_LIST_V2,
                                 .bucket = "bkt",
                                 .prefix = "",
                                 .delimiter = "/",
                                 .delimiter_len = 1,
                                 .max = 3,
                                 .url = url,
                                 .continuation_token = "tok<1>",
                                 .start_after = "a b",
                                 .start_after_len = 3};
    struct cs_s3_list_next next = {.truncated = truncated, .token = "next&tok"};
    struct cs_s3_list_writer w;
    size_t i;

    ck_assert_int_eq(cs_s3_list_begin(&w, b, &req), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_object(&w, &objs[0]), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_prefix(&w, "dir/", 4), CS_OK);
    for (i = 1; i < 3; i++)
        ck_assert_int_eq(cs_s3_list_add_object(&w, &objs[i]), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_upload(&w, &(struct cs_s3_upload){0}), CS_ERR_INVALID);
    ck_assert_int_eq(cs_s3_list_end(&w, &next), CS_OK);
    return dom_parse(b);
}

START_TEST(list_v2_plain)
{
    struct cs_buf b;
    struct dom *d;
    int c;
    char o[512];

    cs_buf_init(&b, 1 << 16);
    d = list_v2(&b, false, true);
    root(d, "ListBucketResult", true);
    order(d, 0, o, sizeof o);
    ck_assert_str_eq(o, "Name,Prefix,StartAfter,ContinuationToken,MaxKeys,Delimiter,KeyCount,"
                        "IsTruncated,NextContinuationToken,Contents,Contents,Contents,"
                        "CommonPrefixes");
    ck_assert_str_eq(text(d, 0, "Name"), "bkt");
    ck_assert_str_eq(text(d, 0, "Prefix"), "");
    ck_assert_str_eq(text(d, 0, "KeyCount"), "4");
    ck_assert_str_eq(text(d, 0, "MaxKeys"), "3");
    ck_assert_str_eq(text(d, 0, "IsTruncated"), "true");
    ck_assert_str_eq(text(d, 0, "ContinuationToken"), "tok<1>");
    ck_assert_str_eq(text(d, 0, "NextContinuationToken"), "next&tok");
    ck_assert_str_eq(text(d, 0, "StartAfter"), "a b");
    ck_assert_str_eq(text(d, 0, "Delimiter"), "/");
    ck_assert_int_eq(child(d, 0, "EncodingType", 0), -1);
    c = child(d, 0, "Contents", 0);
    order(d, c, o, sizeof o);
    ck_assert_str_eq(o, "Key,LastModified,ETag,Size,StorageClass");
    ck_assert_str_eq(text(d, c, "Key"), "a&b<c>");
    ck_assert_str_eq(text(d, c, "LastModified"), "2026-12-01T15:40:08.000Z");
    ck_assert_str_eq(text(d, c, "ETag"), "\"0123abcd\"");
    ck_assert_str_eq(text(d, c, "Size"), "0");
    ck_assert_str_eq(text(d, c, "StorageClass"), "STANDARD");
    c = child(d, 0, "Contents", 1);
    ck_assert_str_eq(text(d, c, "Key"), "dir/x y+z");
    ck_assert_str_eq(text(d, c, "Size"), "10485760");
    ck_assert_str_eq(text(d, c, "ETag"), "\"ffff-2\"");
    /* not UTF-8 and no url encoding: U+FFFD, still well-formed */
    c = child(d, 0, "Contents", 2);
    ck_assert_str_eq(text(d, c, "Key"), "bad\xEF\xBF\xBDkey\xc3\xa9");
    ck_assert_str_eq(text(d, c, "LastModified"), "1970-01-01T00:00:00.000Z");
    c = child(d, 0, "CommonPrefixes", 0);
    ck_assert_str_eq(text(d, c, "Prefix"), "dir/");
    /* the ETag's quotes are entities, as AWS writes them */
    ck_assert_ptr_nonnull(strstr(b.data, "<ETag>&quot;0123abcd&quot;</ETag>"));
    dom_free(d);
    cs_buf_free(&b);
}
END_TEST

START_TEST(list_v2_url)
{
    struct cs_buf b;
    struct dom *d;
    int c;

    cs_buf_init(&b, 1 << 16);
    d = list_v2(&b, true, false);
    ck_assert_str_eq(text(d, 0, "EncodingType"), "url");
    ck_assert_str_eq(text(d, 0, "IsTruncated"), "false");
    ck_assert_int_eq(child(d, 0, "NextContinuationToken", 0), -1);
    ck_assert_str_eq(text(d, 0, "StartAfter"), "a%20b");
    ck_assert_str_eq(text(d, 0, "Delimiter"), "/");
    /* tokens are opaque: escaped, never url-encoded */
    ck_assert_str_eq(text(d, 0, "ContinuationToken"), "tok<1>");
    c = child(d, 0, "Contents", 0);
    ck_assert_str_eq(text(d, c, "Key"), "a%26b%3Cc%3E");
    c = child(d, 0, "Contents", 1);
    ck_assert_str_eq(text(d, c, "Key"), "dir/x%20y%2Bz");
    c = child(d, 0, "Contents", 2);
    ck_assert_str_eq(text(d, c, "Key"), "bad%FFkey%C3%A9"); /* the exact bytes */
    dom_free(d);
    cs_buf_free(&b);
}
END_TEST

START_TEST(list_v1)
{
    struct cs_buf b;
    struct cs_s3_list_req req = {.kind = CS_S3_LIST_V1,
                                 .bucket = "bkt",
                                 .prefix = "p r/",
                                 .prefix_len = 4,
                                 .delimiter = "/",
                                 .delimiter_len = 1,
                                 .max = 1000,
                                 .url = true,
                                 .marker = "m&1",
                                 .marker_len = 3,
                                 .owner = &owner};
    struct cs_s3_list_next next = {.truncated = true, .marker = "p r/z", .marker_len = 5};
    struct cs_s3_list_writer w;
    struct dom *d;
    char o[512];
    int c;

    cs_buf_init(&b, 1 << 16);
    ck_assert_int_eq(cs_s3_list_begin(&w, &b, &req), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_object(&w, &objs[1]), CS_OK);
    ck_assert_int_eq(cs_s3_list_end(&w, &next), CS_OK);
    d = dom_parse(&b);
    root(d, "ListBucketResult", true);
    order(d, 0, o, sizeof o);
    ck_assert_str_eq(o, "Name,Prefix,Marker,MaxKeys,Delimiter,EncodingType,IsTruncated,"
                        "NextMarker,Contents");
    ck_assert_str_eq(text(d, 0, "Prefix"), "p%20r/");
    ck_assert_str_eq(text(d, 0, "Marker"), "m%261");
    ck_assert_str_eq(text(d, 0, "NextMarker"), "p%20r/z");
    c = child(d, 0, "Contents", 0);
    order(d, c, o, sizeof o);
    ck_assert_str_eq(o, "Key,LastModified,ETag,Size,Owner,StorageClass");
    c = child(d, c, "Owner", 0);
    ck_assert_str_eq(text(d, c, "ID"), "owner-id");
    ck_assert_str_eq(text(d, c, "DisplayName"), "alice");
    ck_assert_int_eq(child(d, 0, "KeyCount", 0), -1);
    dom_free(d);
    cs_buf_free(&b);
}
END_TEST

/* A tail longer than the 512-byte chunks move_tail_to() works in keeps
 * its order: a 1024-byte NextMarker of '<' (4 KiB escaped). */
START_TEST(list_long_marker)
{
    struct cs_buf b;
    char key[CS_S3_KEY_MAX];
    struct cs_s3_list_req req = {.kind = CS_S3_LIST_V1, .bucket = "b", .max = 1};
    struct cs_s3_list_next next = {.truncated = true, .marker = key, .marker_len = sizeof key};
    struct cs_s3_list_writer w;
    struct dom *d;
    int c;

    memset(key, '<', sizeof key);
    key[0] = 'A';
    key[sizeof key - 1] = 'Z';
    cs_buf_init(&b, 1 << 16);
    ck_assert_int_eq(cs_s3_list_begin(&w, &b, &req), CS_OK);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(cs_s3_list_add_object(&w, &objs[0]), CS_OK);
    ck_assert_int_eq(cs_s3_list_end(&w, &next), CS_OK);
    d = dom_parse(&b);
    c = child(d, 0, "NextMarker", 0);
    ck_assert_int_ge(c, 0);
    ck_assert_uint_eq(d->n[c].text_len, sizeof key);
    ck_assert(memcmp(d->n[c].text, key, sizeof key) == 0);
    ck_assert_int_eq(count_children(d, 0, "Contents"), 20);
    ck_assert_str_eq(text(d, child(d, 0, "Contents", 19), "Key"), "a&b<c>");
    dom_free(d);
    cs_buf_free(&b);
}
END_TEST

START_TEST(list_versions)
{
    struct cs_buf b;
    struct cs_s3_list_req req = {.kind = CS_S3_LIST_VERSIONS,
                                 .bucket = "bkt",
                                 .max = 2,
                                 .url = true,
                                 .marker = "k m",
                                 .marker_len = 3,
                                 .id_marker = "null",
                                 .owner = &owner};
    struct cs_s3_list_next next = {
        .truncated = true, .marker = "x y", .marker_len = 3, .id = "null"};
    struct cs_s3_list_writer w;
    struct dom *d;
    char o[512];
    int c;

    cs_buf_init(&b, 1 << 16);
    ck_assert_int_eq(cs_s3_list_begin(&w, &b, &req), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_object(&w, &objs[1]), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_prefix(&w, "a b/", 4), CS_OK);
    ck_assert_int_eq(cs_s3_list_end(&w, &next), CS_OK);
    d = dom_parse(&b);
    root(d, "ListVersionsResult", true);
    order(d, 0, o, sizeof o);
    ck_assert_str_eq(o, "Name,Prefix,KeyMarker,VersionIdMarker,MaxKeys,EncodingType,IsTruncated,"
                        "NextKeyMarker,NextVersionIdMarker,Version,CommonPrefixes");
    ck_assert_str_eq(text(d, 0, "KeyMarker"), "k%20m");
    ck_assert_str_eq(text(d, 0, "NextKeyMarker"), "x%20y");
    ck_assert_str_eq(text(d, 0, "NextVersionIdMarker"), "null");
    c = child(d, 0, "Version", 0);
    order(d, c, o, sizeof o);
    ck_assert_str_eq(o, "Key,VersionId,IsLatest,LastModified,ETag,Size,Owner,StorageClass");
    ck_assert_str_eq(text(d, c, "Key"), "dir/x%20y%2Bz");
    ck_assert_str_eq(text(d, c, "VersionId"), "null");
    ck_assert_str_eq(text(d, c, "IsLatest"), "true");
    ck_assert_str_eq(text(d, child(d, 0, "CommonPrefixes", 0), "Prefix"), "a%20b/");
    dom_free(d);
    cs_buf_free(&b);
}
END_TEST

START_TEST(list_uploads_and_parts)
{
    struct cs_buf b;
    struct cs_s3_list_req req = {.kind = CS_S3_LIST_UPLOADS,
                                 .bucket = "bkt",
                                 .max = 1000,
                                 .marker = "",
                                 .id_marker = "",
                                 .owner = &owner};
    struct cs_s3_list_next next = {.truncated = true, .marker = "k<", .marker_len = 2, .id = "u1"};
    struct cs_s3_upload up = {.key = "k<", .key_len = 2, .upload_id = "u1", .initiated = 1};
    struct cs_s3_part_info part = {.number = 3, .mtime = 2, .etag = "abc", .size = 5};
    struct cs_s3_list_writer w;
    struct dom *d;
    char o[512];
    int c;

    cs_buf_init(&b, 1 << 16);
    ck_assert_int_eq(cs_s3_list_begin(&w, &b, &req), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_upload(&w, &up), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_part(&w, &part), CS_ERR_INVALID);
    ck_assert_int_eq(cs_s3_list_end(&w, &next), CS_OK);
    d = dom_parse(&b);
    root(d, "ListMultipartUploadsResult", true);
    order(d, 0, o, sizeof o);
    ck_assert_str_eq(o, "Bucket,KeyMarker,UploadIdMarker,Prefix,MaxUploads,NextKeyMarker,"
                        "NextUploadIdMarker,IsTruncated,Upload");
    ck_assert_str_eq(text(d, 0, "NextKeyMarker"), "k<");
    c = child(d, 0, "Upload", 0);
    order(d, c, o, sizeof o);
    ck_assert_str_eq(o, "Key,UploadId,Initiator,Owner,StorageClass,Initiated");
    ck_assert_str_eq(text(d, c, "Initiated"), "1970-01-01T00:00:01.000Z");
    dom_free(d);

    cs_buf_reset(&b);
    req = (struct cs_s3_list_req){.kind = CS_S3_LIST_PARTS,
                                  .bucket = "bkt",
                                  .key = "k&",
                                  .key_len = 2,
                                  .upload_id = "u1",
                                  .part_number_marker = 2,
                                  .max = 1,
                                  .owner = &owner};
    next = (struct cs_s3_list_next){.truncated = true, .part_number = 3};
    ck_assert_int_eq(cs_s3_list_begin(&w, &b, &req), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_part(&w, &part), CS_OK);
    ck_assert_int_eq(cs_s3_list_add_prefix(&w, "x/", 2), CS_ERR_INVALID);
    ck_assert_int_eq(cs_s3_list_end(&w, &next), CS_OK);
    d = dom_parse(&b);
    root(d, "ListPartsResult", true);
    order(d, 0, o, sizeof o);
    ck_assert_str_eq(o, "Bucket,Key,UploadId,Initiator,Owner,StorageClass,PartNumberMarker,"
                        "MaxParts,NextPartNumberMarker,IsTruncated,Part");
    ck_assert_str_eq(text(d, 0, "Key"), "k&");
    ck_assert_str_eq(text(d, 0, "NextPartNumberMarker"), "3");
    c = child(d, 0, "Part", 0);
    order(d, c, o, sizeof o);
    ck_assert_str_eq(o, "PartNumber,LastModified,ETag,Size");
    ck_assert_str_eq(text(d, c, "ETag"), "\"abc\"");
    dom_free(d);
    cs_buf_free(&b);
}
END_TEST

/* --- the other answers ------------------------------------------------------- */

START_TEST(buckets_doc)
{
    struct cs_buf b;
    struct dom *d;
    int c;

    cs_buf_init(&b, 4096);
    ck_assert_int_eq(cs_s3_buckets_begin(&b, &owner), CS_OK);
    ck_assert_int_eq(cs_s3_buckets_add(&b, "ns1", 1796139608), CS_OK);
    ck_assert_int_eq(cs_s3_buckets_add(&b, "ns&2", 0), CS_OK);
    ck_assert_int_eq(cs_s3_buckets_end(&b), CS_OK);
    d = dom_parse(&b);
    root(d, "ListAllMyBucketsResult", true);
    ck_assert_str_eq(text(d, child(d, 0, "Owner", 0), "DisplayName"), "alice");
    c = child(d, 0, "Buckets", 0);
    ck_assert_int_eq(count_children(d, c, "Bucket"), 2);
    ck_assert_str_eq(text(d, child(d, c, "Bucket", 1), "Name"), "ns&2");
    ck_assert_str_eq(text(d, child(d, c, "Bucket", 0), "CreationDate"), "2026-12-01T15:40:08.000Z");
    dom_free(d);
    cs_buf_free(&b);
}
END_TEST

START_TEST(delete_doc)
{
    struct cs_buf b;
    struct dom *d;
    char o[256];
    int c;

    for (int quiet = 0; quiet < 2; quiet++) {
        cs_buf_init(&b, 4096);
        ck_assert_int_eq(cs_s3_delete_begin(&b), CS_OK);
        ck_assert_int_eq(cs_s3_delete_deleted(&b, quiet, "a<", 2, NULL), CS_OK);
        ck_assert_int_eq(cs_s3_delete_deleted(&b, quiet, "b", 1, "null"), CS_OK);
        ck_assert_int_eq(cs_s3_delete_failed(&b, "c&", 2, NULL, "AccessDenied", "Access Denied"),
                         CS_OK);
        ck_assert_int_eq(cs_s3_delete_end(&b), CS_OK);
        d = dom_parse(&b);
        root(d, "DeleteResult", true);
        order(d, 0, o, sizeof o);
        ck_assert_str_eq(o, quiet ? "Error" : "Deleted,Deleted,Error");
        if (!quiet) {
            ck_assert_str_eq(text(d, child(d, 0, "Deleted", 0), "Key"), "a<");
            ck_assert_int_eq(child(d, child(d, 0, "Deleted", 0), "VersionId", 0), -1);
            ck_assert_str_eq(text(d, child(d, 0, "Deleted", 1), "VersionId"), "null");
        }
        c = child(d, 0, "Error", 0);
        order(d, c, o, sizeof o);
        ck_assert_str_eq(o, "Key,Code,Message");
        ck_assert_str_eq(text(d, c, "Key"), "c&");
        ck_assert_str_eq(text(d, c, "Code"), "AccessDenied");
        dom_free(d);
        cs_buf_free(&b);
    }
}
END_TEST

START_TEST(single_docs)
{
    struct cs_buf b;
    struct dom *d;
    char o[256];
    struct cs_s3_complete_result cr = {.location = "http://h/b/k%20&",
                                       .bucket = "b",
                                       .key = "k &",
                                       .key_len = 3,
                                       .etag = "abc-2",
                                       .checksum_name = "ChecksumCRC32",
                                       .checksum = "AAAAAA=="};

    cs_buf_init(&b, 4096);
    for (int part = 0; part < 2; part++) {
        cs_buf_reset(&b);
        ck_assert_int_eq(cs_s3_copy_result(&b, part, 1796139608, "e1"), CS_OK);
        d = dom_parse(&b);
        root(d, part ? "CopyPartResult" : "CopyObjectResult", true);
        order(d, 0, o, sizeof o);
        ck_assert_str_eq(o, "LastModified,ETag");
        ck_assert_str_eq(text(d, 0, "ETag"), "\"e1\"");
        dom_free(d);
    }
    cs_buf_reset(&b);
    ck_assert_int_eq(cs_s3_initiate_result(&b, "b", "k<", 2, "up-1"), CS_OK);
    d = dom_parse(&b);
    root(d, "InitiateMultipartUploadResult", true);
    order(d, 0, o, sizeof o);
    ck_assert_str_eq(o, "Bucket,Key,UploadId");
    ck_assert_str_eq(text(d, 0, "Key"), "k<");
    dom_free(d);

    cs_buf_reset(&b);
    ck_assert_int_eq(cs_s3_complete_result(&b, &cr), CS_OK);
    d = dom_parse(&b);
    root(d, "CompleteMultipartUploadResult", true);
    order(d, 0, o, sizeof o);
    ck_assert_str_eq(o, "Location,Bucket,Key,ETag,ChecksumCRC32");
    ck_assert_str_eq(text(d, 0, "Location"), "http://h/b/k%20&");
    ck_assert_str_eq(text(d, 0, "ETag"), "\"abc-2\"");
    dom_free(d);

    cs_buf_reset(&b);
    ck_assert_int_eq(cs_s3_location(&b, "us-east-1"), CS_OK);
    ck_assert_ptr_nonnull(strstr(b.data, "<LocationConstraint xmlns=\"" CS_S3_XMLNS "\"/>"));
    d = dom_parse(&b);
    root(d, "LocationConstraint", true);
    ck_assert_str_eq(d->n[0].text, "");
    dom_free(d);
    cs_buf_reset(&b);
    ck_assert_int_eq(cs_s3_location(&b, "eu-west-1"), CS_OK);
    d = dom_parse(&b);
    ck_assert_str_eq(d->n[0].text, "eu-west-1");
    dom_free(d);

    cs_buf_reset(&b);
    ck_assert_int_eq(cs_s3_versioning(&b), CS_OK);
    d = dom_parse(&b);
    root(d, "VersioningConfiguration", true);
    ck_assert_int_eq(d->count, 1); /* no Status: never enabled */
    dom_free(d);

    cs_buf_reset(&b);
    ck_assert_int_eq(cs_s3_acl(&b, &owner), CS_OK);
    d = dom_parse(&b);
    root(d, "AccessControlPolicy", true);
    {
        int acl = child(d, 0, "AccessControlList", 0);
        int g = child(d, acl, "Grant", 0);
        ck_assert_int_eq(count_children(d, acl, NULL), 1);
        ck_assert_str_eq(text(d, g, "Permission"), "FULL_CONTROL");
        ck_assert_str_eq(text(d, child(d, g, "Grantee", 0), "ID"), "owner-id");
    }
    dom_free(d);
    cs_buf_free(&b);
}
END_TEST

/* --- parsers ----------------------------------------------------------------- */

struct collected {
    size_t n;
    char keys[4][CS_S3_KEY_MAX + 1];
    size_t lens[4];
    char vids[4][32];
    bool has_vid[4];
};

static enum cs_status collect(void *arg, const struct cs_s3_delete_obj *o)
{
    struct collected *c = arg;

    if (c->n < 4) {
        memcpy(c->keys[c->n], o->key, o->key_len);
        c->lens[c->n] = o->key_len;
        c->has_vid[c->n] = o->version_id != NULL;
        if (o->version_id)
            snprintf(c->vids[c->n], sizeof c->vids[0], "%s", o->version_id);
    }
    c->n++;
    return CS_OK;
}

START_TEST(parse_delete_valid)
{
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Object><Key> a &amp;&lt;b&gt;\"'</Key><VersionId>null</VersionId></Object>"
        "<Unknown><Key>not me</Key></Unknown>"
        "<Object><Key>k&#233;</Key><Extra>x</Extra></Object>"
        "<Quiet> true </Quiet></Delete>";
    struct collected c = {0};
    struct cs_s3_parse_error err;
    bool quiet = false;

    ck_assert_int_eq(cs_s3_parse_delete(body, strlen(body), &quiet, collect, &c, &err), CS_OK);
    ck_assert(quiet);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_uint_eq(c.lens[0], 9);
    ck_assert(memcmp(c.keys[0], " a &<b>\"'", 9) == 0); /* blanks in keys are kept */
    ck_assert(c.has_vid[0]);
    ck_assert_str_eq(c.vids[0], "null");
    ck_assert_uint_eq(c.lens[1], 3);
    ck_assert(memcmp(c.keys[1], "k\xc3\xa9", 3) == 0);
    ck_assert(!c.has_vid[1]);

    /* no namespace, and Quiet false */
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(cs_s3_parse_delete("<Delete><Quiet>false</Quiet><Object><Key>x</Key>"
                                        "</Object></Delete>",
                                        66, &quiet, collect, &c, &err),
                     CS_OK);
    ck_assert(!quiet);
    ck_assert_uint_eq(c.n, 1);
}
END_TEST

/* A body of n objects (keys "k<i>"), caller frees. */
static char *delete_body(size_t n, size_t *len)
{
    struct cs_buf b;

    cs_buf_init(&b, 1 << 24);
    cs_buf_printf(&b, "<Delete>");
    for (size_t i = 0; i < n; i++)
        cs_buf_printf(&b, "<Object><Key>k%zu</Key></Object>", i);
    cs_buf_printf(&b, "</Delete>");
    ck_assert(!b.overflow);
    *len = b.len;
    return b.data;
}

/* Fails the test if ever called: for bodies that must be refused whole. */
static enum cs_status never(void *arg, const struct cs_s3_delete_obj *o)
{
    (void)arg;
    (void)o;
    ck_abort_msg("a callback ran for a body that is refused");
    return CS_OK;
}

static void delete_refused(const char *body, size_t len, const char *code)
{
    struct cs_s3_parse_error err;
    bool quiet;

    ck_assert_int_eq(cs_s3_parse_delete(body, len, &quiet, never, NULL, &err), CS_ERR_INVALID);
    ck_assert_ptr_nonnull(err.code);
    ck_assert_msg(strcmp(err.code, code) == 0, "%s: %s (%s)", code, err.code, err.message);
    ck_assert(err.message[0] != '\0');
}

START_TEST(parse_delete_limits)
{
    struct collected c = {0};
    struct cs_s3_parse_error err;
    bool quiet;
    size_t len;
    char *body = delete_body(1000, &len);
    char key[CS_S3_KEY_MAX + 2];
    char buf[2 * CS_S3_KEY_MAX];

    ck_assert_int_eq(cs_s3_parse_delete(body, len, &quiet, collect, &c, &err), CS_OK);
    ck_assert_uint_eq(c.n, 1000);
    free(body);
    body = delete_body(1001, &len); /* nothing deleted: checked before the first callback */
    delete_refused(body, len, "MalformedXML");
    free(body);

    memset(key, 'k', sizeof key);
    snprintf(buf, sizeof buf, "<Delete><Object><Key>%.*s</Key></Object></Delete>", CS_S3_KEY_MAX,
             key);
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(cs_s3_parse_delete(buf, strlen(buf), &quiet, collect, &c, &err), CS_OK);
    ck_assert_uint_eq(c.lens[0], CS_S3_KEY_MAX);
    snprintf(buf, sizeof buf, "<Delete><Object><Key>%.*s</Key></Object></Delete>",
             CS_S3_KEY_MAX + 1, key);
    delete_refused(buf, strlen(buf), "KeyTooLongError");
}
END_TEST

START_TEST(parse_delete_bad)
{
    static const char dtd_internal[] =
        "<?xml version=\"1.0\"?><!DOCTYPE Delete [<!ENTITY a \"x\">]>"
        "<Delete><Object><Key>&a;</Key></Object></Delete>";
    static const char dtd_system[] = "<!DOCTYPE Delete SYSTEM \"file:///etc/passwd\">"
                                     "<Delete><Object><Key>a</Key></Object></Delete>";
    static const char *const malformed[] = {
        "",
        "   ",
        "<Delete>",
        "<Delete><Object><Key>a</Key></Object>", /* truncated */
        "<Delete></Delete>",                     /* no objects */
        "<Delete><Object></Object></Delete>",
        "<Delete><Object><VersionId>v</VersionId></Object></Delete>",
        "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
        "<Delete><Object><Key>a<b/></Key></Object></Delete>",
        "<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>",
        "<Remove><Object><Key>a</Key></Object></Remove>",
        "<x:Delete xmlns:x=\"urn:other\"><Object><Key>a</Key></Object></x:Delete>",
        "<Delete><Object><Key>a</Key></Object></Delete><Delete/>",
        "<Delete><Object><Key>a</Key></Object></Delete>trailing",
        "<Delete><Object><Key>&bogus;</Key></Object></Delete>",
        "<Delete><Object><Key>&#0;</Key></Object></Delete>",
        dtd_internal,
        dtd_system,
        "<Delete><Object><Key>\xff</Key></Object></Delete>", /* not UTF-8 */
    };

    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        delete_refused(malformed[i], strlen(malformed[i]), "MalformedXML");
    delete_refused("<Delete><Object><Key></Key></Object></Delete>", 45, "UserKeyMustBeSpecified");
}
END_TEST

START_TEST(parse_billion_laughs)
{
    static const char bomb[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n";
    struct cs_s3_parse_error err;
    struct cs_s3_complete parts;
    char region[CS_S3_LOCATION_MAX + 1];
    char buf[2048];

    snprintf(buf, sizeof buf, "%s<Delete><Object><Key>&lol9;</Key></Object></Delete>", bomb);
    delete_refused(buf, strlen(buf), "MalformedXML");
    snprintf(buf, sizeof buf,
             "%s<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&lol9;</ETag>"
             "</Part></CompleteMultipartUpload>",
             bomb);
    ck_assert_int_eq(cs_s3_parse_complete(buf, strlen(buf), &parts, &err), CS_ERR_INVALID);
    ck_assert_str_eq(err.code, "MalformedXML");
    ck_assert_ptr_null(parts.parts);
    snprintf(buf, sizeof buf,
             "%s<CreateBucketConfiguration><LocationConstraint>&lol9;</LocationConstraint>"
             "</CreateBucketConfiguration>",
             bomb);
    ck_assert_int_eq(cs_s3_parse_create_bucket(buf, strlen(buf), region, &err), CS_ERR_INVALID);
    ck_assert_str_eq(err.code, "MalformedXML");
}
END_TEST

/* A text node of 1 MiB inside a known and inside an unknown element: the
 * first is refused for its length, the second is skipped; nothing of it
 * is kept. Deep nesting is refused. */
START_TEST(parse_huge_text)
{
    struct cs_buf b;
    struct collected c = {0};
    struct cs_s3_parse_error err;
    bool quiet;
    char *big = malloc(1 << 20);

    memset(big, 'x', 1 << 20);
    cs_buf_init(&b, 4 << 20);
    cs_buf_printf(&b, "<Delete><Object><Key>");
    cs_buf_add(&b, big, 1 << 20);
    cs_buf_printf(&b, "</Key></Object></Delete>");
    delete_refused(b.data, b.len, "KeyTooLongError");
    cs_buf_reset(&b);
    cs_buf_printf(&b, "<Delete><Junk>");
    cs_buf_add(&b, big, 1 << 20);
    cs_buf_printf(&b, "</Junk><Object><Key>k</Key></Object></Delete>");
    ck_assert_int_eq(cs_s3_parse_delete(b.data, b.len, &quiet, collect, &c, &err), CS_OK);
    ck_assert_uint_eq(c.n, 1);
    cs_buf_reset(&b);
    cs_buf_printf(&b, "<Delete>");
    for (int i = 0; i < 100; i++)
        cs_buf_printf(&b, "<Object>");
    delete_refused(b.data, b.len, "MalformedXML");
    cs_buf_free(&b);
    free(big);
}
END_TEST

/* The caller's failure (its answer buffer full) stops the walk. */
static enum cs_status never_ok(void *arg, const struct cs_s3_delete_obj *o)
{
    size_t *calls = arg;

    (void)o;
    ++*calls;
    return CS_ERR_IO;
}

START_TEST(parse_delete_callback_stops)
{
    struct cs_s3_parse_error err;
    bool quiet;
    size_t len;
    char *body = delete_body(3, &len);

    size_t calls = 0;

    ck_assert_int_eq(cs_s3_parse_delete(body, len, &quiet, never_ok, &calls, &err), CS_ERR_IO);
    ck_assert_uint_eq(calls, 1);
    free(body);
}
END_TEST

/* A CompleteMultipartUpload body of parts numbered from numbers[], caller frees. */
static char *complete_body(const uint32_t *numbers, size_t n, size_t *len)
{
    struct cs_buf b;

    cs_buf_init(&b, 1 << 24);
    cs_buf_printf(&b, "<CompleteMultipartUpload xmlns=\"" CS_S3_XMLNS "\">");
    for (size_t i = 0; i < n; i++)
        cs_buf_printf(&b,
                      "<Part><ETag>\"%08x0123456789abcdef01234567\"</ETag>"
                      "<PartNumber>%u</PartNumber></Part>",
                      numbers[i], numbers[i]);
    cs_buf_printf(&b, "</CompleteMultipartUpload>");
    ck_assert(!b.overflow);
    *len = b.len;
    return b.data;
}

static void complete_refused(const char *body, size_t len, const char *code)
{
    struct cs_s3_complete c;
    struct cs_s3_parse_error err;

    ck_assert_int_eq(cs_s3_parse_complete(body, len, &c, &err), CS_ERR_INVALID);
    ck_assert_msg(err.code && strcmp(err.code, code) == 0, "%s: %s (%s)", code,
                  err.code ? err.code : "(none)", err.message);
    ck_assert_ptr_null(c.parts);
    ck_assert_uint_eq(c.n, 0);
}

START_TEST(parse_complete_valid)
{
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Part><ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</ETag>"
        "<ChecksumCRC32>AAAAAA==</ChecksumCRC32><PartNumber> 1 </PartNumber></Part>"
        "<Part><PartNumber>3</PartNumber><ETag>0c78aef83f66abc1fa1e8477f296d394</ETag>"
        "<Other>ignored</Other></Part></CompleteMultipartUpload>";
    struct cs_s3_complete c;
    struct cs_s3_parse_error err;

    ck_assert_int_eq(cs_s3_parse_complete(body, strlen(body), &c, &err), CS_OK);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_uint_eq(c.parts[0].number, 1);
    ck_assert_str_eq(c.parts[0].etag, "a54357aff0632cce46d942af68356b38");
    ck_assert_int_eq(c.parts[0].checksum_kind, CS_S3_CHECKSUM_CRC32);
    ck_assert_str_eq(c.parts[0].checksum, "AAAAAA==");
    ck_assert_str_eq(cs_s3_checksum_name(c.parts[0].checksum_kind), "ChecksumCRC32");
    ck_assert_uint_eq(c.parts[1].number, 3);
    ck_assert_str_eq(c.parts[1].etag, "0c78aef83f66abc1fa1e8477f296d394");
    ck_assert_int_eq(c.parts[1].checksum_kind, CS_S3_CHECKSUM_NONE);
    cs_s3_complete_free(&c);
    ck_assert_ptr_null(cs_s3_checksum_name(CS_S3_CHECKSUM_NONE));
    ck_assert_str_eq(cs_s3_checksum_name(CS_S3_CHECKSUM_CRC64NVME), "ChecksumCRC64NVME");
}
END_TEST

START_TEST(parse_complete_limits)
{
    uint32_t *nums = malloc((CS_S3_PARTS_MAX + 1) * sizeof *nums);
    struct cs_s3_complete c;
    struct cs_s3_parse_error err;
    size_t len;
    char *body;

    for (uint32_t i = 0; i <= CS_S3_PARTS_MAX; i++)
        nums[i] = i + 1;
    body = complete_body(nums, CS_S3_PARTS_MAX, &len);
    ck_assert_int_eq(cs_s3_parse_complete(body, len, &c, &err), CS_OK);
    ck_assert_uint_eq(c.n, CS_S3_PARTS_MAX);
    ck_assert_uint_eq(c.parts[CS_S3_PARTS_MAX - 1].number, CS_S3_PARTS_MAX);
    cs_s3_complete_free(&c);
    free(body);
    body = complete_body(nums, CS_S3_PARTS_MAX + 1, &len);
    complete_refused(body, len, "MalformedXML");
    free(body);
    nums[0] = 2;
    nums[1] = 1;
    body = complete_body(nums, 2, &len);
    complete_refused(body, len, "InvalidPartOrder");
    free(body);
    nums[0] = nums[1] = 4; /* a repeated number is out of order too */
    body = complete_body(nums, 2, &len);
    complete_refused(body, len, "InvalidPartOrder");
    free(body);
    nums[0] = 0;
    body = complete_body(nums, 1, &len);
    complete_refused(body, len, "InvalidArgument");
    free(body);
    nums[0] = 10001;
    body = complete_body(nums, 1, &len);
    complete_refused(body, len, "InvalidArgument");
    free(body);
    free(nums);
}
END_TEST

START_TEST(parse_complete_bad)
{
    static const char *const malformed[] = {
        "",
        "<CompleteMultipartUpload/>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag><ETag>y</ETag>"
        "</Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag>"
        "<ChecksumCRC32>a</ChecksumCRC32><ChecksumSHA1>b</ChecksumSHA1></Part>"
        "</CompleteMultipartUpload>",
        "<Delete><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Delete>",
        "<!DOCTYPE x><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag>"
        "</Part></CompleteMultipartUpload>",
        "garbage",
    };
    static const char *const bad_number[] = {"-1", "1.5", "0x1", "", "99999999999999999999"};
    char buf[512];
    char etag[CS_S3_ETAG_MAX + 2];

    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        complete_refused(malformed[i], strlen(malformed[i]), "MalformedXML");
    for (size_t i = 0; i < sizeof bad_number / sizeof bad_number[0]; i++) {
        snprintf(buf, sizeof buf,
                 "<CompleteMultipartUpload><Part><PartNumber>%s</PartNumber><ETag>x</ETag>"
                 "</Part></CompleteMultipartUpload>",
                 bad_number[i]);
        complete_refused(buf, strlen(buf), "InvalidArgument");
    }
    memset(etag, 'e', sizeof etag);
    etag[sizeof etag - 1] = '\0';
    snprintf(buf, sizeof buf,
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"%s\"</ETag>"
             "</Part></CompleteMultipartUpload>",
             etag);
    complete_refused(buf, strlen(buf), "InvalidPart");
    snprintf(buf, sizeof buf,
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"\"</ETag>"
             "</Part></CompleteMultipartUpload>");
    complete_refused(buf, strlen(buf), "InvalidPart");
}
END_TEST

START_TEST(parse_create_bucket)
{
    char region[CS_S3_LOCATION_MAX + 1] = "junk";
    struct cs_s3_parse_error err;
    static const char body[] =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint> eu-west-1 </LocationConstraint></CreateBucketConfiguration>";
    char buf[512];

    ck_assert_int_eq(cs_s3_parse_create_bucket("", 0, region, &err), CS_OK);
    ck_assert_str_eq(region, "");
    ck_assert_int_eq(cs_s3_parse_create_bucket(" \r\n", 3, region, &err), CS_OK);
    ck_assert_int_eq(cs_s3_parse_create_bucket(body, strlen(body), region, &err), CS_OK);
    ck_assert_str_eq(region, "eu-west-1");
    ck_assert_int_eq(cs_s3_parse_create_bucket("<CreateBucketConfiguration/>", 28, region, &err),
                     CS_OK);
    ck_assert_str_eq(region, "");
    ck_assert_int_eq(cs_s3_parse_create_bucket("<Create/>", 9, region, &err), CS_ERR_INVALID);
    ck_assert_str_eq(err.code, "MalformedXML");
    ck_assert_int_eq(cs_s3_parse_create_bucket("<CreateBucketConfiguration>", 27, region, &err),
                     CS_ERR_INVALID);
    ck_assert_str_eq(err.code, "MalformedXML");
    snprintf(buf, sizeof buf,
             "<CreateBucketConfiguration><LocationConstraint>%0*d</LocationConstraint>"
             "</CreateBucketConfiguration>",
             CS_S3_LOCATION_MAX + 1, 0);
    ck_assert_int_eq(cs_s3_parse_create_bucket(buf, strlen(buf), region, &err), CS_ERR_INVALID);
    ck_assert_str_eq(err.code, "InvalidLocationConstraint");
    ck_assert_str_eq(region, "");
}
END_TEST

/* With CS_S3_XML_DUMP set, writes the url-encoded ListObjectsV2 answer of
 * list_v2() there for tests/unit/s3_botocore.py. */
static void dump_for_botocore(void)
{
    const char *path = getenv("CS_S3_XML_DUMP");
    struct cs_buf b;
    struct dom *d;
    FILE *f;

    if (!path)
        return;
    cs_buf_init(&b, 1 << 16);
    d = list_v2(&b, true, true);
    dom_free(d);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b.data, 1, b.len, f), b.len);
    ck_assert_int_eq(fclose(f), 0);
    cs_buf_free(&b);
}

START_TEST(dump)
{
    dump_for_botocore();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("s3_xml");
    TCase *t = tcase_create("text");
    TCase *w = tcase_create("writers");
    TCase *p = tcase_create("parsers");

    tcase_add_test(t, dates);
    tcase_add_test(t, decimal);
    tcase_add_test(t, url_encode);
    tcase_add_test(t, escape_utf8);
    suite_add_tcase(s, t);
    tcase_add_test(w, error_doc);
    tcase_add_test(w, overflow_is_reported);
    tcase_add_test(w, list_v2_plain);
    tcase_add_test(w, list_v2_url);
    tcase_add_test(w, list_v1);
    tcase_add_test(w, list_long_marker);
    tcase_add_test(w, list_versions);
    tcase_add_test(w, list_uploads_and_parts);
    tcase_add_test(w, buckets_doc);
    tcase_add_test(w, delete_doc);
    tcase_add_test(w, single_docs);
    tcase_add_test(w, dump);
    suite_add_tcase(s, w);
    tcase_set_timeout(p, 30);
    tcase_add_test(p, parse_delete_valid);
    tcase_add_test(p, parse_delete_limits);
    tcase_add_test(p, parse_delete_bad);
    tcase_add_test(p, parse_billion_laughs);
    tcase_add_test(p, parse_huge_text);
    tcase_add_test(p, parse_delete_callback_stops);
    tcase_add_test(p, parse_complete_valid);
    tcase_add_test(p, parse_complete_limits);
    tcase_add_test(p, parse_complete_bad);
    tcase_add_test(p, parse_create_bucket);
    suite_add_tcase(s, p);
    return s;
}

int main(void)
{
    return cs_run_suite(suite());
}
