#!/usr/bin/env bash
# Index benchmark (issue 4): a data dir with N objects (default 1M):
#  - restart-to-ready: exec of cstashd to the first 200 from /_/health
#  - RSS when ready, when the background fsck is done, and at rest
#  - GET-hit throughput over all N keys with LRU touches on vs off
#    (track_access), interleaved rounds on the same data dir
#  - eviction throughput: restart with max_size at half the usage
# Usage: bench/index-1m.sh [OUTDIR]   (env: N, SIZE, WORK, PORT, ROUNDS, DURATION, CONNS,
#   CSTASHD: the binary, default server/cstashd)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
N=${N:-1000000} SIZE=${SIZE:-1024} WORK=${WORK:-/tmp/cstash-index-bench} PORT=${PORT:-18131}
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10} CONNS=${CONNS:-64}
PARTS=${PARTS:-restart get evict}   # which measurements to run
want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
OUT=${1:-$WORK/out}
CSTASHD=${CSTASHD:-$top/server/cstashd}
data=$WORK/data
mkdir -p "$WORK" "$OUT"
[ -x "$top/bench/fill" ] || make -C "$top" bench/fill >/dev/null
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; true' EXIT

conf() { # conf TRACK [NS_MAX_SIZE]
    cat >"$WORK/conf" <<CONF
max_size = 0;
track_access = $1;
namespaces = ( { name = "default"; ${2:+max_size = $2;} read = [ "*" ]; write = [ "*" ]; } );
CONF
}
now_ms() { date +%s%3N; }
start() { # start: sets pid, and ready_ms to the time to ready
    local t0 t1
    t0=$(now_ms)
    "$CSTASHD" -c "$WORK/conf" -d "$data" -l "127.0.0.1:$PORT" >/dev/null 2>>"$OUT/server.log" &
    pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$PORT/_/health"; do sleep 0.005; done
    t1=$(now_ms)
    ready_ms=$((t1 - t0))
}
stop() { kill "$pid"; wait "$pid" || true; pid=""; }
rss_kb() { # total (anonymous + file-backed, e.g. the index's memory map)
    awk '/VmRSS/ {t = $2} /RssAnon/ {a = $2} /RssFile/ {f = $2}
         END {printf "%s (anon %s, file %s)", t, a, f}' "/proc/$pid/status"
}
stat_field() { curl -s "http://127.0.0.1:$PORT/_/stats" | sed -n "s/.*\"default\":{[^}]*\"$1\":\([0-9]*\).*/\1/p"; }

if [ ! -e "$WORK/filled-$N" ]; then
    rm -rf "$data"
    t0=$(now_ms)
    "$top/bench/fill" "$data" default "$N" "$SIZE"
    echo "fill: $N objects of $SIZE B in $(( $(now_ms) - t0 )) ms" | tee "$OUT/fill.txt"
    touch "$WORK/filled-$N"
fi
: >"$OUT/server.log"

# restart-to-ready, RSS
if want restart; then
conf true
ready=()
for r in 1 2 3 4 5; do
    start
    ready+=("$ready_ms")
    if [ $r = 1 ]; then
        rss_ready=$(rss_kb)
        until grep -q 'fsck of .* done' "$OUT/server.log"; do sleep 0.2; done
        rss_fsck=$(rss_kb)
        fsck_line=$(grep 'fsck of .* done' "$OUT/server.log" | tail -n 1)
        sleep 3
        rss_rest=$(rss_kb)
        objects=$(stat_field objects)
    fi
    stop
done
sorted=$(printf '%s\n' "${ready[@]}" | sort -n | tr '\n' ' ')
{
    echo "objects in index: $objects"
    echo "restart-to-ready ms (5 starts, sorted): $sorted"
    echo "RSS kB: when ready $rss_ready, after the background fsck $rss_fsck, at rest $rss_rest"
    echo "background fsck: ${fsck_line#*: }"
} | tee "$OUT/restart.txt"
fi

# GET hits over all N keys: touches on vs off
if want get; then
cat >"$WORK/get.lua" <<LUA
local n = $N
math.randomseed(os.time())
request = function() return wrk.format("GET", "/default/k/" .. math.random(0, n - 1)) end
LUA
echo "round,track_access,req_s" >"$OUT/get.csv"
for r in $(seq 1 "$ROUNDS"); do
    for track in true false; do
        conf $track
        start
        wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$WORK/get.lua" "http://127.0.0.1:$PORT/" >"$OUT/wrk-$r-$track.txt"
        rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-$r-$track.txt")
        non2xx=$(awk '/Non-2xx/ {print $NF}' "$OUT/wrk-$r-$track.txt")
        [ -z "$non2xx" ] || echo "WARNING: $non2xx non-2xx answers (track=$track)" | tee -a "$OUT/get.csv"
        echo "$r,$track,$rps" >>"$OUT/get.csv"
        stop
    done
done
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
mon=$(awk -F, 'NR > 1 && $2 == "true" {print $3}' "$OUT/get.csv" | median)
moff=$(awk -F, 'NR > 1 && $2 == "false" {print $3}' "$OUT/get.csv" | median)
awk -v on="$mon" -v off="$moff" -v r="$ROUNDS" 'BEGIN {
    printf "GET hit req/s over %s keys, median of %d rounds: touches on %.0f, off %.0f, on/off %.3f\n", "'"$N"'", r, on, off, on / off }' |
    tee "$OUT/get.txt"
awk -F, 'NR > 1 && $2 == "true" {on[$1] = $3} NR > 1 && $2 == "false" {off[$1] = $3}
    END {for (r in on) printf "  round %s: on %s, off %s, on/off %.3f\n", r, on[r], off[r], on[r] / off[r]}' \
    "$OUT/get.csv" | sort | tee -a "$OUT/get.txt"
fi

# eviction: max_size at half of the usage (the data dir must be refilled after)
if want evict; then
conf true
start
bytes=$(stat_field bytes)
stop
half=$((bytes / 2))
conf true "$half"
: >"$OUT/evict.csv"
t0=$(now_ms)
start
while :; do
    b=$(stat_field bytes) e=$(stat_field evictions)
    echo "$(( $(now_ms) - t0 )),$b,$e" >>"$OUT/evict.csv"
    [ "$b" -le "$half" ] && break
    sleep 0.5
done
t1=$(now_ms)
e=$(stat_field evictions)
stop
rm -f "$WORK/filled-$N"
echo "eviction: max_size $half B (half of $bytes B): $e objects evicted in $((t1 - t0)) ms: $(( e * 1000 / (t1 - t0) )) objects/s" | tee "$OUT/evict.txt"
fi
