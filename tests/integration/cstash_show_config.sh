# cstash -p / --show-config says where each setting comes from: a
# CSTASH_* variable, a line of the config file, or the default.
source "$CS_SRCDIR/tests/lib.sh"

printf 'remote = http://127.0.0.1:9/team\n# a comment\nmaxsize = 1G\ntimeout = 3s\n' >"$TEST_TMP/cstash.conf"
CSTASH_CONFIG="$TEST_TMP/cstash.conf" CSTASH_DIR="$TEST_TMP/cache" CSTASH_MAXSIZE=2G \
    "$CSTASH" --show-config >"$TEST_TMP/out" || fail "--show-config failed"
cat "$TEST_TMP/out"
expect_line() {
    grep -qxF -- "$1" "$TEST_TMP/out" || fail "--show-config lacks the line '$1'"
}
expect_line "dir = $TEST_TMP/cache  (from env CSTASH_DIR)"
expect_line "maxsize = 2G  (from env CSTASH_MAXSIZE)"
expect_line "remote = http://127.0.0.1:9/team  (from $TEST_TMP/cstash.conf:1)"
expect_line "timeout = 3000ms  (from $TEST_TMP/cstash.conf:4)"
expect_line "direct = true  (default)"
CSTASH_CONFIG="$TEST_TMP/cstash.conf" "$CSTASH" -p | grep -qxF "maxsize = 1G  (from $TEST_TMP/cstash.conf:3)" ||
    fail "-p does not name the file line of maxsize"
ok "--show-config names the variable, the file line or the default of each setting"
