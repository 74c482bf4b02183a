/* Text encodings shared by the WebDAV and S3 answers: XML character data,
 * percent-encoding of keys, and the two date formats HTTP and S3 use.
 * Pure functions, thread-safe, no locale: output never depends on
 * setlocale(). */
#ifndef CS_TEXT_H
#define CS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/status.h"

/* Room for "2026-12-01T15:40:08.000Z" and its NUL. */
#define CS_ISO8601_LEN 25
/* Room for "Tue, 01 Dec 2026 15:40:08 GMT" and its NUL. */
#define CS_IMF_DATE_LEN 30

/* Appends s (n bytes) as XML character data, usable in element content and
 * in double-quoted attribute values. < > & " become entities and CR
 * becomes &#13; (a parser would otherwise turn CR LF into LF). Input is
 * bytes and the document is UTF-8: a byte that does not start a
 * well-formed UTF-8 sequence of an XML 1.0 Char (stray continuation
 * bytes, overlong forms, surrogates, C0 controls but tab and LF,
 * U+FFFE/U+FFFF) becomes U+FFFD, so the output is always well-formed.
 * Returns out's status. */
enum cs_status cs_xml_escape(struct cs_buf *out, const char *s, size_t n);

/* Whether s (n bytes) is well-formed UTF-8 made only of XML 1.0 Chars:
 * exactly the inputs cs_xml_escape() keeps byte for byte (bar escapes). */
bool cs_xml_text_exact(const char *s, size_t n);

/* Percent-encodes s (n bytes): RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~) and '/' stay, every other byte becomes %XX
 * (upper-case hex). The result is plain ASCII whatever the bytes, so it is
 * also valid XML text. Both urllib's unquote() and unquote_plus() (which
 * botocore uses for encoding-type=url) give back the exact bytes: '+' and
 * space are always escaped. Returns out's status. */
enum cs_status cs_url_encode(struct cs_buf *out, const char *s, size_t n);

/* ISO 8601 UTC with milliseconds, as S3 lists times:
 * "2026-12-01T15:40:08.000Z". CS_ERR_INVALID when len is too small or the
 * time cannot be broken down (out is then ""). */
enum cs_status cs_iso8601_ms(time_t t, int ms, char *out, size_t len);

/* RFC 7231 IMF-fixdate for Last-Modified and Date:
 * "Tue, 01 Dec 2026 15:40:08 GMT". English names whatever the locale.
 * CS_ERR_INVALID as for cs_iso8601_ms(). */
enum cs_status cs_imf_date(time_t t, char *out, size_t len);

/* Parses a query parameter such as max-keys, max-parts or
 * part-number-marker: one or more ASCII digits and nothing else (no sign,
 * no spaces, no 0x). A value over max, however many digits, gives max: S3
 * answers max-keys=5000 with 1000 keys rather than an error. CS_ERR_INVALID
 * for anything else (empty included); *out is then left alone. */
enum cs_status cs_parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out);

#endif
