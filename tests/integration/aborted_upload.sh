# An upload that stops half-way leaves nothing behind and never replaces
# the stored object.
source "$CS_SRCDIR/tests/lib.sh"

start_server "$TEST_TMP/data"
port=${URL##*:}

# partial_put KEY: announces 10 MB, sends 1 MB, then hangs up
partial_put() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'PUT /default/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n' "$1" >&3
    head -c 1000000 /dev/urandom >&3
    sleep 0.2
    exec 3>&-
}
wait_tmp_empty() {
    local i
    for i in $(seq 1 100); do
        [ "$(count_files "$TEST_TMP/data/tmp")" = 0 ] && return 0
        sleep 0.05
    done
    ls -la "$TEST_TMP/data/tmp"
    fail "temp file of an aborted upload still there"
}

partial_put fresh
wait_tmp_empty
expect_status 404 GET /default/fresh
ok "aborted upload of a new key: 404 and no temp file"

echo "old body" >"$TEST_TMP/old"
expect_status 201 PUT /default/existing --data-binary @"$TEST_TMP/old"
partial_put existing
wait_tmp_empty
expect_status 200 GET /default/existing
cmp -s "$TEST_TMP/body" "$TEST_TMP/old" || fail "aborted overwrite changed the object"
ok "aborted overwrite: the old object is intact"

# curl killed in the middle of a large upload
head -c 50000000 /dev/urandom >"$TEST_TMP/big"
curl -s -X PUT --limit-rate 2M --data-binary @"$TEST_TMP/big" "$URL/default/killed" -o /dev/null &
cpid=$!
for i in $(seq 1 50); do
    [ "$(count_files "$TEST_TMP/data/tmp")" = 1 ] && break
    sleep 0.05
done
[ "$(count_files "$TEST_TMP/data/tmp")" = 1 ] || fail "upload did not start"
kill -KILL $cpid
wait $cpid 2>/dev/null || true
wait_tmp_empty
expect_status 404 GET /default/killed
ok "client killed mid-upload: nothing stored"
[ "$(count_files "$TEST_TMP/data/objects")" = 1 ] || fail "stray objects"
