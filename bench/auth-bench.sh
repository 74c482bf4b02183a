#!/usr/bin/env bash
# GET-hit throughput with no auth, a Bearer token and Basic (yescrypt
# password, served from the verification cache), side by side in one run:
# one cstashd, three namespaces holding the same 100 objects of 1 KiB,
# wrk rounds interleaved none/bearer/basic. Prints medians and ratios.
#   env: ROUNDS [5] DURATION [8] CONNS [32] THREADS [2] PORT [18700] WORK [/tmp/cs-authbench]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
CSTASHD=${CSTASHD:-$root/server/cstashd}
ROUNDS=${ROUNDS:-5} DURATION=${DURATION:-8} CONNS=${CONNS:-32} THREADS=${THREADS:-2}
PORT=${PORT:-18700} WORK=${WORK:-/tmp/cs-authbench}
rm -rf "$WORK" && mkdir -p "$WORK"
tok=$(printf 'bench-token' | "$CSTASHD" hash-token)
pw=$(printf 'bench-pass' | "$CSTASHD" hash-password)
cat >"$WORK/c.conf" <<CONF
users = ( { name = "tok"; token_sha256 = "$tok"; }, { name = "pw"; password_hash = "$pw"; } );
namespaces = (
  { name = "none"; read = [ "*" ]; write = [ "*" ]; },
  { name = "bearer"; read = [ "tok" ]; write = [ "tok" ]; },
  { name = "basic"; read = [ "pw" ]; write = [ "pw" ]; }
);
CONF
"$CSTASHD" -c "$WORK/c.conf" -l 127.0.0.1:$PORT -d "$WORK/data" 2>"$WORK/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
sleep 0.5
head -c 1024 /dev/urandom >"$WORK/obj"
declare -A H=([none]="X-None: 1" [bearer]="Authorization: Bearer bench-token"
              [basic]="Authorization: Basic $(printf 'pw:bench-pass' | base64)")
for ns in none bearer basic; do
    for i in $(seq 1 100); do
        echo "url = \"http://127.0.0.1:$PORT/$ns/k$i\""; echo 'request = "PUT"'
        echo "upload-file = \"$WORK/obj\""; echo "header = \"${H[$ns]}\""; echo 'header = "Content-Type:"'
        echo 'output = "/dev/null"'
    done >"$WORK/put-$ns.cfg"
    curl -s -K "$WORK/put-$ns.cfg" >/dev/null
done
cat >"$WORK/rand.lua" <<'LUA'
local ns = os.getenv("NS")
request = function() return wrk.format("GET", "/" .. ns .. "/k" .. math.random(1, 100)) end
LUA
echo "variant,round,req_per_s,p99_ms" >"$WORK/raw.csv"
for r in $(seq 1 "$ROUNDS"); do
    for ns in none bearer basic; do
        out=$(NS=$ns wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/rand.lua" \
            -H "${H[$ns]}" "http://127.0.0.1:$PORT/")
        echo "$out" | grep -q 'Non-2xx' && { echo "$out"; echo "errors in $ns" >&2; exit 1; }
        rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
        p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) sub("ms","",v); else {sub("s","",v); v*=1000}; print v}')
        echo "$ns,$r,$rps,$p99" >>"$WORK/raw.csv"
    done
done
python3 - "$WORK/raw.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
for v in ("none", "bearer", "basic"):
    rs = [float(r["req_per_s"]) for r in rows if r["variant"] == v]
    ps = [float(r["p99_ms"]) for r in rows if r["variant"] == v]
    med[v] = (statistics.median(rs), statistics.median(ps), min(rs), max(rs))
print("| variant | median req/s | min..max | ratio to no auth | median p99 ms |")
print("|---|---|---|---|---|")
for v in ("none", "bearer", "basic"):
    m = med[v]
    print(f"| {v} | {m[0]:.0f} | {m[2]:.0f}..{m[3]:.0f} | {m[0] / med['none'][0]:.3f} | {m[1]:.2f} |")
PY
