# CSTASH_DEPEND=1 (depend mode, issue 19): a miss runs the compiler once,
# with no preprocessor run, and takes the headers from the compiler's own
# -MD rule; the next compile is a direct hit with the same object and the
# same .d as gcc's; a changed header (one whose name has a space too) is a
# miss, never a stale hit; -MMD (no system headers in the list) is used
# only where there can be none, and a rule it cannot read falls back, as
# does a precompiled header; entries are shared with the normal mode.
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

# The kernel's way (-nostdinc, no system directory, -Wp,-MMD): no header
# is a system one, so the rule names every file, unless one makes itself
# a system header.
mkdir -p vend
echo '#define FORCED 1000' >inc/force.h
echo '#define V 100' >vend/vend.h
printf '#include "vend.h"\n#include "h.h"\n#warning from m.c\nint m(void) { return V + X + FORCED; }\n' >m.c
sleep 0.1
KF=(-nostdinc -Iinc -Ivend -include ./inc/force.h -O2 -g -c m.c)
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
for f in vend/vend.h inc/force.h; do
    sed -i 's/ \([0-9]*\)$/ 1\1/' "$f"
    sleep 0.1
    km -o m.o -MMD -MF mm.d
    plain_m
    cmp -s m.o pm.o || fail "after a change of $f the -MMD object is stale"
done
ok "-Wp,-MMD and -MMD with -nostdinc: one compile, no preprocessor; hits with gcc's object, rule and warning; a changed header or forced include is a miss"

# A header that makes itself a system one: -MMD leaves out what it includes.
mkdir -p sh
printf '#pragma GCC system_header\n#include "sh_impl.h"\n' >sh/sh.h
echo '#define S 1' >sh/sh_impl.h
printf '# 1 "fake.h" 3\n#include "lm_impl.h"\n' >sh/lm.h
echo '#define L 1' >sh/lm_impl.h
printf '#pragma GCC system_\\\nheader\n#include "sp_impl.h"\n' >sh/sp.h
echo '#define P 1' >sh/sp_impl.h
echo '#define M 1' >sh/ml_impl.h
printf '#include "sh.h"\nint s(void) { return S; }\n' >sh.c
printf '#include "lm.h"\nint s(void) { return L; }\n' >lm.c
printf '#include "sp.h"\nint s(void) { return P; }\n' >sp.c
printf '# 1 "fake.c" 3\n#include "ml_impl.h"\nint s(void) { return M; }\n' >ml.c
sleep 0.1
for c in sh lm sp ml; do
    SF=(-nostdinc -Ish -O2 -c $c.c -Wp,-MMD,.$c.o.d)
    for i in 1 2; do
        "$CSTASH" "$CC" "${SF[@]}" -o $c.o || fail "cstash gcc ${SF[*]} failed"
    done
    sed -i 's/ \([0-9]*\)$/ 1\1/' sh/${c}_impl.h
    sleep 0.1
    "$CSTASH" "$CC" "${SF[@]}" -o $c.o || fail "cstash gcc ${SF[*]} failed"
    /usr/bin/gcc "${SF[@]}" -o p$c.o
    cmp -s $c.o p$c.o || fail "sh/${c}_impl.h, left out of the -MMD rule by $c.h, changed: stale object"
done
grep -q 'declares itself a system header' "$TEST_TMP/cstash.log" || fail "the refusal is not logged"
ok "depend_mmd_self_declared_system_header: a #pragma GCC system_header (spliced too) or a line marker (in the source too) keeps -MMD out of depend mode"

mkdir -p sd
echo '#define E 1' >sd/ev.h
printf '#include <ev.h>\nint e(void) { return E; }\n' >e.c
sleep 0.1
mkdir -p sdB
ln -sfn ../sd sdB/include
echo "-isystem $p/sd" >sd.opts
for how in isystem env B wpat wud; do
    EF=(-nostdinc -O2 -c e.c -Wp,-MMD,.e.o.d -D$how)
    case $how in
        env) export C_INCLUDE_PATH=$p/sd ;;
        B) EF+=(-B "$p/sdB/") ;; # the driver adds -isystem DIR/include
        wpat) EF+=("-Wp,@$p/sd.opts") ;;
        wud) EF=(-O2 -c e.c -isystem sd --write-user-dependencies) ;; # -MMD by another name
        *) EF+=(-isystem sd) ;;
    esac
    for i in 1 2; do
        "$CSTASH" "$CC" "${EF[@]}" -o e.o || fail "cstash gcc ${EF[*]} failed"
    done
    sed -i 's/ \([0-9]*\)$/ 1\1/' sd/ev.h
    sleep 0.1
    "$CSTASH" "$CC" "${EF[@]}" -o e.o || fail "cstash gcc ${EF[*]} failed"
    /usr/bin/gcc "${EF[@]}" -o pe.o
    unset C_INCLUDE_PATH
    cmp -s e.o pe.o || fail "-MMD with a system directory ($how) gave a stale object"
done
ok "depend_mmd_system_dir: -MMD with -isystem, C_INCLUDE_PATH, -B, -Wp,@file, or as --write-user-dependencies is not keyed by its rule"

# A precompiled header (p.h.gch beside p.h): gcc's rule names neither, so
# a rebuilt one must not be a hit of the old object. Review of 2093666:
# a byte order mark, #if 0 text, a second include of the same header, a
# same-named header elsewhere, -Wp,-include; of 3174205: -Wp,-I, a macro
# that expands to nothing before the include.
mkdir -p pch/sub
printf '#ifndef P_H\n#define P_H\n#include "inner.h"\n#define PV IV\n#endif\n' >pch/p.h
echo 'int subp;' >pch/sub/p.h
echo '#include "p.h"' >pch/other.h
printf '#include "p.h"\nint q(void) { return PV; }\n' >q1.c
printf 'int q(void) { return PV; }\n' >q2.c
printf '\xef\xbb\xbf#include "p.h"\nint q(void) { return PV; }\n' >q3.c
printf '#if 0\nold text\n#endif\n#include "p.h"\nint q(void) { return PV; }\n' >q4.c
printf '#include "p.h"\n#include "other.h"\nint q(void) { return PV; }\n' >q5.c
printf '#include "p.h"\n#include "sub/p.h"\nint q(void) { return PV; }\n' >q6.c
cp q2.c q7.c
cp q1.c q8.c
printf '#define EMPTY\nEMPTY\n#include "p.h"\nint q(void) { return PV; }\n' >q9.c
for i in 1 2 3; do
    echo "#define IV $i" >pch/inner.h
    /usr/bin/gcc -O2 -Ipch -x c-header pch/p.h -o pch/p.h.gch
    sleep 0.1
    for c in q1 q2 q3 q4 q5 q6 q7 q8 q9; do
        QF=(-O2 -Ipch -c $c.c -MD -MF $c.d)
        [ $c = q2 ] && QF+=(-include p.h)
        [ $c = q7 ] && QF+=(-Wp,-include,p.h)
        [ $c = q8 ] && QF=(-O2 -Wp,-Ipch -c $c.c -MD -MF $c.d)
        "$CSTASH" "$CC" "${QF[@]}" -o $c.o || fail "cstash gcc ${QF[*]} failed"
        /usr/bin/gcc "${QF[@]}" -o p$c.o
        cmp -s $c.o p$c.o || fail "$c.c with a rebuilt precompiled header (round $i): stale object"
    done
done
ok "depend_precompiled_header: a header gcc took from its .gch (an #include or -include) is not keyed by the rule"

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
