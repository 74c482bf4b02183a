# The S3 front end refuses what it must, with S3's status and <Code>, and
# stores nothing (checked over the HTTP API with the owner's token):
# a wrong secret, an unknown key, a skewed clock (both ways), a tampered
# body under a signed x-amz-content-sha256, another tenant's bucket,
# anonymous writes, an expired presigned URL, SigV2, a wrong Content-MD5.
# Every answer is S3 XML with x-amz-request-id. A group-readable secrets
# file stops cstashd at start; SIGHUP rotates a secret (the old one fails,
# the new one works); no secret reaches the log. A full file system answers
# 507 XCstashStorageFull (needs root for a small tmpfs: said, not skipped
# silently, without it).
source "$CS_SRCDIR/tests/lib.sh"

s3_start srv
s3_env anonymous
printf 'must not be stored' >"$TEST_TMP/v"
A=(--ak "$AK_ALICE" --sk "$SK_ALICE")

# expect STATUS CODE WHAT [s3req args]: the status and the XML <Code>, and
# the answer's S3 form (x-amz-request-id, <RequestId>, <Message>)
expect() {
    local want=$1 code=$2 what=$3 got
    shift 3
    got=$(s3req "$@")
    [ "$got" = "$want" ] || fail "$what: status $got, want $want ($(head -c 300 "$TEST_TMP/body"))"
    if [ -n "$code" ]; then
        [ "$(s3_code)" = "$code" ] || fail "$what: <Code>$(s3_code)</Code>, want $code ($(head -c 300 "$TEST_TMP/body"))"
        grep -q '<RequestId>[^<]' "$TEST_TMP/body" && grep -q '<Message>[^<]' "$TEST_TMP/body" ||
            fail "$what: an S3 error without Message or RequestId: $(head -c 300 "$TEST_TMP/body")"
    fi
    grep -qi '^x-amz-request-id: .' "$TEST_TMP/headers" || fail "$what: no x-amz-request-id"
}
# absent NS KEY TOKEN WHAT: not stored (HTTP GET by the namespace's owner)
absent() {
    [ "$(http_get_as "$3" "$1/$2" "$TEST_TMP/got")" = 404 ] || fail "$4: $1/$2 was stored"
}

n=0
expect 403 SignatureDoesNotMatch "wrong secret" PUT "$S3URL/team-a/neg/wrong" --ak "$AK_ALICE" --sk "not-$SK_ALICE" --body "$TEST_TMP/v"
absent team-a neg/wrong "$TOKEN_ALICE" "wrong secret"; n=$((n + 1))
expect 403 SignatureDoesNotMatch "wrong secret, GET" GET "$S3URL/team-a/neg/wrong" --ak "$AK_ALICE" --sk "not-$SK_ALICE"; n=$((n + 1))
expect 403 InvalidAccessKeyId "unknown key" PUT "$S3URL/team-a/neg/unknown" --ak AKIANOSUCHKEY0000000 --sk "$SK_ALICE" --body "$TEST_TMP/v"
absent team-a neg/unknown "$TOKEN_ALICE" "unknown key"; n=$((n + 1))
expect 403 RequestTimeTooSkewed "clock 20 min late" PUT "$S3URL/team-a/neg/skew" "${A[@]}" --date-offset -1200 --body "$TEST_TMP/v"
expect 403 RequestTimeTooSkewed "clock 20 min early" PUT "$S3URL/team-a/neg/skew" "${A[@]}" --date-offset 1200 --body "$TEST_TMP/v"
absent team-a neg/skew "$TOKEN_ALICE" "skewed clock"; n=$((n + 2))
expect 200 "" "clock 10 min late (within 15 min)" GET "$S3URL/team-a/" "${A[@]}" --date-offset -600
expect 400 XAmzContentSHA256Mismatch "tampered body, signed hash" PUT "$S3URL/team-a/neg/tampered" "${A[@]}" --body "$TEST_TMP/v" --tamper
absent team-a neg/tampered "$TOKEN_ALICE" "tampered body"; n=$((n + 1))
head -c 3000000 /dev/urandom >"$TEST_TMP/big"
expect 400 XAmzContentSHA256Mismatch "tampered 3 MB body, signed hash" PUT "$S3URL/team-a/neg/tampered-big" "${A[@]}" --body "$TEST_TMP/big" --tamper
absent team-a neg/tampered-big "$TOKEN_ALICE" "tampered 3 MB body"; n=$((n + 1))
expect 403 AccessDenied "alice PUT into team-b" PUT "$S3URL/team-b/neg/tenant" "${A[@]}" --body "$TEST_TMP/v"
absent team-b neg/tenant "$TOKEN_BOB" "alice into team-b"; n=$((n + 1))
printf 'bob only' >"$TEST_TMP/b"
expect 200 "" "bob PUT into team-b" PUT "$S3URL/team-b/neg/bobs" --ak "$AK_BOB" --sk "$SK_BOB" --body "$TEST_TMP/b"
expect 403 AccessDenied "alice GET from team-b" GET "$S3URL/team-b/neg/bobs" "${A[@]}"
grep -q 'bob only' "$TEST_TMP/body" && fail "alice read bob's bytes"
expect 403 AccessDenied "alice DELETE in team-b" DELETE "$S3URL/team-b/neg/bobs" "${A[@]}"
expect 403 AccessDenied "alice lists team-b" GET "$S3URL/team-b?list-type=2" "${A[@]}"
grep -q 'neg/bobs' "$TEST_TMP/body" && fail "alice's listing of team-b shows bob's key"
[ "$(http_get_as "$TOKEN_BOB" team-b/neg/bobs "$TEST_TMP/got")" = 200 ] || fail "alice's DELETE removed bob's object"
n=$((n + 3))
expect 403 AccessDenied "anonymous PUT into team-a" PUT "$S3URL/team-a/neg/anon" --body "$TEST_TMP/v"
expect 403 AccessDenied "anonymous GET from team-a" GET "$S3URL/team-a/neg/bobs"
absent team-a neg/anon "$TOKEN_ALICE" "anonymous PUT"; n=$((n + 2))
expect 403 AccessDenied "presigned PUT, expired" PUT "$S3URL/team-a/neg/late" "${A[@]}" --presign 5 --date-offset -10 --body "$TEST_TMP/v"
absent team-a neg/late "$TOKEN_ALICE" "expired presigned PUT"; n=$((n + 1))
expect 200 "" "presigned PUT, valid" PUT "$S3URL/team-a/neg/in-time" "${A[@]}" --presign 60 --body "$TEST_TMP/v"
expect 403 "" "SigV2 header" PUT "$S3URL/team-a/neg/v2" "${A[@]}" --sigv2 --body "$TEST_TMP/v"
v2msg=$(sed -n 's:.*<Message>\([^<]*\)</Message>.*:\1:p' "$TEST_TMP/body")
echo "$v2msg" | grep -qi 'v2\|version 2\|sigv4\|version 4\|AWS4' || fail "SigV2 refused without a clear message: '$v2msg'"
absent team-a neg/v2 "$TOKEN_ALICE" "SigV2"; n=$((n + 1))
expect 400 BadDigest "wrong Content-MD5" PUT "$S3URL/team-a/neg/md5" "${A[@]}" --body "$TEST_TMP/v" \
    -H "Content-MD5: $(printf 'other' | openssl md5 -binary | base64)"
absent team-a neg/md5 "$TOKEN_ALICE" "wrong Content-MD5"; n=$((n + 1))
expect 200 "" "right Content-MD5" PUT "$S3URL/team-a/neg/md5ok" "${A[@]}" --body "$TEST_TMP/v" \
    -H "Content-MD5: $(openssl md5 -binary <"$TEST_TMP/v" | base64)"
ok "$n refusals with S3 XML and x-amz-request-id: SignatureDoesNotMatch, InvalidAccessKeyId, RequestTimeTooSkewed (+-20 min), XAmzContentSHA256Mismatch (13 B, 3 MB), AccessDenied (tenant, anonymous, expired presigned), SigV2 403 ('$v2msg'), BadDigest; nothing stored"

# regions: the configured one, us-east-1 and auto all sign
for r in "$S3_REGION" auto; do
    expect 200 "" "region $r" GET "$S3URL/team-a/neg/md5ok" "${A[@]}" --region "$r"
done
expect 404 NoSuchKey "a missing key" GET "$S3URL/team-a/neg/none" "${A[@]}"
grep -q '<Resource>' "$TEST_TMP/body" || fail "NoSuchKey without <Resource>: $(cat "$TEST_TMP/body")"
ok "regions $S3_REGION and auto accepted; a missing key: 404 NoSuchKey with Resource"

# --- SIGHUP rotates a secret ------------------------------------------------------------
NEW_SK='alice/Rotated+secret0000000000000000000000'
sed -i "s|^alice $AK_ALICE .*|alice $AK_ALICE $NEW_SK|" "$TEST_TMP/s3-secrets"
chmod 600 "$TEST_TMP/s3-secrets"
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do
    [ "$(s3req GET "$S3URL/team-a/neg/md5ok" --ak "$AK_ALICE" --sk "$NEW_SK")" = 200 ] && break
    sleep 0.05
done
expect 200 "" "the rotated secret after SIGHUP" GET "$S3URL/team-a/neg/md5ok" --ak "$AK_ALICE" --sk "$NEW_SK"
expect 403 SignatureDoesNotMatch "the old secret after SIGHUP" GET "$S3URL/team-a/neg/md5ok" "${A[@]}"
expect 200 "" "bob's key, untouched by the rotation" GET "$S3URL/team-b/neg/bobs" --ak "$AK_BOB" --sk "$SK_BOB"
ok "SIGHUP after rotating alice's secret: the new one works, the old one gets SignatureDoesNotMatch, bob's still works"

# a broken secrets file at SIGHUP keeps the keys that work
chmod 644 "$TEST_TMP/s3-secrets"
kill -HUP "$SERVER_PID"
sleep 0.5
kill -0 "$SERVER_PID" 2>/dev/null || fail "cstashd died on SIGHUP with a world-readable secrets file"
expect 200 "" "the keys after a refused reload" GET "$S3URL/team-a/neg/md5ok" --ak "$AK_ALICE" --sk "$NEW_SK"
chmod 600 "$TEST_TMP/s3-secrets"
ok "SIGHUP with a 0644 secrets file: refused, the server keeps running with the keys it had"

for s in "$SK_ALICE" "$NEW_SK" "$SK_BOB"; do
    grep -qF "$s" "$SERVER_LOG" "$SERVER_LOG.out" && fail "an S3 secret reached the log"
done
ok "no S3 secret in the server's log or output"
stop_server

# --- a secrets file others may read: no start ---------------------------------------------
chmod 644 "$TEST_TMP/s3-secrets"
rc=0
"$CSTASHD" -c "$TEST_TMP/srv.conf" >"$TEST_TMP/refused.out" 2>"$TEST_TMP/refused.err" &
pid=$!
EXTRA_PIDS+=("$pid")
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "cstashd started with a mode 0644 secrets file"
wait "$pid" || rc=$?
[ "$rc" != 0 ] || fail "cstashd exited 0 with a mode 0644 secrets file"
grep -qF "$TEST_TMP/s3-secrets" "$TEST_TMP/refused.err" || fail "the refusal does not name the file: $(cat "$TEST_TMP/refused.err")"
grep -qF "$SK_BOB" "$TEST_TMP/refused.err" "$TEST_TMP/refused.out" && fail "the refusal printed a secret"
ok "a mode 0644 secrets file: cstashd exits $rc at start: $(head -n 1 "$TEST_TMP/refused.err")"
chmod 600 "$TEST_TMP/s3-secrets"

# --- a full file system: 507 XCstashStorageFull --------------------------------------------
if [ "$(id -u)" = 0 ] && mkdir -p "$TEST_TMP/full" &&
    mount -t tmpfs -o size=6m,mode=0700 cstash-test "$TEST_TMP/full" 2>"$TEST_TMP/mount.err"; then
    test_cleanup() { umount "$TEST_TMP/full"; }
    s3_start full   # its data dir is the small tmpfs
    A=(--ak "$AK_ALICE" --sk "$NEW_SK")   # the rotated secret: the same secrets file
    head -c $((1 << 20)) /dev/urandom >"$TEST_TMP/m"
    full=""
    for i in $(seq 1 12); do
        got=$(s3req PUT "$S3URL/team-a/full/$i" "${A[@]}" --body "$TEST_TMP/m" --unsigned-payload)
        case $got in
            200) ;;
            507) full=$i; break ;;
            *) fail "PUT $i on a filling file system: $got $(head -c 300 "$TEST_TMP/body")" ;;
        esac
    done
    [ -n "$full" ] || fail "12 MiB fitted into a 6 MiB file system"
    [ "$(s3_code)" = XCstashStorageFull ] || fail "full file system: <Code>$(s3_code)</Code>, want XCstashStorageFull"
    absent team-a "full/$full" "$TOKEN_ALICE" "PUT on a full file system"
    [ "$full" -gt 1 ] || fail "the first 1 MiB PUT into an empty 6 MiB file system got 507"
    # (the oldest ones are being evicted: the last one stored is there)
    expect 200 "" "GET on a full file system" GET "$S3URL/team-a/full/$((full - 1))" "${A[@]}"
    cmp -s "$TEST_TMP/body" "$TEST_TMP/m" || fail "GET on a full file system: other bytes"
    ok "a full file system: PutObject $full gets 507 XCstashStorageFull, nothing stored, GETs work"
    stop_server
else
    echo "NOTE: no 507 check: a small tmpfs needs root ($(cat "$TEST_TMP/mount.err" 2>/dev/null))"
fi
