# The S3 front end with rclone's s3 backend (provider Other, path style,
# configured by environment variables): copy a tree up (rclone HEADs, sends
# PUT /bucket first, then PUTs with Content-MD5 and x-amz-meta-mtime), lsjson,
# cat, check (0 differences), copy back, delete and purge; a bob remote
# cannot see alice's bucket.
source "$CS_SRCDIR/tests/lib.sh"

command -v rclone >/dev/null || fail "rclone is not installed (scripts/deps.sh test installs it)"
s3_start srv
s3_env alice   # also unsets AWS_CA_BUNDLE: rclone 1.60 will not start with it
export RCLONE_CONFIG=$TEST_TMP/rclone.conf
: >"$RCLONE_CONFIG"
remote() { # remote NAME USER: an s3 remote NAME for USER
    local n=$1 ak sk
    case $2 in alice) ak=$AK_ALICE sk=$SK_ALICE ;; bob) ak=$AK_BOB sk=$SK_BOB ;; esac
    export "RCLONE_CONFIG_${n}_TYPE=s3" "RCLONE_CONFIG_${n}_PROVIDER=Other" \
        "RCLONE_CONFIG_${n}_ENDPOINT=$S3URL" "RCLONE_CONFIG_${n}_FORCE_PATH_STYLE=true" \
        "RCLONE_CONFIG_${n}_REGION=$S3_REGION" "RCLONE_CONFIG_${n}_ACCESS_KEY_ID=$ak" \
        "RCLONE_CONFIG_${n}_SECRET_ACCESS_KEY=$sk" "RCLONE_CONFIG_${n}_ENV_AUTH=false"
}
remote CS alice
remote BOB bob
rc() { rclone --retries 1 --low-level-retries 1 "$@"; }

src=$TEST_TMP/src
mkdir -p "$src/a/b/c" "$src/with space" "$src/été"
head -c 100000 /dev/urandom >"$src/a/b/c/blob.bin"
head -c 3000000 /dev/urandom >"$src/a/big.bin"
head -c $((9 << 20)) /dev/urandom >"$src/a/multipart.bin"   # over a 5 MiB upload cutoff
printf 'plus' >"$src/a/b/x+y.txt"
printf 'percent' >"$src/with space/100% done.txt"
printf 'utf8' >"$src/été/ünïcødé €.txt"
: >"$src/a/zero-length"
nfiles=$(count_files "$src")

rc copy --s3-upload-cutoff 5M --s3-chunk-size 5M "$src" cs:team-a/up 2>"$TEST_TMP/err" || { cat "$TEST_TMP/err"; fail "rclone copy up"; }
ok "rclone copy of $nfiles files up (9 MiB multipart, 3 MB, spaces, UTF-8, '+', '%', 0 B)"

rc lsjson -R --hash cs:team-a/up >"$TEST_TMP/ls.json" || fail "rclone lsjson"
got=$(jfield "$TEST_TMP/ls.json" '" | ".join(sorted(e["Path"] + ":" + str(e["Size"]) for e in d if not e["IsDir"]))')
want=$(cd "$src" && find . -type f -printf '%P:%s\n' | "$S3_PY" -c 'import sys; print(" | ".join(sorted(l.rstrip("\n") for l in sys.stdin)))')
[ "$got" = "$want" ] || fail "rclone lsjson: '$got', want '$want'"
got=$(jfield "$TEST_TMP/ls.json" '[e for e in d if e["Path"] == "a/b/c/blob.bin"][0]["Hashes"]["md5"]')
[ "$got" = "$(md5sum "$src/a/b/c/blob.bin" | cut -d' ' -f1)" ] || fail "rclone lsjson: md5 of blob.bin is '$got'"
ok "rclone lsjson -R: $nfiles files with their sizes, the MD5 from the ETag"

[ "$(rc cat "cs:team-a/up/été/ünïcødé €.txt")" = utf8 ] || fail "rclone cat of the UTF-8 key"
rc cat "cs:team-a/up/a/big.bin" | cmp -s - "$src/a/big.bin" || fail "rclone cat of big.bin differs"
rc cat --offset 10 --count 20 "cs:team-a/up/a/big.bin" | cmp -s - <(tail -c +11 "$src/a/big.bin" | head -c 20) ||
    fail "rclone cat --offset --count (a Range GET) differs"
ok "rclone cat: whole objects and a range"

rc check "$src" cs:team-a/up >"$TEST_TMP/check" 2>&1 || { cat "$TEST_TMP/check"; fail "rclone check"; }
grep -q '0 differences found' "$TEST_TMP/check" || fail "rclone check: $(cat "$TEST_TMP/check")"
grep -q "$nfiles matching files" "$TEST_TMP/check" || fail "rclone check: $(cat "$TEST_TMP/check")"
ok "rclone check: 0 differences, $nfiles matching files (MD5 compared)"

rc copy cs:team-a/up "$TEST_TMP/back" || fail "rclone copy back"
diff -r "$src" "$TEST_TMP/back" || fail "the tree copied back differs"
ok "rclone copy back: identical"

# bob cannot read team-a, and lists only his and the public bucket
rc lsjson BOB:team-a/up >"$TEST_TMP/out" 2>"$TEST_TMP/err" && fail "bob listed team-a: $(cat "$TEST_TMP/out")"
grep -q 'AccessDenied\|403' "$TEST_TMP/err" || fail "bob listing team-a: $(cat "$TEST_TMP/err")"
rc lsf BOB: >"$TEST_TMP/out" || fail "rclone lsf of bob's buckets"
[ "$(sort "$TEST_TMP/out" | paste -sd' ')" = "public/ team-b/" ] || fail "bob's buckets: $(cat "$TEST_TMP/out")"
ok "bob: AccessDenied on team-a; ListBuckets shows public/ and team-b/"

rc deletefile "cs:team-a/up/été/ünïcødé €.txt" || fail "rclone deletefile"
rc lsf "cs:team-a/up/été/" | grep . >/dev/null && fail "deleted file still listed"
rc delete cs:team-a/up/a || fail "rclone delete of a/"
[ -z "$(rc lsf -R cs:team-a/up/a 2>/dev/null)" ] || fail "rclone delete left: $(rc lsf -R cs:team-a/up/a)"
rc purge cs:team-a/up || fail "rclone purge"
[ -z "$(rc lsf -R cs:team-a 2>/dev/null)" ] || fail "bucket not empty after purge: $(rc lsf -R cs:team-a)"
[ "$(http_get_as "$TOKEN_ALICE" team-a/up/a/big.bin "$TEST_TMP/got")" = 404 ] || fail "deleted object still served over HTTP"
ok "rclone deletefile, delete and purge: the bucket is empty, the HTTP API agrees"
stop_server
