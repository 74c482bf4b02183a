# Bazel's HTTP cache protocol: CAS PUTs are verified while they stream, a
# CAS blob we hold already is not written again, AC bodies are stored as
# they are (ccache's layout=bazel puts non-protobuf bodies there).
source "$CS_SRCDIR/tests/lib.sh"

start_server "$TEST_TMP/data"

head -c 200000 /dev/urandom >"$TEST_TMP/blob"
digest=$(sha "$TEST_TMP/blob")
expect_status 201 PUT "/default/cas/$digest" --data-binary @"$TEST_TMP/blob"
expect_status 200 GET "/default/cas/$digest"
cmp -s "$TEST_TMP/body" "$TEST_TMP/blob" || fail "CAS read back differs"
ok "CAS PUT whose body hashes to its key: 201, reads back"

head -c 200000 /dev/urandom >"$TEST_TMP/other"
wrong=$(sha "$TEST_TMP/other")
expect_status 400 PUT "/default/cas/$wrong" --data-binary @"$TEST_TMP/blob"
grep -q 'does not hash' "$TEST_TMP/body" || fail "mismatch reason: $(cat "$TEST_TMP/body")"
expect_status 404 GET "/default/cas/$wrong"
# the same under a deeper prefix (--remote_cache=http://host/ns/sub)
expect_status 400 PUT "/default/team/cas/$wrong" --data-binary @"$TEST_TMP/blob"
[ "$(count_files "$TEST_TMP/data/tmp")" = 0 ] || fail "mismatched upload left a temp file"
ok "CAS PUT with a mismatching body: 400 with a reason, nothing stored"

# a PUT of a blob we have: answered without writing (the stored file keeps its inode)
obj=$(find "$TEST_TMP/data/objects" -type f)
[ "$(echo "$obj" | wc -l)" = 1 ] || fail "expected one stored object"
inode=$(stat -c %i "$obj")
expect_status 204 PUT "/default/cas/$digest" --data-binary @"$TEST_TMP/blob"
[ "$(stat -c %i "$obj")" = "$inode" ] || fail "existing CAS blob was rewritten"
ok "PUT of a CAS blob already held: 204, stored copy untouched"

# AC: any bytes, any size, no verification (ccache's layout=bazel)
printf 'ccache entry, not an ActionResult' >"$TEST_TMP/ac"
ac=$(printf x | sha256sum | cut -d' ' -f1)
expect_status 201 PUT "/default/ac/$ac" --data-binary @"$TEST_TMP/ac"
expect_status 200 GET "/default/ac/$ac"
cmp -s "$TEST_TMP/body" "$TEST_TMP/ac" || fail "AC body changed"
ok "AC bodies stored as they are"

# upper-case hex or short keys under cas/ are plain keys, not verified
expect_status 201 PUT "/default/cas/notahash" --data-binary @"$TEST_TMP/ac"
ok "non-digest keys under cas/ are stored as plain keys"

# Gradle: Expect: 100-continue and an entry over max_blob_size gets 413 before the body
cat >"$TEST_TMP/small.conf" <<CONF
namespaces = ( { name = "gradle"; max_blob_size = "64K"; read = [ "*" ]; write = [ "*" ]; } );
CONF
stop_server
start_server "$TEST_TMP/data2" --config "$TEST_TMP/small.conf"
head -c 5000000 /dev/urandom >"$TEST_TMP/big"
start=$(date +%s%N)
expect_status 413 PUT /gradle/0123456789abcdef0123456789abcdef --data-binary @"$TEST_TMP/big" \
    -H 'Expect: 100-continue' -H 'Content-Type: application/vnd.gradle.build-cache-artifact.v1'
grep -q max_blob_size "$TEST_TMP/body" || fail "413 reason"
# curl reports how much of the body it sent: none of it
sent=$(curl -sS -o /dev/null -w '%{size_upload}' -X PUT --data-binary @"$TEST_TMP/big" \
    -H 'Expect: 100-continue' "$URL/gradle/0123456789abcdef0123456789abcdef" 2>/dev/null || true)
[ "${sent%.*}" -lt 1000000 ] || fail "413 came after $sent bytes of body"
expect_status 201 PUT /gradle/0123456789abcdef0123456789abcdef --data-binary @"$TEST_TMP/ac" \
    -H 'Expect: 100-continue'
ok "Gradle: 413 before the body with Expect: 100-continue; small entries stored"
