# Regressions of the S3 front end's adversarial review (issue 17), one
# check each in s3_hardening.py: unsigned x-amz-* headers beside a
# signature, XML bodies other than the signed one, two checksums, the
# aws-chunked coding kept as Content-Encoding, listings that never ended on
# a 0xff prefix, non-UTF-8 keys, copies past max_blob_size and of versions,
# multipart calls under another key, a completion credited more than its
# parts take on disk.
source "$CS_SRCDIR/tests/lib.sh"

S3_NAMESPACES="$S3_NAMESPACES,
  { name = \"tiny\"; max_blob_size = \"1K\"; read = [ \"alice\" ]; write = [ \"alice\" ]; },
  { name = \"squeeze\"; max_size = \"10M\"; compression = \"zstd\";
    read = [ \"alice\" ]; write = [ \"alice\" ]; }"
s3_start srv
export S3URL URL AK_ALICE SK_ALICE TOKEN_ALICE S3_REGION
"$S3_PY" "$CS_SRCDIR/tests/integration/s3_hardening.py" >"$TEST_TMP/out" 2>&1 || {
    cat "$TEST_TMP/out"
    fail "$(grep FAIL "$TEST_TMP/out" | head -n 1)"
}
while read -r line; do
    case $line in "ok - "*) ok "${line#ok - }" ;; esac
done <"$TEST_TMP/out"
