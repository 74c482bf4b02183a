# kill -9 under PUT load: after a restart every PUT acknowledged on a
# durable namespace reads back intact, nothing partial is served, temp
# files are gone, and fsck finds index and files in agreement.
source "$CS_SRCDIR/tests/lib.sh"

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = (
  { name = "safe"; durable = true; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; },
  { name = "fast"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; }
);
CONF
data="$TEST_TMP/data"
start_server "$data" --config "$TEST_TMP/cstashd.conf"
mkdir -p "$TEST_TMP/bodies"

# 3 writers PUT distinct keys in a loop and log the ones acknowledged
writer() {
    local w=$1 n=0 code
    while [ ! -e "$TEST_TMP/stop" ]; do
        n=$((n + 1))
        local key="w$w/k$n" f="$TEST_TMP/bodies/w$w-k$n"
        head -c $(( (RANDOM % 64 + 1) * 1000 )) /dev/urandom >"$f"
        code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type:' \
            --data-binary @"$f" "$URL/safe/$key" || true)
        case $code in 201|204) echo "$key" >>"$TEST_TMP/acked.$w" ;; esac
        # some ordinary traffic next to it
        curl -s -o /dev/null -X PUT --data-binary @"$f" "$URL/fast/$key" || true
    done
}
for w in 1 2 3; do writer $w & done
sleep 3
stop_server KILL
touch "$TEST_TMP/stop"
wait
cat "$TEST_TMP"/acked.* >"$TEST_TMP/acked"
acked=$(wc -l <"$TEST_TMP/acked")
[ "$acked" -gt 20 ] || fail "only $acked PUTs acknowledged before the kill: load too light"

start_server "$data" --config "$TEST_TMP/cstashd.conf"
[ "$(count_files "$data/tmp")" = 0 ] || fail "temp files left after restart"
while read -r key; do
    expect_status 200 GET "/safe/$key"
    cmp -s "$TEST_TMP/body" "$TEST_TMP/bodies/${key/\//-}" || fail "safe/$key differs after kill -9"
done <"$TEST_TMP/acked"
ok "kill -9 under load: all $acked acknowledged durable PUTs read back byte-exact"

# keys in flight at the kill: absent or whole, never partial
for f in "$TEST_TMP"/bodies/*; do
    key=$(basename "$f" | sed 's/-/\//')
    grep -qx "$key" "$TEST_TMP/acked" && continue
    for ns in safe fast; do
        code=$(http GET "/$ns/$key")
        case $code in
        404) ;;
        200) cmp -s "$TEST_TMP/body" "$f" || fail "$ns/$key served partial or wrong after the kill" ;;
        *) fail "$ns/$key: status $code after the kill" ;;
        esac
    done
done
ok "unacknowledged keys are absent or whole, in both namespaces"

# every durable row survived with its file; fsck reconciles the rest
stop_server TERM
sleep 2.1 # fsck only touches what is older than 2 s
"$CSTASHD" --config "$TEST_TMP/cstashd.conf" --data-dir "$data" fsck >"$TEST_TMP/fsck1" ||
    fail "fsck failed: $(cat "$TEST_TMP/fsck1")"
cat "$TEST_TMP/fsck1"
grep -q 'rows without a file, dropped: *0$' "$TEST_TMP/fsck1" || fail "fsck dropped rows: an indexed object was lost"
"$CSTASHD" --config "$TEST_TMP/cstashd.conf" --data-dir "$data" fsck >"$TEST_TMP/fsck2"
grep -q 'nothing to do' "$TEST_TMP/fsck2" || fail "a second fsck still found work: $(cat "$TEST_TMP/fsck2")"
ok "fsck after the crash: no indexed object lost; a second run finds nothing to do"

start_server "$data" --config "$TEST_TMP/cstashd.conf"
expect_status 200 GET /_/stats
cp "$TEST_TMP/body" "$TEST_TMP/stats.json"
total=$(($(json_field safe bytes "$TEST_TMP/stats.json") + $(json_field fast bytes "$TEST_TMP/stats.json")))
[ "$total" = "$(object_bytes "$data")" ] || fail "usage $total differs from the files $(object_bytes "$data")"
while read -r key; do
    expect_status 200 GET "/safe/$key"
done <"$TEST_TMP/acked"
ok "usage accounting equals the files; acknowledged keys still served"
stop_server
