# The memory tier (limits.memory_cache) answers GETs of small hot objects
# from memory, and never after a change it missed: every way an object
# can change (PUT, DELETE, COPY and MOVE onto it, purge, eviction) is
# followed by a GET on the same keep-alive connection, which the same
# event thread (and so the same cache) serves.
source "$CS_SRCDIR/tests/lib.sh"

metric() { # metric NAME: its value in /metrics
    curl -sS --max-time 10 "$URL/_/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# GET PATH twice on one connection, then the bodies of both, one per line
get_twice() {
    curl -sS --max-time 10 "$URL$1" -o "$TEST_TMP/g1" "$URL$1" -o "$TEST_TMP/g2"
    echo "$(cat "$TEST_TMP/g1") $(cat "$TEST_TMP/g2")"
}

cat >"$TEST_TMP/cstashd.conf" <<CONF
limits = { memory_cache = "4M"; };
namespaces = (
  { name = "ns"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; },
  { name = "small"; max_size = "256K"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; },
  { name = "z"; compression = "zstd"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; }
);
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"

# a hit is kept, and the next GET of it comes from memory
expect_status 201 PUT /ns/k --data-binary v1
[ "$(get_twice /ns/k)" = "v1 v1" ] || fail "GETs of a new object: $(get_twice /ns/k)"
hits=$(metric cstash_memory_hits_total)
[ "${hits:-0}" -ge 1 ] || fail "no GET was answered from memory (cstash_memory_hits_total=$hits)"
[ "$(metric cstash_memory_objects)" -ge 1 ] || fail "nothing is held in memory"
ok "a second GET of a small object is answered from memory ($hits memory hits)"

# an overwrite: the next GET on the same connection has the new bytes
# (the counter of the name moved before the PUT was answered)
curl -sS --max-time 10 "$URL/ns/k" -o "$TEST_TMP/g1" --next -X PUT --data-binary v2 "$URL/ns/k" \
    -o /dev/null --next "$URL/ns/k" -o "$TEST_TMP/g2"
[ "$(cat "$TEST_TMP/g1") $(cat "$TEST_TMP/g2")" = "v1 v2" ] ||
    fail "GET after an overwrite on one connection: $(cat "$TEST_TMP/g1") then $(cat "$TEST_TMP/g2")"
[ "$(get_twice /ns/k)" = "v2 v2" ] || fail "GETs after the overwrite: $(get_twice /ns/k)"
stale=$(metric cstash_memory_stale_total)
[ "${stale:-0}" -ge 1 ] || fail "the outdated copy was not found stale"
ok "an overwrite is served at once, the old copy dropped as stale"

# the headers come with the copy: ETag of the bytes, HEAD without a body
expect_status 200 GET /ns/k
[ "$(header ETag)" = "\"$(printf v2 | sha256sum | cut -d' ' -f1)\"" ] ||
    fail "ETag from memory: $(header ETag)"
expect_status 200 HEAD /ns/k -I
[ "$(header Content-Length)" = 2 ] || fail "HEAD from memory: Content-Length $(header Content-Length)"
expect_status 304 GET /ns/k -H "If-None-Match: \"$(printf v2 | sha256sum | cut -d' ' -f1)\""
ok "ETag, HEAD and If-None-Match are right for an object held in memory"

# a compressed 64 KiB object keeps one representation (raw) and one ETag
# whether a GET is served from memory or not, and for HEAD
head -c 65536 /dev/zero >"$TEST_TMP/zeros"
expect_status 201 PUT /z/big --data-binary @"$TEST_TMP/zeros"
raw_tag="\"$(sha "$TEST_TMP/zeros")\""
for how in get get-again head; do
    if [ $how = head ]; then
        expect_status 200 HEAD /z/big -I -H 'Accept-Encoding: zstd'
    else
        expect_status 200 GET /z/big -H 'Accept-Encoding: zstd'
        cmp -s "$TEST_TMP/body" "$TEST_TMP/zeros" || fail "$how of a compressed object: not its raw bytes"
    fi
    [ "$(header ETag)" = "$raw_tag" ] || fail "$how of a compressed 64 KiB object: ETag $(header ETag), not $raw_tag"
done
expect_status 304 GET /z/big -H 'Accept-Encoding: zstd' -H "If-None-Match: $raw_tag"
ok "a compressed 64 KiB object has one ETag from memory, from disk and for HEAD"

# DELETE
[ "$(get_twice /ns/k)" = "v2 v2" ] || fail "GETs before DELETE"
curl -sS --max-time 10 -X DELETE "$URL/ns/k" -o /dev/null -w '%{http_code} ' --next "$URL/ns/k" \
    -o "$TEST_TMP/g1" -w '%{http_code} ' >"$TEST_TMP/codes"
[ "$(cat "$TEST_TMP/codes")" = "204 404 " ] ||
    fail "DELETE then GET on one connection: $(cat "$TEST_TMP/codes")"
ok "a deleted object is not served from memory"

# COPY and MOVE onto a key held in memory
expect_status 201 PUT /ns/dst --data-binary old
expect_status 201 PUT /ns/src --data-binary copied
expect_status 201 PUT /ns/src2 --data-binary moved
[ "$(get_twice /ns/dst)" = "old old" ] || fail "GETs before COPY"
curl -sS --max-time 10 -X COPY -H "Destination: $URL/ns/dst" "$URL/ns/src" -o /dev/null \
    --next "$URL/ns/dst" -o "$TEST_TMP/g1"
[ "$(cat "$TEST_TMP/g1")" = copied ] || fail "GET after COPY onto a key in memory: $(cat "$TEST_TMP/g1")"
[ "$(get_twice /ns/src2)" = "moved moved" ] || fail "GETs of the MOVE source"
curl -sS --max-time 10 -X MOVE -H "Destination: $URL/ns/dst" "$URL/ns/src2" -o /dev/null \
    --next "$URL/ns/dst" -o "$TEST_TMP/g1" --next "$URL/ns/src2" -o /dev/null \
    -w '%{http_code} ' >"$TEST_TMP/codes"
[ "$(cat "$TEST_TMP/g1")" = moved ] || fail "GET after MOVE onto a key in memory: $(cat "$TEST_TMP/g1")"
grep -qx '404 ' "$TEST_TMP/codes" || fail "the moved source is still served: $(cat "$TEST_TMP/codes")"
ok "COPY and MOVE onto a key in memory, and the moved source, are served as they are on disk"

# a purge of the namespace
expect_status 201 PUT /ns/p --data-binary purged
[ "$(get_twice /ns/p)" = "purged purged" ] || fail "GETs before the purge"
curl -sS --max-time 30 -X DELETE "$URL/_/ns/ns" -o /dev/null --next "$URL/ns/p" -o /dev/null \
    -w '%{http_code} ' >"$TEST_TMP/codes"
grep -qx '404 ' "$TEST_TMP/codes" || fail "a purged object is served: $(cat "$TEST_TMP/codes")"
ok "a purged object is not served from memory"

# eviction: a 256K namespace, one object kept in memory, then enough newer
# ones to push it out (a PUT that finds the namespace full while eviction
# runs may get 507: it is tried again)
head -c 1000 /dev/urandom >"$TEST_TMP/first"
expect_status 201 PUT /small/first --data-binary @"$TEST_TMP/first"
expect_status 200 GET /small/first
expect_status 200 GET /small/first
head -c 16000 /dev/urandom >"$TEST_TMP/filler"
for i in $(seq 1 40); do
    for try in $(seq 1 20); do
        code=$(http PUT "/small/f$i" --data-binary @"$TEST_TMP/filler")
        [ "$code" = 201 ] && break
        [ "$code" = 507 ] || fail "PUT /small/f$i: $code"
        sleep 0.2
    done
    [ "$code" = 201 ] || fail "PUT /small/f$i: still 507 after 20 tries"
done
gone=no
for i in $(seq 1 100); do
    [ -e "$TEST_TMP/data/objects" ] || break
    [ "$(http GET /small/first)" = 404 ] && { gone=yes; break; }
    sleep 0.1
done
[ $gone = yes ] || fail "the oldest object of a full namespace is still served after eviction"
ok "an evicted object is not served from memory"

# racing overwrites: every GET answers one of the bodies whole, with its
# own ETag, and after the last PUT the last body
for v in a b c d; do head -c 3000 /dev/zero | tr '\0' "$v" >"$TEST_TMP/body_$v"; done
expect_status 201 PUT /ns/race --data-binary @"$TEST_TMP/body_a"
(for i in $(seq 1 30); do
    for v in b c d a; do
        curl -sS --max-time 10 -o /dev/null -X PUT --data-binary @"$TEST_TMP/body_$v" "$URL/ns/race"
    done
done) &
writer=$!
for r in $(seq 1 60); do
    curl -sS --max-time 10 -D "$TEST_TMP/rh" -o "$TEST_TMP/rb" "$URL/ns/race"
    tag=$(tr -d '\r' <"$TEST_TMP/rh" | sed -n 's/^ETag: "\(.*\)"/\1/Ip')
    [ "$tag" = "$(sha "$TEST_TMP/rb")" ] || fail "a GET during overwrites got a body its ETag does not name"
done
wait "$writer"
[ "$(get_twice /ns/race)" != "" ] || fail "GETs of the raced key"
curl -sS --max-time 10 -o /dev/null -X PUT --data-binary @"$TEST_TMP/body_b" "$URL/ns/race" \
    --next -o "$TEST_TMP/rb" "$URL/ns/race"
cmp -s "$TEST_TMP/rb" "$TEST_TMP/body_b" || fail "after racing overwrites, the last PUT's body is not served"
ok "GETs racing overwrites get whole bodies with their own ETag, then the last one"

# memory_cache = 0 turns it off
stop_server
sed -i 's/memory_cache = "4M"/memory_cache = 0/' "$TEST_TMP/cstashd.conf"
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
expect_status 201 PUT /ns/off --data-binary x
[ "$(get_twice /ns/off)" = "x x" ] || fail "GETs with the memory tier off"
[ "$(metric cstash_memory_hits_total)" = 0 ] || fail "memory hits with memory_cache = 0"
ok "memory_cache = 0 serves every GET from the disk"
