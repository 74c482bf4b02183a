# The S3 front end with Debian's awscli (path-style, on the s3:// listener):
#   - s3api put/get/head/list-objects-v2/delete at 0 B, 1 KiB and 10 MiB,
#     the ETag the MD5 of the body;
#   - aws s3 cp of 50 MiB (multipart: the "<md5 of md5s>-N" ETag) up and
#     down, and a ranged get-object (206, the right bytes);
#   - aws s3 sync of a tree (nested, spaces, UTF-8, '+', '%') up, down into
#     an empty dir, identical; a second sync transfers nothing;
#   - list-objects-v2 with prefix and delimiter (CommonPrefixes);
#   - the same bytes over the HTTP API (one storage), and virtual-hosted
#     style and SigV4 on the ordinary HTTP port.
source "$CS_SRCDIR/tests/lib.sh"

[ -x "$S3_AWS" ] || fail "$S3_AWS is missing (scripts/deps.sh test installs awscli)"
s3_start srv
s3_env alice
aws() { "$S3_AWS" --endpoint-url "$S3URL" --output json "$@"; }
out=$TEST_TMP/out.json

# --- s3api at three sizes -----------------------------------------------------
: >"$TEST_TMP/f0"
head -c 1024 /dev/urandom >"$TEST_TMP/f1k"
head -c $((10 << 20)) /dev/urandom >"$TEST_TMP/f10m"
n=0
for f in f0 f1k f10m; do
    key="sizes/$f"
    aws s3api put-object --bucket team-a --key "$key" --body "$TEST_TMP/$f" >"$out" ||
        fail "put-object $key"
    want=$(md5_etag "$TEST_TMP/$f")
    [ "$(jfield "$out" 'd["ETag"]')" = "$want" ] || fail "put-object $key: ETag $(jfield "$out" 'd["ETag"]'), want $want"
    aws s3api head-object --bucket team-a --key "$key" >"$out" || fail "head-object $key"
    [ "$(jfield "$out" 'd["ContentLength"]')" = "$(stat -c %s "$TEST_TMP/$f")" ] ||
        fail "head-object $key: ContentLength $(jfield "$out" 'd["ContentLength"]')"
    [ "$(jfield "$out" 'd["ETag"]')" = "$want" ] || fail "head-object $key: ETag $(jfield "$out" 'd["ETag"]'), want $want"
    rm -f "$TEST_TMP/got"
    aws s3api get-object --bucket team-a --key "$key" "$TEST_TMP/got" >"$out" || fail "get-object $key"
    cmp -s "$TEST_TMP/$f" "$TEST_TMP/got" || fail "get-object $key: the bytes differ"
    [ "$(jfield "$out" 'd["ETag"]')" = "$want" ] || fail "get-object $key: ETag $(jfield "$out" 'd["ETag"]')"
    n=$((n + 1))
done
aws s3api list-objects-v2 --bucket team-a --prefix sizes/ >"$out" || fail "list-objects-v2"
[ "$(jfield "$out" '" ".join(c["Key"] + ":" + str(c["Size"]) for c in d["Contents"])')" = \
    "sizes/f0:0 sizes/f10m:$((10 << 20)) sizes/f1k:1024" ] || fail "list-objects-v2 sizes/: $(cat "$out")"
[ "$(jfield "$out" 'd["Contents"][2]["ETag"]')" = "$(md5_etag "$TEST_TMP/f1k")" ] || fail "listed ETag of f1k"
for f in f0 f1k f10m; do
    aws s3api delete-object --bucket team-a --key "sizes/$f" >"$out" || fail "delete-object sizes/$f"
done
# (one head-object after the deletes: every awscli start costs a second or two)
if aws s3api head-object --bucket team-a --key sizes/f1k >"$out" 2>"$TEST_TMP/err"; then
    fail "head-object after delete-object of sizes/f1k succeeded"
fi
grep -q '404' "$TEST_TMP/err" || fail "head-object of a deleted key: $(cat "$TEST_TMP/err")"
[ "$(http_get_as "$TOKEN_ALICE" team-a/sizes/f10m "$TEST_TMP/got")" = 404 ] || fail "sizes/f10m still served over HTTP after delete-object"
aws s3api list-objects-v2 --bucket team-a --prefix sizes/ >"$out" || fail "list-objects-v2 after delete"
# (awscli prints nothing at all for an empty listing)
[ ! -s "$out" ] || [ "$(jfield "$out" 'len(d.get("Contents", []))')" = 0 ] || fail "deleted objects still listed: $(cat "$out")"
ok "s3api put/head/get/list/delete of $n objects (0 B, 1 KiB, 10 MiB): ETag = MD5, bytes equal, 404 after delete"

# --- multipart and ranges -------------------------------------------------------
head -c $((50 << 20)) /dev/urandom >"$TEST_TMP/f50m"
aws s3 cp --only-show-errors "$TEST_TMP/f50m" s3://team-a/big/f50m || fail "aws s3 cp of 50 MiB"
aws s3api head-object --bucket team-a --key big/f50m >"$out" || fail "head-object big/f50m"
etag=$(jfield "$out" 'd["ETag"]')
want=$(multipart_etag "$TEST_TMP/f50m" $((8 << 20)))
[ "$etag" = "$want" ] || fail "multipart ETag $etag, want $want"
[ "$(jfield "$out" 'd["ContentLength"]')" = $((50 << 20)) ] || fail "multipart object size $(jfield "$out" 'd["ContentLength"]')"
aws s3 cp --only-show-errors s3://team-a/big/f50m "$TEST_TMP/back50m" || fail "aws s3 cp down of 50 MiB"
cmp -s "$TEST_TMP/f50m" "$TEST_TMP/back50m" || fail "50 MiB object differs after the round trip"
ok "aws s3 cp of 50 MiB: multipart ETag $etag (7 parts of 8 MiB), downloaded identical (ranged GETs)"

aws s3api get-object --bucket team-a --key big/f50m --range bytes=100-199 "$TEST_TMP/range" >"$out" ||
    fail "ranged get-object"
cmp -s "$TEST_TMP/range" <(tail -c +101 "$TEST_TMP/f50m" | head -c 100) || fail "ranged get-object: wrong bytes"
[ "$(jfield "$out" 'd["ContentRange"]')" = "bytes 100-199/$((50 << 20))" ] ||
    fail "ranged get-object: ContentRange $(jfield "$out" 'd["ContentRange"]')"
got=$(s3req GET "$S3URL/team-a/big/f50m" --ak "$AK_ALICE" --sk "$SK_ALICE" -H 'Range: bytes=100-199')
[ "$got" = 206 ] || fail "GET with Range: status $got, want 206"
cmp -s "$TEST_TMP/body" "$TEST_TMP/range" || fail "GET with Range: body differs"
ok "get-object --range bytes=100-199: 206, Content-Range bytes 100-199/52428800, the right 100 bytes"

# --- sync a tree both ways --------------------------------------------------------
src=$TEST_TMP/tree
mkdir -p "$src/a/b/c" "$src/with space/inner dir" "$src/été/ünï" "$src/x"
i=0
for d in "" a a/b a/b/c "with space" "with space/inner dir" "été" "été/ünï" x; do
    for name in "file $i.txt" "dat-$i.bin" "ü €$i"; do
        head -c $((RANDOM % 5000 + i)) /dev/urandom >"$src/${d:+$d/}$name"
    done
    i=$((i + 1))
done
printf 'plus' >"$src/x/a+b.txt"
printf 'percent' >"$src/x/100% done.txt"
: >"$src/x/empty"
# an hour old: sync compares mtimes with LastModified (whole seconds)
find "$src" -exec touch -d '-1 hour' {} +
nfiles=$(count_files "$src")
[ "$nfiles" -ge 30 ] || fail "the tree has only $nfiles files"
aws s3 sync --only-show-errors "$src" s3://team-a/tree/ || fail "aws s3 sync up"
aws s3 sync "$src" s3://team-a/tree/ >"$TEST_TMP/resync" || fail "second aws s3 sync up"
[ ! -s "$TEST_TMP/resync" ] || fail "a second sync up transferred again: $(head -n 3 "$TEST_TMP/resync")"
mkdir "$TEST_TMP/down"
aws s3 sync --only-show-errors s3://team-a/tree/ "$TEST_TMP/down" || fail "aws s3 sync down"
diff -r "$src" "$TEST_TMP/down" || fail "the tree synced down differs"
aws s3 sync s3://team-a/tree/ "$TEST_TMP/down" >"$TEST_TMP/resync" || fail "second aws s3 sync down"
[ ! -s "$TEST_TMP/resync" ] || fail "a second sync down transferred again: $(head -n 3 "$TEST_TMP/resync")"
ok "aws s3 sync of $nfiles files (nested, spaces, UTF-8, '+', '%', empty) up and down: identical; re-syncs transfer nothing"

# --- prefix and delimiter -------------------------------------------------------
aws s3api list-objects-v2 --bucket team-a --prefix tree/ --delimiter / >"$out" || fail "list with delimiter"
got=$(jfield "$out" '" | ".join(sorted(p["Prefix"] for p in d.get("CommonPrefixes", [])))')
[ "$got" = "tree/a/ | tree/with space/ | tree/x/ | tree/été/" ] || fail "CommonPrefixes: $got"
got=$(jfield "$out" '" | ".join(sorted(c["Key"] for c in d.get("Contents", [])))')
want=$(cd "$src" && find . -maxdepth 1 -type f | sed 's|^\./|tree/|' | LC_ALL=C sort | paste -sd'|' | sed 's/|/ | /g')
[ "$got" = "$want" ] || fail "Contents with delimiter: '$got', want '$want'"
# one whole listing of the tree: every key, UTF-8, '%' and '+' as stored
aws s3api list-objects-v2 --bucket team-a --prefix tree/ >"$out" || fail "list-objects-v2 of the tree"
got=$(jfield "$out" '"\n".join(c["Key"] for c in d["Contents"])')
want=$(cd "$src" && find . -type f | sed 's|^\./|tree/|' | LC_ALL=C sort)
[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") || true; fail "list-objects-v2 of the tree differs from it (above)"; }
[ "$(echo "$got" | grep -c '^tree/été/')" = 6 ] || fail "list tree/été/: not 6 keys"
echo "$got" | grep -qx 'tree/x/100% done.txt' && echo "$got" | grep -qx 'tree/x/a+b.txt' ||
    fail "keys with '%' and '+' listed as: $(echo "$got" | grep '^tree/x/')"
ok "list-objects-v2 with prefix and delimiter: 4 CommonPrefixes and 3 keys; the whole tree: $nfiles keys in byte order, UTF-8, '%' and '+' round-trip"

# --- one storage: the HTTP API sees the same bytes --------------------------------
n=0
for rel in "a/b/c/file 3.txt" "été/ünï/ü €7" "x/a+b.txt"; do
    got=$(http_get_as "$TOKEN_ALICE" "team-a/$(urlenc "tree/$rel")" "$TEST_TMP/got")
    [ "$got" = 200 ] || fail "HTTP GET of tree/$rel: $got"
    cmp -s "$src/$rel" "$TEST_TMP/got" || fail "HTTP GET of tree/$rel: other bytes than S3 stored"
    n=$((n + 1))
done
got=$(http_get_as "$TOKEN_ALICE" team-a/big/f50m "$TEST_TMP/got")
[ "$got" = 200 ] && cmp -s "$TEST_TMP/f50m" "$TEST_TMP/got" || fail "HTTP GET of the multipart object: $got or other bytes"
n=$((n + 1))
printf 'from http' >"$TEST_TMP/h"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN_ALICE" -T "$TEST_TMP/h" "$URL/team-a/from-http")
[ "$code" = 201 ] || fail "HTTP PUT: $code"
aws s3api get-object --bucket team-a --key from-http "$TEST_TMP/got" >"$out" || fail "get-object of an HTTP PUT"
cmp -s "$TEST_TMP/h" "$TEST_TMP/got" || fail "get-object of an HTTP PUT: bytes differ"
# S3 defines the ETag of what S3 stored; an object PUT over HTTP may carry
# another one, but one that clients cannot take for a wrong MD5 (s3cmd and
# rclone compare a 32-hex ETag with the body's MD5)
etag=$(jfield "$out" 'd["ETag"]')
if [ "$etag" != "$(md5_etag "$TEST_TMP/h")" ]; then
    echo "$etag" | grep -Eq '^"[0-9a-f]{32}"$' && fail "an object PUT over HTTP has a wrong MD5 as its ETag: $etag"
    echo "NOTE: an object PUT over HTTP has the ETag $etag, not the MD5 of its body (s3cmd get warns on it)"
fi
ok "HTTP API and S3 share the storage: $n S3 objects read over HTTP (bearer token), an HTTP PUT read by get-object"

# --- virtual-hosted style; SigV4 on the ordinary port --------------------------------
# the key is "tree/x/a+b.txt": path /tree/x/a%2Bb.txt in the bucket's host
got=$(s3req GET "$S3URL/tree/x/a%2Bb.txt" --host "team-a.$S3_DOMAIN:$SPORT" --ak "$AK_ALICE" --sk "$SK_ALICE")
[ "$got" = 200 ] && [ "$(cat "$TEST_TMP/body")" = plus ] || fail "virtual-hosted GET: $got $(head -c 200 "$TEST_TMP/body")"
code=$(curl -s -o "$TEST_TMP/got" -w '%{http_code}' "http://public.$S3_DOMAIN:$SPORT/nope")
[ "$code" = 404 ] && grep -q '<Code>NoSuchKey</Code>' "$TEST_TMP/got" || fail "curl to public.$S3_DOMAIN (anonymous, missing key): $code $(cat "$TEST_TMP/got")"
aws --endpoint-url "$URL" s3api get-object --bucket team-a --key "tree/x/a+b.txt" "$TEST_TMP/got" >"$out" ||
    fail "get-object signed with SigV4 on the ordinary HTTP port"
[ "$(cat "$TEST_TMP/got")" = plus ] || fail "get-object on the HTTP port: wrong bytes"
aws --endpoint-url "$URL" s3api put-object --bucket team-a --key via-http-port --body "$TEST_TMP/f1k" >"$out" ||
    fail "put-object on the HTTP port"
[ "$(jfield "$out" 'd["ETag"]')" = "$(md5_etag "$TEST_TMP/f1k")" ] || fail "put-object on the HTTP port: ETag"
ok "virtual-hosted style (team-a.$S3_DOMAIN signed, public.$S3_DOMAIN anonymous through curl); SigV4 on the HTTP port is S3"

grep -qF "$SK_ALICE" "$SERVER_LOG" && fail "alice's S3 secret reached the log"
stop_server
