# The compiler's version text (part of every key) in a new cache dir with
# a remote: taken from the remote only where it is bound to the
# compiler's build-id and is gcc's -dumpfullversion text; any other text
# there is a hint, checked against the compiler (run in parallel) before
# anything built on it reaches the build, runs the compiler or is stored.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_LOG=$TEST_TMP/cstash.log
unset CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_TOKEN CSTASH_READONLY
start_server "$TEST_TMP/data" --log-level debug
export CSTASH_REMOTE=$URL/default
at() { CSTASH_DIR=$1 cstat "$2"; }
puts() { grep -c 'PUT /default/[0-9a-f]\{2\}/[0-9a-f]\{62\}: 201' "$SERVER_LOG" || true; }
w=$TEST_TMP/cv
mkdir -p "$w/bin"
printf 'int cv(void) { return 7; }\n' >"$w/cv.c"
printf 'int cv_new(void) { return 8; }\n' >"$w/cv_new.c"

# Two wrapper scripts with one path, size and mtime: a gcc one and a clang
# one. Each counts its -dumpfullversion runs.
probe_line='case "$1" in -dumpfullversion) echo >>"$CV_PROBES";; esac'
printf '#!/bin/sh\n%s\nexec gcc   "$@"\n' "$probe_line" >"$w/gcc-wrapper"
printf '#!/bin/sh\n%s\nexec clang "$@"\n' "$probe_line" >"$w/clang-wrapper"
[ "$(stat -c %s "$w/gcc-wrapper")" = "$(stat -c %s "$w/clang-wrapper")" ] ||
    fail "the two wrappers differ in size"
chmod +x "$w/gcc-wrapper" "$w/clang-wrapper"
export CV_PROBES=$TEST_TMP/probes
probes() { [ -f "$CV_PROBES" ] && wc -l <"$CV_PROBES" || echo 0; }
use() { # use WRAPPER: it becomes bin/cvcc, with the same mtime
    cp "$w/$1" "$w/bin/cvcc"
    touch -d '2020-01-01 00:00:00' "$w/bin/cvcc"
}
cv_compile() { # cv_compile DIR [SOURCE]
    (cd "$w" && CSTASH_DIR=$1 "$CSTASH" "$w/bin/cvcc" -O1 -c "${2:-cv.c}" -o cv.o)
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
cv_compile "$TEST_TMP/cv4" cv_new.c || fail "the clang wrapper's compile of a new source failed"
is_clang || fail "a miss under gcc's hint did not compile with clang"
[ "$(at "$TEST_TMP/cv4" compiler_mismatch)" = 1 ] ||
    fail "a miss under a wrong hint: compiler_mismatch $(at "$TEST_TMP/cv4" compiler_mismatch), want 1"
[ "$(puts)" = "$before" ] || fail "a compile under another compiler's version text stored $(( $(puts) - before )) blobs"
ok "a clang wrapper with the gcc wrapper's path, size and mtime: the hint is refused, its own object, nothing stored on it"

# An ELF compiler: its text, bound to its build-id, is taken from the
# remote without running it. fakecc counts its -dumpfullversion runs and
# runs the compiler named in target[].
cat >"$w/fakecc.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static const char target[64] = "TARGET=/usr/bin/gcc";
int main(int argc, char **argv)
{
    (void)argc;
    if (argv[1] && !strcmp(argv[1], "-dumpfullversion")) {
        FILE *f = fopen(getenv("CV_PROBES"), "a");
        if (f)
            fputs("\n", f), fclose(f);
    }
    const char *t = target + 7;
    argv[0] = (char *)t;
    execv(t, argv);
    return 127;
}
C
gcc -O1 -Wl,--build-id=sha1 -o "$w/fakecc" "$w/fakecc.c" || fail "cannot build fakecc"
id=$(readelf -n "$w/fakecc" | awk '/Build ID/ { print $3 }')
[ -n "$id" ] || fail "fakecc has no build-id"
cp -p "$w/fakecc" "$w/bin/cvcc"
touch -d '2020-01-01 00:00:00' "$w/bin/cvcc"
: >"$CV_PROBES"
rm -f "$w/cv.o"
cv_compile "$TEST_TMP/e1" || fail "fakecc's first compile failed"
is_gcc || fail "fakecc's object is not gcc's"
cp "$w/cv.o" "$TEST_TMP/e1.o"
[ "$(probes)" = 1 ] || fail "fakecc's first compile: $(probes) version runs, want 1"
rm -f "$w/cv.o"
cv_compile "$TEST_TMP/e2" || fail "fakecc's second compile failed"
cmp -s "$w/cv.o" "$TEST_TMP/e1.o" || fail "fakecc's remote hit differs"
[ "$(at "$TEST_TMP/e2" direct_hit_remote)" = 1 ] ||
    fail "fakecc in a fresh dir: $(at "$TEST_TMP/e2" direct_hit_remote) remote hits, want 1"
[ "$(probes)" = 1 ] || fail "fakecc in a fresh dir ran its version probe: the bound text was not used"
grep -q "from the remote (build-id $id)" "$CSTASH_LOG" || fail "the bound text's use is not logged"
ok "an ELF compiler in a fresh dir: its version text bound to build-id $id comes from the remote, it is not run"

# The same file with another build (target clang, build-id changed, size
# and mtime kept): its key is another, it runs, and gets its own object.
python3 - "$w/fakecc" "$w/fakecc2" "$id" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
old = bytes.fromhex(sys.argv[3])
assert data.count(old) == 1
new = bytes([old[0] ^ 0xff]) + old[1:]
data = data.replace(old, new)
t = b'TARGET=/usr/bin/gcc'
assert data.count(t) == 1
i = data.index(t)
data[i:i + 21] = b'TARGET=/usr/bin/clang'
open(sys.argv[2], 'wb').write(data)
PY
chmod +x "$w/fakecc2"
[ "$(stat -c %s "$w/fakecc2")" = "$(stat -c %s "$w/fakecc")" ] || fail "fakecc2's size differs"
[ "$(readelf -n "$w/fakecc2" | awk '/Build ID/ { print $3 }')" != "$id" ] || fail "fakecc2 kept the build-id"
cp -p "$w/fakecc2" "$w/bin/cvcc"
touch -d '2020-01-01 00:00:00' "$w/bin/cvcc"
rm -f "$w/cv.o"
cv_compile "$TEST_TMP/e3" || fail "fakecc2's compile failed"
is_clang || fail "another build with fakecc's path, size and mtime got gcc's object (the build-id is not in the binding)"
[ "$(probes)" = 2 ] || fail "fakecc2 did not run its version probe ($(probes))"
ok "another build at the same path, size and mtime: another build-id, its version run, its own object"

# A launcher's build-id is not its compiler's: ccache behind a masquerade
# name is never taken on its build-id.
if command -v ccache >/dev/null; then
    mkdir -p "$w/mq"
    ln -sf "$(command -v ccache)" "$w/mq/gcc"
    rm -f "$CSTASH_LOG"
    for d in l1 l2; do
        (cd "$w" && CCACHE_DIR=$TEST_TMP/ccache CCACHE_DISABLE=1 CSTASH_DIR=$TEST_TMP/$d \
            "$CSTASH" "$w/mq/gcc" -O1 -c cv.c -o cv.o) || fail "the compile through ccache failed"
    done
    is_gcc || fail "the object through ccache is not gcc's"
    [ "$(at "$TEST_TMP/l2" direct_hit_remote)" = 1 ] || fail "ccache masquerade: no remote hit"
    ! grep -q "from the remote (build-id" "$CSTASH_LOG" || fail "a launcher's version text was taken on its build-id"
    ok "a launcher (ccache masquerade): its version text is checked by running it, not taken on its build-id"
fi
