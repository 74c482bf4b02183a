#!/usr/bin/env bash
# GET-hit throughput and p99 of cstashd's storage tiers, side by side in one
# run: a disk hit, a Redis hit (disk miss) and an S3 hit (disk miss).
#
#   bench/tiers-bench.sh OUTDIR
#
# Needs wrk, redis-server, python3 and s3rver (npm; S3RVER=path, default:
# the one the test suite installs under tests/e2e/node-s3rver). A writer
# instance with disk + redis + s3 (sync) stores N keys of SIZE bytes; then,
# ROUNDS times in turn: wrk on a disk-only instance holding them (a copy of
# the writer's data dir), on a fresh disk + redis instance and on a fresh
# disk + s3 instance. The readers start with an empty disk and wrk reads
# every key once (bench/lua/seq.lua), so each request is a disk miss served
# by the remote tier (and filled into the disk, as in real use). Each round
# gets new data dirs and nothing is deleted until the end: on a file system
# mounted with discard, a mass delete stalls the writes that follow. Ports
# 18131-18136 on 127.0.0.1; everything started here is stopped by PID.
set -euo pipefail

OUT=${1:?usage: $0 OUTDIR}
HERE=$(cd "$(dirname "$0")/.." && pwd)
CSTASHD=${CSTASHD:-$HERE/server/cstashd}
S3RVER=${S3RVER:-$HERE/tests/e2e/node-s3rver/node_modules/.bin/s3rver}
N=${N:-40000}
SIZE=${SIZE:-4096}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
W=$OUT/work
mkdir -p "$OUT" && rm -rf "$W" && mkdir -p "$W"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
sync

redis-server --bind 127.0.0.1 --port 18131 --save '' --appendonly no --dir "$W" \
    --maxmemory 2gb --maxmemory-policy allkeys-lru >"$W/redis.log" 2>&1 &
PIDS+=($!)
"$S3RVER" -d "$W/s3" -a 127.0.0.1 -p 18132 --silent --configure-bucket cache >"$W/s3rver.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18132/ && break; sleep 0.1; done

# conf NAME PORT TIERS...: one namespace "bench" with the given remote tiers
conf() {
    local name=$1 port=$2
    shift 2
    local tiers="{ type = \"disk\"; }" t
    for t in "$@"; do
        case $t in
            redis) tiers+=", { type = \"redis\"; url = \"redis://127.0.0.1:18131\"; }" ;;
            s3) tiers+=", { type = \"s3\"; endpoint = \"http://127.0.0.1:18132\"; bucket = \"cache\"; access_key = \"S3RVER\"; secret_key = \"S3RVER\"; path_style = true; }" ;;
        esac
    done
    cat >"$W/$name.conf" <<EOF
listen = [ "127.0.0.1:$port" ];
data_dir = "$W/$name";
threads = 2;
namespaces = ( { name = "bench"; read = ["*"]; write = ["*"]; admin = ["*"]; tiers = ( $tiers ); } );
EOF
}
start() { # start NAME: runs cstashd with W/NAME.conf, waits for it
    "$CSTASHD" -c "$W/$1.conf" --log-level warn >"$W/$1.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    local port
    port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$W/$1.conf" | head -n 1)
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.05; done
    echo "cstashd $1 did not start" >&2; cat "$W/$1.log" >&2; exit 1
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

echo "populating $N keys of $SIZE bytes through a writer with disk + redis + s3 (sync)"
conf writer 18133 redis s3
start writer
WRITER=$LAST_PID
python3 - "$N" "$SIZE" <<'PY'
import http.client, os, sys, threading
n, size = int(sys.argv[1]), int(sys.argv[2])
def run(start):
    c = http.client.HTTPConnection("127.0.0.1", 18133)
    for i in range(start, n, 8):
        c.request("PUT", "/bench/k/%d" % i, body=os.urandom(size))
        r = c.getresponse(); r.read()
        assert r.status in (201, 204), r.status
ts = [threading.Thread(target=run, args=(s,)) for s in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
curl -s http://127.0.0.1:18133/_/stats >"$OUT/writer-stats.json"
stop "$WRITER"
cp -a "$W/writer" "$W/disk"
conf disk 18134

run_wrk() { # run_wrk TIER PORT ROUND
    local line
    line=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$HERE/bench/lua/seq.lua" \
        "http://127.0.0.1:$2" -- /bench/k/ "$N" 2 | grep '^RESULT')
    echo "$1 round=$3 $line" | tee -a "$OUT/raw.txt"
}

: >"$OUT/raw.txt"
for r in $(seq 1 "$ROUNDS"); do
    start disk; run_wrk disk 18134 "$r"; stop "$LAST_PID"
    conf "redis-reader-$r" 18135 redis
    start "redis-reader-$r"; run_wrk redis 18135 "$r"
    curl -s http://127.0.0.1:18135/_/stats >"$OUT/redis-reader-$r.json"; stop "$LAST_PID"
    conf "s3-reader-$r" 18136 s3
    start "s3-reader-$r"; run_wrk s3 18136 "$r"
    curl -s http://127.0.0.1:18136/_/stats >"$OUT/s3-reader-$r.json"; stop "$LAST_PID"
done

python3 - "$OUT/raw.txt" "$N" <<'PY' | tee "$OUT/summary.txt"
import re, statistics, sys
n_keys = int(sys.argv[2])
rows = {}
for line in open(sys.argv[1]):
    tier = line.split()[0]
    f = dict(re.findall(r"(\w+)=([\w.]+)", line))
    rows.setdefault(tier, []).append(f)
def med(tier, k):
    return statistics.median(float(f[k]) for f in rows[tier])
disk = med("disk", "rps")
print("| tier hit | req/s (median) | p50 ms | p99 ms | req/s vs disk | errors | second reads |")
print("|---|---|---|---|---|---|---|")
for t in ("disk", "redis", "s3"):
    errs = sum(int(f["status_err"]) + int(f["conn_err"]) + int(f["timeout_err"]) for f in rows[t])
    wrapped = any(int(f["requests"]) > n_keys for f in rows[t])
    print("| %s | %.0f | %.2f | %.2f | %.3f | %d | %s |" % (
        t, med(t, "rps"), med(t, "p50_us") / 1000, med(t, "p99_us") / 1000,
        med(t, "rps") / disk, errs,
        "n/a" if t == "disk" else ("yes: invalid, raise N" if wrapped else "none")))
PY
