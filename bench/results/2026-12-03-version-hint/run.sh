#!/usr/bin/env bash
# run.sh BEFORE_CSTASH AFTER_CSTASH: one remote hit of confdata.c
# (-O2 -g -Wall) into a removed cache dir (rm -rf before every run, as in
# CI), beside ccache remote_only (nginx from ref-nginx.sh), with hyperfine
# -N; ROUNDS (3) rounds of RUNS (40). The source and its headers come from
# a run of ../../../../shared/bench/hit-latency.sh (WORK/hit-latency/src).
# Env: CSTASHD (../../../server/cstashd), WORK (/tmp/cstash-bench),
# PORT (18199), NGINX_PORT (18112), SHARED (../../../../shared/bench).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CSTASHD=${CSTASHD:-$HERE/../../../server/cstashd}
SHARED=${SHARED:-$HERE/../../../../shared/bench}
WORK=${WORK:-/tmp/cstash-bench} PORT=${PORT:-18199} NGINX_PORT=${NGINX_PORT:-18112}
RUNS=${RUNS:-40} ROUNDS=${ROUNDS:-3}
W=$WORK/version-hint
rm -rf "$W"; mkdir -p "$W/bin"
ln -s "$(readlink -f "$1")" "$W/bin/cstash-before"
ln -s "$(readlink -f "$2")" "$W/bin/cstash-after"
SRC=$WORK/hit-latency/src
[ -f "$SRC/confdata.c" ] || { echo "run hit-latency.sh once first ($SRC/confdata.c)" >&2; exit 1; }
export PATH=$W/bin:$PATH CSTASH_CONFIG=$W/none.conf CSTASH_REMOTE=http://127.0.0.1:$PORT/default \
    CSTASH_DIR=$W/local CCACHE_DIR=$W/ccache CCACHE_CONFIGPATH=$W/ccache.conf CCACHE_MAXSIZE=1G
unset CSTASH_LOG
: >"$CSTASH_CONFIG"
"$CSTASHD" -l "127.0.0.1:$PORT" -d "$W/sdata" --log-level warn &
SP=$!
"$SHARED/ref-nginx.sh" start "$NGINX_PORT" "$W/nginx" >/dev/null
trap 'kill $SP; "$SHARED/ref-nginx.sh" stop "$NGINX_PORT" "$W/nginx" >/dev/null' EXIT
sleep 0.5
cd "$SRC"
C="gcc -O2 -g -Wall -I$SRC -c $SRC/confdata.c -o $W/out.o"
printf 'remote_storage = http://127.0.0.1:%s/ccache|layout=subdirs\nremote_only = true\n' "$NGINX_PORT" \
    >"$CCACHE_CONFIGPATH"
ccache $C                                       # fills nginx
cstash-before $C; rm -rf "$CSTASH_DIR"          # fills cstashd
cstash-after $C; rm -rf "$CSTASH_DIR"           # stores the bound version text
echo "round,ccache_remote_only_ms,before_ms,after_ms,after/remote_only,before/remote_only"
for r in $(seq "$ROUNDS"); do
    hyperfine -N --runs "$RUNS" --warmup 3 --style none --export-csv "$W/r$r.csv" \
        --prepare true -n ccache-remote_only "ccache $C" \
        --prepare "rm -rf $CSTASH_DIR" -n before "cstash-before $C" \
        --prepare "rm -rf $CSTASH_DIR" -n after "cstash-after $C" >/dev/null 2>&1
    awk -F, -v r="$r" 'NR > 1 { m[NR - 1] = $4 * 1000 }
        END { printf "%d,%.2f,%.2f,%.2f,%.2f,%.2f\n", r, m[1], m[2], m[3], m[3] / m[1], m[2] / m[1] }' "$W/r$r.csv"
done
