#!/usr/bin/python3
"""Regressions of the S3 front end's review (issue 17), each named after
what it pins; run by s3_hardening.sh with the server's URLs and keys in the
environment. Every check that a request is refused also checks that it
changed nothing."""
import hashlib
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3_request import presign, send, sign, unsigned_trailer_body, crc32_b64  # noqa: E402

S3 = os.environ["S3URL"]
HTTP = os.environ["URL"]
AK, SK = os.environ["AK_ALICE"], os.environ["SK_ALICE"]
TOKEN = os.environ["TOKEN_ALICE"]
REGION = os.environ.get("S3_REGION", "us-east-1")


FAILED = []


class Failed(Exception):
    pass


def fail(msg):
    """Ends the check it is in (the next one still runs)."""
    print(f"FAIL: {msg}")
    FAILED.append(msg)
    raise Failed(msg)


def ok(msg):
    print(f"ok - {msg}")


CHECKS = []


def check(f):
    CHECKS.append(f)
    return f


def code(body):
    m = re.search(rb"<Code>([^<]*)</Code>", body)
    return m.group(1).decode() if m else ""


def s3(method, path, body=b"", headers=None, payload_hash=None):
    url = S3 + path
    h, *_ = sign(method, url, headers or {}, AK, SK, REGION,
                 payload_hash or hashlib.sha256(body).hexdigest())
    return send(method, url, h, body)


def http_get(path):
    return send("GET", HTTP + path, {"Authorization": f"Bearer {TOKEN}"}, None)


def http_put(path, body):
    return send("PUT", HTTP + path, {"Authorization": f"Bearer {TOKEN}"}, body)


# unsigned_copy_source_refused: a presigned PUT signs only host; an
# x-amz-copy-source sent beside it would turn it into a copy of anything
# the signer may read.
@check
def unsigned_copy_source_refused():
    st, _, _ = s3("PUT", "/team-a/hard/secret", b"TOP SECRET")
    if st != 200:
        fail(f"PUT team-a/hard/secret: {st}")
    url = presign("PUT", S3 + "/public/hard/slot", AK, SK, REGION, 300)
    st, _, body = send("PUT", url, {"x-amz-copy-source": "/team-a/hard/secret"}, b"")
    if st != 403 or code(body) != "AccessDenied":
        fail(f"presigned PUT with an unsigned x-amz-copy-source: {st} {code(body)}")
    if send("GET", S3 + "/public/hard/slot", {}, None)[0] != 404:
        fail("the presigned PUT with an unsigned copy source stored something")
    url = presign("PUT", S3 + "/public/hard/meta", AK, SK, REGION, 300)
    st, _, body = send("PUT", url, {"x-amz-meta-evil": "1"}, b"x")
    if st != 403:
        fail(f"presigned PUT with an unsigned x-amz-meta header: {st}")
    ok("unsigned_copy_source_refused: unsigned x-amz-* beside a signature: 403 AccessDenied, nothing stored")


# xml_body_digest: DeleteObjects acts only on the body that was signed
@check
def xml_body_digest():
    if http_put("/team-a/hard/victim", b"keep me")[0] not in (201, 204):
        fail("HTTP PUT of the victim")
    signed_body = b"<Delete><Object><Key>hard/harmless</Key></Object></Delete>"
    sent_body = b"<Delete><Object><Key>hard/victim</Key></Object></Delete>"
    url = S3 + "/team-a?delete"
    h, *_ = sign("POST", url, {}, AK, SK, REGION, hashlib.sha256(signed_body).hexdigest())
    st, _, body = send("POST", url, h, sent_body)
    if st != 400 or code(body) != "XAmzContentSHA256Mismatch":
        fail(f"DeleteObjects with another body than signed: {st} {code(body)}")
    if http_get("/team-a/hard/victim")[0] != 200:
        fail("DeleteObjects with a tampered body deleted the victim")
    h, *_ = sign("POST", url, {"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}, AK, SK, REGION,
                 "UNSIGNED-PAYLOAD")
    st, _, body = send("POST", url, h, sent_body)
    if st != 400 or code(body) != "BadDigest":
        fail(f"DeleteObjects with a wrong Content-MD5: {st} {code(body)}")
    if http_get("/team-a/hard/victim")[0] != 200:
        fail("DeleteObjects with a wrong Content-MD5 deleted the victim")
    ok("xml_body_digest: a DeleteObjects body other than the signed one (sha256, Content-MD5): 400, nothing deleted")


# two_checksums_refused: each promise is checked, so only one is taken
@check
def two_checksums_refused():
    data = b"checksummed body"
    st, _, body = s3("PUT", "/team-a/hard/two", data, {
        "x-amz-checksum-crc32": crc32_b64(data),
        "x-amz-checksum-sha256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="})
    if st != 400 or http_get("/team-a/hard/two")[0] != 404:
        fail(f"two checksum headers, one wrong: {st} {code(body)}, or stored")
    ok("two_checksums_refused: two x-amz-checksum-* headers: 400, nothing stored")


# aws_chunked_not_stored_as_encoding: the framing is undone, not kept
@check
def aws_chunked_not_stored_as_encoding():
    payload = b"z" * 3000
    crc = crc32_b64(payload)
    enc = unsigned_trailer_body(payload, 1000, crc)
    url = S3 + "/team-a/hard/chunked"
    h, *_ = sign("PUT", url, {"Content-Encoding": "aws-chunked,gzip",
                              "x-amz-decoded-content-length": str(len(payload)),
                              "x-amz-trailer": "x-amz-checksum-crc32",
                              "Content-Length": str(len(enc))},
                 AK, SK, REGION, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    st, _, body = send("PUT", url, h, enc)
    if st != 200:
        fail(f"aws-chunked PUT: {st} {body[:200]}")
    st, hdrs, got = s3("GET", "/team-a/hard/chunked")
    ce = [v for k, v in hdrs if k.lower() == "content-encoding"]
    if st != 200 or got != payload or ce != ["gzip"]:
        fail(f"GET of an aws-chunked upload: {st}, same bytes {got == payload}, Content-Encoding {ce}")
    ok("aws_chunked_not_stored_as_encoding: Content-Encoding aws-chunked,gzip comes back as gzip")


# list_0xff_prefix_pagination_ends: a CommonPrefix ending in 0xff once
# made every page repeat it
@check
def list_0xff_prefix_pagination_ends():
    for k in ("d/a%FF/b", "d/a%FF/c", "d/b"):
        if http_put("/team-a/hard/" + k, b"x")[0] not in (201, 204):
            fail(f"HTTP PUT hard/{k}")
    token, pages, seen = None, 0, []
    while pages < 10:
        q = "list-type=2&prefix=hard%2Fd%2F&delimiter=%FF&max-keys=1&encoding-type=url"
        if token:
            q += "&continuation-token=" + urllib.parse.quote(token, safe="")
        st, _, body = s3("GET", "/team-a?" + q)
        if st != 200:
            fail(f"listing page {pages}: {st} {code(body)}")
        pages += 1
        seen += re.findall(rb"<Contents><Key>([^<]*)</Key>", body)
        seen += re.findall(rb"<CommonPrefixes><Prefix>([^<]*)</Prefix>", body)
        m = re.search(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
        if b"<IsTruncated>true</IsTruncated>" not in body:
            break
        token = m.group(1).decode() if m else fail("truncated without a token")
    if pages >= 10 or len(seen) != 2:
        fail(f"listing with a 0xff delimiter: {pages} pages, entries {seen}")
    ok(f"list_0xff_prefix_pagination_ends: {pages} pages, {len(seen)} entries (one prefix, one key)")


# non_utf8_key_refused: S3 keys are UTF-8, or a listing could not name them
@check
def non_utf8_key_refused():
    st, _, body = s3("PUT", "/team-a/hard/u/%FF", b"x")
    if st != 400 or code(body) != "InvalidArgument":
        fail(f"PutObject of a non-UTF-8 key: {st} {code(body)}")
    ok("non_utf8_key_refused: PutObject of key bytes that are not UTF-8: 400 InvalidArgument")


# copy_within_max_blob_size: a link takes no body through the upload path
@check
def copy_within_max_blob_size():
    big = os.urandom(4096)
    if s3("PUT", "/team-a/hard/big", big)[0] != 200:
        fail("PUT team-a/hard/big")
    st, _, body = s3("PUT", "/tiny/big", b"", {"x-amz-copy-source": "/team-a/hard/big"})
    if st != 400 or code(body) != "EntityTooLarge":
        fail(f"CopyObject into a namespace with max_blob_size 1K: {st} {code(body)}")
    if s3("GET", "/tiny/big")[0] != 404:
        fail("the oversized copy was stored")
    st, _, body = s3("PUT", "/team-a/hard/big2", b"",
                     {"x-amz-copy-source": "/team-a/hard/big?versionId=3HL4kqtJlcpXroDTDmJ"})
    if st != 404 or code(body) != "NoSuchVersion":
        fail(f"CopyObject of a version that is not null: {st} {code(body)}")
    ok("copy_within_max_blob_size: a copy over the destination's max_blob_size: 400 EntityTooLarge; "
       "a versionId other than null: 404 NoSuchVersion")


# multipart_record_checked: ListParts and Abort under another key
@check
def multipart_record_checked():
    st, _, body = s3("POST", "/team-a/hard/mp?uploads")
    m = re.search(rb"<UploadId>([^<]+)</UploadId>", body)
    if st != 200 or not m:
        fail(f"CreateMultipartUpload: {st}")
    uid = m.group(1).decode()
    st, _, body = s3("DELETE", f"/team-a/hard/other?uploadId={uid}")
    if st != 404 or code(body) != "NoSuchUpload":
        fail(f"Abort under another key: {st} {code(body)}")
    st, _, body = s3("GET", f"/team-a/hard/mp?uploadId={uid}")
    if st != 200:
        fail(f"the upload is gone after an Abort under another key: {st} {code(body)}")
    ok("multipart_record_checked: AbortMultipartUpload under another key: 404 NoSuchUpload, upload kept")



# put_answer_checksum_exact: the checksum a PutObject answers with is the
# value alone (it was read past its end in the metadata blob)
@check
def put_answer_checksum_exact():
    data = b"answer me"
    want = crc32_b64(data)
    st, hdrs, body = s3("PUT", "/team-a/hard/answer", data, {
        "x-amz-checksum-crc32": want, "x-amz-meta-after": "x" * 40})
    got = [v for k, v in hdrs if k.lower() == "x-amz-checksum-crc32"]
    if st != 200 or got != [want]:
        fail(f"PutObject's x-amz-checksum-crc32 answer: {st} {got!r}, want {want!r}")
    ok("put_answer_checksum_exact: PutObject answers x-amz-checksum-crc32 with the value alone")



# completion_charged_stored_bytes: a completion is credited what its parts
# take on disk, not their raw size: parts of zeros stored compressed must
# not let a plain object past the namespace's quota
@check
def completion_charged_stored_bytes():
    st, _, body = s3("POST", "/squeeze/big?uploads")
    m = re.search(rb"<UploadId>([^<]+)</UploadId>", body)
    if st != 200 or not m:
        fail(f"CreateMultipartUpload in squeeze: {st} {code(body)}")
    uid = m.group(1).decode()
    parts = [os.urandom(5 << 20), bytes(5 << 20), bytes(5 << 20)]
    etags = []
    for n, data in enumerate(parts, 1):
        st, hdrs, body = s3("PUT", f"/squeeze/big?partNumber={n}&uploadId={uid}", data)
        if st != 200:
            fail(f"UploadPart {n}: {st} {code(body)}")
        etags.append([v for k, v in hdrs if k.lower() == "etag"][0])
    xml = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"
        for n, e in enumerate(etags, 1)) + "</CompleteMultipartUpload>"
    st, _, body = s3("POST", f"/squeeze/big?uploadId={uid}", xml.encode())
    if st != 507 or code(body) != "XCstashStorageFull":
        fail(f"completing 15 MiB (5 MiB plain + 10 MiB of zeros stored compressed) in a 10 MiB "
             f"namespace: {st} {code(body)}")
    if s3("HEAD", "/squeeze/big")[0] != 404:
        fail("the oversized completion was stored")
    ok("completion_charged_stored_bytes: 15 MiB completed from parts stored in ~5 MiB, "
       "into a 10 MiB namespace: 507 XCstashStorageFull, nothing stored")


for c in CHECKS:
    try:
        c()
    except Failed:
        pass
sys.exit(1 if FAILED else 0)
