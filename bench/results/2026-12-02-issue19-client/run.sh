#!/usr/bin/env bash
# run.sh NAME=DIR... : one hit of confdata.c through ccache and each cstash build
# (DIR/cstash), with ../../../../shared/bench/hit-latency.sh (hyperfine -N, env
# exported, no wrapper), in three parts run back to back:
#   local         ccache-local, each cstash with a warm CSTASH_DIR
#   remote        ccache-remote (remote_only) and ccache-http, each cstash with
#                 CSTASH_REMOTE = a cstashd here; the local dir removed (rm -rf)
#                 before every run
#   remote-clear  the same, the local cache emptied by `cstash -C` (its
#                 directories, stats and compilers/ kept) before every run
# Env: CSTASHD (the server binary, default ../../../server/cstashd), PORT (18143),
# RUNS (30), HIT_LATENCY (the shared script), WORK (/tmp/cstash-issue19).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CSTASHD=${CSTASHD:-$HERE/../../../server/cstashd}
HIT_LATENCY=${HIT_LATENCY:-$HERE/../../../../shared/bench/hit-latency.sh}
PORT=${PORT:-18143} RUNS=${RUNS:-30} W=${WORK:-/tmp/cstash-issue19}
OUT=$W/out-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT" "$W/bin"
rm -rf "$W/sdata"
"$CSTASHD" -l "127.0.0.1:$PORT" -d "$W/sdata" --log-level warn >"$W/server.log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null || true' EXIT
sleep 0.5
export RUNS WARMUP=3 CSTASH_CONFIG=$W/none.conf
: >"$CSTASH_CONFIG"
unset CSTASH_REMOTE CSTASH_DIR CSTASH_LOG
names=()
for d in "$@"; do
    ln -sf "$(cd "${d#*=}" && pwd)/cstash" "$W/bin/cstash-${d%%=*}"
    names+=("cstash-${d%%=*}")
done
export PATH=$W/bin:$PATH
cd "$W"
export CSTASH_DIR=$W/local
rm -rf "$CSTASH_DIR"
SETUPS=ccache-local OUTDIR=$OUT/local "$HIT_LATENCY" "${names[@]}" 2>"$OUT/local.err"
export CSTASH_REMOTE=http://127.0.0.1:$PORT/default CSTASH_DIR=$W/rlocal
SETUPS="ccache-remote ccache-http" PREPARE="rm -rf $W/rlocal" OUTDIR=$OUT/remote \
    "$HIT_LATENCY" "${names[@]}" 2>"$OUT/remote.err"
SETUPS=ccache-remote PREPARE="$W/bin/${names[-1]} -C" OUTDIR=$OUT/remote-clear \
    "$HIT_LATENCY" "${names[@]}" 2>"$OUT/remote-clear.err"
echo "results: $OUT"
