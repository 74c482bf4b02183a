#!/usr/bin/python3
"""Request builder for bench/s3-bench.sh (Debian's botocore).

Writes the exact bytes (request line + headers, "\\r\\n\\r\\n"-terminated) that
bench/lua/raw.lua sends, as a Lua file returning a table of strings, plus a
JSON file with CHECK extra requests (not in the table) for `check`.

  s3-sign.py get   OUT HOSTPORT PATHS [AK SECRET]
        one GET per line of PATHS; with AK/SECRET signed with SigV4Auth,
        x-amz-content-sha256: UNSIGNED-PAYLOAD (sccache/OpenDAL's headers)
  s3-sign.py put   OUT HOSTPORT PREFIX COUNT BODYFILE [AK SECRET]
        COUNT PUTs of new keys PREFIX<2hex>/<38hex>, Content-Length of BODYFILE;
        with AK/SECRET signed with x-amz-content-sha256 = hex sha256(BODYFILE)
  s3-sign.py check OUT.json HOST PORT [BODYFILE | --get-root DIR]
        sends OUT.json's requests on one connection; each must be 2xx (a signed PUT: 200,
        as S3 PutObject answers); with --get-root the GET body must equal
        DIR/<path>. Prints "ok N".
  s3-sign.py populate HOSTPORT AK SECRET BUCKET ROOT PATHS...
        boto3 put_object of every ROOT/<path> (path = /BUCKET/KEY) listed in PATHS.
  s3-sign.py summary RAW.csv
        the table of bench/s3-bench.sh (medians over rounds, ratios of medians,
        per-round min-max of s3/http).
OUT is a prefix: OUT.lua and OUT.json are written.
"""
import hashlib, json, os, socket, sys
from multiprocessing import Pool

CHECK = 3
REGION = "us-east-1"


def lua_str(s):
    # headers are printable ASCII without quotes or backslashes
    assert '"' not in s and "\\" not in s
    return '"' + s.replace("\r", "\\r").replace("\n", "\\n") + '"'


_auth = None


def _init(ak, sk):
    global _auth
    from botocore.auth import SigV4Auth
    from botocore.credentials import Credentials
    _auth = SigV4Auth(Credentials(ak, sk), "s3", REGION)


def build(job):
    method, hostport, path, headers = job
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: " + hostport]
    if _auth is not None:
        from botocore.awsrequest import AWSRequest
        req = AWSRequest(method=method, url="http://%s%s" % (hostport, path), headers=headers)
        _auth.add_auth(req)
        hdrs = list(req.headers.items())
        signed = req.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        sent = sorted(["host"] + [k.lower() for k, _ in hdrs if k != "Authorization"])
        assert sent == sorted(signed), (sent, signed)
    else:
        hdrs = list(headers.items())
    lines += ["%s: %s" % (k, v) for k, v in hdrs]
    return "\r\n".join(lines) + "\r\n\r\n"


def write_out(out, jobs, creds):
    if creds:
        with Pool(os.cpu_count() or 2, _init, creds) as p:
            reqs = p.map(build, jobs, chunksize=2000)
    else:
        reqs = [build(j) for j in jobs]
    table, check = reqs[:len(reqs) - CHECK], reqs[len(reqs) - CHECK:]
    with open(out + ".lua", "w") as f:
        f.write("return {\n")
        for r in table:
            f.write(lua_str(r) + ",\n")
        f.write("}\n")
    with open(out + ".json", "w") as f:
        json.dump(check, f)
    print("wrote %d requests (+%d for check) to %s.lua" % (len(table), len(check), out))


def cmd_get(a):
    out, hostport, paths = a[:3]
    creds = tuple(a[3:5]) if len(a) >= 5 else None
    ps = [l.strip() for l in open(paths) if l.strip()]
    ps += ps[:CHECK]  # check requests: the same GETs again
    hdr = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"} if creds else {}
    write_out(out, [("GET", hostport, p, dict(hdr)) for p in ps], creds)


def cmd_put(a):
    out, hostport, prefix, count, bodyfile = a[:5]
    creds = tuple(a[5:7]) if len(a) >= 7 else None
    body = open(bodyfile, "rb").read()
    hdr = {"Content-Length": str(len(body))}
    if creds:
        hdr = {"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest(), **hdr}
    rnd = os.urandom(8).hex()
    jobs = []
    for i in range(int(count) + CHECK):
        k = rnd[:2] + "/" + rnd[2:] + "%030x" % i  # 2 + 38 hex, unique per call
        jobs.append(("PUT", hostport, prefix + k, dict(hdr)))
    write_out(out, jobs, creds)


def read_response(f):
    status = f.readline()
    if not status:
        raise SystemExit("connection closed")
    code = int(status.split()[1])
    clen = 0
    while True:
        l = f.readline()
        if l in (b"\r\n", b"\n", b""):
            break
        k, _, v = l.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            clen = int(v.strip())
    return code, f.read(clen)


def cmd_check(a):
    js, host, port = a[0], a[1], int(a[2])
    reqs = json.load(open(js))
    body, root = b"", None
    if len(a) >= 5 and a[3] == "--get-root":
        root = a[4]
    elif len(a) >= 4:
        body = open(a[3], "rb").read()
    s = socket.create_connection((host, port), timeout=10)
    f = s.makefile("rb")
    for r in reqs:
        line = r.split("\r\n", 1)[0]
        method, path = line.split()[:2]
        s.sendall(r.encode() + (body if method == "PUT" else b""))
        code, got = read_response(f)
        s3 = "\r\nAuthorization: AWS4-HMAC-SHA256 " in r
        if method == "PUT" and s3 and code != 200 or not 200 <= code < 300:
            raise SystemExit("check %s: status %d: %r" % (line, code, got[:300]))
        if root is not None and got != open(root + path, "rb").read():
            raise SystemExit("check %s: body differs (%d bytes)" % (line, len(got)))
    print("ok %d" % len(reqs))


def cmd_populate(a):
    import boto3
    from botocore.config import Config
    hostport, ak, sk, bucket, root = a[:5]
    s3 = boto3.client("s3", endpoint_url="http://" + hostport, aws_access_key_id=ak,
                      aws_secret_access_key=sk, region_name=REGION,
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    n = 0
    for pf in a[5:]:
        for p in open(pf):
            p = p.strip()
            if not p:
                continue
            key = p[len("/" + bucket + "/"):]
            r = s3.put_object(Bucket=bucket, Key=key, Body=open(root + p, "rb").read())
            assert r["ResponseMetadata"]["HTTPStatusCode"] == 200, r
            n += 1
    print("put %d objects" % n)


def cmd_summary(a):
    import csv, statistics
    rows = list(csv.DictReader(open(a[0])))
    keys = []
    for r in rows:
        k = (r["scenario"], r["conns"])
        if k not in keys:
            keys.append(k)
    med = statistics.median
    out = []
    hdr = ("%-8s %5s %9s %9s %9s %7s %13s %8s %8s %8s %8s %8s %14s %6s"
           % ("scenario", "conns", "s3 req/s", "http", "nginx", "s3/http", "per-round",
              "s3/ngx", "http/ngx", "p99 s3", "p99 http", "p99 ngx", "err s3/http/ngx", "reused"))
    out.append(hdr)
    verdict = []
    for sc, c in keys:
        sel = {lb: [r for r in rows if (r["scenario"], r["conns"]) == (sc, c) and r["label"] == lb]
               for lb in ("s3", "http", "nginx")}
        rps = {lb: med([float(r["rps"]) for r in v]) if v else 0 for lb, v in sel.items()}
        p99 = {lb: med([int(r["p99_us"]) / 1000 for r in v]) if v else 0 for lb, v in sel.items()}
        err = {lb: sum(int(r["status_err"]) + int(r["sock_err"]) for r in v) for lb, v in sel.items()}
        reused = sum(int(r["reused"]) for v in sel.values() for r in v)
        byr = {r["round"]: r for r in sel["http"]}
        pr = [float(r["rps"]) / float(byr[r["round"]]["rps"]) for r in sel["s3"] if r["round"] in byr]
        q = lambda x, y: rps[x] / rps[y] if rps[y] else 0
        out.append("%-8s %5s %9.0f %9.0f %9.0f %7.3f %6.3f-%-6.3f %8.3f %8.3f %6.2fms %6.2fms %6.2fms %14s %6d"
                   % (sc, c, rps["s3"], rps["http"], rps["nginx"], q("s3", "http"),
                      min(pr) if pr else 0, max(pr) if pr else 0, q("s3", "nginx"), q("http", "nginx"),
                      p99["s3"], p99["http"], p99["nginx"],
                      "%d/%d/%d" % (err["s3"], err["http"], err["nginx"]), reused))
        if sc.startswith("get_"):
            verdict.append("%s c=%s: s3/http %.3f %s 0.9" % (sc, c, q("s3", "http"),
                                                             ">=" if q("s3", "http") >= 0.9 else "BELOW"))
    nr = max(int(r["round"]) for r in rows)
    out.append("")
    out.append("req/s = medians over %d rounds (wrk, order s3 http nginx per round); ratios are of medians;"
               % nr)
    out.append("per-round = min-max of the s3/http ratio of the same round; p99 = median of per-run p99;")
    out.append("err = responses > 399 + socket errors (all runs); reused = PUTs that re-sent an already used key")
    out.append("target (issue 17): S3 GET >= 0.9x plain HTTP GET: " + "; ".join(verdict))
    print("\n".join(out))


if __name__ == "__main__":
    {"get": cmd_get, "put": cmd_put, "check": cmd_check, "populate": cmd_populate,
     "summary": cmd_summary}[sys.argv[1]](sys.argv[2:])
