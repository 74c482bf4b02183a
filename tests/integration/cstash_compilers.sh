# cstash with each compiler family and as CMake's compiler launcher: g++,
# clang, clang++ hit on a rebuild with objects identical to the compiler's;
# a CMake project (C and C++) rebuilds from hits after `make clean`.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_LOG=$TEST_TMP/cstash.log
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX
cd "$TEST_TMP"
printf 'int c_fn(int x) { return x * 2; }\n' >c.c
printf '#include <vector>\nint cxx_fn() { std::vector<int> v{1, 2, 3}; return (int)v.size(); }\n' >x.cc
sleep 0.1
i=0
# -DN keeps each compiler's first call a miss (cc, run by another name, has
# its own key anyway).
for cc in gcc g++ cc c++ clang clang++; do
    i=$((i + 1))
    command -v $cc >/dev/null || fail "$cc is not installed (scripts/deps.sh test installs clang)"
    src=c.c; case $cc in *++) src=x.cc ;; esac
    h=$(chits)
    "$CSTASH" $cc -O1 -DN=$i -MD -c $src -o "$cc-1.o"
    "$CSTASH" $cc -O1 -DN=$i -MD -c $src -o "$cc-2.o"
    [ "$(chits)" = $((h + 1)) ] || fail "$cc: the second compile did not hit ($(tail -n 1 "$CSTASH_LOG"))"
    $cc -O1 -DN=$i -MD -c $src -o "$cc-ref.o"
    cmp -s "$cc-2.o" "$cc-ref.o" || fail "$cc: the hit's object differs from the compiler's"
    sed "s/$cc-2.o/X/" "$cc-2.d" >a.d; sed "s/$cc-ref.o/X/" "$cc-ref.d" >b.d
    cmp -s a.d b.d || fail "$cc: the hit's .d differs from the compiler's"
done
ok "gcc, g++, cc, c++, clang, clang++: hits, objects and .d files identical to the compiler's"

# compiler_name_in_key: one binary behind two names picks the real
# compiler by the name it is run by (distcc's masquerade links, as in
# /usr/lib/distcc). m/g++ compiles c.c as C++; keyed by the resolved
# file alone, it hit m/gcc's C object.
command -v distcc >/dev/null || fail "distcc is not installed (scripts/deps.sh test installs distcc)"
mkdir -p m distcc-state
ln -s "$(command -v distcc)" m/gcc
ln -s "$(command -v distcc)" m/g++
export DISTCC_HOSTS=localhost DISTCC_DIR=$TEST_TMP/distcc-state
"$CSTASH" m/gcc -O1 -c c.c -o mgcc.o
h=$(chits)
"$CSTASH" m/g++ -O1 -c c.c -o mgxx.o
[ "$(chits)" = "$h" ] || fail "m/g++ hit m/gcc's entry: one binary under two names shared a key"
m/g++ -O1 -c c.c -o mgxx-ref.o
cmp -s mgxx.o mgxx-ref.o || fail "m/g++'s object differs from the compiler's (nm: $(nm mgxx.o))"
"$CSTASH" m/g++ -O1 -c c.c -o mgxx-2.o
[ "$(chits)" = $((h + 1)) ] && cmp -s mgxx-2.o mgxx-ref.o || fail "m/g++'s second compile: no hit or a wrong object"
ok "compiler_name_in_key: distcc masquerade links gcc and g++ get their own keys and objects"

# launcher_behind_in_key: distcc run as m/cc runs the cc found on PATH
# after it. With A/cc (gcc) and then B/cc (clang) there, the second was a
# hit on gcc's object, and its version text was gcc's.
mkdir -p A B
ln -s "$(command -v distcc)" m/cc
ln -s "$(command -v gcc)" A/cc
ln -s "$(command -v clang)" B/cc
printf 'int which(void) {\n#ifdef __clang__\nreturn 1;\n#else\nreturn 2;\n#endif\n}\n' >w.c
sleep 0.1
PATH=$TEST_TMP/m:$TEST_TMP/A:$PATH "$CSTASH" m/cc -c w.c -o wa.o
h=$(chits)
PATH=$TEST_TMP/m:$TEST_TMP/B:$PATH "$CSTASH" m/cc -c w.c -o wb.o
[ "$(chits)" = "$h" ] || fail "m/cc with clang behind it hit gcc's entry"
PATH=$TEST_TMP/m:$TEST_TMP/B:$PATH m/cc -c w.c -o wbref.o
cmp -s wb.o wbref.o || fail "m/cc with clang behind it: not clang's object"
PATH=$TEST_TMP/m:$TEST_TMP/B:$PATH "$CSTASH" m/cc -c w.c -o wb2.o
[ "$(chits)" = $((h + 1)) ] && cmp -s wb2.o wbref.o || fail "m/cc with clang behind it: no hit next time"
ok "launcher_behind_in_key: what distcc runs from PATH is part of the compiler's identity"

# ccache run through its masquerade link looks in CCACHE_PATH instead.
command -v ccache >/dev/null || fail "ccache is not installed (scripts/deps.sh test)"
mkdir -p cm C1 C2
ln -s "$(command -v ccache)" cm/gcc
ln -s "$(command -v gcc)" C1/gcc
ln -s "$(command -v clang)" C2/gcc
h=$(chits)
CCACHE_DISABLE=1 CCACHE_PATH=$TEST_TMP/C1 "$CSTASH" cm/gcc -c w.c -o wc1.o
CCACHE_DISABLE=1 CCACHE_PATH=$TEST_TMP/C2 "$CSTASH" cm/gcc -c w.c -o wc2.o
CCACHE_DISABLE=1 CCACHE_PATH=$TEST_TMP/C2 cm/gcc -c w.c -o wc2ref.o
[ "$(chits)" = "$h" ] && cmp -s wc2.o wc2ref.o || fail "ccache with CCACHE_PATH=C2 (clang): a hit on C1's gcc object"
ok "launcher_behind_in_key: ccache's CCACHE_PATH is part of the identity"

command -v cmake >/dev/null || fail "cmake is not installed (scripts/deps.sh test)"
mkdir -p proj/src
cat >proj/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.13)
project(demo C CXX)
add_library(demo src/a.c src/b.c src/c.cc)
add_executable(app src/main.c)
target_link_libraries(app demo)
CM
for n in a b; do printf 'int %s(void) { return 1; }\n' $n >proj/src/$n.c; done
printf 'extern "C" int cxx(void) { return 3; }\n' >proj/src/c.cc
printf 'int a(void); int b(void); int cxx(void);\nint main(void) { return a() + b() + cxx() - 5; }\n' >proj/src/main.c
sleep 0.1
cmake -S proj -B build -DCMAKE_C_COMPILER_LAUNCHER="$CSTASH" -DCMAKE_CXX_COMPILER_LAUNCHER="$CSTASH" \
    -DCMAKE_BUILD_TYPE=Release >"$TEST_TMP/cmake.out" 2>&1 || { cat "$TEST_TMP/cmake.out"; fail "cmake configure failed"; }
"$CSTASH" --zero-stats >/dev/null
cmake --build build -j 2 >"$TEST_TMP/build.out" 2>&1 || { cat "$TEST_TMP/build.out"; fail "cmake build failed"; }
[ "$(cstat miss)" = 4 ] || fail "first CMake build: $(cstat miss) misses, want 4"
cmake --build build --target clean >/dev/null
cmake --build build -j 2 >"$TEST_TMP/build.out" 2>&1 || { cat "$TEST_TMP/build.out"; fail "cmake rebuild failed"; }
[ "$(chits)" = 4 ] && [ "$(cstat miss)" = 4 ] || fail "CMake rebuild: $(chits) hits, $(cstat miss) misses in total"
./build/app || fail "the app built from hits does not run"
ok "CMake with CMAKE_<LANG>_COMPILER_LAUNCHER=cstash: 4 misses, then 4 hits after clean; the app runs"
