# cstash as cargo's RUSTC_WRAPPER, through a real cstashd: a cargo workspace
# (tests/integration/rust-ws: serde_json, regex, clap's derive macros from
# Debian's crate sources, a path crate with a build script, include_str!,
# option_env! and a warning) rebuilt from the remote and from the local
# cache; what cargo must recompile misses, the rest hits; hits are the same
# bytes, keep the warning and leave cargo's fingerprints fresh; incremental
# builds pass through; a remote that is down, answers 500 or hangs never
# breaks or stalls a build (tests/integration/rust-small).
source "$CS_SRCDIR/tests/lib.sh"

# Debian's toolchain by absolute path: a rustup toolchain may come first on
# PATH, and cargo without RUSTC runs the bare `rustc` found there.
CARGO=/usr/bin/cargo
RUSTC_DEB=/usr/bin/rustc
[ -x "$CARGO" ] && [ -x "$RUSTC_DEB" ] && [ -d /usr/share/cargo/registry ] \
    || fail "Debian's cargo, rustc and librust-*-dev crate sources are needed (scripts/deps.sh test installs them)"

export CSTASH_CONFIG=$TEST_TMP/none.conf
unset CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_TOKEN CSTASH_READONLY CSTASH_REMOTE_READONLY \
    CSTASH_DIRECT CSTASH_CACHE_BUSTER CSTASH_MAXSIZE CSTASH_CACERT CSTASH_TIMEOUT CSTASH_CONNECT_TIMEOUT \
    CSTASH_REMOTE_BACKOFF
# cargo's: nothing from the caller's environment or ~/.cargo changes the build
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS RUSTDOCFLAGS CARGO_BUILD_RUSTFLAGS CARGO_TARGET_DIR \
    CARGO_BUILD_TARGET CARGO_BUILD_TARGET_DIR CARGO_BUILD_JOBS RUSTC_WORKSPACE_WRAPPER \
    CARGO_BUILD_RUSTC_WRAPPER CARGO_BUILD_RUSTC CARGO_PROFILE_DEV_INCREMENTAL UTIL_FLAVOUR
export CARGO_HOME=$TEST_TMP/cargo-home CARGO_TERM_COLOR=never CARGO_NET_OFFLINE=true
# the dev profile compiles workspace members with -C incremental, which
# cstash passes through: off except where that is the test
export CARGO_INCREMENTAL=0
export RUSTC=$RUSTC_DEB RUSTC_WRAPPER=$CSTASH
# cstash's defaults: a checkout elsewhere hits without CSTASH_BASEDIR (its
# own check is on the small workspace)
unset CSTASH_BASEDIR

WANT='{"g":"one","m":true,"u":42}'

# checkout FIXTURE DIR: a copy of the sources, a minute old (as a checkout
# is by the time it builds)
checkout() {
    cp -r "$CS_SRCDIR/tests/integration/$1" "$2"
    rm -rf "$2/target"
    find "$2" -exec touch -d "@$(($(date +%s) - 60))" {} +
}

# cbuild WS NAME [env args...]: `cargo build` in WS through cstash
# (CSTASH_DIR as exported; env args such as -u VAR or VAR=VALUE); cargo's
# output in $TEST_TMP/NAME.out, cstash's log in $TEST_TMP/NAME.log. Killed
# with all it started after $CB_LIMIT s (a build that hangs fails the test).
CB_LIMIT=300
cbuild() {
    local ws=$1 name=$2 rc=0
    shift 2
    : >"$TEST_TMP/$name.log"
    (cd "$ws" && timeout -k 5 "$CB_LIMIT" env "$@" CSTASH_LOG="$TEST_TMP/$name.log" "${CARGO_BIN:-$CARGO}" build) \
        >"$TEST_TMP/$name.out" 2>&1 || rc=$?
    [ $rc = 124 ] && fail "$name: cargo build still running after $CB_LIMIT s: killed"
    [ $rc = 0 ] || { cat "$TEST_TMP/$name.out"; fail "$name: cargo build failed (exit $rc)"; }
}
cclean() {
    (cd "$1" && env -u RUSTC_WRAPPER "${CARGO_BIN:-$CARGO}" clean -q) >"$TEST_TMP/clean.out" 2>&1 \
        || { cat "$TEST_TMP/clean.out"; fail "cargo clean failed in $1"; }
}

# the cached path's lines of a log: "EVENT CRATE TYPES" (other lines, such
# as "rust CRATE: ...", are notes)
events() {
    awk '$2 == "rust" && $3 ~ /^(direct_hit_local|direct_hit_remote|hit_local|hit_remote|miss)$/ { print $3, $4, $5 }' \
        "$TEST_TMP/$1.log"
}
nevents() { events "$1" | awk -v e="$2" '$1 ~ e' | wc -l; } # nevents NAME EVENT-REGEX
HIT='^(direct_hit_local|direct_hit_remote|hit_local|hit_remote)$'
REMOTE_HIT='^(direct_hit_remote|hit_remote)$'
LOCAL_HIT='^(direct_hit_local|hit_local)$'
event_of() { events "$1" | awk -v c="$2" -v t="$3" '$2 == c && $3 == t { print $1 }' | tail -n 1; } # NAME CRATE TYPES
# notes NAME: the log's other lines (why a call missed or was not cached), at most 6
notes() {
    awk '!($2 == "rust" && $3 ~ /^(direct_hit_local|direct_hit_remote|hit_local|hit_remote|miss|uncacheable)$/)' \
        "$TEST_TMP/$1.log" | head -n 6 | tr '\n' ';'
}
summary() { # one line on a build's log
    echo "$(nevents "$1" .) cached-path calls: $(nevents "$1" "$HIT") hits ($(nevents "$1" "$REMOTE_HIT") remote), $(nevents "$1" '^miss$') misses"
}

# stored_all NAME WHAT: every miss of the build was stored (the log says
# "rust CRATE not cached: WHY" for one that was not)
stored_all() {
    ! grep -q ' rust [^ ]* not cached' "$TEST_TMP/$1.log" \
        || fail "$2: results not stored: $(grep ' rust [^ ]* not cached' "$TEST_TMP/$1.log" | head -n 3 | tr '\n' ';')"
}

# hit_share NAME MIN%: at least MIN% of the cacheable calls hit
hit_share() {
    local h m
    h=$(nevents "$1" "$HIT")
    m=$(nevents "$1" '^miss$')
    [ $((h + m)) -gt 0 ] || fail "$1: no cacheable rustc call logged ($(head -n 3 "$TEST_TMP/$1.log"))"
    [ $((h * 100)) -ge $(($2 * (h + m))) ] \
        || fail "$1: $h hits of $((h + m)) cacheable calls, want $2%; misses: $(missed "$1"); log notes: $(notes "$1")"
}

run_app() { "$1/target/debug/app" || fail "$1/target/debug/app failed"; }
expect_app() { # expect_app WS JSON WHAT
    local got
    got=$(run_app "$1")
    [ "$got" = "$2" ] || fail "$3: the app prints $got, want $2"
}
# the warning block of util in cargo's output
warning_of() { sed -n '/^warning: unused variable/,/^warning: `util` (lib) generated/p' "$TEST_TMP/$1.out"; }
# the crates cargo compiled, sorted, space-separated
compiled() { sed -n 's/^ *Compiling \([^ ]*\) .*/\1/p' "$TEST_TMP/$1.out" | sort | tr '\n' ' ' | sed 's/ $//'; }
# the crates (CRATE:TYPES) that missed, sorted, space-separated
missed() { events "$1" | awk '$1 == "miss" { print $2 ":" $3 }' | sort | tr '\n' ' ' | sed 's/ $//'; }
# st NAME: a stat of the current cache dir (0 when it has none)
st() {
    local v
    v=$(cstat "$1")
    echo "${v:-0}"
}
no_errors() { # no_errors NAME: the current cache dir counted none (NAME: the last build)
    local n e
    for n in remote_error remote_timeout local_error internal_error; do
        e=$(st $n)
        [ "$e" = 0 ] || fail "$1: $e $n counted (the log's other lines: $(awk '$2 != "rust"' "$TEST_TMP/$1.log" | tail -n 3))"
    done
}

start_server "$TEST_TMP/data" --log-level debug
export CSTASH_REMOTE=$URL/default
ws1=$TEST_TMP/ws1
checkout rust-ws "$ws1"

# --- 1. cold build, then a rebuild from the remote, then from the local cache
T0=$SECONDS
export CSTASH_DIR=$TEST_TMP/c1
t0=$(date +%s)
cbuild "$ws1" b1
t1=$(date +%s)
echo "# cold build: $((t1 - t0)) s, $(summary b1)"
n_calls=$(nevents b1 .)
[ "$n_calls" -ge 30 ] || fail "cold build: $n_calls rustc calls logged on the cached path, want 30 or more ($(head -n 5 "$TEST_TMP/b1.log"))"
[ "$(nevents b1 '^miss$')" = "$n_calls" ] || fail "cold build from an empty cache and server: $(summary b1)"
[ "$(st miss)" = "$n_calls" ] || fail "cold build: the stats count $(st miss) misses, the log $n_calls"
stored_all b1 "cold build"
[ "$(st uncacheable_rust_query)" -ge 1 ] || fail "cargo's rustc probes are not counted as uncacheable_rust_query"
[ "$(event_of b1 util lib)" = miss ] && [ "$(event_of b1 app bin)" = miss ] \
    && [ "$(event_of b1 build_script_build bin)" = miss ] && [ "$(event_of b1 clap_derive proc-macro)" = miss ] \
    || fail "cold build: util lib, app bin, build_script_build bin, clap_derive proc-macro not all logged as misses"
expect_app "$ws1" "$WANT" "cold build"
[ -n "$(warning_of b1)" ] || fail "cold build: no unused-variable warning of util ($(grep -c warning "$TEST_TMP/b1.out") warning lines)"
no_errors b1
cp "$ws1/target/debug/app" "$TEST_TMP/app.first"

cclean "$ws1"
export CSTASH_DIR=$TEST_TMP/c2
cbuild "$ws1" b2
echo "# rebuild, empty cache dir: $(summary b2); stats: direct_hit_remote $(st direct_hit_remote), preprocessed_hit_remote $(st preprocessed_hit_remote), miss $(st miss)"
[ "$(nevents b2 .)" = "$n_calls" ] || fail "rebuild: $(nevents b2 .) cached-path calls logged, the cold build $n_calls"
hit_share b2 95
[ "$(nevents b2 "$LOCAL_HIT")" = 0 ] || fail "rebuild from an empty cache dir: $(nevents b2 "$LOCAL_HIT") local hits"
[ $(($(st direct_hit_remote) + $(st preprocessed_hit_remote))) = "$(nevents b2 "$REMOTE_HIT")" ] \
    || fail "rebuild: the stats count $(($(st direct_hit_remote) + $(st preprocessed_hit_remote))) remote hits, the log $(nevents b2 "$REMOTE_HIT")"
cmp -s "$ws1/target/debug/app" "$TEST_TMP/app.first" || fail "rebuild from the remote: the app binary differs from the cold build's"
expect_app "$ws1" "$WANT" "rebuild from the remote"
no_errors b2
cbuild "$ws1" b3
! grep -q Compiling "$TEST_TMP/b3.out" || fail "cargo build after a rebuild from the remote compiles again: $(grep Compiling "$TEST_TMP/b3.out" | head -n 5)"
[ "$(nevents b3 .)" = 0 ] || fail "cargo build after the rebuild ran cstash $(nevents b3 .) times"
cclean "$ws1"
cbuild "$ws1" b4
echo "# rebuild, filled cache dir: $(summary b4); $(nevents b4 '^direct_hit_local$') of them direct"
[ "$(nevents b4 "$LOCAL_HIT")" = "$n_calls" ] || fail "rebuild from the filled cache dir: $(summary b4), want $n_calls local hits"
cmp -s "$ws1/target/debug/app" "$TEST_TMP/app.first" || fail "rebuild from the local cache: the app binary differs"
expect_app "$ws1" "$WANT" "rebuild from the local cache"
cbuild "$ws1" b4b
! grep -q Compiling "$TEST_TMP/b4b.out" || fail "cargo build after a rebuild from the local cache compiles again: $(grep Compiling "$TEST_TMP/b4b.out" | head -n 5)"
ok "cold build: $n_calls misses; after cargo clean, an empty cache dir: $(nevents b2 "$HIT") of $n_calls remote hits, the same app binary; then nothing to compile; again from the cache dir: all local hits ($((SECONDS - T0)) s)"

# --- 4. the warning of a crate that hits
T0=$SECONDS
[ "$(event_of b2 util lib)" != miss ] && [ "$(event_of b4 util lib)" != miss ] || fail "util did not hit in the rebuilds"
[ "$(warning_of b2)" = "$(warning_of b1)" ] \
    || fail "a remote hit of util does not show its warning as the compile did: $(warning_of b2 | head -n 3)"
[ "$(warning_of b4)" = "$(warning_of b1)" ] \
    || fail "a local hit of util does not show its warning as the compile did: $(warning_of b4 | head -n 3)"
ok "util's unused-variable warning shows on a remote and on a local hit as on the compile ($((SECONDS - T0)) s)"

# --- 2. a change to util's source: util and app miss, nothing else runs
T0=$SECONDS
sed -i 's/unwrap_or(42)/unwrap_or(43)/' "$ws1/util/src/lib.rs"
cbuild "$ws1" b5
[ "$(missed b5)" = "app:bin util:lib" ] || fail "util/src/lib.rs changed: misses $(missed b5), want app:bin util:lib"
[ "$(nevents b5 .)" = 2 ] || fail "util/src/lib.rs changed: $(nevents b5 .) cached-path calls, want util and app only ($(events b5 | tr '\n' ';'))"
[ "$(compiled b5)" = "app util" ] || fail "util/src/lib.rs changed: cargo compiled $(compiled b5)"
expect_app "$ws1" '{"g":"one","m":true,"u":43}' "util/src/lib.rs changed"
sed -i 's/unwrap_or(43)/unwrap_or(42)/' "$ws1/util/src/lib.rs"
cbuild "$ws1" b5b
[ "$(nevents b5b "$HIT")" = 2 ] && [ "$(nevents b5b .)" = 2 ] || fail "util/src/lib.rs changed back: $(summary b5b), want util and app to hit"
cmp -s "$ws1/target/debug/app" "$TEST_TMP/app.first" || fail "util/src/lib.rs changed back: the app binary differs"
ok "util/src/lib.rs changed: only util and app compile (2 misses); changed back: both hit, the same binary ($((SECONDS - T0)) s)"

# --- 5. CARGO_INCREMENTAL=1: the workspace members pass through
T0=$SECONDS
inc0=$(st uncacheable_incremental)
cbuild "$ws1" b6 CARGO_INCREMENTAL=1
inc=$(($(st uncacheable_incremental) - inc0))
[ "$inc" -ge 2 ] || fail "CARGO_INCREMENTAL=1: $inc calls counted uncacheable_incremental, want util and app at least"
for c in util app; do
    awk -v c=$c '$2 == "rust" && $3 == "uncacheable" && $4 == "incremental" && $5 == c' "$TEST_TMP/b6.log" | grep -q . \
        || fail "CARGO_INCREMENTAL=1: no 'rust uncacheable incremental $c' in the log: $(grep uncacheable "$TEST_TMP/b6.log" | head -n 4)"
done
[ -z "$(events b6 | awk '$2 == "util" || $2 == "app"')" ] || fail "CARGO_INCREMENTAL=1: util or app went through the cache: $(events b6 | tr '\n' ';')"
[ -n "$(ls -A "$ws1/target/debug/incremental" 2>/dev/null)" ] || fail "CARGO_INCREMENTAL=1: rustc wrote no incremental state"
expect_app "$ws1" "$WANT" "CARGO_INCREMENTAL=1"
cbuild "$ws1" b6b
[ "$(event_of b6b util lib)" != miss ] && [ "$(nevents b6b '^miss$')" = 0 ] || fail "CARGO_INCREMENTAL=0 again: $(summary b6b), want hits"
ok "CARGO_INCREMENTAL=1: util and app pass through ($inc calls uncacheable_incremental), the build works; without it again they hit ($((SECONDS - T0)) s)"

# --- 6. the build script's input changes: util recompiles with the new OUT_DIR/gen.rs
T0=$SECONDS
printf 'two\n' >"$ws1/util/gen.txt"
cbuild "$ws1" b7
[ "$(event_of b7 util lib)" = miss ] || fail "util/gen.txt changed: util is $(event_of b7 util lib), want miss ($(events b7 | tr '\n' ';'))"
expect_app "$ws1" '{"g":"two","m":true,"u":42}' "util/gen.txt changed"
printf 'one\n' >"$ws1/util/gen.txt"
cbuild "$ws1" b7b
[ "$(event_of b7b util lib)" != miss ] && [ -n "$(event_of b7b util lib)" ] || fail "util/gen.txt changed back: util is '$(event_of b7b util lib)', want a hit"
expect_app "$ws1" "$WANT" "util/gen.txt changed back"
ok "util/gen.txt changed: the build script's new gen.rs makes util miss and the app print it; changed back: util hits ($((SECONDS - T0)) s)"

# --- 7. an environment variable read with option_env!
T0=$SECONDS
cbuild "$ws1" b8 UTIL_FLAVOUR=abc
[ "$(event_of b8 util lib)" = miss ] || fail "UTIL_FLAVOUR=abc: util is '$(event_of b8 util lib)', want miss"
expect_app "$ws1" '{"g":"one","m":true,"u":3}' "UTIL_FLAVOUR=abc"
cbuild "$ws1" b8b UTIL_FLAVOUR=abcdef
[ "$(event_of b8b util lib)" = miss ] || fail "UTIL_FLAVOUR=abc, then abcdef: util is '$(event_of b8b util lib)', want miss"
expect_app "$ws1" '{"g":"one","m":true,"u":6}' "UTIL_FLAVOUR=abcdef"
touch "$ws1/util/src/lib.rs"
cbuild "$ws1" b8c UTIL_FLAVOUR=abcdef
[ "$(event_of b8c util lib)" != miss ] && [ -n "$(event_of b8c util lib)" ] \
    || fail "UTIL_FLAVOUR unchanged (abcdef), lib.rs touched: util is '$(event_of b8c util lib)', want a hit"
expect_app "$ws1" '{"g":"one","m":true,"u":6}' "UTIL_FLAVOUR=abcdef, lib.rs touched"
# after that hit, cargo still knows util reads UTIL_FLAVOUR (the .d written on a hit says so)
cbuild "$ws1" b8d
[ -n "$(event_of b8d util lib)" ] || fail "UTIL_FLAVOUR unset after a hit with it set: cargo did not recompile util (the .d of the hit lacks env-dep:UTIL_FLAVOUR?)"
[ "$(event_of b8d util lib)" != miss ] || fail "UTIL_FLAVOUR unset again: util missed, want a hit"
expect_app "$ws1" "$WANT" "UTIL_FLAVOUR unset again"
ok "option_env!(UTIL_FLAVOUR): set, changed: util misses; unchanged: hits; unset again: hits and prints the default ($((SECONDS - T0)) s)"

# --- 3. a second checkout at another path, an empty cache dir: remote hits
T0=$SECONDS
ws2=$TEST_TMP/elsewhere/ws2
mkdir -p "$TEST_TMP/elsewhere"
checkout rust-ws "$ws2"
export CSTASH_DIR=$TEST_TMP/c3
cbuild "$ws2" b9
echo "# second checkout: $(summary b9); stats: direct_hit_remote $(st direct_hit_remote), preprocessed_hit_remote $(st preprocessed_hit_remote)"
[ "$(nevents b9 .)" = "$n_calls" ] || fail "second checkout: $(nevents b9 .) cached-path calls logged, the first $n_calls"
hit_share b9 95
[ "$(nevents b9 "$REMOTE_HIT")" = "$(nevents b9 "$HIT")" ] || fail "second checkout, empty cache dir: hits that are not remote: $(summary b9)"
cmp -s "$ws2/target/debug/app" "$TEST_TMP/app.first" || fail "second checkout: the app binary differs from the first checkout's"
expect_app "$ws2" "$WANT" "second checkout"
[ "$(warning_of b9)" = "$(warning_of b1)" ] || fail "second checkout: util's warning differs: $(warning_of b9 | head -n 3)"
stale=$({ grep -rl -F "$ws1" "$ws2/target/debug/deps" --include='*.d'; grep -rl -F "$ws1" "$ws2/target/debug/.fingerprint"; } 2>/dev/null | head -n 3 || true)
[ -z "$stale" ] || fail "second checkout: dep-info names the first checkout: $stale: $(grep -h -F "$ws1" $stale | head -n 2)"
no_errors b9
cbuild "$ws2" b9b
! grep -q Compiling "$TEST_TMP/b9b.out" || fail "second checkout: cargo build again compiles: $(grep Compiling "$TEST_TMP/b9b.out" | head -n 5)"
sed -i 's/unwrap_or(42)/unwrap_or(44)/' "$ws2/util/src/lib.rs"
cbuild "$ws2" b9c
expect_app "$ws2" '{"g":"one","m":true,"u":44}' "second checkout, its util/src/lib.rs changed"
ok "a second checkout elsewhere, empty cache dir: $(nevents b9 "$HIT") of $n_calls remote hits, the same binary, dep-info of its own; its edits recompile ($((SECONDS - T0)) s)"

# --- CSTASH_BASEDIR: two checkouts of the small workspace under it share
T0=$SECONDS
mkdir -p "$TEST_TMP/bd/x" "$TEST_TMP/bd/y/z"
checkout rust-small "$TEST_TMP/bd/x/small"
checkout rust-small "$TEST_TMP/bd/y/z/small"
CSTASH_DIR=$TEST_TMP/c-bd1 cbuild "$TEST_TMP/bd/x/small" bd1 CSTASH_BASEDIR="$TEST_TMP/bd"
CSTASH_DIR=$TEST_TMP/c-bd2 cbuild "$TEST_TMP/bd/y/z/small" bd2 CSTASH_BASEDIR="$TEST_TMP/bd"
[ "$(nevents bd1 '^miss$')" -ge 3 ] || fail "CSTASH_BASEDIR, first checkout: $(summary bd1), want 3 misses or more"
stored_all bd1 "CSTASH_BASEDIR, first checkout"
# tiny reads OUT_DIR with env! (to include! its generated file): the value
# is hashed as it is, since a crate may keep it, or something computed from
# it, in its output; so tiny is the one miss. The build script and hello hit.
[ "$(nevents bd2 "$REMOTE_HIT")" = "$(( $(nevents bd1 .) - 1 ))" ] && [ "$(missed bd2)" = "tiny:lib" ] \
    || fail "CSTASH_BASEDIR, second checkout: $(summary bd2), want $(( $(nevents bd1 .) - 1 )) remote hits and tiny's miss; misses: $(missed bd2); log notes: $(notes bd2)"
cmp -s "$TEST_TMP/bd/x/small/target/debug/hello" "$TEST_TMP/bd/y/z/small/target/debug/hello" \
    || fail "CSTASH_BASEDIR: the second checkout's binary differs"
[ "$("$TEST_TMP/bd/y/z/small/target/debug/hello")" = "tiny 14" ] || fail "CSTASH_BASEDIR: the second checkout's binary prints $("$TEST_TMP/bd/y/z/small/target/debug/hello")"
ok "CSTASH_BASEDIR over two checkouts of the small workspace: the second one's $(nevents bd2 "$REMOTE_HIT") calls are remote hits, tiny (env!(OUT_DIR)) misses, the same binary ($((SECONDS - T0)) s)"
stop_server

# --- 8. faults, on the small workspace: nobody listening, 500, a hang
T0=$SECONDS
start_fault_servers # sets p500, phang, pdead (tests/lib.sh)

small=$TEST_TMP/small
checkout rust-small "$small"
ms() { echo $(($(date +%s%N) / 1000000)); }
# sbuild NAME [env...]: the small workspace from clean, an empty cache dir
# of its own; its milliseconds in $SB_MS
sbuild() {
    local name=$1 t0
    shift
    cclean "$small"
    t0=$(ms)
    CSTASH_DIR=$TEST_TMP/c-$name cbuild "$small" "$name" "$@"
    SB_MS=$(($(ms) - t0))
    [ "$("$small/target/debug/hello")" = "tiny 14" ] || fail "$name: the small workspace's binary prints $("$small/target/debug/hello")"
}
at() { CSTASH_DIR=$TEST_TMP/c-$1 st "$2"; }
sbuild s-base -u CSTASH_REMOTE
base_ms=$SB_MS
s_calls=$(nevents s-base '^miss$')
[ "$s_calls" -ge 3 ] || fail "small workspace: $s_calls misses logged, want the build script, tiny and hello ($(events s-base | tr '\n' ';'))"
# at worst each cacheable call waits out a lookup and a store
limit=$((base_ms + s_calls * 2 * 1000 + 3000))
for f in down 500 hang; do
    case $f in
        down) u=http://127.0.0.1:$pdead/ns ;;
        500) u=http://127.0.0.1:$p500/ns ;;
        hang) u=http://127.0.0.1:$phang/ns ;;
    esac
    CB_LIMIT=60 sbuild "s-$f" CSTASH_REMOTE="$u" CSTASH_TIMEOUT=1s CSTASH_CONNECT_TIMEOUT=1s
    echo "# remote $f: ${SB_MS} ms (no remote: ${base_ms} ms); remote_error $(at "s-$f" remote_error), remote_timeout $(at "s-$f" remote_timeout), remote_skipped $(at "s-$f" remote_skipped)"
    [ "$(nevents "s-$f" '^miss$')" = "$s_calls" ] || fail "remote $f: $(summary "s-$f"), want $s_calls misses"
    [ "$SB_MS" -le "$limit" ] || fail "remote $f: the build took ${SB_MS} ms, more than ${limit} ms (${base_ms} ms without a remote, timeouts 1 s)"
    eval "t_$f=\$SB_MS"
done
[ $(($(at s-down remote_error) + $(at s-down remote_skipped))) -ge 1 ] || fail "remote down: no remote error or skip counted"
[ "$(at s-500 remote_error)" -ge 1 ] || fail "remote answering 500: no remote error counted"
[ "$(at s-hang remote_timeout)" -ge 1 ] || fail "hanging remote: no remote timeout counted"
# shellcheck disable=SC2154 # t_down, t_500, t_hang: set by the eval above
ok "small workspace, remote down / answering 500 / hanging: builds work in ${t_down} / ${t_500} / ${t_hang} ms (${base_ms} ms without a remote), errors counted ($((SECONDS - T0)) s)"

# --- a rustc found on PATH (e.g. rustup's), named bare: cstash finds it
T0=$SECONDS
path_rustc=$(command -v rustc || true)
path_cargo=$(command -v cargo || true)
if [ -z "$path_rustc" ] || [ "$(readlink -f "$path_rustc")" = "$(readlink -f "$RUSTC_DEB")" ] || [ -z "$path_cargo" ]; then
    echo "# no rustc on PATH other than $RUSTC_DEB: the check of a rustc found on PATH is skipped"
else
    echo "# rustc on PATH: $path_rustc ($("$path_rustc" -V)), cargo $path_cargo ($("$path_cargo" -V))"
    CARGO_BIN=$path_cargo
    sbuild p1 -u CSTASH_REMOTE RUSTC=rustc
    cp "$small/target/debug/hello" "$TEST_TMP/hello.path"
    [ "$(nevents p1 '^miss$')" -ge 3 ] || fail "rustc from PATH: $(summary p1), want 3 misses or more"
    stored_all p1 "rustc from PATH"
    cclean "$small"
    CSTASH_DIR=$TEST_TMP/c-p1 cbuild "$small" p2 -u CSTASH_REMOTE RUSTC=rustc
    [ "$(nevents p2 "$LOCAL_HIT")" = "$(nevents p1 .)" ] \
        || fail "rustc from PATH, rebuild: $(summary p2), want $(nevents p1 .) local hits; misses: $(missed p2); log notes: $(notes p2)"
    cmp -s "$small/target/debug/hello" "$TEST_TMP/hello.path" || fail "rustc from PATH: the rebuilt binary differs"
    [ "$("$small/target/debug/hello")" = "tiny 14" ] || fail "rustc from PATH: the rebuilt binary prints $("$small/target/debug/hello")"
    # another rustc: the cache dir of the Debian rustc's build has nothing for it
    cclean "$small"
    CSTASH_DIR=$TEST_TMP/c-s-base cbuild "$small" p3 -u CSTASH_REMOTE RUSTC=rustc
    [ "$(nevents p3 '^miss$')" = "$(nevents p1 .)" ] || fail "rustc from PATH with the cache dir of $RUSTC_DEB's build: $(summary p3), want all misses"
    unset CARGO_BIN
    ok "a bare rustc found on PATH ($path_rustc): build, cargo clean, rebuild: $(nevents p2 "$LOCAL_HIT") local hits; $RUSTC_DEB's entries are not its own ($((SECONDS - T0)) s)"
fi

echo "# $SECONDS s in all"
