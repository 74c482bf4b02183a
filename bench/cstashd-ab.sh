#!/usr/bin/env bash
# cstashd-ab.sh BIN_A BIN_B OUTDIR: ../shared/bench/http-load.sh with two cstashd builds
# (A on 18103, B on 18104, embedded config), each restarted on an empty data
# dir after every PUT run (http-vs-nginx.sh restart). Env: http-load.sh's, and
# CONF_A / CONF_B, a config for A / B instead of the embedded one.
set -euo pipefail
A=$1 B=$2 OUT=$3
H=$(cd "$(dirname "$0")" && pwd)
WORK=/tmp/abA PORT_A=18103 "$H/http-vs-nginx.sh" restart "$A" "${CONF_A:-}"
WORK=/tmp/abB PORT_A=18104 "$H/http-vs-nginx.sh" restart "$B" "${CONF_B:-}"
CLEAN_A="WORK=/tmp/abA PORT_A=18103 $H/http-vs-nginx.sh restart '$A' '${CONF_A:-}'" \
CLEAN_B="WORK=/tmp/abB PORT_A=18104 $H/http-vs-nginx.sh restart '$B' '${CONF_B:-}'" \
OUTDIR=$OUT LABEL_A=${LABEL_A:-A} LABEL_B=${LABEL_B:-B} "${SHARED:-$H/../../shared/bench}/http-load.sh" http://127.0.0.1:18103/default/ http://127.0.0.1:18104/default/
for w in /tmp/abA /tmp/abB; do kill "$(cat "$w/cstashd.pid")" 2>/dev/null || true; done
