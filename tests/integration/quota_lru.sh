# Per-namespace quota with LRU eviction: writing 3x a namespace's max_size
# never takes its disk usage past the hard limit (max_size + 5%); keys read
# recently survive, cold ones go; the other namespace is untouched; the
# accounting matches the files after a restart.
source "$CS_SRCDIR/tests/lib.sh"

MAX=$((1024 * 1024))
HARD=$((MAX * 105 / 100))
cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = (
  { name = "small"; max_size = "1M"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; },
  { name = "other"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; }
);
CONF
data="$TEST_TMP/data"
start_server "$data" --config "$TEST_TMP/cstashd.conf"

head -c 16000 /dev/urandom >"$TEST_TMP/obj"   # 16000 bytes + header: 16 KiB on disk
for i in 1 2 3; do expect_status 201 PUT "/other/keep$i" --data-binary @"$TEST_TMP/obj"; done
for i in $(seq 1 8); do expect_status 201 PUT "/small/hot$i" --data-binary @"$TEST_TMP/obj"; done

# a monitor samples the object files' disk usage while the writers run
(
    max=0
    while [ ! -e "$TEST_TMP/stop" ]; do
        b=$(object_bytes "$data")
        [ "$b" -gt "$max" ] && max=$b && echo "$max" >"$TEST_TMP/peak"
        sleep 0.02
    done
) &
monitor=$!

# 3 x max_size in 12 rounds of 16 PUTs by 4 parallel writers; the hot keys
# are read between rounds
statuses="$TEST_TMP/statuses"
: >"$statuses"
for round in $(seq 1 12); do
    pids=""
    for w in 1 2 3 4; do
        (
            for j in 1 2 3 4; do
                curl -s -o /dev/null -w '%{http_code}\n' -X PUT -H 'Content-Type:' \
                    --data-binary @"$TEST_TMP/obj" "$URL/small/cold-$round-$w-$j"
            done >>"$statuses.$w"
        ) &
        pids="$pids $!"
    done
    wait $pids
    for i in $(seq 1 8); do expect_status 200 GET "/small/hot$i"; done
    sleep 0.6
done
touch "$TEST_TMP/stop"
wait "$monitor"
cat "$statuses".* >"$statuses"
[ "$(wc -l <"$statuses")" = 192 ] || fail "expected 192 PUT answers, got $(wc -l <"$statuses")"
bad=$(grep -cv '^201$' "$statuses" || true)
[ "$bad" = 0 ] || fail "$bad PUTs did not get 201: $(sort "$statuses" | uniq -c | tr '\n' ' ')"
ok "192 PUTs of 16 KiB (3 MiB) into a 1 MiB namespace: all stored, none refused"

# the 'other' namespace adds 48 KiB to the files
peak=$(cat "$TEST_TMP/peak")
[ "$peak" -le $((HARD + 3 * 16384)) ] || fail "disk usage peaked at $peak bytes, over the hard limit $HARD"
ok "disk usage peaked at $peak bytes: never over the hard limit ($HARD + 48 KiB of 'other')"

for i in $(seq 1 8); do expect_status 200 GET "/small/hot$i"; done
ok "the 8 keys read between rounds all survived"
gone=0
for w in 1 2 3 4; do for j in 1 2 3 4; do
    [ "$(http GET "/small/cold-1-$w-$j")" = 404 ] && gone=$((gone + 1))
done; done
[ "$gone" = 16 ] || fail "only $gone of the 16 oldest cold keys were evicted"
ok "the oldest cold keys were evicted"
for i in 1 2 3; do expect_status 200 GET "/other/keep$i"; done
ok "the other namespace is untouched"

expect_status 200 GET /_/stats
cp "$TEST_TMP/body" "$TEST_TMP/stats.json"
ev=$(json_field small evictions "$TEST_TMP/stats.json")
bytes=$(json_field small bytes "$TEST_TMP/stats.json")
[ "$ev" -gt 100 ] || fail "stats: evictions=$ev"
[ "$bytes" -le "$HARD" ] || fail "stats: bytes=$bytes over the hard limit"
[ "$(json_field small max_size "$TEST_TMP/stats.json")" = "$MAX" ] || fail "stats: max_size"
ok "stats: $ev evictions, $bytes bytes in use"

# exact accounting after a clean restart: the index totals equal the files
stop_server TERM
start_server "$data" --config "$TEST_TMP/cstashd.conf"
expect_status 200 GET /_/stats
cp "$TEST_TMP/body" "$TEST_TMP/stats.json"
total=$(($(json_field small bytes "$TEST_TMP/stats.json") + $(json_field other bytes "$TEST_TMP/stats.json")))
files=$(object_bytes "$data")
[ "$total" = "$files" ] || fail "after restart the index counts $total bytes, the files take $files"
objects=$(($(json_field small objects "$TEST_TMP/stats.json") + $(json_field other objects "$TEST_TMP/stats.json")))
[ "$objects" = "$(count_files "$data/objects")" ] || fail "object count $objects differs from the files"
ok "after a restart the usage totals equal the files on disk ($total bytes, $objects objects)"
stop_server
