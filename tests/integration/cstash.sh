# The cstash compiler wrapper, local cache only: what must hit hits, what
# must miss misses, hits are byte-identical to compiles (object, .d file,
# warnings), failures are never cached and uncacheable calls behave exactly
# like the bare compiler.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_LOG=$TEST_TMP/cstash.log
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX
export CSTASH_CONFIG=$TEST_TMP/none.conf

# Every compile starts cstash: it must not load libcrypto (binding its
# symbols was a third of a hit's time; common/sha256.c is the client's).
if command -v readelf >/dev/null; then
    ! readelf -d "$CSTASH" | grep -q 'NEEDED.*libcrypto' || fail "cstash links libcrypto"
    ok "cstash does not link libcrypto"
fi

p=$TEST_TMP/proj
mkdir -p "$p/src" "$p/inc" "$p/out1" "$p/out2" "$p/ref"
cat >"$p/inc/x.h" <<'C'
#define X 42
C
cat >"$p/src/a.c" <<'C'
#include "x.h"
int f(int a) { int unused; return a * X; }
C
# A file changed in the last 10 ms may be mid-write: direct mode skips it.
sleep 0.1
cd "$p"

cs() { "$CSTASH" gcc "$@"; }
misses() { cstat miss; }

cs -Wall -Iinc -c src/a.c -o out1/a.o -MD 2>"$TEST_TMP/err1"
[ "$(misses)" = 1 ] || fail "first compile: want 1 miss, stats say $(misses)"
grep -q "unused variable" "$TEST_TMP/err1" || fail "the miss did not pass the warning on"
cs -Wall -Iinc -c src/a.c -o out2/a.o -MD 2>"$TEST_TMP/err2"
[ "$(cstat direct_hit_local)" = 1 ] || fail "second compile is not a direct hit: $(tail -n 2 "$CSTASH_LOG")"
cmp -s "$TEST_TMP/err1" "$TEST_TMP/err2" || fail "the hit's warnings differ from the miss's"
cp out2/a.o "$TEST_TMP/hit.o"; cp out2/a.d "$TEST_TMP/hit.d"
gcc -Wall -Iinc -c src/a.c -o out2/a.o -MD 2>/dev/null
cmp -s out2/a.o "$TEST_TMP/hit.o" || fail "the object of a hit differs from a fresh compile"
cmp -s out2/a.d "$TEST_TMP/hit.d" || fail "the .d of a hit differs from gcc's: $(cat "$TEST_TMP/hit.d") vs $(cat out2/a.d)"
grep -q '^out2/a.o:' "$TEST_TMP/hit.d" || fail "the .d of a hit does not name out2/a.o"
d=$(cstat direct_hit_local)
cs -g -Iinc -c src/a.c -o out1/g.o 2>/dev/null
cs -g -Iinc -c src/a.c -o out2/g.o 2>/dev/null
[ "$(cstat direct_hit_local)" = $((d + 1)) ] || fail "-g: no direct hit ($(tail -n 1 "$CSTASH_LOG"))"
cmp -s out1/g.o out2/g.o || fail "-g: the hit's object differs"
ok "miss, then a direct hit (also with -g): object and .d byte-identical to gcc's, the .d names this -o, warnings replayed"

# -MF/-MT, and the kernel's -Wp,-MMD,file
cs -Iinc -c src/a.c -o out1/b.o -MD -MF out1/b.dep -MT custom-target 2>/dev/null
cs -Iinc -c src/a.c -o out2/b.o -MD -MF out2/b.dep -MT custom-target 2>/dev/null
gcc -Iinc -c src/a.c -o ref/b.o -MD -MF ref/b.dep -MT custom-target 2>/dev/null
cmp -s out2/b.dep ref/b.dep || fail "-MF/-MT: the hit's dep file differs"
cs -Iinc -c src/a.c -o out1/k.o -Wp,-MMD,out1/.k.o.d 2>/dev/null
hits=$(chits)
cs -Iinc -c src/a.c -o out2/k.o -Wp,-MMD,out2/.k.o.d 2>/dev/null
[ "$(chits)" = $((hits + 1)) ] || fail "-Wp,-MMD: no hit"
cp out2/.k.o.d "$TEST_TMP/k.d"
gcc -Iinc -c src/a.c -o out2/k.o -Wp,-MMD,out2/.k.o.d
cmp -s out2/.k.o.d "$TEST_TMP/k.d" || fail "-Wp,-MMD: the hit's dep file differs: $(cat "$TEST_TMP/k.d") vs $(cat out2/.k.o.d)"
ok "-MF/-MT and -Wp,-MMD,file: hits write the dependency file gcc would"

# What must miss.
m=$(misses)
cs -Wall -Iinc -c src/a.c -o out1/a.o -DEXTRA=1 2>/dev/null
[ "$(misses)" = $((m + 1)) ] || fail "a new -D did not miss"
cs -Wall -Iinc -c src/a.c -o out1/a.o -O2 2>/dev/null
[ "$(misses)" = $((m + 2)) ] || fail "a new -O level did not miss"
mkdir -p "$TEST_TMP/bin"
CPATH=$p/inc cs -Wall -Iinc -c src/a.c -o out1/a.o -O2 2>/dev/null
[ "$(misses)" = $((m + 3)) ] || fail "a new CPATH did not miss"
m=$((m + 1))
# Another compiler: a wrapper script is a different binary to the cache.
printf '#!/bin/sh\nexec gcc "$@"\n' >"$TEST_TMP/bin/gcc"
chmod +x "$TEST_TMP/bin/gcc"
"$CSTASH" "$TEST_TMP/bin/gcc" -Wall -Iinc -c src/a.c -o out1/a.o 2>/dev/null
[ "$(misses)" = $((m + 3)) ] || fail "another compiler binary did not miss"
cs -Wall -Iinc -c src/a.c -o out1/before.o 2>/dev/null
m=$(misses)
echo '#define X 43' >inc/x.h
cs -Wall -Iinc -c src/a.c -o out1/after.o 2>/dev/null
[ "$(misses)" = $((m + 1)) ] || fail "a changed header did not miss"
cmp -s out1/before.o out1/after.o && fail "the object did not change with the header"
gcc -Wall -Iinc -c src/a.c -o ref/after.o 2>/dev/null
cmp -s out1/after.o ref/after.o || fail "the object after the header change is not what gcc makes"
ok "a new -D, -O level, CPATH, compiler or header content misses"

# The same header content again: found by the preprocessed key, then direct.
echo '#define X 42' >inc/x.h
h=$(chits)
cs -Wall -Iinc -c src/a.c -o out1/a.o -MD 2>/dev/null
[ "$(chits)" = $((h + 1)) ] || fail "restoring the header's old content did not hit"
ok "restored header content hits again (preprocessed mode finds it)"

# A failed compile is never cached, and fails like gcc.
printf 'int broken( {\n' >src/bad.c
set +e
cs -c src/bad.c -o out1/bad.o 2>"$TEST_TMP/bad1"; rc1=$?
cs -c src/bad.c -o out1/bad.o 2>"$TEST_TMP/bad2"; rc2=$?
gcc -c src/bad.c -o out1/bad.o 2>"$TEST_TMP/badref"; rcref=$?
set -e
[ $rc1 = $rcref ] && [ $rc2 = $rcref ] || fail "failed compile exit codes $rc1/$rc2, gcc's $rcref"
cmp -s "$TEST_TMP/bad1" "$TEST_TMP/badref" && cmp -s "$TEST_TMP/bad2" "$TEST_TMP/badref" \
    || fail "failed compile stderr differs from gcc's"
[ "$(cstat compile_failed)" = 2 ] || fail "compile_failed = $(cstat compile_failed), want 2"
ok "a failing compile fails like gcc (exit $rcref, same stderr) and is compiled again next time"

# Uncacheable calls: same exit code, stdout, stderr and outputs as gcc.
same_as_gcc() { # same_as_gcc NAME ARGS...: runs both in fresh dirs, compares
    local name=$1; shift
    local d
    for d in cs ref; do
        rm -rf "$TEST_TMP/u-$d"; mkdir -p "$TEST_TMP/u-$d"; cp -r src inc "$TEST_TMP/u-$d/"
    done
    printf 'int main(void){return 0;}\n' >"$TEST_TMP/u-cs/src/m.c"; cp "$TEST_TMP/u-cs/src/m.c" "$TEST_TMP/u-ref/src/"
    set +e
    (cd "$TEST_TMP/u-cs" && "$CSTASH" gcc "$@" >"$TEST_TMP/u-cs.out" 2>"$TEST_TMP/u-cs.err" <"$p/src/a.c"); local a=$?
    (cd "$TEST_TMP/u-ref" && gcc "$@" >"$TEST_TMP/u-ref.out" 2>"$TEST_TMP/u-ref.err" <"$p/src/a.c"); local b=$?
    set -e
    [ $a = $b ] || fail "$name: exit $a, gcc exits $b"
    cmp -s "$TEST_TMP/u-cs.out" "$TEST_TMP/u-ref.out" || fail "$name: stdout differs"
    cmp -s "$TEST_TMP/u-cs.err" "$TEST_TMP/u-ref.err" || fail "$name: stderr differs"
    if [ "$name" = coverage ]; then # .gcno files record their directory: compare names
        diff <(cd "$TEST_TMP/u-cs" && find . | sort) <(cd "$TEST_TMP/u-ref" && find . | sort) >/dev/null \
            || fail "$name: different output files"
    else
        diff -r "$TEST_TMP/u-cs" "$TEST_TMP/u-ref" >/dev/null || fail "$name: outputs differ"
    fi
}
u0=$(awk -F'\t' '$1 ~ /^uncacheable_/ {s+=$2} END {print s+0}' <("$CSTASH" --print-stats))
same_as_gcc link src/m.c -o prog
same_as_gcc preprocess -E -Iinc src/a.c
same_as_gcc two-sources -c -Iinc src/a.c src/m.c
same_as_gcc assembly -S -Iinc src/a.c -o a.s
same_as_gcc stdin -x c -c - -o stdin.o
same_as_gcc missing-file -c src/nonexistent.c -o n.o
same_as_gcc coverage -c --coverage -Iinc src/a.c -o cov.o
same_as_gcc version --version
u1=$(awk -F'\t' '$1 ~ /^uncacheable_/ {s+=$2} END {print s+0}' <("$CSTASH" --print-stats))
[ $((u1 - u0)) = 8 ] || fail "want 8 more uncacheable calls counted, got $((u1 - u0))"
[ "$(cstat uncacheable_link)" -ge 2 ] || fail "link calls not counted by reason"
"$CSTASH" --show-stats | grep 'profile_or_coverage *1' >/dev/null || fail "--coverage not counted by reason"
ok "uncacheable calls (link, -E, two sources, -S, stdin, a missing source, --coverage, --version) behave exactly like gcc and are counted by reason"

# A response file is read; one that cannot be read passes through.
printf -- '-Iinc -c src/a.c\n-o "out2/rsp.o"\n' >args.rsp
cs -Iinc -c src/a.c -o out1/rsp.o
h=$(chits)
cs @args.rsp 2>/dev/null
[ "$(chits)" = $((h + 1)) ] || fail "a readable response file did not hit"
set +e; cs @missing.rsp >/dev/null 2>&1; set -e
[ "$(cstat uncacheable_response_file)" = 1 ] || fail "an unreadable response file is not counted"
ok "response files: read and hit; unreadable ones pass through"

# -Wp,@file and -Wa,@file: cc1 and the assembler read them themselves, so
# their options are in no key. pass_rsp TAG OPTION FIRST SECOND: a compile
# with -OPTION,@TAG.rsp holding FIRST, cached, then SECOND: gcc's object.
pass_rsp() {
    echo "$3" >"$1.rsp"
    printf '#ifndef FV\n#define FV 0\n#endif\nint f(void) { return FV; }\n' >"$1.c"
    sleep 0.1
    cs -c "$1.c" -o "$1.o" "$2,@$1.rsp"
    cs -c "$1.c" -o "$1.o" "$2,@$1.rsp"
    echo "$4" >"$1.rsp"
    cs -c "$1.c" -o "$1.o" "$2,@$1.rsp"
    gcc -c "$1.c" -o "p$1.o" "$2,@$1.rsp"
    cmp -s "$1.o" "p$1.o" || fail "a changed $2,@file gave a stale object"
}
pass_rsp wp -Wp -DFV=1 -DFV=2
pass_rsp wa -Wa '--defsym wasym=1' '--defsym wasym=2'
ok "wp_response_file_uncached: -Wp,@file and -Wa,@file are run uncached"

# Two checkouts at different absolute paths share hits with CSTASH_BASEDIR.
for c in one two; do mkdir -p "$TEST_TMP/$c"; cp -r "$p" "$TEST_TMP/$c/proj"; done
sleep 0.1
h=$(chits)
(cd "$TEST_TMP/one/proj" && CSTASH_BASEDIR=$TEST_TMP/one/proj "$CSTASH" gcc -I"$PWD/inc" -c "$PWD/src/a.c" -o "$PWD/out1/abs.o" -MD)
(cd "$TEST_TMP/two/proj" && CSTASH_BASEDIR=$TEST_TMP/two/proj "$CSTASH" gcc -I"$PWD/inc" -c "$PWD/src/a.c" -o "$PWD/out1/abs.o" -MD)
[ "$(chits)" = $((h + 1)) ] || fail "the second checkout did not hit with CSTASH_BASEDIR"
cmp -s "$TEST_TMP/one/proj/out1/abs.d" "$TEST_TMP/two/proj/out1/abs.d" || fail "the two checkouts' .d files differ"
grep -q "$TEST_TMP" "$TEST_TMP/two/proj/out1/abs.d" && fail "the .d names an absolute path under the base dir"
(cd "$TEST_TMP/one/proj" && CSTASH_BASEDIR=$TEST_TMP/one/proj "$CSTASH" gcc -g -fdebug-prefix-map="$PWD"=. -I"$PWD/inc" -c "$PWD/src/a.c" -o g.o)
(cd "$TEST_TMP/two/proj" && CSTASH_BASEDIR=$TEST_TMP/two/proj "$CSTASH" gcc -g -fdebug-prefix-map="$PWD"=. -I"$PWD/inc" -c "$PWD/src/a.c" -o g.o)
[ "$(chits)" = $((h + 2)) ] || fail "-g with -fdebug-prefix-map: the second checkout did not hit"
cmp -s "$TEST_TMP/one/proj/g.o" "$TEST_TMP/two/proj/g.o" || fail "-g objects of the two checkouts differ"
m=$(misses)
(cd "$TEST_TMP/two/proj" && "$CSTASH" gcc -I"$PWD/inc" -c "$PWD/src/a.c" -o "$PWD/out1/abs2.o")
[ "$(misses)" = $((m + 1)) ] || fail "without CSTASH_BASEDIR absolute paths should not share"
ok "two checkouts at different paths share hits with CSTASH_BASEDIR (also -g with -fdebug-prefix-map)"

# Masquerading: a symlink named gcc early on PATH.
mkdir -p "$TEST_TMP/masq"; ln -s "$CSTASH" "$TEST_TMP/masq/gcc"
h=$(chits)
PATH=$TEST_TMP/masq:$PATH gcc -Wall -Iinc -c src/a.c -o out2/a.o -MD 2>/dev/null
[ "$(chits)" = $((h + 1)) ] || fail "the masquerading symlink did not hit"
ok "a symlink named gcc on PATH works and finds the real gcc behind it"

# CSTASH_DISABLE, CSTASH_RECACHE, direct mode off.
h=$(chits); m=$(misses)
CSTASH_DISABLE=1 cs -Wall -Iinc -c src/a.c -o out2/a.o 2>/dev/null
CSTASH_RECACHE=1 cs -Wall -Iinc -c src/a.c -o out2/a.o -MD 2>/dev/null
[ "$(chits)" = "$h" ] && [ "$(misses)" = $((m + 1)) ] && [ "$(cstat disabled)" = 1 ] \
    || fail "DISABLE/RECACHE: hits $h->$(chits), misses $m->$(misses), disabled $(cstat disabled)"
CSTASH_DIRECT=false cs -Wall -Iinc -c src/a.c -o out2/a.o -MD 2>/dev/null
[ "$(cstat preprocessed_hit_local)" -ge 1 ] || fail "CSTASH_DIRECT=false did not use the preprocessed key"
ok "CSTASH_DISABLE runs gcc, CSTASH_RECACHE recompiles, CSTASH_DIRECT=false preprocesses"

# CSTASH_PREFIX runs before the compiler on a miss only (distcc, icecc);
# CSTASH_READONLY stores nothing.
printf '#!/bin/sh\necho "$*" >>"%s"\nexec "$@"\n' "$TEST_TMP/prefix.calls" >"$TEST_TMP/bin/prefix"
chmod +x "$TEST_TMP/bin/prefix"
printf 'int pre(void) { return 7; }\n' >src/pre.c
sleep 0.1
CSTASH_PREFIX="$TEST_TMP/bin/prefix" cs -c src/pre.c -o out1/pre.o
CSTASH_PREFIX="$TEST_TMP/bin/prefix" cs -c src/pre.c -o out2/pre.o
[ "$(wc -l <"$TEST_TMP/prefix.calls")" = 1 ] || fail "CSTASH_PREFIX ran $(wc -l <"$TEST_TMP/prefix.calls") times, want once (the miss)"
grep -q -- "gcc src/pre.c -c -o out1/pre.o" "$TEST_TMP/prefix.calls" || fail "the prefix did not get the compile command: $(cat "$TEST_TMP/prefix.calls")"
cmp -s out1/pre.o out2/pre.o || fail "objects through the prefix differ"
printf 'int ro(void) { return 8; }\n' >src/ro.c
sleep 0.1
m=$(misses)
CSTASH_READONLY=1 cs -c src/ro.c -o out1/ro.o
CSTASH_READONLY=1 cs -c src/ro.c -o out1/ro.o
[ "$(misses)" = $((m + 2)) ] || fail "CSTASH_READONLY stored a result"
ok "CSTASH_PREFIX wraps the compile of a miss (not a hit); CSTASH_READONLY stores nothing"

# A bad setting: a clear line, and the build still compiles.
out=$(CSTASH_MAXSIZE=lots cs -Iinc -c src/a.c -o out2/bad-setting.o 2>&1) || fail "a bad setting broke the compile"
echo "$out" | grep -q 'maxsize.*lots' || fail "no clear message for a bad setting: $out"
[ -s out2/bad-setting.o ] || fail "no object with a bad setting"
set +e; CSTASH_MAXSIZE=lots "$CSTASH" --show-config >/dev/null 2>&1; rc=$?; set -e
[ $rc = 1 ] || fail "--show-config with a bad setting exits $rc, want 1"
cfg=$(CSTASH_REMOTE=http://dev:s3cret@127.0.0.1:1/ns CSTASH_TOKEN=tok123 "$CSTASH" --show-config)
echo "$cfg" | grep -q '^remote = http://\*\*\*@127.0.0.1:1/ns  (from env CSTASH_REMOTE)$' || fail "--show-config shows the remote wrongly: $(echo "$cfg" | grep remote)"
echo "$cfg" | grep -q -e s3cret -e tok123 && fail "--show-config prints a secret"
"$CSTASH" --version | grep '^cstash [0-9]' >/dev/null || fail "--version"
set +e; "$CSTASH" --bogus >/dev/null 2>&1; rc=$?; set -e
[ $rc = 2 ] || fail "an unknown option exits $rc, want 2"
ok "a bad setting: one clear line, the compile still runs; --show-config exits 1 and hides secrets"

# The size limit: many small results in a tiny cache are cleaned up.
export CSTASH_DIR=$TEST_TMP/small CSTASH_MAXSIZE=64K
for i in $(seq 1 40); do
    # random text: results that do not compress away
    printf 'const char s%d[] = "%s";\n' $i "$(head -c 1500 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"src/s$i.c"
done
sleep 0.1
for i in $(seq 1 40); do cs -c "src/s$i.c" -o "out1/s$i.o"; done
bytes=$(cstat bytes)
[ "$(cstat cleanups)" -ge 1 ] || fail "no cleanup although 40 results exceed 64K"
[ "$bytes" -le 65536 ] || fail "cache holds $bytes bytes, limit 64K"
actual=$(find "$CSTASH_DIR" -name '*.[RM]' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
[ "$actual" = "$bytes" ] || fail "stats say $bytes bytes, the files add up to $actual"
CSTASH_MAXSIZE=16K "$CSTASH" --cleanup
small=$(find "$CSTASH_DIR" -name '*.[RM]' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
[ "$small" -le 16384 ] && [ "$(cstat bytes)" = "$small" ] || fail "--cleanup to 16K left $small bytes (stats: $(cstat bytes))"
"$CSTASH" --clear >/dev/null
[ -z "$(find "$CSTASH_DIR" -name '*.[RM]')" ] || fail "--clear left results"
"$CSTASH" --zero-stats >/dev/null
[ "$(misses)" = 0 ] || fail "--zero-stats did not zero"
ok "64K limit: cleanups keep $bytes bytes (stats match the files); --cleanup, --clear and --zero-stats work"
