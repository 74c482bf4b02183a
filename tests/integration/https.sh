# HTTPS next to plain HTTP, with a CA made here: curl --cacert with a
# token; mTLS maps a client certificate's CN to a user; certificates from
# another CA, or none, are not a user.
source "$CS_SRCDIR/tests/lib.sh"

command -v openssl >/dev/null || fail "openssl is not installed (scripts/deps.sh test)"
ca=$TEST_TMP/ca
make_test_ca "$ca"
tok=$(printf 'bob-token' | "$CSTASHD" hash-token)
cat >"$TEST_TMP/cstashd.conf" <<CONF
listen = [ "127.0.0.1:0", "https://127.0.0.1:0" ];
tls_cert = "$ca/server.pem";
tls_key = "$ca/server.key";
tls_client_ca = "$ca/ca.pem";
users = ( { name = "alice"; }, { name = "bob"; token_sha256 = "$tok"; } );
namespaces = ( { name = "n"; read = [ "alice", "bob" ]; write = [ "alice", "bob" ]; } );
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf" --listen 127.0.0.1:0 --listen https://127.0.0.1:0
http_url=$(sed -n 's|.*listening on \(http://[^ ]*\)/ .*|\1|p' "$SERVER_LOG" | head -n 1)
https_url=$(sed -n 's|.*listening on \(https://[^ ]*\)/ .*|\1|p' "$SERVER_LOG" | head -n 1)
[ -n "$http_url" ] && [ -n "$https_url" ] || fail "both listeners expected: $(cat "$SERVER_LOG")"

c() { curl -sS -o "$TEST_TMP/body" -w '%{http_code}' "$@" 2>"$TEST_TMP/curl.err" || true; }
printf 'secret stuff' >"$TEST_TMP/obj"
[ "$(c --cacert "$ca/ca.pem" -H 'Authorization: Bearer bob-token' -X PUT -H 'Content-Type:' \
    --data-binary @"$TEST_TMP/obj" "$https_url/n/k")" = 201 ] || fail "HTTPS PUT: $(cat "$TEST_TMP/curl.err")"
[ "$(c --cacert "$ca/ca.pem" -H 'Authorization: Bearer bob-token' "$https_url/n/k")" = 200 ] &&
    cmp -s "$TEST_TMP/body" "$TEST_TMP/obj" || fail "HTTPS GET"
[ "$(c -H 'Authorization: Bearer bob-token' "$http_url/n/k")" = 200 ] || fail "plain HTTP listener"
[ "$(c "$https_url/n/k")" = 000 ] && grep -qi 'certificate' "$TEST_TMP/curl.err" ||
    fail "an untrusted server certificate was accepted"
ok "HTTPS and HTTP listeners side by side; curl --cacert with a bearer token; the CA is checked"

[ "$(c --cacert "$ca/ca.pem" --cert "$ca/alice.pem" --key "$ca/alice.key" "$https_url/n/k")" = 200 ] ||
    fail "mTLS client alice refused: $(cat "$TEST_TMP/body")"
[ "$(c --cacert "$ca/ca.pem" --cert "$ca/rogue.pem" --key "$ca/rogue.key" "$https_url/n/k")" = 401 ] ||
    fail "a certificate from another CA was taken for alice"
[ "$(c --cacert "$ca/ca.pem" "$https_url/n/k")" = 401 ] || fail "no certificate, no credentials: not 401"
ok "mTLS: the CA's certificate with CN=alice is user alice; another CA's CN=alice and no certificate get 401"
stop_server

# a missing key file stops the start with a clear message and exit 1
sed -i "s|$ca/server.key|$ca/none.key|" "$TEST_TMP/cstashd.conf"
rc=0
"$CSTASHD" --config "$TEST_TMP/cstashd.conf" --data-dir "$TEST_TMP/data" >/dev/null 2>"$TEST_TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -q "cannot read tls_key $ca/none.key" "$TEST_TMP/err" || fail "bad tls_key: exit $rc, $(cat "$TEST_TMP/err")"
ok "an unreadable tls_key: exit 1 naming the file"
