# Data survives a restart (clean and kill -9), in durable and ordinary
# namespaces; leftovers of unfinished uploads are cleaned at start-up.
source "$CS_SRCDIR/tests/lib.sh"

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = (
  { name = "fast"; read = [ "*" ]; write = [ "*" ]; },
  { name = "safe"; durable = true; read = [ "*" ]; write = [ "*" ]; }
);
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
for i in $(seq 1 20); do
    head -c $((i * 5000)) /dev/urandom >"$TEST_TMP/obj$i"
    expect_status 201 PUT "/fast/k/$i" --data-binary @"$TEST_TMP/obj$i"
    expect_status 201 PUT "/safe/k/$i" --data-binary @"$TEST_TMP/obj$i"
done
stop_server TERM
[ "$SERVER_RC" = 0 ] || fail "exit code $SERVER_RC after SIGTERM"

start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
for i in $(seq 1 20); do
    for ns in fast safe; do
        expect_status 200 GET "/$ns/k/$i"
        cmp -s "$TEST_TMP/body" "$TEST_TMP/obj$i" || fail "$ns/k/$i differs after restart"
    done
done
ok "40 objects read back byte-exact after a clean restart"

# acknowledged durable PUTs survive kill -9 right after the 2xx
for i in $(seq 21 40); do
    head -c 7777 /dev/urandom >"$TEST_TMP/obj$i"
    expect_status 201 PUT "/safe/k/$i" --data-binary @"$TEST_TMP/obj$i"
done
# and an upload in flight when the server dies leaves a temp file behind...
port=${URL##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'PUT /safe/inflight HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n' >&3
head -c 500000 /dev/zero >&3
for i in $(seq 1 50); do [ "$(count_files "$TEST_TMP/data/tmp")" = 1 ] && break; sleep 0.05; done
stop_server KILL
exec 3>&-
[ "$(count_files "$TEST_TMP/data/tmp")" = 1 ] || fail "expected one orphaned temp file"

start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
# ...which the restart removes
[ "$(count_files "$TEST_TMP/data/tmp")" = 0 ] || fail "orphaned temp file kept"
grep -q 'removed 1 leftover file' "$SERVER_LOG" || fail "cleanup not logged"
for i in $(seq 1 40); do
    expect_status 200 GET "/safe/k/$i"
    cmp -s "$TEST_TMP/body" "$TEST_TMP/obj$i" || fail "safe/k/$i differs after kill -9"
done
expect_status 404 GET /safe/inflight
ok "kill -9: every acknowledged durable PUT intact, the unfinished one absent, temp cleaned"
stop_server
