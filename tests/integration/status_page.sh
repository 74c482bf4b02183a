# Issue 20.1: the status page at /_/, in a real browser (headless
# Chromium). After a scripted workload in two namespaces by two users,
# each admin's page shows their namespace with its exact hits, misses and
# PUTs, its remote tier's state and charts of its history, and never the
# other's; anonymous clients and users who administer nothing see none.
# The screenshot is kept: tests/artifacts/status-page.png in the build dir.
source "$CS_SRCDIR/tests/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || fail "chromium is not installed (scripts/deps.sh test installs it)"
ARTIFACTS=${CS_BUILDDIR:-$CS_SRCDIR}/tests/artifacts
mkdir -p "$ARTIFACTS"

dead=$(free_port) # a remote tier nobody answers: its breaker opens
cat >"$TEST_TMP/cstashd.conf" <<CONF
stats_interval = 1;
users = (
  { name = "alice"; token_sha256 = "$(printf alice-token | "$CSTASHD" hash-token)"; },
  { name = "bob"; token_sha256 = "$(printf bob-token | "$CSTASHD" hash-token)"; },
  { name = "carol"; token_sha256 = "$(printf carol-token | "$CSTASHD" hash-token)"; }
);
namespaces = (
  { name = "team-a"; max_size = "1M"; read = [ "alice", "bob", "carol" ]; write = [ "alice", "bob" ];
    admin = [ "alice" ];
    tiers = ( { type = "disk"; },
              { type = "http"; url = "http://127.0.0.1:$dead/cache/"; backoff = "1h";
                connect_timeout = 1; timeout = 1; } ); },
  { name = "team-b"; read = [ "bob" ]; write = [ "bob" ]; admin = [ "bob" ]; }
);
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
A=(-H 'Authorization: Bearer alice-token')
B=(-H 'Authorization: Bearer bob-token')

# The workload, in phases a second apart so the history has several samples.
# team-a: 4 PUTs (alice 3, bob 1), 6 hits, 3 misses; team-b: 2 PUTs, 1 hit, 2 misses.
for i in 1 2 3; do
    head -c $((i * 20000)) /dev/urandom >"$TEST_TMP/obj$i"
    expect_status 201 PUT "/team-a/ab/obj$i" "${A[@]}" -H 'Content-Type:' --data-binary @"$TEST_TMP/obj$i"
done
expect_status 201 PUT /team-b/one "${B[@]}" -H 'Content-Type:' --data-binary @"$TEST_TMP/obj1"
sleep 1.1
for i in 1 2 3 1; do expect_status 200 GET "/team-a/ab/obj$i" "${A[@]}"; done
expect_status 404 GET /team-a/ab/nothing1 "${A[@]}"
expect_status 200 GET /team-b/one "${B[@]}"
sleep 1.1
expect_status 201 PUT /team-a/ab/obj4 "${B[@]}" -H 'Content-Type:' --data-binary @"$TEST_TMP/obj2"
expect_status 201 PUT /team-b/two "${B[@]}" -H 'Content-Type:' --data-binary @"$TEST_TMP/obj2"
expect_status 404 GET /team-a/ab/nothing2 "${A[@]}"
expect_status 404 GET /team-a/ab/nothing3 "${B[@]}"
expect_status 404 GET /team-b/none1 "${B[@]}"
expect_status 404 GET /team-b/none2 "${B[@]}"
sleep 1.1
expect_status 200 GET /team-a/ab/obj4 "${A[@]}"
expect_status 200 HEAD /team-a/ab/obj2 "${B[@]}" -I
sleep 2.2 # the last phase in a sample of its own
ok "workload: team-a 4 PUTs, 6 hits, 3 misses; team-b 2 PUTs, 1 hit, 2 misses"

# /_/stats.json: the same figures and the history, the caller's namespaces
# only. The main loop samples about once a second: on a loaded machine the
# sample after the last request may come late, so this is asked again
# (bounded) until the history holds every request.
check_alice_json() {
python3 - "$TEST_TMP/alice.json" <<'PY'

import json, sys
d = json.load(open(sys.argv[1]))
assert list(d["namespaces"]) == ["team-a"], d["namespaces"].keys()
a = d["namespaces"]["team-a"]
assert (a["hits"], a["misses"], a["puts"], a["objects"]) == (6, 3, 4, 4), a
assert d["interval"] == 1 and d["samples_max"] == 1440
h = a["history"]
n = len(h["t"])
assert n >= 5, h
assert all(len(v) == n for v in h.values()), h
# every request of the workload is in some sample (each interval's share)
assert (sum(h["hits"]), sum(h["misses"]), sum(h["puts"])) == (6, 3, 4), h
assert sum(h["requests"]) == 6 + 3 + 4, h
assert h["objects"][-1] == 4 and h["t"] == sorted(h["t"]), h
assert [t["namespace"] for t in d["tiers"]] == ["team-a"] and d["tiers"][0]["state"] == "out", d["tiers"]
PY
}
for i in $(seq 1 20); do
    expect_status 200 GET /_/stats.json "${A[@]}"
    cp "$TEST_TMP/body" "$TEST_TMP/alice.json"
    check_alice_json 2>"$TEST_TMP/alice.err" && break
    [ "$i" = 20 ] && fail "stats.json of alice: $(tail -1 "$TEST_TMP/alice.err") $(head -c 600 "$TEST_TMP/alice.json")"
    sleep 0.5
done
[ "$(header Cache-Control)" = no-store ] || fail "stats.json Cache-Control: $(header Cache-Control)"
expect_status 200 GET /_/stats.json "${B[@]}"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert list(d["namespaces"]) == ["team-b"] and d["tiers"] == [], d' \
    "$TEST_TMP/body" || fail "stats.json of bob: $(head -c 600 "$TEST_TMP/body")"
expect_status 403 GET /_/stats.json -H 'Authorization: Bearer carol-token'
expect_status 401 GET /_/stats.json
expect_status 401 GET /_/
[ "$(header WWW-Authenticate | cut -c1-5)" = Basic ] || fail "/_/ without credentials: no Basic challenge"
expect_status 403 GET /_/ -H 'Authorization: Bearer carol-token'
ok "stats.json: exact figures and a history that adds up to them; each admin sees only theirs"

expect_status 200 GET /_/ "${A[@]}"
grep -q "^Content-Security-Policy: default-src 'none'; script-src 'self'" <(tr -d '\r' <"$TEST_TMP/headers") ||
    fail "/_/ without its Content-Security-Policy"
expect_status 200 GET /_/status.js
[ "$(header Content-Type)" = "text/javascript; charset=utf-8" ] || fail "status.js type"
grep -q "stats.json" "$TEST_TMP/body" || fail "status.js does not read stats.json"
expect_status 200 GET /_/status.css
grep -Eq 'https?://' "$TEST_TMP/body" && fail "status.css loads something from elsewhere"
expect_status 405 POST /_/
ok "the page, its script and style sheet (nothing from elsewhere: it works offline)"

# chrome USER TOKEN OUT [chromium args...]: the page as USER (Basic, in the
# URL: Chromium keeps the credentials for the page's fetch), virtual time
# for the fetch and the drawing.
chrome() {
    local user=$1 token=$2 out=$3 url
    shift 3
    url=${URL/http:\/\//http://$user:$token@}
    [ -n "$user" ] || url=$URL
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
        --disable-extensions --disable-background-networking --user-data-dir="$TEST_TMP/chrome-$user" \
        --virtual-time-budget=5000 --window-size=1280,1500 "$@" "$url/_/" \
        >"$out" 2>"$TEST_TMP/chrome-$user.err" || { tail -5 "$TEST_TMP/chrome-$user.err"; fail "chromium $*"; }
}

# figures DOM NS: "key=value" lines of namespace NS in a dumped page
figures() {
    python3 - "$1" "$2" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ns, self.depth, self.kind, self.tier = None, 0, None, None
        self.out, self.sections, self.charts, self.error = [], [], {}, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "data-ns" in a:
            self.ns, self.depth = a["data-ns"], 0
            self.sections.append(a["data-ns"])
        if self.ns is None:
            return
        if tag == "section":
            self.depth += 1
        if tag == "tr":
            self.kind, self.tier = a.get("data-kind"), a.get("data-tier")
        if "data-k" in a and self.ns == sys.argv[2]:
            prefix = "kind.%s." % self.kind if self.kind else "tier.%s." % self.tier if self.tier else ""
            self.out.append("%s%s=%s" % (prefix, a["data-k"], a["data-v"]))
        if tag == "canvas" and self.ns == sys.argv[2]:
            self.out.append("chart.%s=%s" % (a["data-chart"], a["data-points"]))
    def handle_endtag(self, tag):
        if tag == "tr":
            self.kind = self.tier = None
        if tag == "section" and self.ns is not None:
            self.depth -= 1
            if self.depth == 0:
                self.ns = None
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
print("sections=" + ",".join(p.sections))
print("\n".join(p.out))
PY
}
want() { # want FILE KEY=VALUE...
    local f=$1 kv
    shift
    for kv in "$@"; do grep -qxF "$kv" "$f" || fail "page: want $kv, got: $(tr '\n' ' ' <"$f")"; done
}

chrome alice alice-token "$TEST_TMP/alice.html" --dump-dom
grep -q 'data-loaded=' "$TEST_TMP/alice.html" ||
    fail "the page did not load its figures: $(grep -o '<p id="error"[^<]*<' "$TEST_TMP/alice.html")"
figures "$TEST_TMP/alice.html" team-a >"$TEST_TMP/alice.fig"
want "$TEST_TMP/alice.fig" sections=team-a hits=6 misses=3 puts=4 objects=4 requests=13 \
    evictions=0 hit_ratio=0.6666666666666666 kind.other.hits=6 kind.other.misses=3 kind.ac.hits=0 \
    tier.1.state=out tier.1.write_errors=3 tier.1.breaker_opened=1
for c in "hit ratio" "requests/s" "bytes/s"; do
    n=$(sed -n "s|^chart\.$c=||p" "$TEST_TMP/alice.fig")
    [ "${n:-0}" -ge 5 ] || fail "chart '$c' has ${n:-no} points"
done
grep -q 'team-b' "$TEST_TMP/alice.html" && fail "alice's page names team-b"
ok "alice's page (Chromium): team-a's exact hits, misses, PUTs, kinds, tier breaker, 3 charts; no team-b"

chrome bob bob-token "$TEST_TMP/bob.html" --dump-dom
figures "$TEST_TMP/bob.html" team-b >"$TEST_TMP/bob.fig"
want "$TEST_TMP/bob.fig" sections=team-b hits=1 misses=2 puts=2 objects=2
grep -q 'team-a' "$TEST_TMP/bob.html" && fail "bob's page names team-a (he writes there, but does not administer it)"
ok "bob's page (Chromium): only team-b, with its exact figures"

# anonymous: the 401's Basic challenge (checked above) goes unanswered in a
# headless browser, which shows nothing at all
chrome "" "" "$TEST_TMP/anon.html" --dump-dom
grep -Eq 'data-ns=|team-' "$TEST_TMP/anon.html" && fail "an anonymous page shows a namespace"
ok "an anonymous browser sees no namespace"

rm -f "$ARTIFACTS/status-page.png"
chrome alice alice-token "$TEST_TMP/shot.out" --screenshot="$ARTIFACTS/status-page.png"
# the picture holds the charts' and the quota bar's colours (decoded here:
# no image library needed)
python3 - "$ARTIFACTS/status-page.png" <<'PY' || fail "screenshot $ARTIFACTS/status-page.png"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw, stride = zlib.decompress(idat), w * bpp
prev, rows, i = bytearray(stride), [], 0
for _ in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
def count(rgb):
    return sum(1 for r in rows for x in range(0, stride, bpp) if tuple(r[x:x + 3]) == rgb)
green, blue, violet = count((0x23, 0x88, 0x3f)), count((0x2f, 0x6f, 0xdb)), count((0x8a, 0x4f, 0xd0))
print("%dx%d: %d green (hit ratio), %d blue (requests, bytes out, quota), %d violet (bytes in)" % (w, h, green, blue, violet))
assert w >= 1000 and h >= 800, (w, h)
assert green > 200 and blue > 1000 and violet > 200, (green, blue, violet)
PY
ok "screenshot with the charts drawn: $ARTIFACTS/status-page.png"
stop_server
