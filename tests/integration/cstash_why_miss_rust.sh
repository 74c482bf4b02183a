# cstash --why-miss for Rust (issue 20.6): after a rustc miss it names
# what differs from the closest entry of the same crate: a module's source
# file, an added --cfg, an env var read with env!, a changed --extern crate,
# cargo's environment. The record is found by each output as cargo names
# it (libfoo-<hash>.rlib, .rmeta, .d), kept apart from a bin and a test of
# the same crate name in the same dir; secrets are kept as hashes; a record
# stays readable with thousands of arguments; a cargo build's miss after a
# source change names the file.
source "$CS_SRCDIR/tests/lib.sh"

RUSTC_DEB=/usr/bin/rustc
CARGO=/usr/bin/cargo
[ -x "$RUSTC_DEB" ] && [ -x "$CARGO" ] ||
    fail "Debian's rustc and cargo are needed (scripts/deps.sh test installs them)"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_LOG=$TEST_TMP/cstash.log CSTASH_CONFIG=$TEST_TMP/none.conf
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_READONLY \
    CSTASH_DIRECT CSTASH_CACHE_BUSTER WHY_VAR CARGO_PKG_VERSION RUSTFLAGS CARGO_TARGET_DIR
p=$TEST_TMP/crate
mkdir -p "$p/src" "$p/dep" "$p/out"
cd "$p"
cat >src/lib.rs <<'EOF'
mod m;
pub fn f() -> u32 { m::g() + dep::h() + env!("WHY_VAR").len() as u32 }
EOF
echo 'pub fn g() -> u32 { 1 }' >src/m.rs
echo 'pub fn h() -> u32 { 2 }' >dep/lib.rs
mkdep() {
    "$RUSTC_DEB" --crate-name dep --crate-type lib --edition 2021 --emit=dep-info,metadata,link \
        -C extra-filename=-00000000000000aa --out-dir out dep/lib.rs || fail "rustc of the dep failed"
}
OUT=out/libfoo-0123456789abcdef.rlib
build() {
    WHY_VAR=${WHY_VAR:-x} "$CSTASH" "$RUSTC_DEB" --crate-name foo --edition 2021 --crate-type lib \
        --emit=dep-info,metadata,link -C extra-filename=-0123456789abcdef --out-dir out \
        --extern dep=out/libdep-00000000000000aa.rlib "$@" src/lib.rs || fail "cstash rustc failed"
}
# why EXPECTED [OUTPUT]: --why-miss prints exactly EXPECTED (after any
# "last miss:" line)
why() {
    "$CSTASH" --why-miss ${2:+"$2"} >"$TEST_TMP/out" 2>&1 || fail "--why-miss ${2:-} failed: $(cat "$TEST_TMP/out")"
    grep -v '^last miss: ' "$TEST_TMP/out" >"$TEST_TMP/diff"
    [ "$(cat "$TEST_TMP/diff")" = "$1" ] ||
        fail "--why-miss ${2:-}: want \"$1\", got: $(cat "$TEST_TMP/out")"
}
mkdep
sleep 0.1 # a file changed in the last 10 ms is kept out of direct mode

build
"$CSTASH" --why-miss $OUT | grep -q 'first compile' || fail "a first rustc compile is not said to be one"
h=$(chits)
build
[ "$(chits)" = $((h + 1)) ] || fail "the second rustc compile is not a hit"
ok "a first rustc compile is said to be one; the next is a hit"

echo 'pub fn g() -> u32 { 3 }' >src/m.rs
sleep 0.1
build
why "file $p/src/m.rs changed (sha256 $(printf 'pub fn g() -> u32 { 1 }\n' | sha256sum | cut -c1-12)... -> $(sha256sum <src/m.rs | cut -c1-12)...)" $OUT
why "$(cat "$TEST_TMP/diff")" out/libfoo-0123456789abcdef.rmeta
why "$(cat "$TEST_TMP/diff")" out/foo-0123456789abcdef.d
ok "a changed module file is named with its path, by each output as cargo names it"

build --cfg 'feature="x"'
why 'argument added: --cfg feature="x"'
grep -qxF "last miss: $p/out/foo (lib)" "$TEST_TMP/out" || fail "--why-miss alone does not name the crate: $(cat "$TEST_TMP/out")"
ok "an added --cfg is named (--why-miss alone, the last miss)"

WHY_VAR=yy build --cfg 'feature="x"'
why 'env (read by the code) WHY_VAR changed: "x" -> "yy"' $OUT
WHY_VAR='a\b
c' build --cfg 'feature="x"'
why 'env (read by the code) WHY_VAR changed: "yy" -> "a\\b\nc"' $OUT
ok "an env var the crate reads with env! is named with both values"

echo 'pub fn h() -> u32 { 5 }' >dep/lib.rs
mkdep
WHY_VAR=yy build --cfg 'feature="x"'
"$CSTASH" --why-miss $OUT >"$TEST_TMP/out" || fail "--why-miss $OUT failed"
grep -q "^extern crate $p/out/libdep-00000000000000aa.rlib changed (sha256 [0-9a-f]*\.\.\. -> [0-9a-f]*\.\.\.)\$" "$TEST_TMP/out" ||
    fail "the changed --extern crate is not named: $(cat "$TEST_TMP/out")"
[ "$(wc -l <"$TEST_TMP/out")" = 1 ] || fail "more than the extern differs: $(cat "$TEST_TMP/out")"
ok "a changed --extern crate is named with its path"

WHY_VAR=yy build --cfg 'feature="x"'
CARGO_PKG_VERSION=1.0 WHY_VAR=yy build --cfg 'feature="x"'
why 'env CARGO_PKG_VERSION set: "1.0"' $OUT
ok "cargo's environment is named"

h=$(chits)
CARGO_REGISTRY_TOKEN=cio_secret1 CARGO_PKG_VERSION=1.0 WHY_VAR=yy build --cfg 'feature="x"'
[ "$(chits)" = $((h + 1)) ] || fail "CARGO_REGISTRY_TOKEN changes the key"
sed -i 's/env!("WHY_VAR")/env!("MY_API_TOKEN")/' src/lib.rs
sleep 0.1
MY_API_TOKEN=s3cr3t-value build
MY_API_TOKEN=s3cr3t-other build
why "env (read by the code) MY_API_TOKEN changed: \"(hidden, sha256 $(printf s3cr3t-value | sha256sum | cut -c1-12))\" -> \"(hidden, sha256 $(printf s3cr3t-other | sha256sum | cut -c1-12))\"" $OUT
grep -rq 's3cr3t' "$CSTASH_DIR/why" && fail "a secret's value is in a why-miss record"
[ "$(stat -c %a "$CSTASH_DIR/why")" = 700 ] || fail "DIR/why is not private"
ok "CARGO_REGISTRY_TOKEN is not keyed; a secret read by env! is told by its hash only; DIR/why is 0700"

# A bin and a test harness of a crate named foo in the same dir: apart.
echo 'fn main() {}' >src/main.rs
"$CSTASH" "$RUSTC_DEB" --crate-name foo --edition 2021 --crate-type bin --emit=dep-info,link \
    -C extra-filename=-2222222222222222 --out-dir out src/main.rs || fail "the bin failed"
"$CSTASH" "$RUSTC_DEB" --crate-name foo --edition 2021 --test --emit=dep-info,link \
    -C extra-filename=-3333333333333333 --out-dir out src/main.rs || fail "the test failed"
"$CSTASH" --why-miss out/foo-2222222222222222 | grep -q 'first compile' ||
    fail "the bin's record is not its own: $("$CSTASH" --why-miss out/foo-2222222222222222)"
"$CSTASH" --why-miss out/foo-3333333333333333 | grep -q 'first compile' ||
    fail "the test's record is not its own: $("$CSTASH" --why-miss out/foo-3333333333333333)"
h=$(chits)
MY_API_TOKEN=s3cr3t-other build
[ "$(chits)" = $((h + 1)) ] || fail "the lib is no hit after the bin and the test"
ok "a bin, a test and a lib of one crate name in one dir have records of their own"

# Thousands of arguments: the record is bounded and stays readable.
cfgs=()
for i in $(seq 1 2500); do cfgs+=(--cfg "c$i"); done
MY_API_TOKEN=s3cr3t-other build "${cfgs[@]}"
MY_API_TOKEN=s3cr3t-other build "${cfgs[@]}" --cfg extra
"$CSTASH" --why-miss $OUT >"$TEST_TMP/out" 2>&1 || fail "--why-miss with 2500 arguments failed: $(head -3 "$TEST_TMP/out")"
for f in "$CSTASH_DIR"/why/*; do
    [ "$(stat -c %s "$f")" -le $((160 * 1024)) ] || fail "a record is over 160 KiB: $(stat -c %s "$f")"
done
ok "a record with 2500 arguments stays within its bound and readable"

"$CSTASH" --why-miss out/libbar-0123456789abcdef.rlib 2>"$TEST_TMP/err" && fail "--why-miss of a crate never compiled succeeded"
grep -qF "$p/out/libbar-0123456789abcdef.rlib" "$TEST_TMP/err" || fail "the error does not name the output: $(cat "$TEST_TMP/err")"
ok "no record of a Rust output: exit 1 naming it"

# Through cargo: the tiny crate of rust-small, its lib.rs changed.
ws=$TEST_TMP/small
cp -r "$CS_SRCDIR/tests/integration/rust-small" "$ws"
rm -rf "$ws/target"
find "$ws" -exec touch -d "@$(($(date +%s) - 60))" {} +
export CARGO_HOME=$TEST_TMP/cargo-home CARGO_TERM_COLOR=never CARGO_NET_OFFLINE=true CARGO_INCREMENTAL=0
cb() { (cd "$ws" && RUSTC=$RUSTC_DEB RUSTC_WRAPPER=$CSTASH "$CARGO" build -q) >"$TEST_TMP/cargo.out" 2>&1 ||
    fail "cargo build failed: $(cat "$TEST_TMP/cargo.out")"; }
cb
echo 'pub fn thrice() -> u32 { N * 3 }' >>"$ws/tiny/src/lib.rs"
cb
rlib=$(ls "$ws"/target/debug/deps/libtiny-*.rlib)
why "file $ws/tiny/src/lib.rs changed (sha256 $(head -2 "$CS_SRCDIR/tests/integration/rust-small/tiny/src/lib.rs" | sha256sum | cut -c1-12)... -> $(sha256sum <"$ws/tiny/src/lib.rs" | cut -c1-12)...)" "$rlib"
ok "after a cargo build, --why-miss of target/debug/deps/libtiny-HASH.rlib names the changed source"
