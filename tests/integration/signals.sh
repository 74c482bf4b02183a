# SIGTERM and SIGINT let in-flight requests finish, refuse new connections,
# and exit 0.
source "$CS_SRCDIR/tests/lib.sh"

head -c 3000000 /dev/urandom >"$TEST_TMP/body"

# SIGHUP reloads the config (tests/integration/reload.sh tests what it
# changes); the server keeps serving
start_server "$TEST_TMP/data-hup"
kill -HUP "$SERVER_PID"
for i in $(seq 1 50); do grep -q 'reloaded (embedded default)' "$SERVER_LOG" && break; sleep 0.05; done
grep -q 'reloaded (embedded default)' "$SERVER_LOG" || fail "SIGHUP reload not logged"
kill -0 "$SERVER_PID" 2>/dev/null || fail "SIGHUP killed the server"
curl -sf "$URL/_/health" >/dev/null || fail "not serving after SIGHUP"
stop_server
ok "SIGHUP: config reloaded, still serving"

for sig in TERM INT; do
    start_server "$TEST_TMP/data-$sig"
    # a slow upload: about 3 s at 1 MB/s
    curl -s -o /dev/null -D "$TEST_TMP/put-headers" -w '%{http_code}' --limit-rate 1M -X PUT \
        --data-binary @"$TEST_TMP/body" "$URL/default/slow" >"$TEST_TMP/code" &
    cpid=$!
    for i in $(seq 1 50); do [ "$(count_files "$TEST_TMP/data-$sig/tmp")" = 1 ] && break; sleep 0.05; done
    [ "$(count_files "$TEST_TMP/data-$sig/tmp")" = 1 ] || fail "upload did not start"
    kill -"$sig" "$SERVER_PID"
    sleep 0.3
    # no new connections once draining
    if curl -s --max-time 2 -o /dev/null "$URL/_/health"; then
        fail "new connection accepted while draining"
    fi
    wait $cpid || true
    [ "$(cat "$TEST_TMP/code")" = 201 ] || fail "in-flight PUT got $(cat "$TEST_TMP/code") after SIG$sig"
    # answers given while draining tell keep-alive clients to go
    tr -d '\r' <"$TEST_TMP/put-headers" | grep -qix 'connection: close' ||
        fail "answer during the drain has no Connection: close"
    pid=$SERVER_PID
    stop_server "$sig"
    [ "$SERVER_RC" = 0 ] || fail "exit code $SERVER_RC after SIG$sig"
    grep -q 'draining 1 request' "$SERVER_LOG" || fail "drain not logged"
    # the upload is really stored
    start_server "$TEST_TMP/data-$sig"
    curl -s -o "$TEST_TMP/back" "$URL/default/slow"
    cmp -s "$TEST_TMP/back" "$TEST_TMP/body" || fail "drained upload not stored"
    stop_server
    ok "SIG$sig: in-flight upload finished (201, Connection: close, stored), new connections refused, exit 0"
done
