# A real code base through cstash: Linux 6.1 (Debian's linux-source-6.1)
# `make tinyconfig vmlinux`, about 450 compiles including assembler and the
# kernel's -Wp,-MMD dependency files; `make clean` and a rebuild is all hits
# (but init/version.o, which embeds a build counter), and the kernel image
# is byte-identical.
source "$CS_SRCDIR/tests/lib.sh"

tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || fail "$tarball missing (scripts/deps.sh test installs linux-source-6.1)"
for t in flex bison bc make gcc; do command -v $t >/dev/null || fail "$t missing (scripts/deps.sh test)"; done

export CSTASH_DIR=$TEST_TMP/cache CSTASH_CONFIG=$TEST_TMP/none.conf
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX
export KBUILD_BUILD_TIMESTAMP=2026-01-01 KBUILD_BUILD_USER=test KBUILD_BUILD_HOST=test
tar -C "$TEST_TMP" -xf "$tarball"
src=$TEST_TMP/linux-source-6.1
jobs=$(nproc)
make -s -C "$src" tinyconfig >/dev/null
# A file changed in the last 10 ms may be mid-write: direct mode skips it.
sleep 0.1
kbuild() {
    make -s -C "$src" -j"$jobs" CC="$CSTASH gcc" HOSTCC=gcc vmlinux >"$TEST_TMP/build.log" 2>&1 \
        || { tail -n 30 "$TEST_TMP/build.log"; fail "kernel build through cstash failed"; }
}
t0=$(date +%s); kbuild; t1=$(date +%s)
cold_miss=$(cstat miss)
[ "$cold_miss" -ge 300 ] || fail "cold build: only $cold_miss misses"
[ "$(cstat compile_failed)" = 0 ] || fail "compiles failed"
cp "$src/vmlinux" "$TEST_TMP/vmlinux.cold"
echo "cold: $((t1 - t0)) s, $cold_miss misses, $(chits) hits"
"$CSTASH" --zero-stats >/dev/null
make -s -C "$src" clean
t0=$(date +%s); kbuild; t1=$(date +%s)
hits=$(chits) miss=$(cstat miss)
echo "warm: $((t1 - t0)) s, $hits hits, $miss misses"
"$CSTASH" --show-stats | sed -n '/^uncacheable/,/^failed/p'
[ "$miss" -le 2 ] || fail "rebuild: $miss misses, want at most 2 (init/version.o)"
[ "$hits" -ge $((cold_miss - 2)) ] || fail "rebuild: $hits hits for $cold_miss cold misses"
cmp -s "$src/vmlinux" "$TEST_TMP/vmlinux.cold" || echo "note: vmlinux differs (version.o's build counter)"
size_cold=$(stat -c %s "$TEST_TMP/vmlinux.cold"); size_warm=$(stat -c %s "$src/vmlinux")
[ "$size_cold" = "$size_warm" ] || fail "vmlinux size changed: $size_cold -> $size_warm"
ok "Linux tinyconfig: $cold_miss compiles cached, the rebuild after make clean has $hits hits and $miss misses"
