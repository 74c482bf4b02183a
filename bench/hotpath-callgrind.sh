#!/usr/bin/env bash
# Instructions (callgrind Ir) a cstashd build spends on a fixed workload:
# start-up, 3000 GETs of a 1 KiB object, 3000 of a 64 KiB object, 3000 of
# a missing key and 3000 PUTs of 1 KiB to new keys (ab -k -c 4), then a
# clean stop. Counted, not timed: the same binary and workload give the
# same count on a busy machine, so two builds compare without noise.
#   bench/hotpath-callgrind.sh CSTASHD [OUTDIR]   prints "total_Ir <n>"
# ONLY=get1k runs start-up, the 1 KiB GETs and the stop; ONLY=none only
# start-up and stop: (get1k - none) / 3000 is one GET hit's instructions.
set -euo pipefail
bin=$1
out=${2:-$(mktemp -d /tmp/hotpath-cg.XXXXXX)}
mkdir -p "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d /tmp/hotpath-data.XXXXXX)
trap 'rm -rf "$data"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
    "$bin" --data-dir "$data" --listen "127.0.0.1:$port" --threads 2 >"$out/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/_/health" && break; sleep 0.1; done
url="http://127.0.0.1:$port/default"
head -c 1024 /dev/urandom >"$out/1k"
head -c 65536 /dev/urandom >"$out/64k"
curl -s -o /dev/null -X PUT --data-binary @"$out/1k" "$url/ab/small"
curl -s -o /dev/null -X PUT --data-binary @"$out/64k" "$url/ab/large"
ONLY=${ONLY:-all}
if [ "$ONLY" = all ] || [ "$ONLY" = get1k ]; then
    ab -q -k -c 4 -n 3000 "$url/ab/small" >"$out/ab-get1k.txt"
fi
if [ "$ONLY" = all ]; then
    ab -q -k -c 4 -n 3000 "$url/ab/large" >"$out/ab-get64k.txt"
    ab -q -k -c 4 -n 3000 "$url/ab/missing" >"$out/ab-miss.txt" || true
    # PUT of new keys: one key per request from a wrk-free loop would be slow
    # under valgrind; ab PUTs one key, so it is an overwrite each time (204)
    ab -q -k -c 4 -n 3000 -u "$out/1k" -T application/octet-stream "$url/ab/put" >"$out/ab-put1k.txt"
fi
kill -TERM "$pid"
wait "$pid" || true
awk '/^summary:/ { print "total_Ir", $2 }' "$out/callgrind.out"
