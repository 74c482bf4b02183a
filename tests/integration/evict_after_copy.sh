# Eviction must never take an object that was written onto its victim's
# key after the victims were chosen. The evictor used to unlink a victim's
# file unless its mtime was well after the row's creation; a COPY (a hard
# link) or MOVE (a rename) keeps its source's old mtime, so an acknowledged
# COPY onto the least recently used key could be unlinked, leaving a row
# without a file (found in review of issue 15); and an identical rewrite
# (the normal case in a build cache: the key names the content) was
# evicted when the body digest was the test (second review). Here the
# window is held open: the index writer is stalled while the write is
# acknowledged, then a reload lowers max_size so eviction runs on the
# committed (older) rows. Last, an object whose header is damaged is still
# evicted (a digest check kept it, and its bytes, forever).
source "$CS_SRCDIR/tests/lib.sh"

conf() { # conf MAX_SIZE
    cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = ( { name = "n"; max_size = "$1"; read = [ "*" ]; write = [ "*" ]; } );
CONF
}
# run_case HOW: COPY (another body) or PUT (the same body) onto the LRU key
# while the index is stalled, then eviction; the write must survive
run_case() {
    local how=$1 data="$TEST_TMP/data-$1" code i
    conf 1G
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
    if [ "$how" = COPY ]; then
        code=$(http COPY /n/source -H "Destination: $URL/n/victim")
        want="$TEST_TMP/source"
    else
        code=$(http PUT /n/victim -H 'Content-Type:' --data-binary @"$TEST_TMP/victim")
        want="$TEST_TMP/victim"
    fi
    [ "$code" = 204 ] || fail "$how onto the victim's key: $code ($(cat "$TEST_TMP/body"))"
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
    grep -q '/n/victim<' "$TEST_TMP/list" ||
        fail "the acknowledged $how onto the victim's key is gone (evicted as the version it replaced)"
    [ "$code" = 200 ] || fail "the $how onto the victim's key is listed but GET says $code"
    cmp -s "$TEST_TMP/body" "$want" || fail "the victim's key serves another body than the $how's"
    ok "an acknowledged $how onto the least recently used key survives the eviction of its older version"
    stop_server TERM
}
run_case COPY
run_case PUT

# a damaged object is evicted like any other
conf 1G
data="$TEST_TMP/data-damaged"
start_server "$data" --config "$TEST_TMP/cstashd.conf"
for i in $(seq 1 6); do
    head -c 20000 /dev/urandom >"$TEST_TMP/d$i"
    expect_status 201 PUT "/n/d$i" -H 'Content-Type:' --data-binary @"$TEST_TMP/d$i"
    [ "$i" = 1 ] && sleep 0.3
done
curl -sS -X PROPFIND -H 'Depth: 1' "$URL/n/" >/dev/null
f=$(find "$data/objects" -type f -printf '%T@ %p\n' | sort -n | head -n 1 | cut -d' ' -f2)
printf 'XXXX' | dd of="$f" bs=1 seek=0 conv=notrunc 2>/dev/null
conf 60K
kill -HUP "$SERVER_PID"
for i in $(seq 1 50); do
    [ -e "$f" ] || break
    sleep 0.1
done
[ -e "$f" ] && fail "the damaged least recently used object was not evicted"
expect_status 404 GET /n/d1
ok "a damaged object is evicted (it no longer answers 500 and counts against the quota for good)"
