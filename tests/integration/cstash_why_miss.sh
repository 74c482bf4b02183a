# cstash --why-miss OUTPUT (issue 20.6): after a miss it names what
# differs from the closest entry recorded for that output: a header with
# its path, an argument; no record is an error naming the output.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_LOG=$TEST_TMP/cstash.log
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_READONLY
export CSTASH_CONFIG=$TEST_TMP/none.conf
p=$TEST_TMP/proj
mkdir -p "$p/src" "$p/inc"
echo '#define X 1' >"$p/inc/common.h"
printf '#include "common.h"\nint f(void) { return X; }\n' >"$p/src/a.c"
sleep 0.1 # a file changed in the last 10 ms is kept out of direct mode
cd "$p"
cs() { "$CSTASH" gcc -Iinc -c src/a.c -o a.o "$@"; }

cs || fail "first compile failed"
"$CSTASH" --why-miss a.o >"$TEST_TMP/out" || fail "--why-miss after a first compile failed"
grep -q 'first compile' "$TEST_TMP/out" || fail "a first compile is not said to be one: $(cat "$TEST_TMP/out")"
h=$(chits)
cs || fail "second compile failed"
[ "$(chits)" = $((h + 1)) ] || fail "the second compile is not a hit"
ok "a first compile is said to be one"

echo '#define X 2' >"$p/inc/common.h"
sleep 0.1
cs || fail "compile after the header change failed"
"$CSTASH" --why-miss a.o >"$TEST_TMP/out" || fail "--why-miss a.o failed"
cat "$TEST_TMP/out"
grep -q "^header $p/inc/common.h changed (sha256 [0-9a-f]*\.\.\. -> [0-9a-f]*\.\.\.)\$" "$TEST_TMP/out" ||
    fail "the changed header is not named with its path"
[ "$(wc -l <"$TEST_TMP/out")" = 1 ] || fail "more than the header differs: $(cat "$TEST_TMP/out")"
"$CSTASH" --why-miss >"$TEST_TMP/last" || fail "--why-miss (the last miss) failed"
grep -qxF "last miss: $p/a.o" "$TEST_TMP/last" || fail "--why-miss does not name the last miss's output"
grep -q "^header $p/inc/common.h changed" "$TEST_TMP/last" || fail "--why-miss alone lacks the header"
ok "a changed header is named with its path (--why-miss a.o, and --why-miss alone)"

cs -DFOO || fail "compile with -DFOO failed"
"$CSTASH" --why-miss a.o >"$TEST_TMP/out" || fail "--why-miss a.o failed"
cat "$TEST_TMP/out"
grep -qxF "argument added: -DFOO" "$TEST_TMP/out" || fail "the added -DFOO is not named"
[ "$(wc -l <"$TEST_TMP/out")" = 1 ] || fail "more than the argument differs: $(cat "$TEST_TMP/out")"
cs -DFOO=2 || fail "compile with -DFOO=2 failed"
"$CSTASH" --why-miss "$p/a.o" | grep -qxF "argument changed: -DFOO -> -DFOO=2" ||
    fail "-DFOO -> -DFOO=2 is not a changed argument: $("$CSTASH" --why-miss a.o)"
ok "an added and a changed argument are named"

# Back to the first inputs: a hit (local), which records nothing new.
echo '#define X 1' >"$p/inc/common.h"
sleep 0.1
h=$(chits)
cs || fail "compile failed"
[ "$(chits)" = $((h + 1)) ] || fail "back to the first header: no hit"
unset LC_MESSAGES
LC_MESSAGES=C cs || fail "compile with LC_MESSAGES=C failed"
"$CSTASH" --why-miss a.o | grep -qxF "env LC_MESSAGES set: \"C\"" || fail "LC_MESSAGES=C is not named: $("$CSTASH" --why-miss a.o)"
ok "a hit keeps the record; a hashed env var is named"

chmod 755 "$CSTASH_DIR/why" # as an earlier version made it
cs -DPRIV || fail "compile failed"
[ "$(stat -c %a "$CSTASH_DIR/why")" = 700 ] || fail "DIR/why made by an earlier version stays $(stat -c %a "$CSTASH_DIR/why")"
ok "why_dir_private: DIR/why is made 0700, also when an earlier version made it"

"$CSTASH" --why-miss nothing.o >"$TEST_TMP/out" 2>"$TEST_TMP/err" && fail "--why-miss of an output never compiled succeeded"
grep -qF "$p/nothing.o" "$TEST_TMP/err" || fail "the error does not name the output: $(cat "$TEST_TMP/err")"
CSTASH_DIR=$TEST_TMP/empty "$CSTASH" --why-miss 2>"$TEST_TMP/err" && fail "--why-miss with no miss at all succeeded"
grep -q 'no miss recorded' "$TEST_TMP/err" || fail "--why-miss alone, nothing recorded: $(cat "$TEST_TMP/err")"
ok "no record: exit 1 with a message naming the output"
