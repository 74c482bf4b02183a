# Issue 15.3: a file system filled from outside must not lose acknowledged
# PUTs. Before the fix the index writer logged a failed COMMIT and still
# counted the writes as committed: PUTs got 201, their rows were never
# written, and after a restart fsck removed their objects as unindexed.
# Now a write is acknowledged only when its row is committed or queued for
# a commit that is retried until space returns; while commits fail, writes
# get 507 and reads go on; after space returns everything acknowledged is
# there, across a restart, and fsck finds no object without a row.
source "$CS_SRCDIR/tests/lib.sh"

mnt="$TEST_TMP/mnt"
mount_small_tmpfs "$mnt" 20m

for durable in false true; do
    data="$mnt/data-$durable"
    cat >"$TEST_TMP/cstashd.conf" <<CONF
max_size = "1G";   # far above the file system: only ENOSPC stops writes
namespaces = ( { name = "default"; durable = $durable; read = [ "*" ]; write = [ "*" ];
                 admin = [ "*" ]; } );
CONF
    start_server "$data" --config "$TEST_TMP/cstashd.conf"
    bodies="$TEST_TMP/bodies-$durable"
    mkdir -p "$bodies"
    for i in $(seq 1 10); do
        head -c 100000 /dev/urandom >"$bodies/pre$i"
        expect_status 201 PUT "/default/pre$i" -H 'Content-Type:' --data-binary @"$bodies/pre$i"
    done

    # the file system fills up from outside
    dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null || true
    : >"$TEST_TMP/acked"
    codes=""
    for i in $(seq 1 300); do
        head -c 20000 /dev/urandom >"$bodies/k$i"
        code=$(http PUT "/default/k$i" -H 'Content-Type:' --data-binary @"$bodies/k$i")
        case $code in
        201 | 204) echo "k$i" >>"$TEST_TMP/acked" ;;
        507) ;;
        *) fail "durable=$durable PUT k$i on a full file system: $code ($(cat "$TEST_TMP/body"))" ;;
        esac
        codes="$codes $code"
    done
    n507=$(echo "$codes" | tr ' ' '\n' | grep -c '^507$' || true)
    [ "$n507" -gt 0 ] || fail "durable=$durable: no PUT was refused on a full file system"
    # reads keep working while writes are refused
    # (eviction frees room for the index, least recently used first: a
    # miss is allowed, a wrong body or an error is not)
    found=0
    for key in pre1 pre2 pre3 pre4 pre5 pre6 pre7 pre8 pre9 pre10 $(cat "$TEST_TMP/acked"); do
        code=$(http GET "/default/$key")
        [ "$code" = 200 ] || [ "$code" = 404 ] || fail "GET $key on a full disk: $code"
        if [ "$code" = 200 ]; then
            cmp -s "$TEST_TMP/body" "$bodies/$key" || fail "$key reads back wrong on a full disk"
            found=$((found + 1))
        fi
    done
    [ "$found" -gt 0 ] || fail "durable=$durable: no object readable on a full disk"
    ok "durable=$durable full file system: $(wc -l <"$TEST_TMP/acked") of 300 PUTs acknowledged, $n507 got 507, reads work"

    # space returns: writes are accepted again within a few seconds
    rm -f "$mnt/filler"
    for i in $(seq 1 50); do
        code=$(http PUT "/default/after" -H 'Content-Type:' --data-binary @"$bodies/k1")
        [ "$code" = 201 ] || [ "$code" = 204 ] && break
        sleep 0.2
    done
    [ "$code" = 201 ] || [ "$code" = 204 ] || fail "durable=$durable: PUT still $code 10 s after space returned"
    expect_status 200 GET /_/stats
    evicted=$(json_field default evictions "$TEST_TMP/body")
    stop_server TERM
    [ "$SERVER_RC" = 0 ] || fail "exit code $SERVER_RC"

    sleep 2.1 # fsck only judges files older than 2 s
    "$CSTASHD" --config "$TEST_TMP/cstashd.conf" --data-dir "$data" fsck >"$TEST_TMP/fsck" ||
        fail "fsck failed: $(cat "$TEST_TMP/fsck")"
    grep -q 'objects without a row, removed: *0 ' "$TEST_TMP/fsck" ||
        fail "durable=$durable: acknowledged objects had no index row: $(cat "$TEST_TMP/fsck")"
    grep -q 'rows without a file, dropped: *0$' "$TEST_TMP/fsck" ||
        fail "durable=$durable: rows without files: $(cat "$TEST_TMP/fsck")"
    ok "durable=$durable after space returned and a restart: fsck finds no object without a row"

    start_server "$data" --config "$TEST_TMP/cstashd.conf"
    missing=0
    for key in $(cat "$TEST_TMP/acked") pre1 pre2 pre3 pre4 pre5 pre6 pre7 pre8 pre9 pre10; do
        code=$(http GET "/default/$key")
        case $code in
        200) cmp -s "$TEST_TMP/body" "$bodies/$key" || fail "durable=$durable: $key reads back wrong" ;;
        404) missing=$((missing + 1)) ;;
        *) fail "durable=$durable GET $key after the restart: $code" ;;
        esac
    done
    # the only objects allowed to be gone are those eviction freed room with
    [ "$missing" -le "${evicted:-0}" ] ||
        fail "durable=$durable: $missing acknowledged objects are gone, only ${evicted:-0} were evicted"
    ok "durable=$durable: every acknowledged object reads back byte-exact ($missing evicted to make room)"
    stop_server TERM
    rm -rf "$data"
done
