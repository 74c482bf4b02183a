# The compiler's version text (part of every key) in a new cache dir with
# a remote: the remote's text is a hint, checked against the compiler (run
# in parallel) before anything built on it reaches the build, runs the
# compiler or is stored. Two compilers with one path, size and mtime
# (wrapper scripts, images with normalised file times) must never share
# results.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_LOG=$TEST_TMP/cstash.log
unset CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_TOKEN CSTASH_READONLY
start_server "$TEST_TMP/data" --log-level debug
export CSTASH_REMOTE=$URL/default
at() { CSTASH_DIR=$1 cstat "$2"; }
puts() { grep -c 'PUT /default/' "$SERVER_LOG" || true; } # every PUT, whatever its answer
w=$TEST_TMP/cv
mkdir -p "$w/bin"
printf 'int cv(void) { return 7; }\n' >"$w/cv.c"
printf 'int cv_new(void) { return 8; }\n' >"$w/cv_new.c"

# Wrapper scripts of one size (padded by a comment), to be used at one
# path with one mtime: gcc, clang, one whose version runs fail and one
# whose version run is slow. Each logs its arguments.
wrapper() { # wrapper NAME BODY
    printf '#!/bin/sh\necho "$*" >>"$CV_CALLS"\n%s\n' "$2" >"$w/$1"
    local n
    n=$(stat -c %s "$w/$1")
    [ "$n" -lt 199 ] || fail "wrapper $1 is too long"
    { printf '#'; head -c $((198 - n)) /dev/zero | tr '\0' x; printf '\n'; } >>"$w/$1"
    [ "$(stat -c %s "$w/$1")" = 200 ] || fail "wrapper $1 is not 200 bytes"
    chmod +x "$w/$1"
}
wrapper gcc-wrapper 'exec gcc "$@"'
wrapper clang-wrapper 'exec clang "$@"'
wrapper broken-wrapper 'case "$1" in -dumpfullversion|--version) exit 3;; esac; exec gcc "$@"'
wrapper slow-wrapper 'case "$1" in -dumpfullversion) sleep 1;; esac; exec gcc "$@"'
export CV_CALLS=$TEST_TMP/calls
probes() { grep -c '^-dumpfullversion' "$CV_CALLS" || true; }
use() { # use WRAPPER: it becomes bin/cvcc, with the same mtime
    cp "$w/$1" "$w/bin/cvcc"
    touch -d '2020-01-01 00:00:00' "$w/bin/cvcc"
}
cv_compile() { # cv_compile DIR [SOURCE [ARGS...]]
    local d=$1 src=${2:-cv.c}
    shift $(($# < 2 ? $# : 2))
    (cd "$w" && CSTASH_DIR=$d "$CSTASH" "$w/bin/cvcc" -O1 "$@" -c "$src" -o cv.o)
}
is_gcc() { readelf -p .comment "$w/cv.o" | grep -q GCC; }
is_clang() { readelf -p .comment "$w/cv.o" | grep -qi clang; }
sleep 2.2 # the sources older than direct mode's 2 s

use gcc-wrapper
cv_compile "$TEST_TMP/cv1" || fail "the gcc wrapper's compile failed"
is_gcc || fail "the gcc wrapper's object is not gcc's"
[ "$(probes)" = 1 ] || fail "the first compile ran the compiler's version $(probes) times, want 1"

# A fresh dir with the same wrapper: the remote's text is a hint, the
# wrapper runs all the same and agrees: a remote direct hit.
rm -f "$w/cv.o"
cv_compile "$TEST_TMP/cv3" || fail "the gcc wrapper's second compile failed"
is_gcc || fail "the hinted compile's object is not gcc's"
[ "$(at "$TEST_TMP/cv3" direct_hit_remote)" = 1 ] ||
    fail "a fresh dir, the remote's hint confirmed: $(at "$TEST_TMP/cv3" direct_hit_remote) remote hits, want 1"
[ "$(probes)" = 2 ] || fail "a script's version text was taken from the remote untested ($(probes) runs, want 2)"
ok "a wrapper script's version text from the remote is only a hint: the script runs, agrees, and the hit is served"

# A clang wrapper of the same path, size and mtime in a fresh dir: the
# hint is gcc's, the hit it finds must not be served.
use clang-wrapper
rm -f "$w/cv.o"
cv_compile "$TEST_TMP/cv2" || fail "the clang wrapper's compile failed"
is_clang || fail "a fresh cache dir with a clang wrapper got the gcc wrapper's object (same path, size and mtime)"
[ "$(at "$TEST_TMP/cv2" compiler_mismatch)" = 1 ] ||
    fail "compiler_mismatch is $(at "$TEST_TMP/cv2" compiler_mismatch), want 1"
grep -q "is not the compiler's own" "$CSTASH_LOG" || fail "the mismatch is not logged"
# Its own text is kept: the next compile there is keyed by clang's.
rm -f "$w/cv.o"
cv_compile "$TEST_TMP/cv2" || fail "the clang wrapper's second compile failed"
is_clang || fail "the clang wrapper's second object is not clang's"
[ "$(at "$TEST_TMP/cv2" compiler_mismatch)" = 1 ] && [ "$(at "$TEST_TMP/cv2" miss)" = 1 ] ||
    fail "second clang compile: mismatch $(at "$TEST_TMP/cv2" compiler_mismatch), miss $(at "$TEST_TMP/cv2" miss)"
# A miss under the wrong hint (a source nobody compiled) compiles with the
# compiler's own text and stores nothing under gcc's keys.
before=$(puts)
: >"$CV_CALLS"
cv_compile "$TEST_TMP/cv4" cv_new.c || fail "the clang wrapper's compile of a new source failed"
is_clang || fail "a miss under gcc's hint did not compile with clang"
[ "$(at "$TEST_TMP/cv4" compiler_mismatch)" = 1 ] ||
    fail "a miss under a wrong hint: compiler_mismatch $(at "$TEST_TMP/cv4" compiler_mismatch), want 1"
[ "$(puts)" = "$before" ] || fail "a compile under another compiler's version text stored $(( $(puts) - before )) blobs"
! grep -q -- ' -E' "$CV_CALLS" || fail "the preprocessor ran under another compiler's version text"
ok "a clang wrapper with the gcc wrapper's path, size and mtime: the hint is refused, its own object, nothing stored on it"

# Depend mode: the miss is one compile that also writes the rule; under a
# refused hint it stores nothing (a gcc wrapper in a fresh dir would get
# clang's object under gcc's keys) and the user's .d is written.
printf 'int cv_dep(void) { return 9; }\n' >"$w/cv_dep.c"
sleep 2.2
before=$(puts)
CSTASH_DEPEND=1 cv_compile "$TEST_TMP/cv5" cv_dep.c -MD || fail "the depend-mode compile failed"
is_clang || fail "depend mode under gcc's hint did not compile with clang"
[ -s "$w/cv.d" ] || fail "depend mode under a refused hint wrote no .d"
[ "$(at "$TEST_TMP/cv5" compiler_mismatch)" = 1 ] ||
    fail "depend mode: compiler_mismatch $(at "$TEST_TMP/cv5" compiler_mismatch), want 1"
[ "$(puts)" = "$before" ] || fail "depend mode under another compiler's version text stored $(( $(puts) - before )) blobs"
use gcc-wrapper
rm -f "$w/cv.o"
CSTASH_DEPEND=1 cv_compile "$TEST_TMP/cv6" cv_dep.c -MD || fail "the gcc wrapper's depend-mode compile failed"
is_gcc || fail "a gcc wrapper in a fresh dir got clang's depend-mode object"
[ "$(at "$TEST_TMP/cv6" compiler_mismatch)" = 0 ] ||
    fail "the gcc wrapper's hint was overwritten by clang's text (mismatch in a fresh dir)"
ok "depend mode under a refused hint: clang's own object and rule, nothing stored; the gcc wrapper then gets gcc's"

# A hint whose check cannot be made (both version runs fail) is refused:
# the compile passes through, nothing is stored, the child is reaped.
use broken-wrapper
rm -f "$w/cv.o"
before=$(puts)
cv_compile "$TEST_TMP/cv7" || fail "a compile whose version runs fail did not compile"
is_gcc || fail "the broken wrapper's compile produced no gcc object"
[ "$(at "$TEST_TMP/cv7" compiler_mismatch)" = 1 ] && [ "$(at "$TEST_TMP/cv7" direct_hit_remote)" = 0 ] ||
    fail "version runs failing under a hint: mismatch $(at "$TEST_TMP/cv7" compiler_mismatch), hits $(at "$TEST_TMP/cv7" direct_hit_remote)"
[ "$(puts)" = "$before" ] || fail "a compile with an unchecked hint stored $(( $(puts) - before )) blobs"
ok "version runs that fail under a hint: passed through, no hit served, nothing stored"

# A slow version run: the result is found first and waits for the check.
use slow-wrapper
rm -f "$w/cv.o"
: >"$CV_CALLS"
cv_compile "$TEST_TMP/cv8" || fail "the slow wrapper's compile failed"
is_gcc || fail "the slow wrapper's object is not gcc's"
[ "$(at "$TEST_TMP/cv8" direct_hit_remote)" = 1 ] && [ "$(at "$TEST_TMP/cv8" compiler_mismatch)" = 0 ] ||
    fail "a slow version run: hits $(at "$TEST_TMP/cv8" direct_hit_remote), mismatch $(at "$TEST_TMP/cv8" compiler_mismatch)"
[ "$(probes)" = 1 ] || fail "the slow wrapper's version ran $(probes) times, want 1"
ok "a version run slower than the remote lookups: the hit waits for it, then is served"
