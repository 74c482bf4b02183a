# Eviction must never take an object that was written onto its victim's
# key after the victims were chosen. The evictor used to unlink a victim's
# file unless its mtime was well after the row's creation; a COPY (a hard
# link) or MOVE (a rename) keeps its source's old mtime, so an acknowledged
# COPY onto the least recently used key could be unlinked, leaving a row
# without a file (found in review of issue 15). Here the window is held
# open: the index writer is stalled while the COPY is acknowledged, then a
# reload lowers max_size so eviction runs on the committed (older) rows.
source "$CS_SRCDIR/tests/lib.sh"

conf() { # conf MAX_SIZE
    cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = ( { name = "n"; max_size = "$1"; read = [ "*" ]; write = [ "*" ]; } );
CONF
}
conf 1G
data="$TEST_TMP/data"
start_server "$data" --config "$TEST_TMP/cstashd.conf"
head -c 20000 /dev/urandom >"$TEST_TMP/victim"
head -c 20000 /dev/urandom >"$TEST_TMP/source"
expect_status 201 PUT /n/victim -H 'Content-Type:' --data-binary @"$TEST_TMP/victim"
sleep 0.3 # the victim is the least recently used
for i in $(seq 1 8); do
    head -c 20000 /dev/urandom >"$TEST_TMP/o$i"
    expect_status 201 PUT "/n/o$i" -H 'Content-Type:' --data-binary @"$TEST_TMP/o$i"
done
expect_status 201 PUT /n/source -H 'Content-Type:' --data-binary @"$TEST_TMP/source"
curl -sS -X PROPFIND -H 'Depth: 1' "$URL/n/" >/dev/null # all committed

hold_index_lock "$data"
code=$(http COPY /n/source -H "Destination: $URL/n/victim")
[ "$code" = 204 ] || fail "COPY onto the victim's key: $code ($(cat "$TEST_TMP/body"))"
conf 60K
kill -HUP "$SERVER_PID"
for i in $(seq 1 50); do
    grep -q 'evicted' "$SERVER_LOG" && break
    sleep 0.1
done
grep -q 'evicted' "$SERVER_LOG" || fail "no eviction after max_size was lowered"
release_index_lock
for i in $(seq 1 40); do
    grep -q 'commits work again' "$SERVER_LOG" && break
    sleep 0.1
done
curl -sS -X PROPFIND -H 'Depth: 1' "$URL/n/" >"$TEST_TMP/list"
code=$(http GET /n/victim)
if grep -q '/n/victim<' "$TEST_TMP/list"; then
    [ "$code" = 200 ] || fail "the COPY onto the victim's key is listed but GET says $code: evicted under its row"
    cmp -s "$TEST_TMP/body" "$TEST_TMP/source" || fail "the victim's key serves another body than the COPY's"
else
    fail "the acknowledged COPY onto the victim's key is gone (evicted as the version it replaced)"
fi
ok "an acknowledged COPY onto the least recently used key survives the eviction of the key's older version"
