# Remote tiers failing under load: redis-server and s3rver are killed in
# the middle of a PUT/GET loop and started again. No client request may
# get a 5xx; every PUT succeeds on the disk; each tier's breaker opens
# once (logged once), closes when the backend is back (logged once), and
# write-through resumes.
source "$CS_SRCDIR/tests/lib.sh"

command -v redis-cli >/dev/null || fail "redis-cli is not installed (scripts/deps.sh test installs redis-server)"

RPORT=$(free_port)
SPORT=$(free_port)
start_redis "$RPORT"
start_s3rver "$SPORT" "$TEST_TMP/s3" cache

cat >"$TEST_TMP/c.conf" <<EOF
data_dir = "$TEST_TMP/data";
namespaces = (
  { name = "default"; read = ["*"]; write = ["*"]; admin = ["*"];
    tiers = ( { type = "disk"; },
              { type = "redis"; url = "redis://127.0.0.1:$RPORT"; timeout = "1s";
                connect_timeout = "1s"; backoff = "1s"; },
              { type = "s3"; endpoint = "http://127.0.0.1:$SPORT"; bucket = "cache";
                access_key = "S3RVER"; secret_key = "S3RVER"; path_style = true;
                write = "async"; timeout = "1s"; connect_timeout = "1s"; backoff = "1s"; } ); }
);
EOF
start_server "$TEST_TMP/data" -c "$TEST_TMP/c.conf"

tier() {
    curl -s "$URL/_/stats" | python3 -c '
import json, sys
idx, field = int(sys.argv[1]), sys.argv[2]
for t in json.load(sys.stdin)["tiers"]:
    if t["tier"] == idx:
        print(t[field])' "$1" "$2"
}

# The load: PUT a new key, GET it back, GET a key no tier has (a lookup
# through every tier), for as long as the file "$TEST_TMP/run" exists.
cat >"$TEST_TMP/load.py" <<'PY'
import http.client, os, sys, collections
host, port, stop, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
counts = collections.Counter()
bad = []
conn = http.client.HTTPConnection(host, port, timeout=30)
def req(method, path, body=None):
    global conn
    for attempt in (0, 1):
        try:
            conn.request(method, path, body=body)
            r = conn.getresponse()
            r.read()
            return r.status
        except (ConnectionError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
    return 0
i = 0
while os.path.exists(stop):
    body = os.urandom(2048)
    key = "/default/load/%s/%d" % (tag, i)
    s = req("PUT", key, body); counts["put %d" % s] += 1
    if s not in (200, 201, 204): bad.append((key, "PUT", s))
    s = req("GET", key); counts["get %d" % s] += 1
    if s != 200: bad.append((key, "GET", s))
    s = req("GET", "/default/nowhere/%s/%d" % (tag, i)); counts["miss %d" % s] += 1
    if s != 404: bad.append((key, "GET missing", s))
    i += 1
print(" ".join("%s:%d" % kv for kv in sorted(counts.items())))
for b in bad[:10]: print("BAD", *b)
sys.exit(1 if bad else 0)
PY
port=${URL##*:}
touch "$TEST_TMP/run"
python3 "$TEST_TMP/load.py" 127.0.0.1 "$port" "$TEST_TMP/run" a >"$TEST_TMP/load.out" 2>&1 &
LOAD_PID=$!
EXTRA_PIDS+=("$LOAD_PID")
sleep 1.5
kill -KILL "$REDIS_PID"
sleep 1.5
kill -KILL "$S3_PID"
sleep 3
[ "$(tier 1 state)" = out ] || fail "redis tier is not out of the path while redis is down"
[ "$(tier 2 state)" = out ] || fail "s3 tier is not out of the path while s3rver is down"
start_redis "$RPORT"
start_s3rver "$SPORT" "$TEST_TMP/s3" cache
sleep 3 # longer than the backoff: the breakers probe and close
rm -f "$TEST_TMP/run"
wait "$LOAD_PID" || { cat "$TEST_TMP/load.out"; fail "a client request failed while the backends were killed"; }
cat "$TEST_TMP/load.out"
grep -q ' 5[0-9][0-9]:' "$TEST_TMP/load.out" && fail "a client got a 5xx"
ok "load through redis and s3 being killed and restarted: no 5xx, every PUT and GET of its own key succeeded"

[ "$(grep -c 'tier 1 (redis) failed 3 times in a row: out of the path' "$SERVER_LOG")" = 1 ] || { grep tier "$SERVER_LOG"; fail "the redis breaker opening was not logged exactly once"; }
[ "$(grep -c 'tier 2 (s3) failed 3 times in a row: out of the path' "$SERVER_LOG")" = 1 ] || { grep tier "$SERVER_LOG"; fail "the s3 breaker opening was not logged exactly once"; }
[ "$(grep -c 'tier 1 (redis) answers again: back in the path' "$SERVER_LOG")" = 1 ] || { grep tier "$SERVER_LOG"; fail "the redis breaker closing was not logged exactly once"; }
[ "$(grep -c 'tier 2 (s3) answers again: back in the path' "$SERVER_LOG")" = 1 ] || { grep tier "$SERVER_LOG"; fail "the s3 breaker closing was not logged exactly once"; }
[ "$(tier 1 breaker_opened)" = 1 ] && [ "$(tier 2 breaker_opened)" = 1 ] || fail "breaker openings not counted"
[ "$(tier 1 skipped)" -gt 0 ] && [ "$(tier 2 skipped)" -gt 0 ] || fail "no request skipped a tier that was out of the path"
[ "$(tier 1 state)" = in ] && [ "$(tier 2 state)" = in ] || fail "a breaker did not close after its backend came back"
ok "each breaker opened once and closed once, each change logged once and counted; skipped requests counted"

# Write-through resumes: new objects reach redis at once and s3 from the queue.
redis-cli -p "$RPORT" flushall >/dev/null
for i in 1 2 3 4 5; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/c.conf" "$URL/default/after/$i")
    [ "$code" = 201 ] || fail "PUT after recovery: $code"
done
[ "$(redis-cli -p "$RPORT" --scan --pattern 'cstash:default:*' | wc -l)" = 5 ] || fail "redis did not get the writes after it came back"
# s3 names an object by sha256(namespace NUL key)
name_of() { printf 'default\0%s' "$1" | sha256sum | cut -d' ' -f1; }
for i in 1 2 3 4 5; do
    f="$TEST_TMP/s3/cache/$(name_of "after/$i")._S3rver_object"
    wait_s=0
    while [ ! -f "$f" ] && [ $wait_s -lt 200 ]; do sleep 0.05; wait_s=$((wait_s + 1)); done
    [ -f "$f" ] || fail "s3 did not get after/$i, written after it came back"
    cmp -s "$f" "$TEST_TMP/c.conf" || fail "s3's copy of after/$i differs"
done
ok "write-through resumed: redis (sync) and s3 (async queue) got every new object"

stop_server
echo "all $CHECKS checks passed"
