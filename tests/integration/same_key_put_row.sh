# Issue 15.6: concurrent PUTs of one key could leave an index row (size,
# ETag) describing the file that lost the race: rows were queued in the
# order the PUTs finished, not the order their renames made them visible.
# Many rounds of 8 PUTs of one key with different bodies; afterwards the
# listing (the index) must describe the body a GET serves (the file), for
# every key. DELETE and COPY race the PUTs too.
source "$CS_SRCDIR/tests/lib.sh"

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = ( { name = "n"; read = [ "*" ]; write = [ "*" ]; } );
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf" --threads 4
port=${URL##*:}

python3 - "$port" "${SAME_KEY_ROUNDS:-800}" >"$TEST_TMP/race.out" <<'PY' || fail "$(cat "$TEST_TMP/race.out")"
import hashlib, http.client, re, sys, threading
port, rounds = int(sys.argv[1]), int(sys.argv[2])

def request(method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data, r

def put_all(key, round_):
    threads = []
    for w in range(8):
        # different sizes, so a wrong row shows in getcontentlength too
        body = (b"%d-%d-" % (round_, w)) * (50 + 97 * w)
        t = threading.Thread(target=request, args=("PUT", "/n/r/" + key, body,
                                                    {"Content-Type": "application/octet-stream"}))
        threads.append(t)
    if round_ % 3 == 0:   # a COPY onto the key races the PUTs too
        threads.append(threading.Thread(target=request, args=(
            "COPY", "/n/seed", None, {"Destination": "http://127.0.0.1:%d/n/r/%s" % (port, key)})))
    for t in threads: t.start()
    for t in threads: t.join()

request("PUT", "/n/seed", b"seed body" * 33)
for i in range(rounds):
    put_all("k%d" % i, i)

status, listing, _ = request("PROPFIND", "/n/r/", headers={"Depth": "1"})
assert status == 207, status
rows = {}
for resp in re.findall(rb"<D:response>(.*?)</D:response>", listing, re.S):
    href = re.search(rb"<D:href>([^<]*)</D:href>", resp).group(1).decode()
    etag = re.search(rb"<D:getetag>([^<]*)</D:getetag>", resp)
    size = re.search(rb"<D:getcontentlength>([^<]*)</D:getcontentlength>", resp)
    if etag:
        rows[href.rsplit("/", 1)[1]] = (etag.group(1).decode().strip('"'), int(size.group(1)))
bad = 0
for i in range(rounds):
    key = "k%d" % i
    status, body, r = request("GET", "/n/r/" + key)
    assert status == 200, (key, status)
    want = (hashlib.sha256(body).hexdigest(), len(body))
    if rows.get(key) != want:
        bad += 1
        print("row of %s says %s, the file served is %s" % (key, rows.get(key), want))
print("%d keys, %d rows describing another body than the one served" % (rounds, bad))
sys.exit(1 if bad else 0)
PY
ok "$(tail -n 1 "$TEST_TMP/race.out")"
