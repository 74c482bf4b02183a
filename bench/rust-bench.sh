#!/usr/bin/env bash
# A real cargo build through each Rust cache, cold and warm, side by side in
# one run (issue 18, "Benchmark"):
#
#   bench/rust-bench.sh OUTDIR
#
# The workspace is tests/integration/rust-ws (a binary using serde_json,
# regex and clap with derive, plus a local library with a build script:
# about 40 crates from Debian's librust-*-dev sources, built offline).
# Configurations, interleaved in each of ROUNDS (3) rounds:
#   none           cargo build, no wrapper
#   sccache        RUSTC_WRAPPER=sccache (Debian's 0.4), local disk cache;
#                  its server is started on SCCACHE_SERVER_PORT (18140) with
#                  an empty SCCACHE_DIR before the cold build and stopped after
#                  the warm one
#   cstash-local   RUSTC_WRAPPER=cstash, local cache only
#   cstash-remote  RUSTC_WRAPPER=cstash with CSTASH_REMOTE = a cstashd on
#                  127.0.0.1:18141 (empty data dir for the cold build); the
#                  local cache dir is emptied before the warm build, so every
#                  warm hit comes from the server
# Cold: empty cache, no target/. Warm: `cargo clean`, caches kept. Every
# build runs with CARGO_INCREMENTAL=0 (incremental calls are not cacheable by
# either wrapper). Toolchain: CARGO/RUSTC (default: the cargo and rustc first
# on PATH; CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc for Debian's).
#
# Needs Debian's sccache (apt-get install sccache), which the tests do not.
# Writes OUTDIR/times.tsv (config, round, phase, seconds), OUTDIR/stats-*
# (each wrapper's counters after a warm build) and OUTDIR/summary.md
# (medians, ratios to sccache, hit and non-cacheable counts).
set -euo pipefail
out=${1:?usage: bench/rust-bench.sh OUTDIR}
src=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
cargo=${CARGO:-$(command -v cargo)}
rustc=${RUSTC:-$(command -v rustc)}
sccache=${SCCACHE:-/usr/bin/sccache}
cstash_src=${CSTASH:-$src/client/cstash}
cstashd_src=${CSTASHD:-$src/server/cstashd}
sport=${SCCACHE_SERVER_PORT:-18140}
cport=${CSTASHD_PORT:-18141}
mkdir -p "$out"
work=$(mktemp -d /tmp/rust-bench.XXXXXX)
# Copies, so a rebuild of the tree cannot change them mid-run.
cp "$cstash_src" "$work/cstash"
cp "$cstashd_src" "$work/cstashd"
cstashd_pid=
cleanup() {
    SCCACHE_SERVER_PORT=$sport "$sccache" --stop-server >/dev/null 2>&1 || true
    [ -z "$cstashd_pid" ] || kill "$cstashd_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cp -r "$src/tests/integration/rust-ws" "$work/ws"
rm -rf "$work/ws/target"
export CARGO_INCREMENTAL=0 RUSTC="$rustc" CSTASH_CONFIG=$work/none.conf
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_LOG RUSTC_WRAPPER
echo "toolchain: $("$cargo" -V) / $("$rustc" -V)" | tee "$out/toolchain.txt"
echo "sccache: $("$sccache" --version)" | tee -a "$out/toolchain.txt"

start_cstashd() {
    [ -z "$cstashd_pid" ] || { kill "$cstashd_pid"; wait "$cstashd_pid" 2>/dev/null || true; }
    rm -rf "$work/cstashd-data"
    "$work/cstashd" -l "127.0.0.1:$cport" -d "$work/cstashd-data" >"$work/cstashd.log" 2>&1 &
    cstashd_pid=$!
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$cport/default/x" && return 0
        sleep 0.1
    done
    echo "cstashd did not start" >&2
    exit 1
}

# build CONFIG ROUND PHASE: one timed cargo build of the workspace
build() {
    local cfg=$1 round=$2 phase=$3 t0 t1
    local -a envs=()
    case $cfg in
        none) ;;
        sccache) envs=(RUSTC_WRAPPER="$sccache" SCCACHE_DIR="$work/sccache"
                       SCCACHE_SERVER_PORT="$sport") ;;
        cstash-local) envs=(RUSTC_WRAPPER="$work/cstash" CSTASH_DIR="$work/cstash-local") ;;
        cstash-remote) envs=(RUSTC_WRAPPER="$work/cstash" CSTASH_DIR="$work/cstash-remote"
                             CSTASH_REMOTE="http://127.0.0.1:$cport/default") ;;
    esac
    t0=$(date +%s.%N)
    (cd "$work/ws" && env "${envs[@]}" "$cargo" build -q >"$work/build.log" 2>&1) \
        || { cat "$work/build.log"; echo "$cfg $phase build failed" >&2; exit 1; }
    t1=$(date +%s.%N)
    "$work/ws/target/debug/app" >/dev/null || { echo "$cfg: the program does not run" >&2; exit 1; }
    printf '%s\t%s\t%s\t%.2f\n' "$cfg" "$round" "$phase" "$(echo "$t1 - $t0" | bc)" \
        | tee -a "$out/times.tsv"
}

: >"$out/times.tsv"
for round in $(seq "$rounds"); do
    for cfg in none sccache cstash-local cstash-remote; do
        rm -rf "$work/ws/target" "$work/sccache" "$work/cstash-local" "$work/cstash-remote"
        case $cfg in
            sccache)
                SCCACHE_SERVER_PORT=$sport "$sccache" --stop-server >/dev/null 2>&1 || true
                SCCACHE_DIR=$work/sccache SCCACHE_SERVER_PORT=$sport "$sccache" --start-server >/dev/null
                ;;
            cstash-remote) start_cstashd ;;
        esac
        sync
        build "$cfg" "$round" cold
        (cd "$work/ws" && "$cargo" clean -q)
        case $cfg in
            sccache) SCCACHE_SERVER_PORT=$sport "$sccache" --zero-stats >/dev/null ;;
            cstash-local) CSTASH_DIR=$work/cstash-local "$work/cstash" --zero-stats >/dev/null ;;
            cstash-remote) rm -rf "$work/cstash-remote" ;;
        esac
        [ "$cfg" = none ] || sync
        build "$cfg" "$round" warm
        case $cfg in
            sccache)
                SCCACHE_SERVER_PORT=$sport "$sccache" --show-stats >"$out/stats-sccache-$round.txt"
                SCCACHE_SERVER_PORT=$sport "$sccache" --stop-server >/dev/null 2>&1 || true
                ;;
            cstash-local | cstash-remote)
                CSTASH_DIR=$work/$cfg "$work/cstash" --show-stats >"$out/stats-$cfg-$round.txt"
                ;;
        esac
    done
done

python3 - "$out" <<'EOF'
import sys, statistics, collections, re
out = sys.argv[1]
t = collections.defaultdict(list)
for line in open(f"{out}/times.tsv"):
    cfg, rnd, phase, s = line.split()
    t[(cfg, phase)].append(float(s))
med = {k: statistics.median(v) for k, v in t.items()}
cfgs = ["none", "sccache", "cstash-local", "cstash-remote"]
rows = ["| config | cold (s) | warm (s) | cold / none | warm / sccache warm | per round (cold; warm) |",
        "|---|---|---|---|---|---|"]
for c in cfgs:
    cold, warm = med.get((c, "cold")), med.get((c, "warm"))
    rows.append("| %s | %.2f | %.2f | %.2f | %s | %s; %s |" % (
        c, cold, warm, cold / med[("none", "cold")],
        "%.2f" % (warm / med[("sccache", "warm")]) if c != "none" else "-",
        " ".join("%.1f" % x for x in t[(c, "cold")]), " ".join("%.1f" % x for x in t[(c, "warm")])))
def grab(path, pat):
    m = re.search(pat, open(path).read(), re.M)
    return int(m.group(1)) if m else None
s = f"{out}/stats-sccache-1.txt"
rows.append("")
rows.append("sccache warm build (round 1): cache hits %s, misses %s, non-cacheable calls %s" % (
    grab(s, r"^Cache hits\s+(\d+)"), grab(s, r"^Cache misses\s+(\d+)"),
    grab(s, r"^Non-cacheable calls\s+(\d+)")))
for c in ["cstash-local", "cstash-remote"]:
    p = f"{out}/stats-{c}-1.txt"
    st = {m.group(1): int(m.group(2)) for m in re.finditer(r"^stat (\S+) (-?\d+)$", open(p).read(), re.M)}
    hits = sum(st.get(k, 0) for k in ("direct_hit_local", "direct_hit_remote",
                                      "preprocessed_hit_local", "preprocessed_hit_remote"))
    unc = {k[len("uncacheable_"):]: v for k, v in st.items() if k.startswith("uncacheable_") and v}
    rows.append("%s warm build (round 1): hits %d (direct local %d, direct remote %d), misses %d, "
                "uncacheable %s" % (c, hits, st.get("direct_hit_local", 0),
                                   st.get("direct_hit_remote", 0), st.get("miss", 0), unc))
open(f"{out}/summary.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
EOF
