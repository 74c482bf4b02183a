# Index and files reconciled: a file removed behind the server's back and a
# stray file added are fixed by `cstashd fsck`, which reports what it did;
# the server does the same by itself in the background after a start.
source "$CS_SRCDIR/tests/lib.sh"

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = ( { name = "default"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; } );
CONF
data="$TEST_TMP/data"
fsck() { "$CSTASHD" --config "$TEST_TMP/cstashd.conf" --data-dir "$data" fsck; }
start_server "$data" --config "$TEST_TMP/cstashd.conf"
for i in $(seq 1 10); do
    printf 'object %s\n' "$i" >"$TEST_TMP/obj"
    expect_status 201 PUT "/default/dir/k$i" -H 'Content-Type:' --data-binary @"$TEST_TMP/obj"
done

# while the server runs, the command refuses with a clear message
code=0
fsck >"$TEST_TMP/out" 2>&1 || code=$?
[ "$code" = 2 ] || fail "fsck next to a running server: exit $code, want 2"
grep -q "in use by another cstashd" "$TEST_TMP/out" || fail "unclear refusal: $(cat "$TEST_TMP/out")"
ok "fsck refuses a data dir a server is using (exit 2, says why)"
stop_server TERM

# behind the server's back: one object file removed, one stray object-like
# file and one junk file added
victim=$(find "$data/objects" -type f | head -n 1)
rm "$victim"
mkdir -p "$data/objects/ee"
head -c 5000 /dev/urandom >"$data/objects/ee/ee$(printf '%062d' 7)"
echo junk >"$data/objects/ee/notes.txt"
sleep 2.1 # fsck only changes what is older than 2 s
fsck >"$TEST_TMP/out" || fail "fsck failed: $(cat "$TEST_TMP/out")"
cat "$TEST_TMP/out"
grep -q 'rows without a file, dropped: *1$' "$TEST_TMP/out" || fail "missing file not reported"
grep -q 'objects without a row, removed: *1 (8192 bytes)' "$TEST_TMP/out" ||
    fail "stray object not reported"
grep -q 'stray files, removed: *1$' "$TEST_TMP/out" || fail "junk file not reported"
grep -q 'index and files now agree' "$TEST_TMP/out" || fail "no summary"
[ ! -e "$data/objects/ee/notes.txt" ] && [ "$(count_files "$data/objects")" = 9 ] ||
    fail "stray files still there"
ok "fsck dropped the row without a file and removed the two stray files"
fsck >"$TEST_TMP/out2"
grep -q 'nothing to do' "$TEST_TMP/out2" || fail "second fsck: $(cat "$TEST_TMP/out2")"
ok "a second fsck finds nothing to do"

start_server "$data" --config "$TEST_TMP/cstashd.conf"
expect_status 207 PROPFIND /default/dir/ -H 'Depth: 1'
n=$(grep -o '<D:href>[^<]*</D:href>' "$TEST_TMP/body" | grep -c '/k')
[ "$n" = 9 ] || fail "listing shows $n keys, want 9"
expect_status 200 GET /_/stats
[ "$(json_field default objects "$TEST_TMP/body")" = 9 ] || fail "stats: $(cat "$TEST_TMP/body")"
ok "listing and stats agree with the files: 9 objects"

# the server's own background fsck after a start
victim=$(find "$data/objects" -type f | head -n 1)
stop_server TERM
rm "$victim"
sleep 2.1
start_server "$data" --config "$TEST_TMP/cstashd.conf"
for i in $(seq 1 100); do grep -q 'fsck of' "$SERVER_LOG" && break; sleep 0.05; done
grep -q 'dropped 1 rows without a file' "$SERVER_LOG" || fail "background fsck: $(grep fsck "$SERVER_LOG")"
expect_status 200 GET /_/stats
[ "$(json_field default objects "$TEST_TMP/body")" = 8 ] || fail "stats after background fsck"
ok "the server's background fsck after start dropped the row of a deleted file"
stop_server
