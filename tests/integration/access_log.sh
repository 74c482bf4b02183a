# The access log: off by default; with access_log = FILE one JSON line per
# request with who, what, the answer, bytes, duration, the client kind and
# where a hit came from; SIGUSR1 opens the file again (logrotate); "-" is
# stdout.
source "$CS_SRCDIR/tests/lib.sh"

HEX=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
log_file="$TEST_TMP/access.log"
tok=$(printf '%s' "s3cret-token" | "$CSTASHD" hash-token)
write_conf() { # write_conf ACCESS_LOG_LINE
    cat >"$TEST_TMP/cstashd.conf" <<CONF
$1
users = ( { name = "alice"; token_sha256 = "$tok"; } );
namespaces = ( { name = "team"; read = [ "alice" ]; write = [ "alice" ]; admin = [ "alice" ]; } );
CONF
}
auth=(-H "Authorization: Bearer s3cret-token")

# wait_lines FILE N: until FILE has at least N lines (the writer flushes
# every 100 ms)
wait_lines() {
    local i
    for i in $(seq 1 50); do
        [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "$1 has $(wc -l <"$1" 2>/dev/null || echo 0) lines, expected $2 ($(tail -n 3 "$1" 2>/dev/null))"
}

# off by default: nothing is written anywhere
write_conf ""
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
expect_status 201 PUT /team/off "${auth[@]}" --data-binary x
stop_server
[ ! -s "$SERVER_LOG.out" ] || fail "stdout has lines with no access_log: $(head -c 200 "$SERVER_LOG.out")"
ok "no access_log: no access log"

write_conf "access_log = \"$log_file\";"
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
expect_status 201 PUT /team/ab/cdef "${auth[@]}" -A ccache/4.7.5 --data-binary hello
expect_status 200 GET /team/ab/cdef "${auth[@]}" -A ccache/4.7.5
curl -sS --max-time 10 "${auth[@]}" -o /dev/null "$URL/team/ab/cdef" -o /dev/null "$URL/team/ab/cdef"
expect_status 404 GET "/team/ac/$HEX" "${auth[@]}" -A "bazel/7.4.1"
expect_status 404 GET /team/gradlekey "${auth[@]}" -H "X-Gradle-Version: 8.5"
expect_status 207 PROPFIND /team/ "${auth[@]}" -H "Depth: 1"
expect_status 401 GET /team/ab/cdef
# refused before authentication (two Content-Length headers): nobody's
raw_request 'PUT /team/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret-token\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy' ||
    fail "the framing request failed"
wait_lines "$log_file" 9
"$S3_PY" - "$log_file" <<'PY' || fail "the access log's lines are not as expected: $(cat "$log_file")"
import json, sys
# threads write their own buffers: lines of different threads may come
# out of time order, so each is found by what it is
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 9, len(lines)
def one(pred):
    got = [l for l in lines if pred(l)]
    assert len(got) == 1, got
    return got[0]
for l in lines:
    assert l["client"] == "127.0.0.1", l
    assert l["time"].endswith("Z") and "T" in l["time"], l
    assert isinstance(l["us"], int) and 0 <= l["us"] < 60_000_000, l
put = one(lambda l: l["method"] == "PUT" and l["status"] != 400)
assert put["status"] == 201 and put["in"] == 5 and put["out"] == 0, put
assert put["user"] == "alice" and put["ns"] == "team" and put["key"] == "ab/cdef", put
assert put["proto"] == "ccache" and "source" not in put, put
get = one(lambda l: l["method"] == "GET" and l["proto"] == "ccache")
assert get["status"] == 200 and get["out"] == 5 and get["source"] == "disk", get
pair = [l for l in lines if l["method"] == "GET" and l["proto"] is None and l["status"] == 200]
assert len(pair) == 2 and all(l["out"] == 5 for l in pair), pair
assert "memory" in [l["source"] for l in pair], pair  # the second of one connection's pair
ac = one(lambda l: l["proto"] == "bazel")
assert ac["status"] == 404 and ac["key"] == "ac/" + "0123456789abcdef" * 4 and "source" not in ac, ac
gr = one(lambda l: l["proto"] == "gradle")
assert gr["key"] == "gradlekey" and gr["status"] == 404, gr
dav = one(lambda l: l["method"] == "PROPFIND")
assert dav["proto"] == "webdav" and dav["status"] == 207, dav
framing = one(lambda l: l["status"] == 400)
assert framing["user"] is None and framing["method"] == "PUT", framing  # before authentication
anon = one(lambda l: l["status"] == 401)
assert anon["user"] is None and anon["key"] == "/team/ab/cdef", anon  # no namespace: not told to strangers
PY
ok "one JSON line per request: user, namespace, key, status, bytes, duration, client kind, hit source"

# logrotate: move the file away, SIGUSR1, and the next lines go to a new file
mv "$log_file" "$log_file.1"
kill -USR1 "$SERVER_PID"
for i in $(seq 1 50); do
    [ -e "$log_file" ] && break
    sleep 0.1
done
[ -e "$log_file" ] || fail "SIGUSR1 did not open the access log again"
expect_status 200 GET /team/ab/cdef "${auth[@]}"
wait_lines "$log_file" 1
[ "$(wc -l <"$log_file.1")" = 9 ] || fail "the rotated file got lines after SIGUSR1"
ok "SIGUSR1 opens the access log again"

# an unusable path: cstashd refuses to start, naming it
stop_server
write_conf "access_log = \"$TEST_TMP/no/such/dir/access.log\";"
set +e
"$CSTASHD" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf" \
    >/dev/null 2>"$TEST_TMP/err" &
pid=$!
for i in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
kill -0 $pid 2>/dev/null && { kill $pid; fail "cstashd runs with an access log it cannot open"; }
wait $pid
rc=$?
set -e
[ $rc -ne 0 ] || fail "cstashd exited 0 with an access log it cannot open"
grep -q "no/such/dir/access.log" "$TEST_TMP/err" || fail "the error does not name the path: $(cat "$TEST_TMP/err")"
ok "an access log that cannot be opened stops the start, naming the path (exit $rc)"

# "-": stdout
write_conf 'access_log = "-";'
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
expect_status 200 GET /team/ab/cdef "${auth[@]}"
wait_lines "$SERVER_LOG.out" 1
grep -q '"method":"GET"' "$SERVER_LOG.out" || fail "no line on stdout: $(cat "$SERVER_LOG.out")"
stop_server
ok "access_log = \"-\" writes to stdout"

# a stdout nobody reads (a full pipe) does not hold the exit
mkfifo "$TEST_TMP/fifo"
exec 7<>"$TEST_TMP/fifo" # held open, never read
"$CSTASHD" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf" \
    >"$TEST_TMP/fifo" 2>"$TEST_TMP/stuck.log" &
pid=$!
for i in $(seq 1 100); do
    URL=$(sed -n 's|.*listening on \(http://[^ ]*\)/ .*|\1|p' "$TEST_TMP/stuck.log" | head -n 1)
    [ -n "$URL" ] && break
    sleep 0.05
done
[ -n "$URL" ] || { kill $pid; fail "cstashd with a FIFO stdout did not start"; }
curl -sS --max-time 60 "${auth[@]}" -o /dev/null "$URL/team/ab/cdef?[1-600]" || true
sleep 0.5 # the writer has filled the pipe
kill -TERM $pid
for i in $(seq 1 200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
if kill -0 $pid 2>/dev/null; then
    kill -KILL $pid
    fail "cstashd did not exit within 10 s of SIGTERM with a stdout nobody reads"
fi
wait $pid || true
exec 7<&-
ok "a full stdout does not hold the exit (lines dropped after 2 s)"
