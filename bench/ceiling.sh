#!/usr/bin/env bash
# ceiling.sh - what this machine allows for a small GET at all, beside
# cstashd's 1 KiB hit: nginx answering `return 200` with a 1 KiB body from
# memory, the libmicrohttpd probe (bench/mhd-probe.c) with cstashd's pool
# size (64 KiB) and with libmicrohttpd's default (32 KiB), and cstashd.
# Interleaved rounds of wrk, keep-alive, per connection count.
#
# usage: bench/ceiling.sh CSTASHD OUTDIR
# Env: ROUNDS [3] DURATION [8] CONNS ["16 64"] WORK [/tmp/ceiling]
#      ports 18131 (nginx) 18132 (probe 64K) 18133 (probe 32K) 18134 (cstashd)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNS=${CONNS:-"16 64"}
WORK=${WORK:-/tmp/ceiling}
[[ $# -eq 2 ]] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
BIN=$(realpath "$1")
OUT=$2
mkdir -p "$OUT" "$WORK/ngx/logs" "$WORK/cs"
OUT=$(realpath "$OUT")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -f $WORK/ngx/nginx.pid ]] && kill "$(cat "$WORK/ngx/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT

cc -O2 -o "$WORK/mhd-probe" "$HERE/mhd-probe.c" -lmicrohttpd
body=$(head -c 1024 /dev/zero | tr '\0' x)
cat >"$WORK/ngx/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/ngx/nginx.pid;
error_log $WORK/ngx/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    tcp_nodelay on;
    server {
        listen 127.0.0.1:18131;
        location / { default_type application/octet-stream; return 200 "$body"; }
    }
}
CONF
nginx -p "$WORK/ngx" -c "$WORK/ngx/nginx.conf"
"$WORK/mhd-probe" 18132 2 65536 & PIDS+=($!)
"$WORK/mhd-probe" 18133 2 32768 & PIDS+=($!)
rm -rf "$WORK/cs"/*
"$BIN" -l 127.0.0.1:18134 -d "$WORK/cs" 2>"$WORK/cstashd.log" & PIDS+=($!)
sleep 1
head -c 1024 /dev/urandom >"$WORK/obj"
curl -sf -o /dev/null -X PUT --data-binary @"$WORK/obj" http://127.0.0.1:18134/default/ab/cdef0123456789
curl -sf -o /dev/null http://127.0.0.1:18134/default/ab/cdef0123456789

declare -A URL=([nginx_return]=http://127.0.0.1:18131/x [mhd_probe_64k]=http://127.0.0.1:18132/x
                [mhd_probe_32k]=http://127.0.0.1:18133/x [cstashd_get_1k]=http://127.0.0.1:18134/default/ab/cdef0123456789)
NAMES="nginx_return mhd_probe_64k mhd_probe_32k cstashd_get_1k"
echo "name,round,conns,rps" >"$OUT/raw.csv"
for c in $CONNS; do
    for r in $(seq 1 "$ROUNDS"); do
        for n in $NAMES; do
            rps=$(wrk -t2 -c"$c" -d"${DURATION}s" "${URL[$n]}" | awk '/Requests\/sec/{print $2}')
            echo "$n,$r,$c,$rps" >>"$OUT/raw.csv"
            echo "$n c=$c r$r $rps" >&2
        done
    done
done
{
    printf '%-16s %6s %10s %8s\n' name conns rps_median vs_nginx
    for c in $CONNS; do
        ref=$(awk -F, -v c="$c" '$1=="nginx_return" && $3==c{print $4}' "$OUT/raw.csv" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
        for n in $NAMES; do
            m=$(awk -F, -v c="$c" -v n="$n" '$1==n && $3==c{print $4}' "$OUT/raw.csv" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
            printf '%-16s %6s %10.0f %8.2f\n' "$n" "$c" "$m" "$(awk -v a="$m" -v b="$ref" 'BEGIN{print a/b}')"
        done
    done
} | tee "$OUT/summary.txt"
