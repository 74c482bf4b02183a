# Issue 15.4: in a durable namespace every 2xx survives kill -9: PUT,
# COPY, MOVE, DELETE and MKCOL. Before the fix a durable COPY or MOVE was
# acknowledged before its index row committed; a kill -9 then lost the row
# and the restart's fsck removed the copied object as unindexed.
#
# First deterministically: the index writer is stalled (another process
# holds sqlite's write lock), each operation is sent, the server is killed
# while the lock is held, and whatever was acknowledged must be there after
# the restart. Then under load: COPY and MOVE in a loop, kill -9 at a
# random moment, and every acknowledged one checked.
source "$CS_SRCDIR/tests/lib.sh"

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = ( { name = "safe"; durable = true; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; } );
CONF
data="$TEST_TMP/data"

# wait_fsck: the restart's background fsck has finished (it removes
# objects without a row, once they are 2 s old)
wait_fsck() {
    local i
    for i in $(seq 1 100); do
        grep -q "fsck of .* done in" "$SERVER_LOG" && return 0
        grep -q "fsck of .* stopped" "$SERVER_LOG" && fail "the background fsck stopped: $(grep 'fsck of' "$SERVER_LOG")"
        sleep 0.1
    done
    fail "the background fsck did not finish"
}

start_server "$data" --config "$TEST_TMP/cstashd.conf"
for k in src1 src2 src3 gone; do
    echo "object $k" >"$TEST_TMP/$k"
    expect_status 201 PUT "/safe/$k" -H 'Content-Type:' --data-binary @"$TEST_TMP/$k"
done
hold_index_lock "$data"
cop=$(curl -sS -o /dev/null -w '%{http_code}' -m 3 -X COPY -H "Destination: $URL/safe/copy1" "$URL/safe/src1" 2>/dev/null || true)
mov=$(curl -sS -o /dev/null -w '%{http_code}' -m 3 -X MOVE -H "Destination: $URL/safe/moved2" "$URL/safe/src2" 2>/dev/null || true)
del=$(curl -sS -o /dev/null -w '%{http_code}' -m 3 -X DELETE "$URL/safe/gone" 2>/dev/null || true)
mkc=$(curl -sS -o /dev/null -w '%{http_code}' -m 3 -X MKCOL "$URL/safe/coll" 2>/dev/null || true)
stop_server KILL
release_index_lock
echo "answers while the index was stalled: COPY $cop, MOVE $mov, DELETE $del, MKCOL $mkc"
sleep 2.1 # old enough for fsck to judge
start_server "$data" --config "$TEST_TMP/cstashd.conf"
wait_fsck
case $cop in 2??)
    expect_status 200 GET /safe/copy1
    cmp -s "$TEST_TMP/body" "$TEST_TMP/src1" || fail "acknowledged COPY: wrong body after kill -9" ;;
esac
case $mov in 2??)
    expect_status 200 GET /safe/moved2
    cmp -s "$TEST_TMP/body" "$TEST_TMP/src2" || fail "acknowledged MOVE: wrong body after kill -9"
    expect_status 404 GET /safe/src2 ;;
esac
curl -sS -X PROPFIND -H 'Depth: 1' "$URL/safe/" >"$TEST_TMP/list"
case $del in 2??)
    expect_status 404 GET /safe/gone
    grep -q '/safe/gone<' "$TEST_TMP/list" && fail "acknowledged DELETE: the key is still listed after kill -9" ;;
esac
case $mkc in 2??)
    grep -q '/safe/coll/<' "$TEST_TMP/list" || fail "acknowledged MKCOL: the collection is gone after kill -9" ;;
esac
expect_status 200 GET /safe/src3
ok "writes sent while the index was stalled, then kill -9: every one acknowledged is kept (COPY $cop, MOVE $mov, DELETE $del, MKCOL $mkc)"

# under load: two writers COPY and MOVE in a loop and log what was acknowledged
for i in $(seq 1 40); do
    echo "load $i $RANDOM" >"$TEST_TMP/l$i"
    expect_status 201 PUT "/safe/l$i" -H 'Content-Type:' --data-binary @"$TEST_TMP/l$i"
done
: >"$TEST_TMP/acked.copy"
: >"$TEST_TMP/acked.move"
copier() {
    local n=0 i code
    while [ ! -e "$TEST_TMP/stop" ]; do
        n=$((n + 1)); i=$((n % 40 + 1))
        code=$(curl -s -o /dev/null -w '%{http_code}' -X COPY -H "Destination: $URL/safe/c$n" "$URL/safe/l$i" || true)
        case $code in 2??) echo "c$n l$i" >>"$TEST_TMP/acked.copy" ;; esac
    done
}
mover() {
    local n=0 code
    while [ ! -e "$TEST_TMP/stop" ] && [ $n -lt 39 ]; do
        n=$((n + 1))
        code=$(curl -s -o /dev/null -w '%{http_code}' -X MOVE -H "Destination: $URL/safe/m$n" "$URL/safe/l$n" || true)
        case $code in 2??) echo "m$n l$n" >>"$TEST_TMP/acked.move" ;; esac
    done
}
copier &
cpid=$!
mover &
mpid=$!
sleep 1.$((RANDOM % 10))
stop_server KILL
touch "$TEST_TMP/stop"
wait "$cpid" "$mpid" || true
acked=$(( $(wc -l <"$TEST_TMP/acked.copy") + $(wc -l <"$TEST_TMP/acked.move") ))
[ "$acked" -gt 10 ] || fail "only $acked COPY/MOVE acknowledged before the kill: load too light"
sleep 2.1
start_server "$data" --config "$TEST_TMP/cstashd.conf"
wait_fsck
while read -r dst src; do
    expect_status 200 GET "/safe/$dst"
    cmp -s "$TEST_TMP/body" "$TEST_TMP/$src" || fail "acknowledged COPY $src -> $dst: wrong body after kill -9"
done <"$TEST_TMP/acked.copy"
while read -r dst src; do
    expect_status 200 GET "/safe/$dst"
    cmp -s "$TEST_TMP/body" "$TEST_TMP/$src" || fail "acknowledged MOVE $src -> $dst: wrong body after kill -9"
done <"$TEST_TMP/acked.move"
ok "kill -9 under COPY and MOVE load: all $acked acknowledged read back byte-exact after the restart's fsck"
