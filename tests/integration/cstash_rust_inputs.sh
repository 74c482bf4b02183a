# Inputs of a Rust compile that are easy to leave out of the key, each once
# served stale by cstash (an outside review's reproductions): a C library
# bundled two crates down (rustc's crate hash leaves native libraries out,
# so the crates between stay byte for byte the same); a file named inside a
# -C link-arg; the spelling of a --remap-path-prefix (rustc matches the
# text); a value computed from env!(CARGO_MANIFEST_DIR) in two checkouts;
# a source edited while rustc runs, with direct mode off; a cached file
# hard-linked into one checkout only; a source read from /dev/stdin.
# Debian's rustc and cargo, offline, small crates.
source "$CS_SRCDIR/tests/lib.sh"

RUSTC_BIN=${RUSTC_BIN:-/usr/bin/rustc}
CARGO_BIN=${CARGO_BIN:-/usr/bin/cargo}
[ -x "$RUSTC_BIN" ] && [ -x "$CARGO_BIN" ] || skip_test "no Debian rustc/cargo (scripts/deps.sh test)"
export CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_LOG=$TEST_TMP/cstash.log CSTASH_DIR=$TEST_TMP/cache
export CARGO_HOME=$TEST_TMP/cargo-home CARGO_INCREMENTAL=0 RUSTC=$RUSTC_BIN RUSTC_WRAPPER=$CSTASH
unset CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_TOKEN CSTASH_READONLY \
    CSTASH_REMOTE CSTASH_DIRECT
cbuild() { # cbuild DIR: cargo build, quiet, bounded
    (cd "$1" && timeout 300 "$CARGO_BIN" build -q --offline) >"$TEST_TMP/build.out" 2>&1 \
        || { cat "$TEST_TMP/build.out"; fail "cargo build in $1 failed"; }
}
crate() { # crate DIR NAME [DEP...]: a package with path dependencies
    local dir=$1 name=$2 dep
    shift 2
    mkdir -p "$dir/src"
    { printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\n' "$name"
      for dep; do printf '%s = { path = "../%s" }\n' "$dep" "$dep"; done; } >"$dir/Cargo.toml"
}

# 1. app -> mid -> csys, whose build script compiles v.c into libcv.a.
ws=$TEST_TMP/nat
mkdir -p "$ws"
printf '[workspace]\nmembers = ["app", "mid", "csys"]\n' >"$ws/Cargo.toml"
crate "$ws/app" app mid
crate "$ws/mid" mid csys
crate "$ws/csys" csys
sed -i 's/^edition = "2021"$/edition = "2021"\nbuild = "build.rs"/' "$ws/csys/Cargo.toml"
printf 'fn main() { println!("value={}", mid::value()); }\n' >"$ws/app/src/main.rs"
printf 'pub fn value() -> i32 { unsafe { csys::c_value() } }\n' >"$ws/mid/src/lib.rs"
printf 'extern "C" { pub fn c_value() -> i32; }\n' >"$ws/csys/src/lib.rs"
cat >"$ws/csys/build.rs" <<'RS'
use std::{env, process::Command};
fn main() {
    let out = env::var("OUT_DIR").unwrap();
    assert!(Command::new("cc").args(["-c", "-fPIC", "v.c", "-o"]).arg(format!("{}/v.o", out)).status().unwrap().success());
    assert!(Command::new("ar").arg("crs").arg(format!("{}/libcv.a", out)).arg(format!("{}/v.o", out)).status().unwrap().success());
    println!("cargo:rustc-link-search=native={}", out);
    println!("cargo:rustc-link-lib=static=cv");
    println!("cargo:rerun-if-changed=v.c");
}
RS
printf 'int c_value(void) { return 1; }\n' >"$ws/csys/v.c"
sleep 0.1
cbuild "$ws"
[ "$("$ws/target/debug/app")" = value=1 ] || fail "native: the first build prints $("$ws/target/debug/app")"
printf 'int c_value(void) { return 2; }\n' >"$ws/csys/v.c"
sleep 0.1
cbuild "$ws"
[ "$("$ws/target/debug/app")" = value=2 ] \
    || fail "native: after v.c changed two crates down, app prints $("$ws/target/debug/app") (a stale link)"
printf 'int c_value(void) { return 1; }\n' >"$ws/csys/v.c"
sleep 0.1
cbuild "$ws"
[ "$("$ws/target/debug/app")" = value=1 ] || fail "native: changed back, app prints $("$ws/target/debug/app")"
ok "a C library bundled two crates down changes: the binary is linked again (value=1, 2, 1)"

# 2. A file named inside a link argument (-Wl,--dynamic-list=FILE).
vs=$TEST_TMP/vs
crate "$vs" vs
sed -i 's/^edition = "2021"$/edition = "2021"\nbuild = "build.rs"/' "$vs/Cargo.toml"
cat >"$vs/build.rs" <<'RS'
fn main() {
    let d = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-arg-bins=-Wl,--dynamic-list={}/dyn.list", d);
    println!("cargo:rerun-if-changed=dyn.list");
}
RS
cat >"$vs/src/main.rs" <<'RS'
#[no_mangle] pub extern "C" fn alpha() -> i32 { 1 }
#[no_mangle] pub extern "C" fn beta() -> i32 { 2 }
fn main() { println!("{}", alpha() + beta()); }
RS
printf '{ alpha; beta; };\n' >"$vs/dyn.list"
sleep 0.1
cbuild "$vs"
nm -D "$vs/target/debug/vs" >"$TEST_TMP/nm" && grep -qw beta "$TEST_TMP/nm" || fail "link-arg: the first build does not export beta"
printf '{ alpha; };\n' >"$vs/dyn.list"
sleep 0.1
cbuild "$vs"
nm -D "$vs/target/debug/vs" >"$TEST_TMP/nm" && ! grep -qw beta "$TEST_TMP/nm" || fail "link-arg: dyn.list narrowed, the binary still exports beta (stale)"
ok "a file named in -Wl,--dynamic-list= changes: the binary is linked again"

# 3. --remap-path-prefix as written: "src" and "$PWD/src" are not the same map.
rp=$TEST_TMP/remap
mkdir -p "$rp/src"
printf 'fn main() { println!("{}", file!()); }\n' >"$rp/src/main.rs"
sleep 0.1
remap_run() { # remap_run FROM: compile through cstash, print what it prints
    (cd "$rp" && rm -f m && "$CSTASH" "$RUSTC_BIN" --crate-name m --edition=2021 src/main.rs \
        --crate-type bin -o m "--remap-path-prefix=$1=XX" && ./m)
}
a=$(remap_run src)
b=$(remap_run "$rp/src")
want=$(cd "$rp" && rm -f m && "$RUSTC_BIN" --crate-name m --edition=2021 src/main.rs --crate-type bin \
    -o m "--remap-path-prefix=$rp/src=XX" && ./m)
[ "$a" = XX/main.rs ] && [ "$b" = "$want" ] \
    || fail "remap: src=XX printed $a, $rp/src=XX printed $b, rustc itself prints $want"
ok "--remap-path-prefix keyed as written: src=XX gives $a, the absolute spelling $b, as rustc"

# 4. A value computed from env!(CARGO_MANIFEST_DIR), two checkouts, one cache.
for d in lenA lenBBBBBB; do
    crate "$TEST_TMP/$d/len" len
    printf 'const N: usize = env!("CARGO_MANIFEST_DIR").len();\nfn main() { println!("{}", N); }\n' \
        >"$TEST_TMP/$d/len/src/main.rs"
done
sleep 0.1
for d in lenA lenBBBBBB; do
    cbuild "$TEST_TMP/$d/len"
    got=$("$TEST_TMP/$d/len/target/debug/len")
    want=$(printf '%s' "$TEST_TMP/$d/len" | wc -c)
    [ "$got" = "$want" ] || fail "env!: checkout $d prints $got, want $want (another checkout's output)"
done
ok "env!(CARGO_MANIFEST_DIR) in two checkouts: each binary has its own value"

# 5. Direct mode off: a source edited while rustc runs is not stored under
# the key of what the dep-info pass read.
slow=$TEST_TMP/slow
mkdir -p "$slow/bin" "$slow/p/src"
printf '#!/bin/sh\n[ -e %s/slow.on ] && sleep 2\nexec %s "$@"\n' "$slow" "$RUSTC_BIN" >"$slow/bin/rustc"
chmod +x "$slow/bin/rustc"
printf 'fn main() { println!("old"); }\n' >"$slow/p/src/main.rs"
sleep 0.1
race_run() {
    (cd "$slow/p" && rm -f r && CSTASH_DIRECT=false "$CSTASH" "$slow/bin/rustc" --crate-name r \
        --edition=2021 src/main.rs --crate-type bin -o r && ./r)
}
race_run >/dev/null # rustc's identity cached, so only the passes below are slow
printf 'fn main() { println!("older"); }\n' >"$slow/p/src/main.rs"
sleep 0.1
touch "$slow/slow.on"
race_run >"$slow/out" &
pid=$!
sleep 3 # the dep-info pass (2 s late) has hashed "older"; rustc (2 s late) has not read it yet
printf 'fn main() { println!("newer"); }\n' >"$slow/p/src/main.rs"
wait $pid || fail "race: the slow compile failed"
rm -f "$slow/slow.on"
printf 'fn main() { println!("older"); }\n' >"$slow/p/src/main.rs"
sleep 0.1
got=$(race_run)
[ "$got" = older ] || fail "race: the source says older, the cached program says $got"
ok "direct mode off, the source edited between the dep-info pass and rustc: not stored under the old key"

# 6. A cached file is hard-linked into one checkout at a time.
for d in one two; do
    crate "$TEST_TMP/$d/k" k
    printf 'fn main() { println!("k"); }\n' >"$TEST_TMP/$d/k/src/main.rs"
done
sleep 0.1
cbuild "$TEST_TMP/one/k"
cbuild "$TEST_TMP/two/k"
f1=$(ls "$TEST_TMP"/one/k/target/debug/deps/k-*[0-9a-f] | head -1)
f2=$(ls "$TEST_TMP"/two/k/target/debug/deps/k-*[0-9a-f] | head -1)
[ "$(stat -c %i "$f1")" != "$(stat -c %i "$f2")" ] || fail "links: two checkouts share one inode"
cp "$f1" "$TEST_TMP/k.good"
printf 'X' | dd of="$f2" bs=1 seek=64 conv=notrunc status=none
cmp -s "$f1" "$TEST_TMP/k.good" || fail "links: a write in checkout two changed checkout one's binary"
ok "two checkouts: the second gets a copy, a write into it does not reach the first"

# 7. A source that is not a regular file runs rustc untouched.
mkdir -p "$TEST_TMP/stdin"
(cd "$TEST_TMP/stdin" && printf 'fn main() { println!("piped"); }\n' \
    | "$CSTASH" "$RUSTC_BIN" --crate-name s --crate-type bin -o s /dev/stdin && ./s) >"$TEST_TMP/stdin.out" \
    || fail "stdin: the build failed: $(cat "$TEST_TMP/stdin.out")"
[ "$(cat "$TEST_TMP/stdin.out")" = piped ] || fail "stdin: the program prints $(cat "$TEST_TMP/stdin.out")"
grep -q 'rust uncacheable special_file' "$CSTASH_LOG" || fail "stdin: not counted as special_file"
ok "a source read from /dev/stdin: rustc runs untouched, counted as special_file"

# 8. The tree below a crate that links is taken as it is in this build: two
# checkouts whose -sys crate bundles a different C library have the same
# .rmeta (rustc leaves native libraries out of it), and the crate above it
# the same .rlib. 300 other archives in the native dir keep its libraries
# out of the key (a system dir), so only the deep hash can tell them apart.
for x in A B; do
    d=$TEST_TMP/deep$x
    mkdir -p "$d/nd" "$d/out"
    v=1; [ $x = B ] && v=2
    printf 'int c_value(void) { return %s; }\n' "$v" >"$d/v.c"
    (cd "$d" && cc -c -fPIC v.c -o v.o && ar crs nd/libcv.a v.o)
    for i in $(seq 300); do ar crs "$d/nd/libdummy$i.a"; done
    printf 'extern "C" { pub fn c_value() -> i32; }\n' >"$d/csys.rs"
    printf 'pub fn value() -> i32 { unsafe { csys::c_value() } }\n' >"$d/mid.rs"
    printf 'fn main() { println!("v={}", mid::value()); }\n' >"$d/app.rs"
done
sleep 0.1
deep_build() { # deep_build X [app]: csys, mid, app of checkout X through cstash
    local d=$TEST_TMP/deep$1 e=(--edition=2021 -C debuginfo=0)
    (cd "$d" &&
        { [ "${2:-}" = app ] || "$CSTASH" "$RUSTC_BIN" --crate-name csys "${e[@]}" csys.rs --crate-type lib \
            --emit=dep-info,metadata,link -C metadata=c1 -C extra-filename=-c1 --out-dir out \
            -L native=nd -l static=cv; } &&
        { [ "${2:-}" = app ] || "$CSTASH" "$RUSTC_BIN" --crate-name mid "${e[@]}" mid.rs --crate-type lib \
            --emit=dep-info,metadata,link -C metadata=m1 -C extra-filename=-m1 --out-dir out \
            -L dependency=out --extern csys=out/libcsys-c1.rmeta; } &&
        rm -f out/app && "$CSTASH" "$RUSTC_BIN" --crate-name app "${e[@]}" app.rs --crate-type bin \
            --emit=dep-info,link --out-dir out -L dependency=out -L native=nd \
            --extern mid=out/libmid-m1.rlib && out/app)
}
[ "$(deep_build A)" = v=1 ] && [ "$(deep_build B)" = v=2 ] || fail "deep: the first builds are wrong"
cmp -s "$TEST_TMP/deepA/out/libmid-m1.rlib" "$TEST_TMP/deepB/out/libmid-m1.rlib" \
    || fail "deep: the two mid rlibs differ, the case is not the one this checks"
got=$(deep_build A app)
[ "$got" = v=1 ] || fail "deep: checkout A's app, linked again after B built, prints $got (B's tree)"
ok "two trees with the same .rmeta and different .rlib below a linked crate: each links its own"

# 9. A query that names a source writes nothing, and deletes nothing.
mkdir -p "$TEST_TMP/q"
printf 'fn main() {}\n' >"$TEST_TMP/q/hello.rs"
(cd "$TEST_TMP/q" && "$RUSTC_BIN" hello.rs -o hello && "$CSTASH" "$RUSTC_BIN" --crate-name hello \
    --print file-names hello.rs >/dev/null) || fail "query: rustc --print failed"
[ -x "$TEST_TMP/q/hello" ] || fail "query: rustc --print file-names through cstash deleted ./hello"
ok "rustc --print with a source: passes through, deletes nothing"
