# The S3 front end with Debian's python3-boto3 (tests/integration/s3_boto3.py):
# presigned GET and PUT (and expired ones: 403 AccessDenied, nothing stored),
# aws-chunked uploads built by hand (STREAMING-AWS4-HMAC-SHA256-PAYLOAD with
# signed chunks; STREAMING-UNSIGNED-PAYLOAD-TRAILER with an
# x-amz-checksum-crc32 trailer, returned by checksum-mode ENABLED), stored
# headers, DeleteObjects, CopyObject within and across buckets, Range and
# conditional GETs, ListObjectsV2/V1 paging, ListBuckets per caller, the
# bucket calls, and multipart by hand.
source "$CS_SRCDIR/tests/lib.sh"

"$S3_PY" -c 'import boto3' 2>/dev/null || fail "$S3_PY has no boto3 (scripts/deps.sh test installs python3-boto3)"
# "small": a 20 MiB namespace (quota and open multipart uploads)
S3_NAMESPACES="$S3_NAMESPACES,
  { name = \"small\"; max_size = \"20M\"; read = [ \"alice\" ]; write = [ \"alice\" ]; }"
s3_start srv
s3_env anonymous
export S3URL HTTPURL=$URL AK_ALICE SK_ALICE AK_BOB SK_BOB TOKEN_ALICE S3_REGION
rc=0
"$S3_PY" "$CS_SRCDIR/tests/integration/s3_boto3.py" >"$TEST_TMP/boto3.out" 2>"$TEST_TMP/boto3.err" || rc=$?
while IFS= read -r line; do
    case $line in "ok: "*) ok "boto3: ${line#ok: }" ;; *) echo "$line" ;; esac
done <"$TEST_TMP/boto3.out"
[ $rc = 0 ] || fail "s3_boto3.py: $(tail -n 20 "$TEST_TMP/boto3.err")"
[ "$CHECKS" -ge 14 ] || fail "s3_boto3.py stopped after $CHECKS checks"
grep -qF "$SK_ALICE" "$SERVER_LOG" && fail "alice's S3 secret reached the log"
stop_server
