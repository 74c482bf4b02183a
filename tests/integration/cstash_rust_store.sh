# The Rust path's file store, with rustc run through cstash by hand (no
# cargo, seconds): hits hard-link the outputs from the content-addressed
# cache with the current mtime and the right modes; a write into target/
# through such a link never reaches a later build (the changed file is
# dropped and the crate compiled again); a remote file blob that does not
# match its hash is not used; a hostile record naming a file outside the
# output dir is refused. Debian's rustc (the README installs it).
source "$CS_SRCDIR/tests/lib.sh"

RUSTC_BIN=${RUSTC_BIN:-/usr/bin/rustc}
[ -x "$RUSTC_BIN" ] || skip_test "no $RUSTC_BIN (scripts/deps.sh test installs Debian's rustc)"
export CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_LOG=$TEST_TMP/cstash.log CSTASH_DIR=$TEST_TMP/cache
unset CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_TOKEN CSTASH_READONLY \
    CSTASH_REMOTE CSTASH_DIRECT

proj=$TEST_TMP/proj
mkdir -p "$proj/src" "$proj/target/debug/deps"
printf 'pub fn f(x: u32) -> u32 { x + 1 }\npub const D: &str = include_str!("d.txt");\n' \
    >"$proj/src/lib.rs"
echo data >"$proj/src/d.txt"
printf 'fn main() { println!("{}", u::f(41)); }\n' >"$proj/src/main.rs"
sleep 0.1 # older than the compile's start: the entries are recorded
deps=$proj/target/debug/deps
lib() { # the lib crate as cargo would compile it
    (cd "$proj" && "$CSTASH" "$RUSTC_BIN" --crate-name u --edition=2021 src/lib.rs \
        --crate-type lib --emit=dep-info,metadata,link -C metadata=1 -C extra-filename=-1 \
        --out-dir "$deps" -L "dependency=$deps")
}
bin() {
    (cd "$proj" && "$CSTASH" "$RUSTC_BIN" --crate-name m --edition=2021 src/main.rs \
        --crate-type bin --emit=dep-info,link -C metadata=2 -C extra-filename=-2 \
        --out-dir "$deps" -L "dependency=$deps" --extern "u=$deps/libu-1.rlib")
}
events() { grep -c " rust $1 " "$CSTASH_LOG" || true; }

lib && bin
[ "$(events miss)" = 2 ] || fail "first builds: $(events miss) misses, want 2"
cp "$deps/libu-1.rlib" "$TEST_TMP/rlib.good"
cp "$deps/m-2" "$TEST_TMP/bin.good"
rm -f "$deps"/*
before=$(date +%s)
lib && bin
[ "$(events direct_hit_local)" = 2 ] || fail "rebuild: $(events direct_hit_local) direct hits, want 2"
[ "$(stat -c %h "$deps/libu-1.rlib")" -ge 2 ] || fail "the rlib was not hard-linked from the cache"
[ "$(stat -c %Y "$deps/libu-1.rlib")" -ge "$before" ] || fail "a restored output kept an old mtime"
[ -x "$deps/m-2" ] && [ ! -x "$deps/libu-1.rlib" ] || fail "modes: the bin must be executable, the rlib not"
[ "$("$deps/m-2")" = 42 ] || fail "the restored program does not run"
cmp -s "$deps/m-2" "$TEST_TMP/bin.good" && cmp -s "$deps/libu-1.rlib" "$TEST_TMP/rlib.good" \
    || fail "restored outputs differ from the compiled ones"
grep -q "^$deps/[a-z0-9-]*\.rmeta: src/lib.rs src/d.txt" "$deps/u-1.d" || fail "the .d file: $(head -1 "$deps/u-1.d")"
ok "hits hard-link the outputs (nlink $(stat -c %h "$deps/libu-1.rlib")), mtime now, modes kept, the .d rewritten"

# A write into target/ in place (binutils' strip does it to files with
# several links) goes into the cache's inode too: it must never be served.
printf 'CORRUPTED' | dd of="$deps/libu-1.rlib" bs=1 seek=100 conv=notrunc status=none
rm -f "$deps/libu-1.rmeta" "$deps/u-1.d"
lib
cmp -s "$deps/libu-1.rlib" "$TEST_TMP/rlib.good" || fail "a file changed through a hard link was served"
grep -q 'was changed (written through a hard link?): dropped' "$CSTASH_LOG" \
    || fail "the changed cache file was not noticed"
[ "$(events miss)" = 3 ] || fail "after the drop: $(events miss) misses, want 3 (a recompile)"
rm -f "$deps"/libu-1.*
lib
[ "$(events direct_hit_local)" = 3 ] && cmp -s "$deps/libu-1.rlib" "$TEST_TMP/rlib.good" \
    || fail "the recompiled result is not served intact"
ok "a write through a hard link into the cache is caught: dropped, recompiled, then hits again"

# Remote: a file blob whose content does not match its name is not used.
start_server "$TEST_TMP/data"
export CSTASH_REMOTE=$URL/default CSTASH_DIR=$TEST_TMP/cache-a
rm -f "$deps"/*
lib
[ "$(grep -c ' rust miss u ' "$CSTASH_LOG")" = 3 ] || fail "remote store: the lib was not compiled"
sha=$(sha256sum "$deps/libu-1.rlib" | cut -c1-64)
# A well-formed blob (CSF1, raw length, a zstd frame) of other bytes.
printf 'not the rlib' >"$TEST_TMP/other"
zstd -q -1 -f "$TEST_TMP/other" -o "$TEST_TMP/other.zst"
{ printf 'CSF1'; python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<Q", 12))'
  cat "$TEST_TMP/other.zst"; } >"$TEST_TMP/bad.blob"
curl -sf -X PUT --data-binary @"$TEST_TMP/bad.blob" "$URL/default/${sha:0:2}/${sha:2}" -o /dev/null \
    || fail "cannot overwrite the remote file blob"
export CSTASH_DIR=$TEST_TMP/cache-b
rm -f "$deps"/*
lib
cmp -s "$deps/libu-1.rlib" "$TEST_TMP/rlib.good" || fail "a remote blob that fails its hash was used"
grep -q 'remote file blob does not match its hash' "$CSTASH_LOG" || fail "the bad remote blob was not noticed"
ok "a remote file blob that does not match its sha256 is refused; the crate is compiled"
