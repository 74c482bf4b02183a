#!/usr/bin/env bash
# Disk-hit throughput and p99 of cstashd with and without 16 slow misses in
# flight, side by side in one run, for two builds (before and after a
# change). The misses go to a namespace whose http tier answers after
# 2 s (a python server that waits, then says 404); the hits are wrk on a
# 1 KiB object of a namespace without tiers.
#
#   bench/slow-tier-bench.sh OUTDIR [BEFORE_CSTASHD]
#
# AFTER is $CSTASHD (default: this tree's). Rounds are interleaved: for
# each round, before/idle, before/loaded, after/idle, after/loaded. Each
# run gets a new server and data dir. wrk: $CONNS connections, 2 threads,
# $DURATION s, --timeout 30s (a hit stuck behind the tier is slow, not
# dropped). Ports 18141-18142 on 127.0.0.1; everything started here is
# stopped by PID.
set -euo pipefail

OUT=${1:?usage: $0 OUTDIR [BEFORE_CSTASHD]}
BEFORE=${2:-}
HERE=$(cd "$(dirname "$0")/.." && pwd)
AFTER=${CSTASHD:-$HERE/server/cstashd}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNS=${CONNS:-16}
MISSES=${MISSES:-16}
W=$OUT/work
mkdir -p "$OUT" && rm -rf "$W" && mkdir -p "$W"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

cat >"$W/slow.py" <<'EOF'
import http.server, socketserver, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        time.sleep(2)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_HEAD = do_GET
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256
S(("127.0.0.1", 18142), H).serve_forever()
EOF
python3 "$W/slow.py" &
PIDS+=($!)
head -c 1024 /dev/urandom >"$W/obj"

# run BIN LOADED: prints "req/s p99_ms"
run() {
    local bin=$1 loaded=$2 d=$W/data.$RANDOM limits="" pid loops=() i
    "$bin" --help 2>&1 | grep -q . # the binary runs
    # the build before the worker pool has no such limits
    [ "$bin" = "$AFTER" ] && limits="limits = { workers = 16; work_queue = 256; };"
    cat >"$W/c.conf" <<EOF
listen = [ "127.0.0.1:18141" ];
data_dir = "$d";
threads = 2;
$limits
namespaces = (
  { name = "fast"; read = ["*"]; write = ["*"]; },
  { name = "slow"; read = ["*"]; write = ["*"];
    tiers = ( { type = "disk"; }, { type = "http"; url = "http://127.0.0.1:18142/up"; timeout = 10; } ); } );
EOF
    "$bin" -c "$W/c.conf" 2>"$W/server.log" &
    pid=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18141/_/health && break; sleep 0.05; done
    curl -s -o /dev/null -T "$W/obj" http://127.0.0.1:18141/fast/hit
    if [ "$loaded" = yes ]; then
        for i in $(seq 1 "$MISSES"); do
            (while :; do curl -s -o /dev/null --max-time 30 "http://127.0.0.1:18141/slow/m$i-$RANDOM"; done) &
            loops+=($!)
        done
        sleep 1
    fi
    wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 30s --latency http://127.0.0.1:18141/fast/hit \
        >"$W/wrk.txt" 2>&1
    for i in "${loops[@]}"; do kill "$i" 2>/dev/null || true; done
    for i in "${loops[@]}"; do wait "$i" 2>/dev/null || true; done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$d"
    awk '/Requests\/sec/ { r = $2 }
         / 99%/ { v = $2; m = 1
                  if (v ~ /us$/) { m = 0.001; sub(/us$/, "", v) }
                  else if (v ~ /ms$/) { sub(/ms$/, "", v) }
                  else if (v ~ /s$/) { m = 1000; sub(/s$/, "", v) }
                  p = v * m }
         END { printf "%.0f %.2f\n", r, p }' "$W/wrk.txt"
}

: >"$OUT/raw.txt"
for r in $(seq 1 "$ROUNDS"); do
    for who in before after; do
        bin=$AFTER
        if [ "$who" = before ]; then
            [ -n "$BEFORE" ] || continue
            bin=$BEFORE
        fi
        for loaded in no yes; do
            echo "$r $who $loaded $(run "$bin" "$loaded")" | tee -a "$OUT/raw.txt"
        done
    done
done

# medians per build and load
{
    echo "| build | slow misses in flight | disk hits/s (median) | p99 ms (median) | per-round req/s |"
    echo "|---|---|---|---|---|"
    for who in before after; do
        for loaded in no yes; do
            awk -v w="$who" -v l="$loaded" '$2 == w && $3 == l { print $4, $5 }' "$OUT/raw.txt" >"$W/sel"
            [ -s "$W/sel" ] || continue
            rps=$(cut -d' ' -f1 "$W/sel" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
            p99=$(cut -d' ' -f2 "$W/sel" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
            all=$(cut -d' ' -f1 "$W/sel" | paste -sd' ')
            echo "| $who | $([ "$loaded" = yes ] && echo "$MISSES" || echo 0) | $rps | $p99 | $all |"
        done
    done
} | tee "$OUT/table.md"
