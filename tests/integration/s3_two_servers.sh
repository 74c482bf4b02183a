# Two cstashd instances, each with its own data dir and an s3:// listener,
# whose namespace team-a has an s3 tier in one s3rver bucket: a PutObject
# through A (single, aws-chunked-free SDK PUT and awscli multipart) is a
# GetObject hit through B with the same bytes and ETag, and lands on B's
# disk; HeadObject through B agrees; B's HTTP API serves it too.
source "$CS_SRCDIR/tests/lib.sh"

[ -x "$S3_AWS" ] || fail "$S3_AWS is missing (scripts/deps.sh test installs awscli)"
TPORT=$(free_port)
start_s3rver "$TPORT" "$TEST_TMP/s3rver" cache
S3_NAMESPACES="
  { name = \"team-a\"; read = [ \"alice\" ]; write = [ \"alice\" ];
    tiers = ( { type = \"disk\"; },
              { type = \"s3\"; endpoint = \"http://127.0.0.1:$TPORT\"; bucket = \"cache\";
                region = \"us-east-1\"; prefix = \"shared/\"; access_key = \"S3RVER\";
                secret_key = \"S3RVER\"; path_style = true; timeout = \"5s\"; backoff = \"1s\"; } ); },
  { name = \"team-b\"; read = [ \"bob\" ]; write = [ \"bob\" ]; },
  { name = \"public\"; read = [ \"*\" ]; write = [ \"*\" ]; }"

s3_start a
A_S3=$S3URL A_PID=$SERVER_PID A_DATA=$DATA
EXTRA_PIDS+=("$A_PID")
SERVER_PID=""
s3_start b
B_S3=$S3URL B_HTTP=$URL B_DATA=$DATA
s3_env alice
aws() { "$S3_AWS" --output json "$@"; }
out=$TEST_TMP/out.json

head -c 300000 /dev/urandom >"$TEST_TMP/obj"
n=0
for k in "one/obj" "two/with space é"; do
    aws --endpoint-url "$A_S3" s3api put-object --bucket team-a --key "$k" --body "$TEST_TMP/obj" \
        --content-type application/x-test --metadata color=blue >"$out" || fail "put-object $k through A"
    [ "$(jfield "$out" 'd["ETag"]')" = "$(md5_etag "$TEST_TMP/obj")" ] || fail "put-object through A: ETag"
    n=$((n + 1))
done
s3_objects() { find "$TEST_TMP/s3rver/cache" -name '*._S3rver_object' 2>/dev/null | wc -l; }
[ "$(s3_objects)" = 2 ] || fail "the shared bucket holds $(s3_objects) objects after 2 PUTs through A"
[ "$(count_files "$B_DATA/objects")" = 0 ] || fail "B's disk is not empty before its first GET"
ok "$n PutObjects through A's s3:// listener: written through to the shared s3 tier"

etags_b=""
for k in "one/obj" "two/with space é"; do
    rm -f "$TEST_TMP/got"
    aws --endpoint-url "$B_S3" s3api get-object --bucket team-a --key "$k" "$TEST_TMP/got" >"$out" ||
        fail "get-object $k through B (a miss: not found in the tier?)"
    cmp -s "$TEST_TMP/obj" "$TEST_TMP/got" || fail "get-object $k through B: other bytes"
    etags_b="$etags_b $(jfield "$out" 'd["ETag"]')"
done
[ "$(count_files "$B_DATA/objects")" -ge 2 ] || fail "B's GETs did not land on its disk"
aws --endpoint-url "$B_S3" s3api head-object --bucket team-a --key one/obj >"$out" || fail "head-object through B"
[ "$(jfield "$out" 'd["ContentLength"]')" = 300000 ] || fail "head-object through B: size $(jfield "$out" 'd["ContentLength"]')"
[ "$(jfield "$out" 'd["ContentType"]')" = application/x-test ] || fail "head-object through B: Content-Type $(jfield "$out" 'd["ContentType"]')"
meta_b=$(jfield "$out" 'd.get("Metadata")')
URL=$B_HTTP
[ "$(http_get_as "$TOKEN_ALICE" team-a/one/obj "$TEST_TMP/got")" = 200 ] && cmp -s "$TEST_TMP/obj" "$TEST_TMP/got" ||
    fail "B's HTTP API: not the same bytes"
ok "GetObject through B (empty disk): 2 hits from the shared tier, same bytes, now on B's disk; HeadObject (size, Content-Type) and B's HTTP API agree"

# multipart through A, then B
head -c $((20 << 20)) /dev/urandom >"$TEST_TMP/big"
aws --endpoint-url "$A_S3" s3 cp --only-show-errors "$TEST_TMP/big" s3://team-a/big/obj || fail "aws s3 cp of 20 MiB through A"
aws --endpoint-url "$A_S3" s3api head-object --bucket team-a --key big/obj >"$out" || fail "head-object big/obj through A"
etag_a=$(jfield "$out" 'd["ETag"]')
aws --endpoint-url "$B_S3" s3 cp --only-show-errors s3://team-a/big/obj "$TEST_TMP/big.b" || fail "aws s3 cp of 20 MiB through B"
cmp -s "$TEST_TMP/big" "$TEST_TMP/big.b" || fail "the multipart object through B: other bytes"
aws --endpoint-url "$B_S3" s3api head-object --bucket team-a --key big/obj >"$out" || fail "head-object big/obj through B"
etag_b=$(jfield "$out" 'd["ETag"]')
ok "a 20 MiB multipart upload through A: read through B identical"

# a key in neither: a miss on B, and alice's rights hold on B as on A
aws --endpoint-url "$B_S3" s3api head-object --bucket team-a --key none >"$out" 2>"$TEST_TMP/err" && fail "head-object of a missing key through B succeeded"
grep -q 404 "$TEST_TMP/err" || fail "head-object of a missing key through B: $(cat "$TEST_TMP/err")"
s3_env bob
aws --endpoint-url "$B_S3" s3api get-object --bucket team-a --key one/obj "$TEST_TMP/got" >"$out" 2>"$TEST_TMP/err" &&
    fail "bob read team-a through B"
grep -q AccessDenied "$TEST_TMP/err" || fail "bob through B: $(cat "$TEST_TMP/err")"
ok "through B: a missing key is 404, bob gets AccessDenied on team-a"

# one object, one ETag: clients compare it with the MD5 (s3cmd, rclone) and
# send it back in If-None-Match
want=$(md5_etag "$TEST_TMP/obj")
[ "$etags_b" = " $want $want" ] || fail "ETag through B of the 2 objects PUT through A:$etags_b, want $want (A's, the MD5)"
[ "$etag_a" = "$etag_b" ] || fail "the multipart object's ETag: $etag_a through A, $etag_b through B"
[ "$meta_b" = '{"color": "blue"}' ] || fail "x-amz-meta-color through B: $meta_b, want {\"color\": \"blue\"}"
ok "the ETags through B are A's: $want, and $etag_a for the multipart object; x-amz-meta-* too"
stop_server
