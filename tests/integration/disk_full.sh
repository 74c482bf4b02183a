# A full file system: PUT gets 507 with a reason, GETs keep working, the
# server stays up, and eviction frees space so PUTs succeed again. The data
# dir is on a small tmpfs this test mounts (root only).
source "$CS_SRCDIR/tests/lib.sh"

mnt="$TEST_TMP/mnt"
mount_small_tmpfs "$mnt" 6m

cat >"$TEST_TMP/cstashd.conf" <<CONF
max_size = "1G";   # far above the file system: only ENOSPC stops PUTs
namespaces = ( { name = "default"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; } );
CONF
start_server "$mnt/data" --config "$TEST_TMP/cstashd.conf"
head -c 200000 /dev/urandom >"$TEST_TMP/obj"

stored=0 full=""
for i in $(seq 1 60); do
    code=$(http PUT "/default/k$i" -H 'Content-Type:' --data-binary @"$TEST_TMP/obj")
    case $code in
    201) stored=$i ;;
    507) full=$i; break ;;
    *) fail "PUT k$i: unexpected status $code ($(cat "$TEST_TMP/body"))" ;;
    esac
done
[ -n "$full" ] || fail "60 PUTs of 200 kB fit in a 6 MB file system?"
grep -q "file system is full" "$TEST_TMP/body" || fail "507 without the reason: $(cat "$TEST_TMP/body")"
ok "PUT k$full on a full file system: 507 \"$(head -c 80 "$TEST_TMP/body")...\""

expect_status 200 GET "/default/k$stored"
cmp -s "$TEST_TMP/body" "$TEST_TMP/obj" || fail "k$stored reads back wrong on a full disk"
kill -0 "$SERVER_PID" || fail "server died on a full disk"
ok "GETs still work and the server is up"

# eviction frees the least recently used objects; PUTs succeed again
for i in $(seq 1 50); do
    code=$(http PUT "/default/again" -H 'Content-Type:' --data-binary @"$TEST_TMP/obj")
    [ "$code" = 201 ] && break
    sleep 0.1
done
[ "$code" = 201 ] || fail "PUT still $code 5 s after the disk filled: eviction freed nothing"
expect_status 404 GET /default/k1
expect_status 200 GET /default/again
cmp -s "$TEST_TMP/body" "$TEST_TMP/obj" || fail "object stored after eviction reads back wrong"
grep -q "no space left" "$SERVER_LOG" || fail "disk full not logged"
ok "eviction made room: a new PUT is stored and the oldest key is gone"
[ "$(count_files "$mnt/data/tmp")" = 0 ] || fail "temp files left behind by the refused PUTs"
ok "refused uploads left no temp files"
stop_server TERM
[ "$SERVER_RC" = 0 ] || fail "exit code $SERVER_RC"
