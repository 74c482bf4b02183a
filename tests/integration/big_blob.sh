# A 1 GiB PUT and GET stream through the server: bytes identical and peak
# RSS (VmHWM) under 64 MiB.
source "$CS_SRCDIR/tests/lib.sh"

SIZE_MB=${CS_BIG_BLOB_MB:-1024}
LIMIT_KB=$((64 * 1024))
avail_kb=$(df -Pk "$TEST_TMP" | awk 'NR == 2 { print $4 }')
[ "$avail_kb" -gt $((SIZE_MB * 1024 * 3 + 100000)) ] ||
    skip_test "needs $((SIZE_MB * 3)) MiB free in $TEST_TMP, has $((avail_kb / 1024)) MiB"

# A pseudo-random 1 GiB file, quick to make: a 1 MiB random block with a
# counter in front of each copy, so no two MiB are the same.
head -c 1048576 /dev/urandom >"$TEST_TMP/block"
for i in $(seq 1 "$SIZE_MB"); do
    printf '%016d' "$i"
    tail -c +17 "$TEST_TMP/block"
done >"$TEST_TMP/big"
want=$(sha "$TEST_TMP/big")

start_server "$TEST_TMP/data"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/big" "$URL/default/big")
[ "$code" = 201 ] || fail "PUT of $SIZE_MB MiB: $code"
rm -f "$TEST_TMP/big"
got=$(curl -s "$URL/default/big" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "GET returned different bytes"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")
echo "peak RSS (VmHWM) after a $SIZE_MB MiB PUT + GET: $hwm kB (limit $LIMIT_KB kB)"
[ "$hwm" -lt "$LIMIT_KB" ] || fail "peak RSS $hwm kB is over $LIMIT_KB kB"
ok "$SIZE_MB MiB PUT + GET byte-exact; peak RSS $hwm kB < 64 MiB"
stop_server
