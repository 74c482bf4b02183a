# Concurrent PUTs of one key: last writer wins, a reader never sees a mix
# of two bodies or a partial one.
source "$CS_SRCDIR/tests/lib.sh"

start_server "$TEST_TMP/data"
for n in 1 2 3 4; do
    head -c $((3 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/body$n"
    sha "$TEST_TMP/body$n" >>"$TEST_TMP/valid"
done
curl -sf -X PUT --data-binary @"$TEST_TMP/body1" "$URL/default/race" >/dev/null

writer() {
    local n=$1 r
    for r in $(seq 1 15); do
        curl -s -o /dev/null -w '%{http_code}\n' -X PUT --data-binary @"$TEST_TMP/body$n" \
            "$URL/default/race" >>"$TEST_TMP/codes.$n"
    done
}
reader() {
    local n=$1 r
    for r in $(seq 1 40); do
        curl -s -o "$TEST_TMP/read.$n" "$URL/default/race"
        sha "$TEST_TMP/read.$n" >>"$TEST_TMP/seen.$n"
    done
}
pids=()
for n in 1 2 3 4; do writer $n & pids+=($!); done
for n in 1 2; do reader $n & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done

cat "$TEST_TMP"/codes.* | sort | uniq -c
bad=$(cat "$TEST_TMP"/codes.* | grep -cv '^20[14]$' || true)
[ "$bad" = 0 ] || fail "$bad PUTs failed"
bad=$(cat "$TEST_TMP"/seen.* | grep -cvxFf "$TEST_TMP/valid" || true)
[ "$bad" = 0 ] || fail "$bad reads returned a body that no writer sent"
ok "60 concurrent PUTs and 80 GETs of one key: every read is one writer's whole body"

curl -s -o "$TEST_TMP/final" "$URL/default/race"
grep -qxF "$(sha "$TEST_TMP/final")" "$TEST_TMP/valid" || fail "final body is a mix"
[ "$(count_files "$TEST_TMP/data/tmp")" = 0 ] || fail "temp files left behind"
[ "$(count_files "$TEST_TMP/data/objects")" = 1 ] || fail "more than one object for one key"
ok "the final object is one writer's body; no temp files left"
