# The S3 front end with Debian's s3cmd 2.3.0 (SigV4, path-style through
# host_base = host_bucket = the s3:// listener): put (single and multipart,
# with s3cmd's Content-Type, x-amz-meta-s3cmd-attrs and storage class), get
# (s3cmd checks the MD5 against the ETag), ls (ListObjects V1 with a
# delimiter; ListBuckets), del, and info on an object and on a bucket (its
# ?acl, ?policy, ?cors and ?lifecycle queries must not crash s3cmd).
source "$CS_SRCDIR/tests/lib.sh"

command -v s3cmd >/dev/null || fail "s3cmd is not installed (scripts/deps.sh test installs it)"
s3_start srv
s3_env alice
cat >"$TEST_TMP/s3cfg" <<CFG
[default]
access_key = $AK_ALICE
secret_key = $SK_ALICE
host_base = 127.0.0.1:$SPORT
host_bucket = 127.0.0.1:$SPORT
use_https = False
signature_v2 = False
bucket_location = $S3_REGION
check_ssl_certificate = False
multipart_chunk_size_mb = 5
progress_meter = False
CFG
s3c() { s3cmd -c "$TEST_TMP/s3cfg" --no-progress "$@"; }

head -c 1024 /dev/urandom >"$TEST_TMP/f1k"
: >"$TEST_TMP/empty"
head -c $((12 << 20)) /dev/urandom >"$TEST_TMP/f12m"
printf 'text with space' >"$TEST_TMP/note.txt"
n=0
for f in f1k empty f12m note.txt; do
    s3c put "$TEST_TMP/$f" "s3://team-a/dir/$f" >"$TEST_TMP/out" 2>&1 || { cat "$TEST_TMP/out"; fail "s3cmd put $f"; }
    grep -q 'ERROR\|MD5' "$TEST_TMP/out" && { cat "$TEST_TMP/out"; fail "s3cmd put $f: an error or MD5 warning"; }
    n=$((n + 1))
done
s3c put "$TEST_TMP/note.txt" "s3://team-a/dir/sub dir/é note.txt" >"$TEST_TMP/out" 2>&1 || { cat "$TEST_TMP/out"; fail "s3cmd put to a key with a space and UTF-8"; }
n=$((n + 1))
ok "s3cmd put of $n objects (1 KiB, 0 B, 12 MiB multipart in 5 MiB parts, text, a key with space and UTF-8)"

# s3cmd's attributes and content type are kept
s3req HEAD "$S3URL/team-a/dir/f1k" --ak "$AK_ALICE" --sk "$SK_ALICE" >/dev/null
grep -qi '^x-amz-meta-s3cmd-attrs: .*md5:' "$TEST_TMP/headers" || fail "x-amz-meta-s3cmd-attrs not stored: $(cat "$TEST_TMP/headers")"
grep -qi '^Content-Type: ' "$TEST_TMP/headers" || fail "no Content-Type on HEAD"
ok "x-amz-meta-s3cmd-attrs and Content-Type stored and returned"

n=0
for f in f1k empty f12m note.txt; do
    rm -f "$TEST_TMP/got"
    s3c get "s3://team-a/dir/$f" "$TEST_TMP/got" >"$TEST_TMP/out" 2>&1 || { cat "$TEST_TMP/out"; fail "s3cmd get $f"; }
    grep -qi 'MD5 signatures do not match\|ERROR' "$TEST_TMP/out" && { cat "$TEST_TMP/out"; fail "s3cmd get $f warned"; }
    cmp -s "$TEST_TMP/$f" "$TEST_TMP/got" || fail "s3cmd get $f: the bytes differ"
    n=$((n + 1))
done
rm -f "$TEST_TMP/got"
s3c get "s3://team-a/dir/sub dir/é note.txt" "$TEST_TMP/got" >"$TEST_TMP/out" 2>&1 || { cat "$TEST_TMP/out"; fail "s3cmd get of the UTF-8 key"; }
cmp -s "$TEST_TMP/note.txt" "$TEST_TMP/got" || fail "s3cmd get of the UTF-8 key: bytes differ"
n=$((n + 1))
ok "s3cmd get of $n objects: identical, no MD5 warning"

s3c ls s3://team-a/dir/ >"$TEST_TMP/ls" 2>&1 || { cat "$TEST_TMP/ls"; fail "s3cmd ls"; }
grep -q 'DIR *s3://team-a/dir/sub dir/$' "$TEST_TMP/ls" || fail "s3cmd ls: no DIR line for 'sub dir/': $(cat "$TEST_TMP/ls")"
for f in f1k empty f12m note.txt; do
    grep -q " s3://team-a/dir/$f\$" "$TEST_TMP/ls" || fail "s3cmd ls: $f missing: $(cat "$TEST_TMP/ls")"
done
grep -q ' 1024 *s3://team-a/dir/f1k$' "$TEST_TMP/ls" || fail "s3cmd ls: size of f1k: $(cat "$TEST_TMP/ls")"
[ "$(wc -l <"$TEST_TMP/ls")" = 5 ] || fail "s3cmd ls: $(wc -l <"$TEST_TMP/ls") lines, want 5: $(cat "$TEST_TMP/ls")"
s3c ls --recursive s3://team-a/ >"$TEST_TMP/ls" 2>&1 || fail "s3cmd ls --recursive"
[ "$(wc -l <"$TEST_TMP/ls")" = 5 ] || fail "s3cmd ls --recursive: $(cat "$TEST_TMP/ls")"
s3c ls >"$TEST_TMP/ls" 2>&1 || { cat "$TEST_TMP/ls"; fail "s3cmd ls (ListBuckets)"; }
grep -q 's3://team-a$' "$TEST_TMP/ls" && grep -q 's3://public$' "$TEST_TMP/ls" || fail "ListBuckets: $(cat "$TEST_TMP/ls")"
grep -q 's3://team-b' "$TEST_TMP/ls" && fail "ListBuckets shows alice team-b: $(cat "$TEST_TMP/ls")"
ok "s3cmd ls (ListObjects V1 with delimiter: 4 objects and 1 DIR; recursive: 5), ListBuckets: team-a and public, not team-b"

s3c info s3://team-a/dir/f1k >"$TEST_TMP/info" 2>&1 || { cat "$TEST_TMP/info"; fail "s3cmd info on an object"; }
grep -q "MD5 sum: *$(md5sum "$TEST_TMP/f1k" | cut -d' ' -f1)" "$TEST_TMP/info" || fail "s3cmd info: MD5: $(cat "$TEST_TMP/info")"
grep -q 'File size: *1024' "$TEST_TMP/info" || fail "s3cmd info: size: $(cat "$TEST_TMP/info")"
s3c info s3://team-a >"$TEST_TMP/info" 2>&1 || { cat "$TEST_TMP/info"; fail "s3cmd info on a bucket crashed or failed"; }
grep -qi 'traceback\|problem' "$TEST_TMP/info" && { cat "$TEST_TMP/info"; fail "s3cmd info on a bucket: a Python traceback"; }
ok "s3cmd info on an object (MD5, size) and on the bucket (acl, policy, cors, lifecycle queries) without a crash"

n=0
for f in f1k empty f12m note.txt "sub dir/é note.txt"; do
    s3c del "s3://team-a/dir/$f" >"$TEST_TMP/out" 2>&1 || { cat "$TEST_TMP/out"; fail "s3cmd del $f"; }
    n=$((n + 1))
done
s3c ls --recursive s3://team-a/ >"$TEST_TMP/ls" 2>&1 || fail "s3cmd ls after del"
[ ! -s "$TEST_TMP/ls" ] || fail "objects left after s3cmd del: $(cat "$TEST_TMP/ls")"
[ "$(http_get_as "$TOKEN_ALICE" team-a/dir/f1k "$TEST_TMP/got")" = 404 ] || fail "deleted object still served over HTTP"
ok "s3cmd del of $n objects: the bucket is empty, the HTTP API agrees"

# another tenant's bucket is refused, and says so
s3c put "$TEST_TMP/f1k" s3://team-b/x >"$TEST_TMP/out" 2>&1 && fail "s3cmd put into team-b succeeded for alice"
grep -q 'AccessDenied\|403' "$TEST_TMP/out" || fail "s3cmd put into team-b: $(cat "$TEST_TMP/out")"
ok "s3cmd put into another tenant's bucket: 403 AccessDenied"
stop_server
