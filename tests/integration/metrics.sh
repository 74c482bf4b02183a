# Issue 20.3: /_/metrics has request-duration histograms per namespace and
# method, hits and misses by protocol kind (Bazel's AC apart from its CAS,
# bazel-remote#478), and refused requests by status. A scripted workload,
# then every counter is checked exactly.
source "$CS_SRCDIR/tests/lib.sh"

HPORT=$(free_port)
SPORT=$(free_port)
while [ "$SPORT" = "$HPORT" ]; do SPORT=$(free_port); done
s3_secrets "$TEST_TMP/s3-secrets"
cat >"$TEST_TMP/cstashd.conf" <<CONF
limits = { auth_failures = 1; };
users = (
  { name = "alice"; token_sha256 = "$(printf alice-token | "$CSTASHD" hash-token)"; },
  { name = "bob"; token_sha256 = "$(printf bob-token | "$CSTASHD" hash-token)"; },
  { name = "carol"; password_hash = "$(printf carol-pw | "$CSTASHD" hash-password)"; }
);
s3 = { secrets = "$TEST_TMP/s3-secrets"; region = "$S3_REGION"; };
namespaces = (
  { name = "team"; max_blob_size = "16K";
    read = [ "alice", "bob", "carol" ]; write = [ "alice" ]; admin = [ "alice" ]; },
  { name = "small"; max_size = "64K"; read = [ "alice" ]; write = [ "alice" ]; admin = [ "alice" ]; }
);
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf" \
    --listen "127.0.0.1:$HPORT" --listen "s3://127.0.0.1:$SPORT"
S3URL=http://127.0.0.1:$SPORT
A=(-H 'Authorization: Bearer alice-token')

h64() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
h32() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }
printf 'cas body' >"$TEST_TMP/cas"
printf 'other body' >"$TEST_TMP/small"
AC=ac/$(h64 action-1)
CAS=cas/$(sha "$TEST_TMP/cas")
GRADLE=gradle/$(h32 task-1)
W=$(h64 sccache-1)
WEBDAV=${W:0:1}/${W:1:1}/${W:2:1}/$W
OTHER=ab/cd0123456789ghijklmnopqrstuv012 # ccache 4: 33 characters

# 5 PUTs, one of each kind
for k in "$AC" "$CAS" "$GRADLE" "$WEBDAV" "$OTHER"; do
    f=$TEST_TMP/small
    [ "$k" = "$CAS" ] && f=$TEST_TMP/cas
    expect_status 201 PUT "/team/$k" "${A[@]}" -H 'Content-Type:' --data-binary @"$f"
done
# lookups: ac 4 hits (one a HEAD) 1 miss; cas 1/2; gradle 2/1; webdav 1/1; other 1/1
for _ in 1 2 3; do expect_status 200 GET "/team/$AC" "${A[@]}"; done
expect_status 200 HEAD "/team/$AC" "${A[@]}" -I
expect_status 404 GET "/team/ac/$(h64 action-2)" "${A[@]}"
expect_status 200 GET "/team/$CAS" "${A[@]}"
expect_status 404 GET "/team/cas/$(h64 blob-2)" "${A[@]}"
expect_status 404 GET "/team/cas/$(h64 blob-3)" "${A[@]}"
expect_status 200 GET "/team/$GRADLE" "${A[@]}"
expect_status 200 GET "/team/$GRADLE" "${A[@]}"
expect_status 404 GET "/team/gradle/$(h32 task-2)" "${A[@]}"
expect_status 200 GET "/team/$WEBDAV" "${A[@]}"
W2=$(h64 sccache-2)
expect_status 404 GET "/team/${W2:0:1}/${W2:1:1}/${W2:2:1}/$W2" "${A[@]}"
expect_status 200 GET "/team/$OTHER" "${A[@]}"
expect_status 404 GET "/team/ab/0000" "${A[@]}"
# S3: one hit, one miss
s3get() {
    /usr/bin/python3 "$CS_SRCDIR/tests/integration/s3_request.py" --out "$TEST_TMP/body" \
        --ak "$AK_ALICE" --sk "$SK_ALICE" GET "$S3URL/team/$1"
}
[ "$(s3get "$OTHER")" = 200 ] || fail "S3 GET of a stored key"
[ "$(s3get nothing-here)" = 404 ] || fail "S3 GET of a missing key"
ok "workload: 5 PUTs, 17 lookups of 6 kinds (one a HEAD, two through S3)"

# refusals: 401 anonymous and a wrong token; 403 bob writes; 413 over
# max_blob_size; 507 over small's max_size; carol's wrong password: 401,
# then 429 (limits.auth_failures = 1)
expect_status 401 GET "/team/$AC"
expect_status 401 GET "/team/$AC" -H 'Authorization: Bearer wrong-token'
expect_status 403 PUT /team/bob-was-here -H 'Authorization: Bearer bob-token' --data-binary x
head -c 20000 /dev/zero >"$TEST_TMP/20k"
expect_status 413 PUT /team/too-large "${A[@]}" --data-binary @"$TEST_TMP/20k"
head -c 100000 /dev/zero >"$TEST_TMP/100k"
expect_status 507 PUT /small/too-large "${A[@]}" --data-binary @"$TEST_TMP/100k"
expect_status 401 GET "/team/$AC" -u carol:wrong-pw
expect_status 429 GET "/team/$AC" -u carol:wrong-again
ok "refusals: 401 x3, 403, 413, 429, 507"

# The counters are bumped when a request completes, just after its answer
# left: wait (bounded) for the last one to be counted.
metrics_have() { # metrics_have LINE...: all present in /_/metrics
    local line i
    for i in $(seq 1 50); do
        [ "$i" = 1 ] || sleep 0.1
        curl -sS --max-time 10 "${A[@]}" -o "$TEST_TMP/metrics" "$URL/_/metrics" || true
        for line in "$@"; do
            grep -qxF "$line" "$TEST_TMP/metrics" || continue 2
        done
        return 0
    done
    for line in "$@"; do
        grep -qxF "$line" "$TEST_TMP/metrics" || echo "missing: $line" >&2
    done
    return 1
}

want=()
for pair in ac=4/1 cas=1/2 gradle=2/1 webdav=1/1 s3=1/1 other=1/1; do
    k=${pair%=*} hm=${pair#*=}
    want+=("cstash_kind_hits_total{namespace=\"team\",kind=\"$k\"} ${hm%/*}"
        "cstash_kind_misses_total{namespace=\"team\",kind=\"$k\"} ${hm#*/}"
        "cstash_kind_hits_total{namespace=\"small\",kind=\"$k\"} 0")
done
want+=('cstash_hits_total{namespace="team"} 10' 'cstash_misses_total{namespace="team"} 7')
metrics_have "${want[@]}" || fail "hits and misses by kind"
grep -q '^# TYPE cstash_kind_hits_total counter$' "$TEST_TMP/metrics" || fail "no TYPE of cstash_kind_hits_total"
ok "hits and misses by kind: Bazel's AC (4/1) apart from its CAS (1/2), gradle, webdav, s3, other"

metrics_have 'cstash_refused_total{code="401",reason="unauthorized"} 3' \
    'cstash_refused_total{code="403",reason="forbidden"} 1' \
    'cstash_refused_total{code="413",reason="too_large"} 1' \
    'cstash_refused_total{code="429",reason="throttled"} 1' \
    'cstash_refused_total{code="507",reason="insufficient_storage"} 1' ||
    fail "refused requests by status"
ok "refused requests counted by status"

# Requests per namespace and method: team's GETs are its 14 plain and 2 S3
# lookups (the 401s' clients had no right there: not team's), 1 HEAD, its
# 5 PUTs and the 403 and 413 PUTs; small's one PUT got 507.
metrics_have \
    'cstash_request_duration_seconds_count{namespace="team",method="GET"} 16' \
    'cstash_request_duration_seconds_bucket{namespace="team",method="GET",le="+Inf"} 16' \
    'cstash_request_duration_seconds_count{namespace="team",method="HEAD"} 1' \
    'cstash_request_duration_seconds_count{namespace="team",method="PUT"} 7' \
    'cstash_request_duration_seconds_count{namespace="team",method="DELETE"} 0' \
    'cstash_request_duration_seconds_count{namespace="small",method="PUT"} 1' \
    'cstash_request_duration_seconds_count{namespace="small",method="GET"} 0' ||
    fail "request counts per namespace and method"
grep -q '^# TYPE cstash_request_duration_seconds histogram$' "$TEST_TMP/metrics" || fail "no histogram TYPE"
# buckets: fixed bounds, cumulative, ending at the count; the sum is in seconds
python3 - "$TEST_TMP/metrics" <<'PY' || fail "histogram buckets"
import re, sys
bounds = ["0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
          "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
rows = {}
sums = {}
for line in open(sys.argv[1]):
    m = re.match(r'cstash_request_duration_seconds_bucket\{namespace="(\w+)",method="(\w+)",le="([^"]+)"\} (\d+)$', line)
    if m:
        rows.setdefault((m[1], m[2]), []).append((m[3], int(m[4])))
    m = re.match(r'cstash_request_duration_seconds_sum\{namespace="(\w+)",method="(\w+)"\} ([0-9.]+)$', line)
    if m:
        sums[(m[1], m[2])] = float(m[3])
assert set(rows) == {(n, m) for n in ("team", "small") for m in ("GET", "HEAD", "PUT", "DELETE", "other")}, rows.keys()
for key, b in rows.items():
    assert [x[0] for x in b] == bounds, (key, b)
    counts = [x[1] for x in b]
    assert counts == sorted(counts), (key, counts)
assert rows[("team", "GET")][-1][1] == 16
assert 0 < sums[("team", "GET")] < 16 * 10, sums
assert sums[("team", "DELETE")] == 0
PY
ok "request-duration histograms per namespace and method: exact counts, cumulative fixed buckets"

# a namespace admin sees only theirs: bob administers none
expect_status 403 GET /_/metrics -H 'Authorization: Bearer bob-token'
stop_server
