# read_only_puts: "refuse" (the default) answers a reader's PUT 403 (401
# when anonymous); "drop" answers 202 and stores nothing, counted as a
# dropped write. Writers are not affected; a client with no right at all
# still gets the missing namespace's 404.
source "$CS_SRCDIR/tests/lib.sh"

pw_w=$(printf '%s' w-pass | "$CSTASHD" hash-password)
pw_r=$(printf '%s' r-pass | "$CSTASHD" hash-password)
pw_n=$(printf '%s' n-pass | "$CSTASHD" hash-password)
cat >"$TEST_TMP/cstashd.conf" <<CONF
users = ( { name = "w"; password_hash = "$pw_w"; }, { name = "r"; password_hash = "$pw_r"; },
          { name = "n"; password_hash = "$pw_n"; } );
namespaces = (
  { name = "drop"; read = [ "r", "w", "*" ]; write = [ "w" ]; admin = [ "w" ]; read_only_puts = "drop"; },
  { name = "keep"; read = [ "r", "w" ]; write = [ "w" ]; admin = [ "w" ]; },
  { name = "priv"; read = [ "w" ]; write = [ "w" ]; read_only_puts = "drop"; }
);
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"

expect_status 202 PUT /drop/k -u r:r-pass --data-binary reader
expect_status 404 GET /drop/k -u r:r-pass
expect_status 202 PUT /drop/anon --data-binary anonymous
expect_status 404 GET /drop/anon
expect_status 201 PUT /drop/k -u w:w-pass --data-binary writer
expect_status 202 PUT /drop/k -u r:r-pass --data-binary reader
expect_status 200 GET /drop/k -u r:r-pass
[ "$(cat "$TEST_TMP/body")" = writer ] || fail "a dropped PUT changed the object: $(cat "$TEST_TMP/body")"
curl -sS --max-time 10 -u w:w-pass "$URL/_/stats" -o "$TEST_TMP/stats.json"
[ "$(json_field drop dropped_writes "$TEST_TMP/stats.json")" = 3 ] ||
    fail "dropped_writes: $(cat "$TEST_TMP/stats.json")"
[ "$(json_field drop puts "$TEST_TMP/stats.json")" = 1 ] || fail "puts: $(cat "$TEST_TMP/stats.json")"
ok "read_only_puts = \"drop\": readers' PUTs get 202, store nothing, and are counted"

# a body the server would not read and drop anyway (over 1 MiB, or with
# no length) gets the refusal: a reader cannot stream into a connection
head -c 2000000 /dev/zero >"$TEST_TMP/big"
expect_status 403 PUT /drop/big -u r:r-pass --data-binary @"$TEST_TMP/big"
expect_status 403 PUT /drop/chunked -u r:r-pass -H 'Transfer-Encoding: chunked' --data-binary x
ok "read_only_puts = \"drop\": only announced bodies up to 1 MiB are dropped; others get 403"

expect_status 403 PUT /keep/k -u r:r-pass --data-binary reader
expect_status 201 PUT /priv/k -u w:w-pass --data-binary x
expect_status 404 PUT /priv/k -u n:n-pass --data-binary x
ok "the default refuses (403); a writer stores; a user with no right gets 404 as before"
