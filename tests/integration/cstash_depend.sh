# CSTASH_DEPEND=1 (depend mode, issue 19): a miss runs the compiler once,
# with no preprocessor run, and takes the headers from the compiler's own
# -MD rule; the next compile is a direct hit with the same object and the
# same .d as gcc's; a changed header (one whose name has a space too) is a
# miss, never a stale hit; -MMD (no system headers in the list) takes the
# rest from gcc's -H where it can and else falls back, as does a rule it
# cannot read; entries are shared with the normal mode.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_LOG=$TEST_TMP/cstash.log CSTASH_CONFIG=$TEST_TMP/none.conf
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_READONLY \
    CSTASH_DIRECT
export CSTASH_DEPEND=1
p=$TEST_TMP/proj
mkdir -p "$p/inc" "$p/sp ace" "$p/bin"
cd "$p"
# A compiler that notes each run's arguments: a preprocessor run has -E.
cat >bin/gcc <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$TEST_TMP/runs"
[ -z "\${EDIT_FROM:-}" ] || cp "\$EDIT_FROM" "\$EDIT_TO" # an edit while the compile runs
exec /usr/bin/gcc "\$@"
EOF
chmod +x bin/gcc
CC=$p/bin/gcc
echo '#define X 1' >inc/h.h
echo '#define Y 10' >"sp ace/s p.h"
printf '#include "h.h"\n#include "s p.h"\n#include <stdio.h>\nint main(void) { printf("%%d\\n", X + Y); return 0; }\n' >d.c
sleep 0.1 # a file changed in the last 10 ms is kept out of direct mode
cs() { "$CSTASH" "$CC" -Iinc "-Isp ace" -O2 -c d.c -o d.o "$@" || fail "cstash gcc $* failed"; }
runs() { wc -l <"$TEST_TMP/runs" 2>/dev/null || echo 0; }
pp_runs() { grep -c -- ' -E' "$TEST_TMP/runs" 2>/dev/null || true; }
value() { /usr/bin/gcc -o d d.o && ./d; }

: >"$TEST_TMP/runs"
cs
[ "$(pp_runs)" = 0 ] || fail "a depend-mode miss ran the preprocessor: $(cat "$TEST_TMP/runs")"
grep -q 'miss (depend mode) for d.o' "$TEST_TMP/cstash.log" || fail "the miss was not in depend mode"
[ "$(value)" = 11 ] || fail "the object is wrong"
/usr/bin/gcc -Iinc "-Isp ace" -O2 -c d.c -o plain.o
cmp -s d.o plain.o || fail "the depend-mode object differs from gcc's"
ls "$CSTASH_DIR/tmp" 2>/dev/null | grep -q . && fail "the dependency file of the miss is left in DIR/tmp"
n=$(runs)
h=$(chits)
cs
[ "$(chits)" = $((h + 1)) ] || fail "the compile after a depend-mode miss is not a hit"
[ "$(runs)" = "$n" ] || fail "the hit ran the compiler"
cmp -s d.o plain.o || fail "the hit's object differs from gcc's"
ok "a miss runs the compiler once, no preprocessor; the next compile is a direct hit with gcc's object"

echo '#define X 2' >inc/h.h
sleep 0.1
cs
[ "$(value)" = 12 ] || fail "after a header change the object is stale"
echo '#define Y 20' >"sp ace/s p.h"
sleep 0.1
cs
[ "$(value)" = 22 ] || fail "after a change of the header with a space in its name the object is stale"
"$CSTASH" --why-miss d.o | grep -qF "header $p/sp ace/s p.h changed" ||
    fail "--why-miss does not name the header: $("$CSTASH" --why-miss d.o)"
[ "$(pp_runs)" = 0 ] || fail "a depend-mode miss ran the preprocessor"
ok "a changed header (one with a space in its path too) is a miss with the new object, named by --why-miss"

# The user's own -MD file: the same on a miss and on a hit as gcc writes it.
/usr/bin/gcc -Iinc "-Isp ace" -O2 -c d.c -o plain.o -MD -MF plain.d
sed 's/^plain\.o:/d.o:/' plain.d >want.d
rm -f d.d
cs -MD -MF d.d
cmp -s d.d want.d || fail "the .d of a depend-mode miss differs from gcc's"
rm -f d.d
h=$(chits)
cs -MD -MF d.d
[ "$(chits)" = $((h + 1)) ] || fail "no hit with -MD -MF"
cmp -s d.d want.d || fail "the .d of the hit differs from gcc's"
[ "$(pp_runs)" = 0 ] || fail "a depend-mode miss with -MD ran the preprocessor"
ok "with the user's -MD -MF: the .d of the miss and of the hit is gcc's"

# -MMD leaves system headers out of its list: hosted (stdc-predef.h, which
# nothing names), preprocessed as before.
: >"$TEST_TMP/runs"
cs -MMD -MF m.d
[ "$(pp_runs)" = 1 ] || fail "with -MMD the miss did not fall back to preprocessing: $(cat "$TEST_TMP/runs")"
: >"$TEST_TMP/runs"
"$CSTASH" "$CC" -Iinc "-Isp ace" -O2 -c d.c -o k.o -Wp,-MMD,k.d || fail "cstash gcc -Wp,-MMD failed"
[ "$(pp_runs)" = 1 ] || fail "with -Wp,-MMD the miss did not fall back to preprocessing"
ok "-MMD and -Wp,-MMD, hosted: preprocessed as without depend mode"

# The kernel's way (-nostdinc, the compiler's own headers, -Wp,-MMD): gcc's
# -H names what the rule leaves out, such as a file that a
# `#pragma GCC system_header` header includes.
mkdir -p vend
printf '#pragma GCC system_header\n#include "vend_impl.h"\n' >vend/vend.h
echo '#define V 100' >vend/vend_impl.h
printf '#include <stdarg.h>\n#include "vend.h"\n#include "h.h"\n#warning from m.c\nint m(void) { return V + X; }\n' >m.c
sleep 0.1
KF=(-nostdinc -isystem "$(/usr/bin/gcc -print-file-name=include)" -Iinc -Ivend -O2 -c m.c)
km() { "$CSTASH" "$CC" "${KF[@]}" "$@" 2>"$TEST_TMP/m.err" || fail "cstash gcc ${KF[*]} $* failed"; }
plain_m() { /usr/bin/gcc "${KF[@]}" -o pm.o -Wp,-MMD,pm.d 2>"$TEST_TMP/pm.err"; sed -i 's/^pm\.o:/m.o:/' pm.d; }
: >"$TEST_TMP/runs"
km -o m.o -Wp,-MMD,.m.o.d
[ "$(pp_runs)" = 0 ] || fail "a -Wp,-MMD miss with -nostdinc ran the preprocessor: $(cat "$TEST_TMP/runs")"
grep -q 'miss (depend mode) for m.o' "$TEST_TMP/cstash.log" || fail "the -MMD miss was not in depend mode"
plain_m
cmp -s m.o pm.o || fail "the -MMD depend-mode object differs from gcc's"
cmp -s .m.o.d pm.d || fail "the -MMD rule differs from gcc's: $(cat .m.o.d) vs $(cat pm.d)"
cmp -s "$TEST_TMP/m.err" "$TEST_TMP/pm.err" || fail "stderr differs from gcc's: $(cat "$TEST_TMP/m.err")"
rm -f .m.o.d
h=$(chits)
km -o m.o -Wp,-MMD,.m.o.d
[ "$(chits)" = $((h + 1)) ] || fail "the compile after a -MMD depend-mode miss is not a hit"
cmp -s m.o pm.o && cmp -s .m.o.d pm.d || fail "the -MMD hit's object or rule differs from gcc's"
cmp -s "$TEST_TMP/m.err" "$TEST_TMP/pm.err" || fail "the hit's stderr differs from gcc's: $(cat "$TEST_TMP/m.err")"
ok "-Wp,-MMD with -nostdinc: one compile, no preprocessor; the hit has gcc's object, rule and warning"

echo '#define V 200' >vend/vend_impl.h
sleep 0.1
km -o m.o -Wp,-MMD,.m.o.d
plain_m
cmp -s m.o pm.o || fail "a header -MMD leaves out (under a #pragma GCC system_header) changed: stale object"
echo '#define V 300' >vend/vend_impl.h
sleep 0.1
km -o m.o -MMD -MF mm.d
plain_m
cmp -s m.o pm.o || fail "the same with -MMD -MF: stale object"
ok "depend_mmd_system_header_include: a change to a header only -H names is a miss with gcc's new object"

for extra in -g -H -flto; do
    : >"$TEST_TMP/runs"
    km -o m.o -Wp,-MMD,.m.o.d "$extra"
    [ "$(pp_runs)" = 1 ] || fail "-MMD with $extra used depend mode (-H would change the object or the output)"
    [ "$extra" != -H ] || grep -q '^\.\. .*vend_impl.h' "$TEST_TMP/m.err" ||
        fail "the user's own -H output is lost: $(cat "$TEST_TMP/m.err")"
done
ok "depend_mmd_needs_plain_objects: with -g, the user's -H or -flto, -MMD is preprocessed as before"

mkdir -p sys
echo '#define F 1' >sys/forced.h
printf '#ifndef F\n#define F 0\n#endif\nint f(void) { return F; }\n' >fm.c
sleep 0.1
FF=(-nostdinc -isystem "$p/sys" -O2 -c fm.c -o fm.o -Wp,-MMD,.fm.o.d -include forced.h)
"$CSTASH" "$CC" "${FF[@]}" || fail "cstash gcc ${FF[*]} failed"
grep -q 'not cached: a -include or -imacros file is not in' "$TEST_TMP/cstash.log" ||
    fail "a forced system header under -MMD was cached (neither -MMD nor -H names it)"
echo '#define F 2' >sys/forced.h
sleep 0.1
"$CSTASH" "$CC" "${FF[@]}" || fail "cstash gcc ${FF[*]} failed"
/usr/bin/gcc "${FF[@]/fm.o/pfm.o}"
cmp -s fm.o pfm.o || fail "a changed forced system header gave a stale object"
ok "depend_mmd_forced_system_header: not cached, the build is right"

# A header whose name gcc writes unescaped ('\'): not cached, built right.
mkdir -p bs
echo '#define Z 7' >'bs/z\w.h'
printf '#include "bs/z\\w.h"\nint z(void) { return Z; }\n' >z.c
sleep 0.1
: >"$TEST_TMP/runs"
"$CSTASH" "$CC" -c z.c -o z.o || fail "cstash gcc of z.c failed"
grep -q 'depend mode: not cached: the dependency file' "$TEST_TMP/cstash.log" ||
    fail "a rule it cannot read is not said to be so"
echo '#define Z 8' >'bs/z\w.h'
sleep 0.1
"$CSTASH" "$CC" -c z.c -o z.o || fail "cstash gcc of z.c failed"
/usr/bin/gcc -c z.c -o zz.o
cmp -s z.o zz.o || fail "the object after the change of the unreadable header is stale"
ok "a dependency rule it cannot read is not cached; the build is right"

# Review of 21014e6: each of these served a stale object or broke a build.
cd "$p"
echo '#define X 5' >inc/h.h
sleep 0.1
printf 'old: d.c /etc/hostname\n' >a.d # a stale rule where -MF points; gcc writes only b.d
"$CSTASH" "$CC" -Iinc "-Isp ace" -O2 -c d.c -o d.o -Wp,-MD,b.d -MD -MF a.d || fail "-Wp,-MD with -MD -MF failed"
echo '#define X 6' >inc/h.h
sleep 0.1
"$CSTASH" "$CC" -Iinc "-Isp ace" -O2 -c d.c -o d.o -Wp,-MD,b.d -MD -MF a.d || fail "-Wp,-MD with -MD -MF failed"
[ "$(value)" = 26 ] || fail "a stale -MF file was taken for the compile's rule: a stale object"
ok "depend_stale_user_dep_file: a rule left at -MF is never taken for the compile's"

"$CSTASH" "$CC" -Iinc "-Isp ace" -O2 -c d.c -o d.o -MD -MF t.d -MT 'x:
y' || fail "-MT with a newline failed"
echo '#define X 7' >inc/h.h
sleep 0.1
"$CSTASH" "$CC" -Iinc "-Isp ace" -O2 -c d.c -o d.o -MD -MF t.d -MT 'x:
y' || fail "-MT with a newline failed"
[ "$(value)" = 27 ] || fail "a rule with an empty first line gave a stale object"
ok "depend_empty_first_rule: a rule whose first line lists nothing is refused"

mkdir -p tb
echo '#define T 1' >'tb/z\'
echo '#define T 100' >tb/z
printf '#include <z\\>\nint t(void) { return T; }\n' >t.c
sleep 0.1
"$CSTASH" "$CC" -Itb -c t.c -o t.o || fail "the trailing-backslash header compile failed"
echo '#define T 2' >'tb/z\'
sleep 0.1
"$CSTASH" "$CC" -Itb -c t.c -o t.o || fail "the trailing-backslash header compile failed"
/usr/bin/gcc -Itb -c t.c -o tt.o
cmp -s t.o tt.o || fail "a header whose name ends in a backslash gave a stale object"
ok "depend_trailing_backslash_name: a name's own backslash is not a continued line"

mv "$CSTASH_DIR/tmp" "$TEST_TMP/tmp.saved" 2>/dev/null || true
echo 'not a directory' >"$CSTASH_DIR/tmp"
"$CSTASH" "$CC" -Iinc "-Isp ace" -O2 -c d.c -o u.o -DU || fail "a cache dir whose tmp/ cannot be made broke the build"
rm -f "$CSTASH_DIR/tmp"
ok "depend_unwritable_tmp: a DIR/tmp it cannot write falls back to preprocessing"

rc=0; /usr/bin/gcc -Iinc "-Isp ace" -c d.c -o f.o -MF f.d 2>/dev/null || rc=$?
crc=0; "$CSTASH" "$CC" -Iinc "-Isp ace" -c d.c -o f.o -MF f.d 2>/dev/null || crc=$?
[ "$crc" = "$rc" ] || fail "-MF without -MD: gcc exits $rc, cstash $crc"
ok "depend_mf_without_md: -MF alone is left to gcc (exit $rc)"

# A source edited after cstash hashed it and before the compiler read it:
# the object is of the new text, the manifest key of the old one.
printf 'int w(void) { return 4; }\n' >w.c.orig
printf 'int w(void) { return 40; }\n' >w.c.next
cp w.c.orig w.c
sleep 0.1 # ctime: the copy's time
EDIT_FROM=$p/w.c.next EDIT_TO=$p/w.c "$CSTASH" "$CC" -c w.c -o w.o -DNEW || fail "compile failed"
cp w.c.orig w.c
sleep 0.1 # ctime: the copy's time
"$CSTASH" "$CC" -c w.c -o w.o -DNEW || fail "compile failed"
/usr/bin/gcc -c w.c -o ww.o -DNEW
cmp -s w.o ww.o || fail "an object built from a source edited during the compile was kept under the old source"
ok "depend_source_edited_during_compile: not stored"

# Review of 6d2b9a0: the rule must name the source, not list it first.
"$CSTASH" "$CC" -Iinc "-Isp ace" -O2 -c ./d.c -o dot.o || fail "cstash gcc ./d.c failed"
h=$(chits)
"$CSTASH" "$CC" -Iinc "-Isp ace" -O2 -c ./d.c -o dot.o || fail "cstash gcc ./d.c failed"
[ "$(chits)" = $((h + 1)) ] || fail "a source given as ./d.c (the rule says d.c) is never cached"
ok "depend_dot_slash_source: ./d.c is cached (gcc's rule drops the ./)"
if command -v clang >/dev/null; then
    "$CSTASH" clang -fsanitize=address -Iinc "-Isp ace" -c d.c -o asan.o || fail "cstash clang -fsanitize failed"
    h=$(chits)
    "$CSTASH" clang -fsanitize=address -Iinc "-Isp ace" -c d.c -o asan.o || fail "cstash clang -fsanitize failed"
    [ "$(chits)" = $((h + 1)) ] || fail "clang -fsanitize (its ignorelist first in the rule) is never cached"
    ok "depend_clang_ignorelist_first: clang's rule with its ignorelist first is cached"
fi

: >"$TEST_TMP/runs"
cs -g -grecord-gcc-switches -DREC
[ "$(pp_runs)" = 1 ] || fail "-grecord-gcc-switches used depend mode (the object would name its temporary file)"
ok "depend_record_switches: recorded command lines are preprocessed as usual"

# Entries are shared: what depend mode stored is a direct hit without it.
echo '#define X 3' >inc/h.h
sleep 0.1
cs
h=$(chits)
CSTASH_DEPEND=0 cs
[ "$(chits)" = $((h + 1)) ] || fail "a depend-mode entry is no direct hit without depend mode"
[ "$(value)" = 23 ] || fail "the shared entry's object is wrong"
ok "a depend-mode entry is a direct hit with CSTASH_DEPEND=0"

"$CSTASH" --show-config | grep -q '^depend = true' || fail "--show-config lacks depend: $("$CSTASH" --show-config)"
CSTASH_DEPEND=maybe cs 2>"$TEST_TMP/err"
grep -q 'maybe' "$TEST_TMP/err" || fail "a bad CSTASH_DEPEND is not named: $(cat "$TEST_TMP/err")"
ok "CSTASH_DEPEND in --show-config; a bad value is named"
