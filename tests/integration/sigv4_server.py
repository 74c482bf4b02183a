#!/usr/bin/env python3
"""A minimal S3 endpoint that checks every request's AWS Signature V4, for
the s3 tier's tests. s3rver does not check V4 signatures; this does, with
an implementation written from the AWS documentation in Python (hashlib,
hmac), independent of cstashd's C signer. It keeps objects in memory and
answers GET, HEAD, PUT (also CopyObject onto itself) and DELETE. A request
whose signature, payload hash or date is wrong gets 403 and is counted.

usage: sigv4_server.py PORT ACCESS_KEY SECRET_KEY REGION [CERT KEY]
(with CERT and KEY it speaks HTTPS). SIGV4_GET_DELAY=seconds slows every
object GET down (to make concurrent misses overlap).
GET /_counts gives the counts as "name value" lines (unsigned).
"""
import datetime
import hashlib
import hmac
import http.server
import os
import ssl
import sys
import threading
import time
import urllib.parse

PORT, ACCESS, SECRET, REGION = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
objects = {}   # (host bucket or "", path) -> (body, headers)
counts = {"ok": 0, "bad_signature": 0, "bad_payload": 0, "copies": 0, "puts": 0,
          "connections": 0, "gets": 0, "session_tokens": 0}
count_lock = threading.Lock()
GET_DELAY = float(os.environ.get("SIGV4_GET_DELAY", "0"))


def hm(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def canonical_uri(path):
    # S3 does not normalise or double-encode: each segment as sent, re-encoded
    return "/".join(urllib.parse.quote(urllib.parse.unquote(s), safe="-_.~")
                    for s in path.split("/"))


def verify(method, path, query, headers, payload_hash):
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    cred = parts["Credential"].split("/")
    if cred[0] != ACCESS or cred[2] != REGION or cred[3] != "s3" or cred[4] != "aws4_request":
        return "bad credential scope %s" % parts["Credential"]
    amz_date = headers.get("x-amz-date", "")
    t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    if abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) > 900:
        return "x-amz-date too far from now"
    if cred[1] != amz_date[:8]:
        return "credential date differs from x-amz-date"
    signed = parts["SignedHeaders"].split(";")
    if "host" not in signed or "x-amz-date" not in signed or "x-amz-content-sha256" not in signed:
        return "host, x-amz-date or x-amz-content-sha256 not signed"
    if "x-amz-security-token" in headers:
        if "x-amz-security-token" not in signed:
            return "x-amz-security-token sent but not signed"
        counts["session_tokens"] += 1
    canon_headers = "".join("%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed)
    q = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canon_query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                                      urllib.parse.quote(v, safe="-_.~")) for k, v in q)
    creq = "\n".join([method, canonical_uri(path), canon_query, canon_headers,
                      parts["SignedHeaders"], headers.get("x-amz-content-sha256", "")])
    scope = "/".join(cred[1:])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    key = hm(hm(hm(hm(("AWS4" + SECRET).encode(), cred[1]), REGION), "s3"), "aws4_request")
    want = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, parts["Signature"]):
        return "signature mismatch"
    if payload_hash is not None and headers.get("x-amz-content-sha256") not in (payload_hash, "UNSIGNED-PAYLOAD"):
        return "payload"
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        if self.client_address[0] == "127.0.0.1":
            counts["connections"] += 1

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_one(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_counts":
            body = "".join("%s %d\n" % kv for kv in sorted(counts.items())).encode()
            return self.reply(200, body)
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = b""
        if "content-length" in headers:
            body = self.rfile.read(int(headers["content-length"]))
        payload = hashlib.sha256(body).hexdigest()
        why = verify(self.command, url.path, url.query, headers, payload)
        if why == "payload":
            counts["bad_payload"] += 1
            return self.reply(400, b"XAmzContentSHA256Mismatch")
        if why:
            counts["bad_signature"] += 1
            sys.stderr.write("sigv4_server: %s %s: %s\n" % (self.command, self.path, why))
            return self.reply(403, b"SignatureDoesNotMatch")
        counts["ok"] += 1
        # path style (host is the endpoint) and vhost style (bucket in the
        # host) name the same object
        path = urllib.parse.unquote(url.path)
        host = headers.get("host", "").split(":")[0]
        name = ("", "/cache" + path if host.startswith("cache.") else path)
        if self.command == "PUT" and "x-amz-copy-source" in headers:
            src = ("", urllib.parse.unquote(headers["x-amz-copy-source"]))
            if src not in objects:
                return self.reply(404)
            meta = {k: v for k, v in headers.items() if k.startswith("x-amz-meta-") or k == "content-type"}
            objects[name] = (objects[src][0], meta)
            counts["copies"] += 1
            return self.reply(200, b"<CopyObjectResult></CopyObjectResult>")
        if self.command == "PUT":
            meta = {k: v for k, v in headers.items() if k.startswith("x-amz-meta-") or k == "content-type"}
            objects[name] = (body, meta)
            counts["puts"] += 1
            return self.reply(200)
        if self.command in ("GET", "HEAD"):
            if name not in objects:
                return self.reply(404)
            data, meta = objects[name]
            if self.command == "GET":
                with count_lock:
                    counts["gets"] += 1
                time.sleep(GET_DELAY)
            if self.command == "HEAD":
                self.send_response(200)
                for k, v in meta.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                return
            return self.reply(200, data, meta.items())
        if self.command == "DELETE":
            objects.pop(name, None)
            return self.reply(204)
        return self.reply(405)

    do_GET = do_HEAD = do_PUT = do_DELETE = handle_one


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
if len(sys.argv) > 6:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
