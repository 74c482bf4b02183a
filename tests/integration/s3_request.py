#!/usr/bin/python3
"""One raw S3 request, signed here (Signature V4 from the AWS documentation,
written apart from cstashd's verifier and from botocore), for the tests that
need what SDKs will not send: wrong secrets, skewed clocks, tampered bodies,
SigV2, aws-chunked bodies built by hand, presigned URLs used late.

Usage: s3_request.py [options] METHOD URL
Prints the status code; --out/--headers-out keep the body and the headers.
Also a module: s3_boto3.py imports sign(), aws_chunked() and friends.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import sys
import urllib.parse
import zlib

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def uri_encode(s, safe_slash, encoding="utf-8"):
    """RFC 3986 unreserved characters stay, every other byte is %XX."""
    return urllib.parse.quote(s, safe="-_.~" + ("/" if safe_slash else ""), encoding=encoding)


def canonical_query(query):
    # latin-1 both ways: every byte round-trips, also those that are not UTF-8
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, encoding="latin-1")
    enc = sorted((uri_encode(k, False, "latin-1"), uri_encode(v, False, "latin-1"))
                 for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in enc)


def signing_key(secret, day, region, service="s3"):
    k = hmac.new(("AWS4" + secret).encode(), day.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def hmac_hex(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def amz_now(offset_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y%m%dT%H%M%SZ")


def canonical_request(method, path, query, headers, signed, payload_hash):
    """path: already as sent (percent-encoded); it is canonicalised by
    decoding and re-encoding each segment, as S3 does (no double encoding)."""
    cpath = uri_encode(urllib.parse.unquote(path, encoding="latin-1"), True, "latin-1") or "/"
    lower = {k.lower(): " ".join(str(v).strip().split()) for k, v in headers.items()}
    ch = "".join(f"{h}:{lower[h]}\n" for h in signed)
    return "\n".join([method, cpath, canonical_query(query), ch, ";".join(signed), payload_hash])


def sign(method, url, headers, ak, sk, region, payload_hash, amzdate=None, host=None):
    """Adds x-amz-date, x-amz-content-sha256, Host and Authorization to headers;
    returns (headers, seed signature, scope, amzdate, key)."""
    u = urllib.parse.urlsplit(url)
    amzdate = amzdate or amz_now()
    day = amzdate[:8]
    headers = dict(headers)
    headers["Host"] = host or u.netloc
    headers["x-amz-date"] = amzdate
    headers["x-amz-content-sha256"] = payload_hash
    signed = sorted(k.lower() for k in headers)
    creq = canonical_request(method, u.path or "/", u.query, headers, signed, payload_hash)
    scope = f"{day}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = signing_key(sk, day, region)
    sig = hmac_hex(key, sts)
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    return headers, sig, scope, amzdate, key


def presign(method, url, ak, sk, region, expires, amzdate=None, host=None):
    """A presigned URL (query-string auth, UNSIGNED-PAYLOAD, host signed)."""
    u = urllib.parse.urlsplit(url)
    amzdate = amzdate or amz_now()
    day = amzdate[:8]
    scope = f"{day}/{region}/s3/aws4_request"
    q = urllib.parse.parse_qsl(u.query, keep_blank_values=True) + [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", f"{ak}/{scope}"),
        ("X-Amz-Date", amzdate),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    query = "&".join(f"{uri_encode(k, False)}={uri_encode(v, False)}" for k, v in q)
    creq = canonical_request(method, u.path or "/", query, {"host": host or u.netloc}, ["host"],
                             "UNSIGNED-PAYLOAD")
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac_hex(signing_key(sk, day, region), sts)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, query + "&X-Amz-Signature=" + sig, ""))


def aws_chunked(data, chunk, seed, scope, amzdate, key):
    """The STREAMING-AWS4-HMAC-SHA256-PAYLOAD body: every chunk signed over
    the previous signature, the last one empty."""
    out, prev = [], seed
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for p in pieces:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amzdate, scope, prev, EMPTY_SHA256,
                         hashlib.sha256(p).hexdigest()])
        prev = hmac_hex(key, sts)
        out.append(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(p), prev.encode(), p))
    return b"".join(out)


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


_CRC64NVME_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x9A6C9329AC4BC9B5 if _c & 1 else _c >> 1
    _CRC64NVME_TABLE.append(_c)


def crc64nvme(data):
    """CRC-64/NVME (reflected 0xad93d23594c93659, init and xorout all ones):
    crc64nvme(b"123456789") == 0xae8b14860a799888."""
    c = 0xFFFFFFFFFFFFFFFF
    t = _CRC64NVME_TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFFFFFFFFFF


def crc64nvme_b64(data):
    return base64.b64encode(crc64nvme(data).to_bytes(8, "big")).decode()


def unsigned_trailer_body(data, chunk, checksum_b64, trailer="x-amz-checksum-crc32"):
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER: plain chunks, then the checksum
    trailer after the empty one."""
    out = [b"%x\r\n%s\r\n" % (len(data[i:i + chunk]), data[i:i + chunk])
           for i in range(0, len(data), chunk)]
    out.append(b"0\r\n%s:%s\r\n\r\n" % (trailer.encode(), checksum_b64.encode()))
    return b"".join(out)


def send(method, url, headers, body, host=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    target = u.path or "/"
    if u.query:
        target += "?" + u.query
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    hdrs = dict(headers)
    hdrs.setdefault("Host", host or u.netloc)
    if body is not None and not any(k.lower() == "content-length" for k in hdrs):
        hdrs["Content-Length"] = str(len(body))
    for k, v in hdrs.items():
        conn.putheader(k, v)
    conn.endheaders()
    try:
        if body:
            conn.send(body)
        r = conn.getresponse()
        data = r.read()
    except (BrokenPipeError, ConnectionResetError):
        # the server answered before reading it all: the answer may be there
        r = conn.getresponse()
        data = r.read()
    return r.status, r.getheaders(), data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("method")
    ap.add_argument("url")
    ap.add_argument("--ak")
    ap.add_argument("--sk")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--host", help="Host header (virtual-hosted style through 127.0.0.1)")
    ap.add_argument("--header", "-H", action="append", default=[], help="'Name: value', signed")
    ap.add_argument("--body", help="file with the body")
    ap.add_argument("--data", help="the body as text")
    ap.add_argument("--unsigned-payload", action="store_true")
    ap.add_argument("--payload-hash", help="x-amz-content-sha256 to sign and send as given")
    ap.add_argument("--tamper", action="store_true",
                    help="sign the body's hash, then send it with its first byte changed")
    ap.add_argument("--date-offset", type=int, default=0, help="seconds added to the signing time")
    ap.add_argument("--sigv2", action="store_true", help="an 'AWS key:sig' header (SigV2)")
    ap.add_argument("--presign", type=int, metavar="EXPIRES",
                    help="send as a presigned URL valid EXPIRES seconds")
    ap.add_argument("--chunked-signed", type=int, metavar="CHUNK",
                    help="aws-chunked, STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    ap.add_argument("--chunked-trailer", type=int, metavar="CHUNK",
                    help="aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER with a crc32 trailer")
    ap.add_argument("--bad-trailer", action="store_true", help="a wrong crc32 in the trailer")
    ap.add_argument("--bad-chunk-signature", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--headers-out")
    a = ap.parse_args()

    body = None
    if a.body:
        with open(a.body, "rb") as f:
            body = f.read()
    elif a.data is not None:
        body = a.data.encode()
    headers = {}
    for h in a.header:
        k, _, v = h.partition(":")
        headers[k.strip()] = v.strip()
    url, host = a.url, a.host
    amzdate = amz_now(a.date_offset)
    raw = body or b""

    if a.presign is not None:
        url = presign(a.method, url, a.ak, a.sk, a.region, a.presign, amzdate, host)
    elif a.sigv2:
        sig = base64.b64encode(hmac.new(a.sk.encode(), f"{a.method}\n\n\n{amzdate}\n{urllib.parse.urlsplit(url).path}".encode(), hashlib.sha1).digest()).decode()
        headers["Date"] = amzdate
        headers["Authorization"] = f"AWS {a.ak}:{sig}"
    elif a.chunked_signed:
        headers["Content-Encoding"] = "aws-chunked"
        headers["x-amz-decoded-content-length"] = str(len(raw))
        # Content-Length of the encoded body is signed: compute it first
        enc_len = len(aws_chunked(raw, a.chunked_signed, "0" * 64, "s", amzdate, b"k"))
        headers["Content-Length"] = str(enc_len)
        headers, seed, scope, amzdate, key = sign(a.method, url, headers, a.ak, a.sk, a.region,
                                                  STREAMING_SIGNED, amzdate, host)
        body = aws_chunked(raw, a.chunked_signed, seed, scope, amzdate, key)
        if a.bad_chunk_signature:  # the first chunk's signature, one hex digit changed
            i = body.index(b"chunk-signature=") + len(b"chunk-signature=")
            body = body[:i] + (b"0" if body[i:i + 1] != b"0" else b"1") + body[i + 1:]
        assert len(body) == enc_len
    elif a.chunked_trailer:
        crc = crc32_b64(raw)
        if a.bad_trailer:
            crc = crc32_b64(raw + b"x")
        body = unsigned_trailer_body(raw, a.chunked_trailer, crc)
        headers["Content-Encoding"] = "aws-chunked"
        headers["x-amz-decoded-content-length"] = str(len(raw))
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
        headers["x-amz-sdk-checksum-algorithm"] = "CRC32"
        headers["Content-Length"] = str(len(body))
        if a.ak:
            headers = sign(a.method, url, headers, a.ak, a.sk, a.region,
                           STREAMING_UNSIGNED_TRAILER, amzdate, host)[0]
    elif a.ak:
        if a.payload_hash:
            ph = a.payload_hash
        elif a.unsigned_payload:
            ph = "UNSIGNED-PAYLOAD"
        else:
            ph = hashlib.sha256(raw).hexdigest()
        if body is not None:
            headers["Content-Length"] = str(len(body))
        headers = sign(a.method, url, headers, a.ak, a.sk, a.region, ph, amzdate, host)[0]
        if a.tamper:
            body = bytes([body[0] ^ 0x55]) + body[1:]

    status, rh, data = send(a.method, url, headers, body, host)
    if a.out:
        with open(a.out, "wb") as f:
            f.write(data)
    if a.headers_out:
        with open(a.headers_out, "w") as f:
            f.write(f"HTTP/1.1 {status}\r\n")
            for k, v in rh:
                f.write(f"{k}: {v}\r\n")
    print(status)


if __name__ == "__main__":
    sys.exit(main())
