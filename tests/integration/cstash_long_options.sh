# gcc's long spellings of short options, and compiles whose preprocessor
# output has no line markers: each hit gives what gcc gives, and what
# cannot be read is run uncached.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_LOG=$TEST_TMP/cstash.log CSTASH_CONFIG=$TEST_TMP/none.conf
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_DEPEND
cd "$TEST_TMP"
cs() { "$CSTASH" gcc "$@"; }
printf '#include "h.h"\nint g(void) { return H; }\n' >y.c
echo '#define H 1' >h.h
sleep 0.1

# long_dependency_spellings: --write-(user-)dependencies are -MD/-MMD (a
# hit wrote no .d); --user-dependencies is -MM (a direct hit kept the old
# rule when a header added an include).
for o in --write-dependencies --write-user-dependencies; do
    cs $o -c y.c -o w.o
    rm -f w.d w.o
    h=$(chits)
    cs $o -c y.c -o w.o
    [ "$(chits)" = $((h + 1)) ] || fail "$o: the second compile did not hit"
    [ -f w.d ] || fail "$o: the hit wrote no w.d"
    cp w.d hit.d
    gcc $o -c y.c -o w.o
    cmp -s w.d hit.d || fail "$o: the hit's .d differs from gcc's: $(cat hit.d) vs $(cat w.d)"
done
cs --user-dependencies -c y.c -o rule.o
cs --user-dependencies -c y.c -o rule.o
printf '#include "h2.h"\n#define H 1\n' >h.h
: >h2.h
sleep 0.1
cs --user-dependencies -c y.c -o rule.o
grep -q h2.h rule.o || fail "--user-dependencies: a stale rule after h.h added an include: $(cat rule.o)"
ok "long_dependency_spellings: --write-dependencies and --write-user-dependencies hit with gcc's .d; --user-dependencies follows the headers"

# long_output_spellings: --output=FILE and --output FILE are -o FILE;
# --compile is -c. They hit, and write where gcc writes.
cs --output=o1.o -c y.c
rm -f o1.o
h=$(chits)
cs --output=o1.o -c y.c
cs --compile y.c --output o2.o
[ "$(chits)" = $((h + 2)) ] || fail "--output/--compile: want 2 hits, got $(($(chits) - h))"
gcc -c y.c -o ref.o
cmp -s o1.o ref.o && cmp -s o2.o ref.o || fail "--output/--compile: a hit's object differs from gcc's"
ok "long_output_spellings: --output=FILE, --output FILE and --compile hit like -o and -c"

# long_options_unread: gcc reads --profile-use=P as -fprofile-use=P and
# --stack-usage as -fstack-usage (a .su file), and takes abbreviations
# (--write-u, --for-assem); -Wp,--write-user-dependencies,F writes a .d.
# None is cached.
for o in --profile-use=prof.d --stack-usage --write-u "--for-assem -al=l.lst" \
    "-Wp,--write-user-dependencies,wp.d"; do
    u=$(cstat uncacheable_unsupported_option)
    cs $o -c y.c -o u.o 2>/dev/null
    [ "$(cstat uncacheable_unsupported_option)" = $((u + 1)) ] || fail "$o: not counted as uncacheable ($(tail -n 1 "$CSTASH_LOG"))"
done
[ -f wp.d ] || fail "-Wp,--write-user-dependencies: gcc's .d is missing"
[ -f u.su ] || fail "--stack-usage: gcc's u.su is missing"
ok "long_options_unread: --profile-use=, --stack-usage, abbreviations and -Wp,--long run uncached"

# A plain --X (gcc's -fX) is keyed as it is: --pic hits with gcc's object.
cs --pic -c y.c -o pic.o
h=$(chits)
cs --pic -c y.c -o pic.o
gcc -fpic -c y.c -o picref.o
[ "$(chits)" = $((h + 1)) ] && cmp -s pic.o picref.o || fail "--pic: no hit, or not gcc's -fpic object"
ok "--pic (gcc's -fpic) hits with gcc's object"

# no_line_markers_uncached: with -P (and its spellings) the preprocessor
# names no file, and with -dM its text is macros alone: it keys no code,
# and a direct hit could not see a header change. A marker-like line in a
# raw string proves nothing. Each runs uncached, with gcc's objects.
n=0
printf '#include "h.h"\nconst char *s = R"(\n# 1 "r.cc"\n)";\nint g() { return H; }\n' >r.cc
for o in -P --no-line-commands -Wp,-P "-Xpreprocessor -P" -dM -Wp,-dM "-x c++ -P"; do
    n=$((n + 1))
    src=y.c; case $o in *c++*) src=r.cc ;; esac
    echo "#define H $n" >h.h
    sleep 0.1
    u=$(cstat uncacheable_no_line_markers)
    cs $o -DN=$n -c $src -o p.o
    cs $o -DN=$n -c $src -o p.o
    [ "$(cstat uncacheable_no_line_markers)" = $((u + 2)) ] || fail "$o: not counted as no_line_markers ($(tail -n 1 "$CSTASH_LOG"))"
    echo "#define H $((n + 100))" >h.h
    sleep 0.1
    cs $o -DN=$n -c $src -o p.o
    gcc $o -DN=$n -c $src -o pref.o
    cmp -s p.o pref.o || fail "$o: a stale object after h.h changed ($(tail -n 2 "$CSTASH_LOG"))"
done
echo 'int g(void) { return 1; }' >d.c
sleep 0.1
cs -dM -c d.c -o d.o
echo 'int g(void) { return 2; }' >d.c
sleep 0.1
cs -dM -c d.c -o d.o
gcc -c d.c -o dref.o
cmp -s d.o dref.o || fail "-dM: a stale object after the source changed"
ok "no_line_markers_uncached: -P, --no-line-commands, -Wp,-P, -Xpreprocessor -P, -dM and a raw string's marker run uncached"

# preprocessed_pch_pragma: with -fpreprocessed (or --preprocessed) cc1
# loads the .gch a #pragma GCC pch_preprocess names, which no key holds.
echo 'static int v = 1;' >pch.h
gcc -x c-header pch.h -o pch.gch
printf '#pragma GCC pch_preprocess "pch.gch"\nint f(void) { return v; }\n' >pp.c
sleep 0.1
for o in -fpreprocessed --preprocessed; do
    echo 'static int v = 1;' >pch.h
    gcc -x c-header pch.h -o pch.gch
    cs $o -c pp.c -o ppo.o
    cs $o -c pp.c -o ppo.o
    echo 'static int v = 2;' >pch.h
    gcc -x c-header pch.h -o pch.gch
    cs $o -c pp.c -o ppo.o
    gcc -fpreprocessed -c pp.c -o ppref.o
    cmp -s ppo.o ppref.o || fail "$o: a stale object after pch.gch was rebuilt"
done
ok "preprocessed_pch_pragma: -fpreprocessed and --preprocessed run uncached"
