#!/usr/bin/env bash
# http-vs-nginx.sh - ../shared/bench/http-load.sh with cstashd (A) against the
# reference nginx (B), the way issue 19's table was measured: before each PUT
# run's successor, cstashd restarts on an empty data dir and nginx's put-*
# dirs are removed, then `sync; sleep 5`.
#
# usage: bench/http-vs-nginx.sh CSTASHD OUTDIR [CONFIG]
#   CSTASHD  the cstashd binary to measure
#   OUTDIR   http-load.sh's raw.csv and summary.txt go here
#   CONFIG   a cstashd config (default: the embedded one); its namespace
#            "default" is the one measured
# Env: PORT_A [18103] PORT_B [18101] WORK [/tmp/http-vs-nginx], and every
# variable of http-load.sh (SCENARIOS, ROUNDS, DURATION, CONNS, BIG_MB...).
# Subcommand used by the CLEAN hook: http-vs-nginx.sh restart CSTASHD [CONFIG]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$HERE/../../shared/bench}
PORT_A=${PORT_A:-18103}
PORT_B=${PORT_B:-18101}
WORK=${WORK:-/tmp/http-vs-nginx}

start_cstashd() {
    local bin=$1 conf=${2:-}
    rm -rf "$WORK/cs"
    mkdir -p "$WORK/cs"
    "$bin" ${conf:+-c "$conf"} -l "127.0.0.1:$PORT_A" -d "$WORK/cs" >>"$WORK/cstashd.log" 2>&1 &
    echo $! >"$WORK/cstashd.pid"
    for _ in $(seq 1 100); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT_A/_/health" && return 0
        sleep 0.05
    done
    echo "cstashd did not start (see $WORK/cstashd.log)" >&2
    return 1
}

stop_cstashd() {
    local pid
    [[ -f $WORK/cstashd.pid ]] || return 0
    pid=$(cat "$WORK/cstashd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$WORK/cstashd.pid"
}

if [[ ${1:-} == restart ]]; then
    stop_cstashd
    start_cstashd "$2" "${3:-}"
    sync
    sleep 5
    exit 0
fi

[[ $# -ge 2 && $# -le 3 ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
BIN=$(realpath "$1")
OUT=$2
CONF=${3:+$(realpath "$3")}
mkdir -p "$WORK"
trap 'stop_cstashd; "$SHARED/ref-nginx.sh" stop "$PORT_B" "$WORK/ngx" >/dev/null 2>&1 || true' EXIT
start_cstashd "$BIN" "$CONF"
"$SHARED/ref-nginx.sh" start "$PORT_B" "$WORK/ngx" >/dev/null
CLEAN_A="'$0' restart '$BIN' '$CONF'" \
    CLEAN_B="rm -rf '$WORK'/ngx/data/put-*; sync; sleep 5" \
    LABEL_A=${LABEL_A:-cstashd} LABEL_B=${LABEL_B:-nginx} OUTDIR=$OUT \
    "$SHARED/http-load.sh" "http://127.0.0.1:$PORT_A/default/" "http://127.0.0.1:$PORT_B/"
