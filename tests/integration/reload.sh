# SIGHUP re-reads users, ACLs and namespace settings while a load loop
# runs: a user is added and another revoked; no request fails except the
# revoked user's; an upload in flight finishes; a broken config or one
# that needs a restart is rejected and the old one kept.
source "$CS_SRCDIR/tests/lib.sh"

tok() { printf '%s' "$1" | "$CSTASHD" hash-token; }
write_conf() { # write_conf USERS READERS [extra namespace settings]
    cat >"$TEST_TMP/cstashd.conf.new" <<CONF
users = ( $1 );
namespaces = ( { name = "n"; read = [ $2 ]; write = [ $2 ]; ${3:-} } );
CONF
    mv "$TEST_TMP/cstashd.conf.new" "$TEST_TMP/cstashd.conf"
}
KEEP="{ name = \"keep\"; token_sha256 = \"$(tok keep-token)\"; }"
GONE="{ name = \"gone\"; token_sha256 = \"$(tok gone-token)\"; }"
NEW="{ name = \"newbie\"; token_sha256 = \"$(tok newbie-token)\"; }"
write_conf "$KEEP, $GONE" '"keep", "gone"'
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
printf 'data' >"$TEST_TMP/small"
head -c 4000000 /dev/urandom >"$TEST_TMP/big"
H_KEEP="Authorization: Bearer keep-token"
[ "$(http PUT /n/obj -H "$H_KEEP" -H 'Content-Type:' --data-binary @"$TEST_TMP/small")" = 201 ] || fail "seed"

# load: keep reads and writes, gone reads; each logs its statuses
loop() { # loop TOKEN FILE
    local end=$((SECONDS + 5)) i=0
    while [ $SECONDS -lt $end ]; do
        i=$((i + 1))
        curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $1" "$URL/n/obj" >>"$2"
        [ "$1" = keep-token ] && curl -s -o /dev/null -w '%{http_code}\n' -X PUT -H "Authorization: Bearer $1" \
            -H 'Content-Type:' --data-binary @"$TEST_TMP/small" "$URL/n/k$i" >>"$2"
    done
}
loop keep-token "$TEST_TMP/keep.log" & keep_pid=$!
loop gone-token "$TEST_TMP/gone.log" & gone_pid=$!
# an upload in flight across the reload: about 2 s
curl -s -o /dev/null -w '%{http_code}' --limit-rate 2M -X PUT -H "$H_KEEP" -H 'Content-Type:' \
    --data-binary @"$TEST_TMP/big" "$URL/n/big" >"$TEST_TMP/big.status" & big_pid=$!
sleep 1
write_conf "$KEEP, $NEW" '"keep", "newbie"'
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do grep -q 'reloaded .*2 users' "$SERVER_LOG" && break; sleep 0.05; done
grep -q 'reloaded .*2 users' "$SERVER_LOG" || fail "reload not logged"
[ "$(http GET /n/obj -H 'Authorization: Bearer newbie-token')" = 200 ] || fail "added user refused"
[ "$(http GET /n/obj -H 'Authorization: Bearer gone-token')" = 401 ] || fail "revoked user still served"
wait "$keep_pid" "$gone_pid" "$big_pid"
[ "$(cat "$TEST_TMP/big.status")" = 201 ] || fail "upload across the reload: $(cat "$TEST_TMP/big.status")"
[ "$(http GET /n/big -H "$H_KEEP")" = 200 ] && cmp -s "$TEST_TMP/body" "$TEST_TMP/big" || fail "big object damaged"
bad=$(grep -cv '^20[014]$' "$TEST_TMP/keep.log" || true)
[ "$bad" = 0 ] || fail "keep's requests failed: $(sort "$TEST_TMP/keep.log" | uniq -c | tr '\n' ' ')"
# gone: 200 until the reload, then 401; nothing else, never back to 200
tr '\n' ' ' <"$TEST_TMP/gone.log" | grep -Eq '^(200 )+(401 )+$' ||
    fail "revoked user's answers: $(uniq -c "$TEST_TMP/gone.log" | tr '\n' ' ')"
ok "reload under load: $(wc -l <"$TEST_TMP/keep.log") requests of a kept user all succeeded, the revoked user got 200 then only 401, the added user is served, an upload in flight finished"

# a broken config is rejected, the running one kept
echo 'users = ( { name = "x"; password = "plain"; } ); namespaces = ( );' >"$TEST_TMP/cstashd.conf"
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do grep -q 'reload rejected' "$SERVER_LOG" && break; sleep 0.05; done
grep -q 'plaintext passwords are not accepted' "$SERVER_LOG" || fail "the error was not logged"
grep -q 'reload rejected: .* has errors; the running config is kept' "$SERVER_LOG" || fail "rejection not logged"
[ "$(http GET /n/obj -H 'Authorization: Bearer newbie-token')" = 200 ] || fail "old config lost"
# one that needs a restart is rejected too
write_conf "$KEEP" '"keep"' '}, { name = "added";'
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do grep -q 'namespaces were added or removed' "$SERVER_LOG" && break; sleep 0.05; done
grep -q 'reload rejected: namespaces were added or removed (needs a restart)' "$SERVER_LOG" || fail "restart-only change not refused"
[ "$(http GET /n/obj -H 'Authorization: Bearer newbie-token')" = 200 ] || fail "old config lost"
ok "a broken config and a namespace change are rejected with the error logged; the old config stays"

# namespace settings apply: max_blob_size shrinks
write_conf "$KEEP" '"keep"' 'max_blob_size = "1K";'
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do [ "$(grep -c 'reloaded' "$SERVER_LOG")" -ge 2 ] && break; sleep 0.05; done
[ "$(http PUT /n/toolarge -H "$H_KEEP" -H 'Content-Type:' --data-binary @"$TEST_TMP/big")" = 413 ] || fail "max_blob_size not reloaded"
ok "namespace settings (max_blob_size) change on reload"
stop_server
[ "$SERVER_RC" = 0 ] || fail "exit $SERVER_RC"
