# Purge one namespace without a restart (DELETE /_/ns/<name>) and offline
# (cstashd purge): the other namespace is untouched. /_/stats and
# /_/metrics count hits, misses, PUTs and bytes exactly.
source "$CS_SRCDIR/tests/lib.sh"

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = (
  { name = "a"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; },
  { name = "b"; max_size = "64M"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; }
);
CONF
data="$TEST_TMP/data"
start_server "$data" --config "$TEST_TMP/cstashd.conf"

printf '0123456789' >"$TEST_TMP/ten"
for i in 1 2 3; do
    expect_status 201 PUT "/a/k$i" -H 'Content-Type:' --data-binary @"$TEST_TMP/ten"
    expect_status 201 PUT "/b/k$i" -H 'Content-Type:' --data-binary @"$TEST_TMP/ten"
done
expect_status 201 MKCOL /a/emptydir/
expect_status 200 GET /a/k1
expect_status 200 GET /a/k2
expect_status 200 HEAD /a/k3
expect_status 404 GET /a/missing
expect_status 200 GET /_/stats
cp "$TEST_TMP/body" "$TEST_TMP/stats.json"
[ "$(header Content-Type)" = application/json ] || fail "stats Content-Type: $(header Content-Type)"
for pair in objects=3 hits=3 misses=1 puts=3 bytes_in=30 bytes_out=20 evictions=0 max_size=0; do
    got=$(json_field a "${pair%=*}" "$TEST_TMP/stats.json")
    [ "$got" = "${pair#*=}" ] || fail "stats a.${pair%=*} = $got, want ${pair#*=}: $(cat "$TEST_TMP/stats.json")"
done
[ "$(json_field b max_size "$TEST_TMP/stats.json")" = $((64 << 20)) ] || fail "b.max_size"
[ "$(json_field a bytes "$TEST_TMP/stats.json")" = 12288 ] || fail "a.bytes (3 x 4 KiB blocks)"
[ "$(json_field data_dir touches_dropped "$TEST_TMP/stats.json")" = 0 ] || fail "touches_dropped"
ok "stats: objects, bytes, max_size, hits, misses, puts, bytes in/out exact"

expect_status 200 GET /_/metrics
grep -q '^# TYPE cstash_hits_total counter$' "$TEST_TMP/body" || fail "metrics: no TYPE line"
grep -q '^cstash_hits_total{namespace="a"} 3$' "$TEST_TMP/body" || fail "metrics: hits"
grep -q '^cstash_misses_total{namespace="a"} 1$' "$TEST_TMP/body" || fail "metrics: misses"
grep -q '^cstash_objects{namespace="b"} 3$' "$TEST_TMP/body" || fail "metrics: objects"
grep -q '^cstash_max_size_bytes{namespace="b"} 67108864$' "$TEST_TMP/body" || fail "metrics: max_size"
grep -q '^cstash_touches_dropped_total 0$' "$TEST_TMP/body" || fail "metrics: touches_dropped"
ok "metrics in Prometheus text format with the same figures"
expect_status 405 POST /_/stats
expect_status 405 GET /_/ns/a
[ "$(header Allow)" = DELETE ] || fail "Allow on /_/ns/: $(header Allow)"
expect_status 404 DELETE /_/ns/nosuch
ok "admin endpoints refuse wrong methods (405 + Allow) and unknown namespaces (404)"

expect_status 200 DELETE /_/ns/a
grep -q '"objects":3' "$TEST_TMP/body" || fail "purge report: $(cat "$TEST_TMP/body")"
for i in 1 2 3; do
    expect_status 404 GET "/a/k$i"
    expect_status 200 GET "/b/k$i"
    cmp -s "$TEST_TMP/body" "$TEST_TMP/ten" || fail "b/k$i changed by the purge of a"
done
expect_status 404 PROPFIND /a/emptydir/ -H 'Depth: 0'
expect_status 200 GET /_/stats
[ "$(json_field a objects "$TEST_TMP/body")" = 0 ] || fail "a not empty after purge"
[ "$(json_field a bytes "$TEST_TMP/body")" = 0 ] || fail "a bytes after purge"
[ "$(json_field b objects "$TEST_TMP/body")" = 3 ] || fail "b lost objects"
ok "DELETE /_/ns/a without a restart: a is empty (objects and collections), b untouched"
expect_status 201 PUT /a/k1 -H 'Content-Type:' --data-binary @"$TEST_TMP/ten"
ok "a takes new objects after the purge"

# offline: cstashd purge
code=0
"$CSTASHD" --config "$TEST_TMP/cstashd.conf" --data-dir "$data" purge b >"$TEST_TMP/out" 2>&1 || code=$?
[ "$code" = 2 ] && grep -q "curl -X DELETE" "$TEST_TMP/out" || fail "purge next to a running server: $code $(cat "$TEST_TMP/out")"
stop_server TERM
code=0
"$CSTASHD" --config "$TEST_TMP/cstashd.conf" --data-dir "$data" purge nosuch >"$TEST_TMP/out" 2>&1 || code=$?
[ "$code" = 1 ] && grep -q "no namespace named 'nosuch'" "$TEST_TMP/out" || fail "purge nosuch: $code $(cat "$TEST_TMP/out")"
"$CSTASHD" --config "$TEST_TMP/cstashd.conf" --data-dir "$data" purge b >"$TEST_TMP/out" ||
    fail "purge b: $(cat "$TEST_TMP/out")"
grep -q "purged namespace 'b': 3 objects" "$TEST_TMP/out" || fail "purge output: $(cat "$TEST_TMP/out")"
start_server "$data" --config "$TEST_TMP/cstashd.conf"
expect_status 404 GET /b/k1
expect_status 200 GET /a/k1
ok "cstashd purge b (offline) empties b and keeps a; refuses while a server runs or for unknown names"
stop_server
