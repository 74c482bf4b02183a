#!/usr/bin/python3
"""The S3 front end with Debian's python3-boto3 (driven by s3_boto3.sh).

Prints "ok: <what>" per check; on the first failure "FAIL: <why>" on stderr
and exit 1. Environment: S3URL, HTTPURL, AK_ALICE, SK_ALICE, AK_BOB, SK_BOB,
TOKEN_ALICE, S3_REGION.

botocore cannot stream-sign, so the aws-chunked bodies (signed chunks, and
the unsigned ones with a checksum trailer) are built here by hand, with the
signer of s3_request.py (checked against the AWS documentation's example).
"""
import base64
import email.utils
import hashlib
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3_request as sr  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

E = os.environ
S3URL, HTTPURL, REGION = E["S3URL"], E["HTTPURL"], E.get("S3_REGION", "us-east-1")
ALICE = (E["AK_ALICE"], E["SK_ALICE"])
BOB = (E["AK_BOB"], E["SK_BOB"])


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def ok(msg):
    print("ok: " + msg, flush=True)


def client(creds, endpoint=S3URL):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 1, "mode": "standard"}))


def err(fn, *a, **kw):
    """(status, code) of a call that must fail."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code")
    fail(f"{fn.__name__}{a}{kw}: succeeded, a failure was expected")


def expect_err(want_status, want_code, what, fn, *a, **kw):
    st, code = err(fn, *a, **kw)
    if st != want_status or (want_code and code != want_code):
        fail(f"{what}: {st} {code}, want {want_status} {want_code}")


def urlopen(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def http_get(ns_key):
    """The object over the ordinary HTTP API (alice's bearer token)."""
    return urlopen("GET", f"{HTTPURL}/{urllib.parse.quote(ns_key)}",
                   headers={"Authorization": "Bearer " + E["TOKEN_ALICE"]})


def absent(bucket, key, what):
    st, _, body = http_get(f"{bucket}/{key}")
    if st != 404:
        fail(f"{what}: {bucket}/{key} is stored (HTTP GET answered {st}, {len(body)} bytes)")


def md5q(b):
    return '"%s"' % hashlib.md5(b).hexdigest()


def code_of(body):
    b = body.decode(errors="replace")
    return b.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in b else None


a, b = client(ALICE), client(BOB)
body = os.urandom(70000)

# --- presigned GET and PUT ---------------------------------------------------------
url = a.generate_presigned_url("put_object", Params={"Bucket": "team-a", "Key": "pre/put"}, ExpiresIn=60)
if "X-Amz-Signature=" not in url:
    fail(f"boto3 did not make a SigV4 presigned URL: {url}")
st, h, _ = urlopen("PUT", url, data=body)
if st != 200:
    fail(f"presigned PUT: {st}")
if h.get("ETag") != md5q(body):
    fail(f"presigned PUT: ETag {h.get('ETag')}, want {md5q(body)}")
url = a.generate_presigned_url("get_object", Params={"Bucket": "team-a", "Key": "pre/put"}, ExpiresIn=60)
st, h, got = urlopen("GET", url)
if st != 200 or got != body:
    fail(f"presigned GET: {st}, {len(got)} bytes")
if "x-amz-request-id" not in {k.lower() for k in h}:
    fail("presigned GET: no x-amz-request-id")
# the same presigned GET with a tampered key is refused
st, _, got = urlopen("GET", url.replace("pre/put", "pre/puu"))
if st != 403 or code_of(got) != "SignatureDoesNotMatch":
    fail(f"presigned GET of another key: {st} {code_of(got)}, want 403 SignatureDoesNotMatch")
ok("presigned PUT (200, ETag = MD5) and GET (the same 70000 bytes); a tampered presigned URL: 403 SignatureDoesNotMatch")

# --- an expired presigned URL ------------------------------------------------------------
put1 = a.generate_presigned_url("put_object", Params={"Bucket": "team-a", "Key": "pre/late"}, ExpiresIn=1)
get1 = a.generate_presigned_url("get_object", Params={"Bucket": "team-a", "Key": "pre/put"}, ExpiresIn=1)
time.sleep(2.1)
st, _, got = urlopen("PUT", put1, data=b"too late")
if st != 403 or code_of(got) != "AccessDenied":
    fail(f"expired presigned PUT: {st} {code_of(got)}, want 403 AccessDenied")
absent("team-a", "pre/late", "expired presigned PUT")
st, _, got = urlopen("GET", get1)
if st != 403 or code_of(got) != "AccessDenied":
    fail(f"expired presigned GET: {st} {code_of(got)}, want 403 AccessDenied")
ok("presigned URLs with ExpiresIn=1 used 2 s later: GET and PUT 403 AccessDenied, nothing stored")

# --- aws-chunked, every chunk signed ----------------------------------------------------
data = os.urandom(200000)  # 3 chunks of 64 KiB and a short one, then the empty one
def chunked_put(key, data, chunk=65536, bad_sig=False, creds=ALICE):
    u = f"{S3URL}/team-a/{key}"
    amzdate = sr.amz_now()
    enc_len = len(sr.aws_chunked(data, chunk, "0" * 64, "x", amzdate, b"k"))
    hdr = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
           "Content-Length": str(enc_len)}
    hdr, seed, scope, amzdate, key_ = sr.sign("PUT", u, hdr, creds[0], creds[1], REGION,
                                              sr.STREAMING_SIGNED, amzdate)
    enc = sr.aws_chunked(data, chunk, seed, scope, amzdate, key_)
    if bad_sig:
        i = enc.index(b"chunk-signature=", 100) + len(b"chunk-signature=")  # the second chunk's
        enc = enc[:i] + (b"0" if enc[i:i + 1] != b"0" else b"1") + enc[i + 1:]
    return sr.send("PUT", u, hdr, enc)
st, h, got = chunked_put("chunked/signed", data)
if st != 200:
    fail(f"aws-chunked signed PUT: {st} {got[:300]}")
if dict(h).get("ETag") != md5q(data):
    fail(f"aws-chunked signed PUT: ETag {dict(h).get('ETag')}, want {md5q(data)} (the MD5 of the decoded body)")
r = a.get_object(Bucket="team-a", Key="chunked/signed")
if r["Body"].read() != data or r["ContentLength"] != len(data):
    fail("aws-chunked signed PUT: GET gives other bytes (the chunk framing stored?)")
st, h, got = chunked_put("chunked/badsig", data, bad_sig=True)
if st != 403 or code_of(got) != "SignatureDoesNotMatch":
    fail(f"aws-chunked with a wrong second chunk signature: {st} {code_of(got)}, want 403 SignatureDoesNotMatch")
absent("team-a", "chunked/badsig", "aws-chunked with a wrong chunk signature")
ok("STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload of 200000 bytes in 4+1 signed chunks: 200, GET byte-exact; "
   "a wrong chunk signature: 403 SignatureDoesNotMatch, nothing stored")

# --- aws-chunked, unsigned, with a crc32 trailer ------------------------------------------
def trailer_put(key, data, crc, chunk=8192, algo="crc32"):
    u = f"{S3URL}/team-a/{key}"
    enc = sr.unsigned_trailer_body(data, chunk, crc, "x-amz-checksum-" + algo)
    hdr = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
           "x-amz-trailer": "x-amz-checksum-" + algo, "x-amz-sdk-checksum-algorithm": algo.upper(),
           "Content-Length": str(len(enc))}
    hdr = sr.sign("PUT", u, hdr, ALICE[0], ALICE[1], REGION, sr.STREAMING_UNSIGNED_TRAILER)[0]
    return sr.send("PUT", u, hdr, enc)
data2 = os.urandom(50000)
crc = sr.crc32_b64(data2)
if crc != base64.b64encode((zlib.crc32(data2) & 0xffffffff).to_bytes(4, "big")).decode():
    fail("crc32 helper")
st, h, got = trailer_put("chunked/trailer", data2, crc)
if st != 200:
    fail(f"STREAMING-UNSIGNED-PAYLOAD-TRAILER PUT: {st} {got[:300]}")
r = a.get_object(Bucket="team-a", Key="chunked/trailer")
if r["Body"].read() != data2:
    fail("trailer upload: GET gives other bytes")
r = a.get_object(Bucket="team-a", Key="chunked/trailer", ChecksumMode="ENABLED")
r["Body"].read()
if r.get("ChecksumCRC32") != crc:
    fail(f"GET with x-amz-checksum-mode ENABLED: ChecksumCRC32 {r.get('ChecksumCRC32')}, want {crc}")
wrong = sr.crc32_b64(data2 + b"x")
st, h, got = trailer_put("chunked/badcrc", data2, wrong)
if st != 400:
    fail(f"trailer with a wrong crc32: {st} {code_of(got)}, want 400")
absent("team-a", "chunked/badcrc", "trailer with a wrong crc32")
ok(f"STREAMING-UNSIGNED-PAYLOAD-TRAILER upload of 50000 bytes with x-amz-checksum-crc32 {crc}: GET byte-exact, "
   f"checksum-mode ENABLED returns it; a wrong trailer: 400 ({code_of(got)}), nothing stored")

# the same with a crc64nvme trailer (newer SDKs' default; botocore 1.29 does
# not know it: the checksum-mode GET is sent by hand)
data3 = os.urandom(30000)
crc64 = sr.crc64nvme_b64(data3)
st, h, got = trailer_put("chunked/crc64", data3, crc64, algo="crc64nvme")
if st != 200:
    fail(f"trailer upload with x-amz-checksum-crc64nvme: {st} {got[:300]}")
u = f"{S3URL}/team-a/chunked/crc64"
st, h, got = sr.send("GET", u, sr.sign("GET", u, {"x-amz-checksum-mode": "ENABLED"}, ALICE[0], ALICE[1],
                                        REGION, sr.EMPTY_SHA256)[0], None)
h = {k.lower(): v for k, v in h}
if st != 200 or got != data3 or h.get("x-amz-checksum-crc64nvme") != crc64:
    fail(f"GET of the crc64nvme upload: {st}, {len(got)} bytes, x-amz-checksum-crc64nvme {h.get('x-amz-checksum-crc64nvme')}, want {crc64}")
st, h, got = trailer_put("chunked/badcrc64", data3, sr.crc64nvme_b64(data3[1:]), algo="crc64nvme")
if st != 400:
    fail(f"a wrong crc64nvme trailer: {st} {code_of(got)}, want 400")
absent("team-a", "chunked/badcrc64", "a wrong crc64nvme trailer")
ok(f"STREAMING-UNSIGNED-PAYLOAD-TRAILER with x-amz-checksum-crc64nvme {crc64}: GET byte-exact, checksum-mode "
   f"returns it; a wrong one: 400 ({code_of(got)}), nothing stored")

# --- headers SDKs sign and send are kept -----------------------------------------------------
a.put_object(Bucket="team-a", Key="meta/obj", Body=b"meta", ContentType="text/x-cstash",
             Metadata={"color": "blue", "mtime": "1700000000"}, StorageClass="STANDARD",
             ACL="private", ServerSideEncryption="AES256")
r = a.head_object(Bucket="team-a", Key="meta/obj")
if r["ContentType"] != "text/x-cstash" or r["Metadata"] != {"color": "blue", "mtime": "1700000000"}:
    fail(f"head_object: ContentType {r['ContentType']}, Metadata {r['Metadata']}")
a.put_object(Bucket="team-a", Key="meta/md5", Body=b"with md5",
             ContentMD5=base64.b64encode(hashlib.md5(b"with md5").digest()).decode())
ok("PutObject with Content-Type, x-amz-meta-*, storage class, ACL, SSE, Content-MD5: accepted, kept")

# --- DeleteObjects -------------------------------------------------------------------------
for k in ("del/1", "del/2", "del/3"):
    a.put_object(Bucket="team-a", Key=k, Body=k.encode())
r = a.delete_objects(Bucket="team-a", Delete={"Objects": [
    {"Key": "del/1"}, {"Key": "del/2", "VersionId": "null"}, {"Key": "del/none"}]})
deleted = sorted(d["Key"] for d in r.get("Deleted", []))
if deleted != ["del/1", "del/2", "del/none"] or r.get("Errors"):
    fail(f"DeleteObjects: Deleted {deleted}, Errors {r.get('Errors')}")
for k in ("del/1", "del/2"):
    expect_err(404, None, f"head_object {k} after DeleteObjects", a.head_object, Bucket="team-a", Key=k)
if a.get_object(Bucket="team-a", Key="del/3")["Body"].read() != b"del/3":
    fail("DeleteObjects removed an object not asked for")
r = a.delete_objects(Bucket="team-a", Delete={"Objects": [{"Key": "del/3"}], "Quiet": True})
if r.get("Deleted") or r.get("Errors"):
    fail(f"quiet DeleteObjects: {r}")
expect_err(404, None, "del/3 after quiet DeleteObjects", a.head_object, Bucket="team-a", Key="del/3")
try:  # either the whole call is refused, or each key is
    r = b.delete_objects(Bucket="team-a", Delete={"Objects": [{"Key": "pre/put"}]})
    if r.get("Deleted") or not r.get("Errors") or r["Errors"][0].get("Code") != "AccessDenied":
        fail(f"bob's DeleteObjects on team-a: {r}")
except ClientError as e:
    if e.response["Error"].get("Code") != "AccessDenied":
        fail(f"bob's DeleteObjects on team-a: {e}")
if a.get_object(Bucket="team-a", Key="pre/put")["Body"].read() != body:
    fail("bob's DeleteObjects removed alice's object")
ok("DeleteObjects (3 keys, one with VersionId null, one missing): all Deleted, the others kept; "
   "Quiet; bob's attempt on team-a: AccessDenied, nothing removed")

# --- CopyObject ------------------------------------------------------------------------------
src = os.urandom(3000)
a.put_object(Bucket="team-a", Key="copy/src", Body=src, Metadata={"k": "v"})
r = a.copy_object(Bucket="team-a", Key="copy/dst", CopySource={"Bucket": "team-a", "Key": "copy/src"})
if r["CopyObjectResult"]["ETag"] != md5q(src):
    fail(f"CopyObject: ETag {r['CopyObjectResult']['ETag']}")
got = a.get_object(Bucket="team-a", Key="copy/dst")
if got["Body"].read() != src or got["Metadata"] != {"k": "v"}:
    fail(f"CopyObject within team-a: bytes or metadata ({got['Metadata']}) differ")
pub = os.urandom(2000)
a.put_object(Bucket="public", Key="copy/pub src", Body=pub)
a.copy_object(Bucket="team-a", Key="copy/from-public", CopySource={"Bucket": "public", "Key": "copy/pub src"})
if a.get_object(Bucket="team-a", Key="copy/from-public")["Body"].read() != pub:
    fail("CopyObject public -> team-a: bytes differ")
b.put_object(Bucket="team-b", Key="secret", Body=b"bob's")
expect_err(403, "AccessDenied", "alice copying from team-b", a.copy_object, Bucket="team-a",
           Key="copy/stolen", CopySource={"Bucket": "team-b", "Key": "secret"})
absent("team-a", "copy/stolen", "alice copying from team-b")
expect_err(403, "AccessDenied", "bob copying from team-a into team-b", b.copy_object, Bucket="team-b",
           Key="copied", CopySource={"Bucket": "team-a", "Key": "copy/src"})
expect_err(404, "NoSuchKey", "CopyObject of a missing source", a.copy_object, Bucket="team-a",
           Key="copy/x", CopySource={"Bucket": "team-a", "Key": "copy/none"})
ok("CopyObject within team-a (bytes, metadata, ETag) and public -> team-a; from team-b and into team-b "
   "without the rights: 403 AccessDenied, nothing stored; a missing source: 404 NoSuchKey")

# --- Range and conditional GETs ------------------------------------------------------------------
r = a.get_object(Bucket="team-a", Key="copy/src", Range="bytes=100-199")
if r["ResponseMetadata"]["HTTPStatusCode"] != 206 or r["Body"].read() != src[100:200] \
        or r["ContentRange"] != "bytes 100-199/3000":
    fail(f"Range 100-199: {r['ResponseMetadata']['HTTPStatusCode']} {r.get('ContentRange')}")
r = a.get_object(Bucket="team-a", Key="copy/src", Range="bytes=-10")
if r["Body"].read() != src[-10:]:
    fail("Range bytes=-10: wrong bytes")
r = a.get_object(Bucket="team-a", Key="copy/src", Range="bytes=2990-")
if r["Body"].read() != src[2990:]:
    fail("Range bytes=2990-: wrong bytes")
expect_err(416, "InvalidRange", "Range beyond the end", a.get_object, Bucket="team-a", Key="copy/src",
           Range="bytes=5000-6000")
etag = md5q(src)
expect_err(304, None, "If-None-Match: the ETag", a.get_object, Bucket="team-a", Key="copy/src", IfNoneMatch=etag)
expect_err(412, "PreconditionFailed", "If-Match: another ETag", a.get_object, Bucket="team-a", Key="copy/src",
           IfMatch='"0123456789abcdef0123456789abcdef"')
if a.get_object(Bucket="team-a", Key="copy/src", IfMatch=etag)["Body"].read() != src:
    fail("If-Match: the right ETag")
if a.get_object(Bucket="team-a", Key="copy/src", IfNoneMatch='"nope"')["Body"].read() != src:
    fail("If-None-Match: another ETag")
future = email.utils.formatdate(time.time() + 3600, usegmt=True)
past = email.utils.formatdate(time.time() - 86400, usegmt=True)
expect_err(304, None, "If-Modified-Since: in the future", a.get_object, Bucket="team-a", Key="copy/src",
           IfModifiedSince=future)
if a.get_object(Bucket="team-a", Key="copy/src", IfModifiedSince=past)["ResponseMetadata"]["HTTPStatusCode"] != 200:
    fail("If-Modified-Since: yesterday")
expect_err(304, None, "HEAD with If-None-Match", a.head_object, Bucket="team-a", Key="copy/src", IfNoneMatch=etag)
ok("Range 100-199 (206, Content-Range), -10 and 2990-; beyond the end 416; If-None-Match 304, If-Match 412/200, "
   "If-Modified-Since 304/200")

# --- listings ----------------------------------------------------------------------------------
keys = ["pg/a", "pg/b", "pg/c d", "pg/e+f", "pg/é"]
for k in keys:
    a.put_object(Bucket="team-a", Key=k, Body=k.encode())
seen, token, pages = [], None, 0
while True:
    kw = {"Bucket": "team-a", "Prefix": "pg/", "MaxKeys": 2}
    if token:
        kw["ContinuationToken"] = token
    r = a.list_objects_v2(**kw)
    pages += 1
    got = [c["Key"] for c in r.get("Contents", [])]
    if r.get("KeyCount") != len(got):
        fail(f"ListObjectsV2 page {pages}: KeyCount {r.get('KeyCount')} for {len(got)} keys")
    seen += got
    if not r["IsTruncated"]:
        break
    token = r.get("NextContinuationToken")
    if not token or len(got) != 2 or pages > 5:
        fail(f"ListObjectsV2 page {pages}: truncated without a token or short ({r})")
if seen != keys or pages != 3:
    fail(f"ListObjectsV2 with max-keys 2: {pages} pages, {seen}")
r = a.list_objects_v2(Bucket="team-a", Prefix="pg/", StartAfter="pg/b")
if [c["Key"] for c in r["Contents"]] != keys[2:]:
    fail(f"ListObjectsV2 StartAfter: {[c['Key'] for c in r['Contents']]}")
r = a.list_objects(Bucket="team-a", Prefix="pg/", Marker="pg/b", MaxKeys=2)
if [c["Key"] for c in r["Contents"]] != keys[2:4] or not r["IsTruncated"]:
    fail(f"ListObjects V1 with Marker: {[c['Key'] for c in r['Contents']]}, IsTruncated {r['IsTruncated']}")
r = a.list_objects(Bucket="team-a", Prefix="pg/", Marker="pg/e+f")
if [c["Key"] for c in r["Contents"]] != keys[4:] or r["IsTruncated"]:
    fail(f"ListObjects V1 with Marker pg/e+f: {r.get('Contents')}")
r = a.list_objects(Bucket="team-a", Delimiter="/", MaxKeys=1000)
prefixes = sorted(p["Prefix"] for p in r.get("CommonPrefixes", []))
if prefixes != ["chunked/", "copy/", "meta/", "pg/", "pre/"]:  # del/ is empty by now
    fail(f"ListObjects V1 with a delimiter: CommonPrefixes {prefixes}")
# encoding-type=url: the keys come URL-encoded (botocore decodes them above)
u = f"{S3URL}/team-a?list-type=2&prefix=pg%2F&encoding-type=url"
st, _, xml = sr.send("GET", u, sr.sign("GET", u, {}, ALICE[0], ALICE[1], REGION, sr.EMPTY_SHA256)[0], None)
x = xml.decode()
if st != 200 or "<Key>pg/c%20d</Key>" not in x or "<Key>pg/e%2Bf</Key>" not in x or "<Key>pg/%C3%A9</Key>" not in x:
    fail(f"ListObjectsV2 encoding-type=url: {st} {x[:600]}")
ok(f"ListObjectsV2 max-keys 2: {pages} pages via continuation-token, KeyCount right, StartAfter; ListObjects V1 "
   "with Marker and IsTruncated, CommonPrefixes; encoding-type=url encodes ' ', '+' and UTF-8")

# --- buckets ---------------------------------------------------------------------------------
names = sorted(x["Name"] for x in a.list_buckets()["Buckets"])
if names != ["public", "small", "team-a"]:
    fail(f"ListBuckets for alice: {names}")
names = sorted(x["Name"] for x in b.list_buckets()["Buckets"])
if names != ["public", "team-b"]:
    fail(f"ListBuckets for bob: {names}")
a.head_bucket(Bucket="team-a")
expect_err(403, None, "HeadBucket team-b by alice", a.head_bucket, Bucket="team-b")
loc = a.get_bucket_location(Bucket="team-a").get("LocationConstraint")
if loc not in (None, "", REGION):
    fail(f"GetBucketLocation: {loc}")
r = a.create_bucket(Bucket="team-a")
if r["ResponseMetadata"]["HTTPStatusCode"] != 200:
    fail(f"CreateBucket of team-a by its writer: {r['ResponseMetadata']['HTTPStatusCode']}")
expect_err(403, "AccessDenied", "CreateBucket of an unknown bucket", a.create_bucket, Bucket="newbucket")
st, code = err(a.delete_bucket, Bucket="team-a")
if st < 400 or st >= 500:
    fail(f"DeleteBucket of a config bucket: {st} {code}")
a.head_bucket(Bucket="team-a")
if a.get_object(Bucket="team-a", Key="copy/src")["Body"].read() != src:
    fail("DeleteBucket changed team-a")
v = a.get_bucket_versioning(Bucket="team-a")
if v.get("Status"):
    fail(f"GetBucketVersioning: {v.get('Status')}")
r = a.list_object_versions(Bucket="team-a", Prefix="pg/")
if sorted(x["Key"] for x in r.get("Versions", [])) != keys or any(x["VersionId"] != "null" for x in r["Versions"]):
    fail(f"ListObjectVersions: {r.get('Versions')}")
ok(f"ListBuckets (alice: public, small, team-a; bob: public, team-b), HeadBucket, GetBucketLocation ({loc}), "
   f"CreateBucket of team-a 200, of an unknown one 403, DeleteBucket of team-a refused ({st} {code}), "
   "versioning unset, ListObjectVersions with VersionId null")

# --- multipart by hand: ListParts, ListMultipartUploads, Abort ---------------------------------------
up = a.create_multipart_upload(Bucket="team-a", Key="mp/obj")["UploadId"]
p1, p2 = os.urandom(5 << 20), os.urandom(1000)
e1 = a.upload_part(Bucket="team-a", Key="mp/obj", UploadId=up, PartNumber=1, Body=p1)["ETag"]
e2 = a.upload_part(Bucket="team-a", Key="mp/obj", UploadId=up, PartNumber=2, Body=p2)["ETag"]
if e1 != md5q(p1) or e2 != md5q(p2):
    fail(f"UploadPart ETags {e1} {e2}")
parts = a.list_parts(Bucket="team-a", Key="mp/obj", UploadId=up)["Parts"]
if [(x["PartNumber"], x["Size"]) for x in parts] != [(1, 5 << 20), (2, 1000)]:
    fail(f"ListParts: {parts}")
ups = a.list_multipart_uploads(Bucket="team-a").get("Uploads", [])
if [x["UploadId"] for x in ups] != [up]:
    fail(f"ListMultipartUploads: {ups}")
expect_err(404, None, "GET of an unfinished multipart object", a.head_object, Bucket="team-a", Key="mp/obj")
r = a.complete_multipart_upload(Bucket="team-a", Key="mp/obj", UploadId=up, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
want = '"%s-2"' % hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest()
if r["ETag"] != want:
    fail(f"CompleteMultipartUpload ETag {r['ETag']}, want {want}")
if a.get_object(Bucket="team-a", Key="mp/obj")["Body"].read() != p1 + p2:
    fail("multipart object: bytes differ")
up2 = a.create_multipart_upload(Bucket="team-a", Key="mp/aborted")["UploadId"]
a.upload_part(Bucket="team-a", Key="mp/aborted", UploadId=up2, PartNumber=1, Body=b"x" * 1000)
a.abort_multipart_upload(Bucket="team-a", Key="mp/aborted", UploadId=up2)
expect_err(404, "NoSuchUpload", "ListParts of an aborted upload", a.list_parts, Bucket="team-a",
           Key="mp/aborted", UploadId=up2)
if a.list_multipart_uploads(Bucket="team-a").get("Uploads"):
    fail("uploads left after Complete and Abort")
absent("team-a", "mp/aborted", "an aborted multipart upload")
ok(f"multipart by hand: UploadPart ETags, ListParts, ListMultipartUploads, Complete ({want}), Abort (NoSuchUpload after)")

# an upload id belongs to its key: UploadPart and ListParts under another key
# are NoSuchUpload (CompleteMultipartUpload already says so), and the part
# does not join the other key's upload
up3 = a.create_multipart_upload(Bucket="team-a", Key="mp/bound")["UploadId"]
expect_err(404, "NoSuchUpload", "UploadPart with another key's upload id", a.upload_part, Bucket="team-a",
           Key="mp/intruder", UploadId=up3, PartNumber=1, Body=b"not for mp/bound")
expect_err(404, "NoSuchUpload", "ListParts with another key's upload id", a.list_parts, Bucket="team-a",
           Key="mp/intruder", UploadId=up3)
if a.list_parts(Bucket="team-a", Key="mp/bound", UploadId=up3).get("Parts"):
    fail("a part sent under another key joined mp/bound's upload")
a.abort_multipart_upload(Bucket="team-a", Key="mp/bound", UploadId=up3)
ok("an upload id under another key: UploadPart and ListParts 404 NoSuchUpload, the upload untouched")

# an open upload's parts hold their place in the quota: other writes that
# fill the namespace (20 MiB, bucket "small") evict other objects or get
# 507, never the parts of an upload still open (it would fail at Complete)
up4 = a.create_multipart_upload(Bucket="small", Key="mp")["UploadId"]
q1 = os.urandom(5 << 20)
f1 = a.upload_part(Bucket="small", Key="mp", UploadId=up4, PartNumber=1, Body=q1)["ETag"]
full = 0
for i in range(20):
    try:
        a.put_object(Bucket="small", Key=f"fill/{i}", Body=os.urandom(1 << 20))
    except ClientError as e:
        if e.response["Error"].get("Code") != "XCstashStorageFull":
            fail(f"filling the quota: {e}")
        full += 1
try:
    f2 = a.upload_part(Bucket="small", Key="mp", UploadId=up4, PartNumber=2, Body=b"tail")["ETag"]
    a.complete_multipart_upload(Bucket="small", Key="mp", UploadId=up4, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": f1}, {"PartNumber": 2, "ETag": f2}]})
except ClientError as e:
    fail(f"an open upload after 20 MiB of other PUTs into its 20 MiB namespace: {e} (its parts were evicted)")
if a.get_object(Bucket="small", Key="mp")["Body"].read() != q1 + b"tail":
    fail("the upload completed after the quota filled: other bytes")
ok(f"an open upload's 5 MiB part survives 20 x 1 MiB PUTs into a 20 MiB namespace ({full} got 507), completes")
