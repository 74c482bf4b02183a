# A remote that always fails is told, not hidden: with CSTASH_REMOTE naming
# a namespace the server does not have, the first failing compile says why
# on stderr in one line (the server's reason), later compiles of the build
# do not repeat it, --show-stats shows it, and every build succeeds.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_DIR=$TEST_TMP/cache
unset CSTASH_LOG CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_TOKEN CSTASH_READONLY
start_server "$TEST_TMP/data"
export CSTASH_REMOTE="$URL/nosuchns"

cd "$TEST_TMP"
for i in 1 2 3; do printf 'int f%d(void) { return %d; }\n' "$i" "$i" >"u$i.c"; done
for i in 1 2 3; do
    "$CSTASH" gcc -c "u$i.c" -o "u$i.o" 2>"err$i" || fail "compile $i failed: $(cat "err$i")"
    [ -s "u$i.o" ] || fail "compile $i left no object"
done
cat err1
[ "$(wc -l <err1)" = 1 ] || fail "the first failing compile did not say why in one line: $(cat err1)"
grep -q "unknown namespace 'nosuchns'" err1 || fail "stderr lacks the server's reason: $(cat err1)"
grep -q "$URL/nosuchns" err1 || fail "stderr does not name the remote: $(cat err1)"
[ ! -s err2 ] && [ ! -s err3 ] || fail "later compiles repeated it: $(cat err2 err3)"
ok "the first failure says why on stderr, once: $(cat err1)"

"$CSTASH" --show-stats >"$TEST_TMP/stats" || fail "--show-stats failed"
cat "$TEST_TMP/stats"
grep -q "^remote: *$URL/nosuchns$" "$TEST_TMP/stats" || fail "--show-stats lacks the remote URL"
grep -q "^last remote error: *PUT: HTTP 404: unknown namespace 'nosuchns' at [0-9-]* [0-9:]*$" \
    "$TEST_TMP/stats" || fail "--show-stats lacks the last remote error"
grep -q "^remote state: *ok$" "$TEST_TMP/stats" || fail "--show-stats lacks the remote's state"
ok "--show-stats shows the remote, its state and the last error with the server's reason"

# with CSTASH_LOG the line goes to the log only
printf 'int g(void) { return 9; }\n' >u4.c
CSTASH_LOG=$TEST_TMP/cstash.log "$CSTASH" gcc -c u4.c -o u4.o 2>err4 || fail "compile 4 failed"
[ ! -s err4 ] || fail "stderr with CSTASH_LOG set: $(cat err4)"
grep -q "unknown namespace 'nosuchns'" "$TEST_TMP/cstash.log" || fail "the log lacks the reason"
ok "with CSTASH_LOG the reason goes to the log, not stderr"

# a server that is away: backing off until a time, not an epoch number
stop_server
export CSTASH_REMOTE="http://127.0.0.1:$(free_port)/default"
printf 'int h(void) { return 7; }\n' >u5.c
"$CSTASH" gcc -c u5.c -o u5.o 2>err5 || fail "compile 5 failed with the server away"
grep -q 'refused\|connect' err5 || fail "the first compile without a server did not say why: $(cat err5)"
"$CSTASH" --show-stats >"$TEST_TMP/stats"
grep -q "^remote state: *backing off until [0-9-]* [0-9:]*$" "$TEST_TMP/stats" ||
    fail "--show-stats does not say until when the remote is skipped: $(cat "$TEST_TMP/stats")"
ok "a remote that is away: said once, and --show-stats says until when it is skipped"
