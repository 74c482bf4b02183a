#!/usr/bin/env bash
# S3 front end vs plain HTTP vs nginx, in one run, interleaved (issue 17,
# "Performance"): GET hits and PUTs of new keys, 1 KiB and 64 KiB.
#
#   bench/s3-bench.sh OUTDIR
#
# One cstashd ($CSTASHD, default this tree's server/cstashd, copied to $BIN
# = /tmp/bench-cstashd first so a rebuild cannot change it mid-run) listens
# on 127.0.0.1:18130 (HTTP) and s3://127.0.0.1:18131; namespace "b" is
# read/write for "*" (the HTTP requests are anonymous), S3 requests are
# signed by user bench (AKBENCH). A private nginx
# (/work/shared/bench/ref-nginx.sh) on 18132 serves the same bytes.
#
# Populate: N (100) random objects per size, PutObject via boto3 under
# /b/<2hex>/<38hex>; the same files are copied into nginx's root; one GET per
# size and server is checked byte for byte.
#
# Scenarios (wrk, THREADS=2 threads, each of CONNS, DURATION s, keep-alive),
# each run as s3 http nginx, s3 http nginx, ... (ROUNDS=3 rounds):
#   get_1k get_64k   GET of a random populated object (same paths on all 3).
#                    s3: SigV4 Authorization header, x-amz-content-sha256:
#                    UNSIGNED-PAYLOAD, SignedHeaders host;x-amz-content-sha256;
#                    x-amz-date (what sccache/OpenDAL sends).
#   put_1k put_64k   PUT of a new key every request (PUT_KEYS_1K / _64K keys
#                    per run, one random body per size). s3: signed hashed
#                    payload (x-amz-content-sha256 = hex sha256 of the body,
#                    content-length signed too), must answer 200.
#                    After every PUT run: cstashd's namespace is purged
#                    (DELETE /_/ns/b as bench, its admin), nginx's put-* dirs
#                    removed, then `sync; sleep 5`. So the PUT scenarios must
#                    come after the GET ones.
# Every request is built before its run by bench/s3-sign.py (botocore
# SigV4Auth on an AWSRequest, signed right before the run: signatures are
# good for 15 minutes) as the exact bytes to send; bench/lua/raw.lua sends
# them unchanged (Host included). 3 extra requests of each set are sent first
# with python and must be 2xx (PUT: 200; GET: body byte for byte); wrk counts
# statuses > 399 and socket errors as errors; a PUT run that ran out of
# pre-built keys reports "reused" > 0.
#
# Env: N [100] ROUNDS [3] DURATION [8] THREADS [2] CONNS ["16"] TIMEOUT [5s]
#      PUT_CONNS [$CONNS] (concurrencies of the PUT scenarios)
#      SCENARIOS ["get_1k get_64k put_1k put_64k"] PUT_KEYS_1K [80000]
#      PUT_KEYS_64K [30000] CSTASHD BIN NGINX_SH
#      SUMMARY_ONLY=1: only rebuild OUTDIR/summary.txt from OUTDIR/raw.csv
# Output: OUTDIR/raw.csv (one line per run), OUTDIR/summary.txt, OUTDIR/run.log.
# Ports 18130-18132 on 127.0.0.1; everything started here is stopped by PID
# (nginx by its pid file).
set -euo pipefail

OUT=${1:?usage: $0 OUTDIR}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SIGN=$HERE/bench/s3-sign.py
LUA=$HERE/bench/lua/raw.lua
PY=/usr/bin/python3
SRC=${CSTASHD:-$HERE/server/cstashd}
BIN=${BIN:-/tmp/bench-cstashd}
NGINX_SH=${NGINX_SH:-/work/shared/bench/ref-nginx.sh}
N=${N:-100}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}
TIMEOUT=${TIMEOUT:-5s}
SCENARIOS=${SCENARIOS:-"get_1k get_64k put_1k put_64k"}
PUT_CONNS=${PUT_CONNS:-$CONNS}
PUT_KEYS_1K=${PUT_KEYS_1K:-80000}
PUT_KEYS_64K=${PUT_KEYS_64K:-30000}
P_HTTP=18130 P_S3=18131 P_NGX=18132
AK=AKBENCH SK=secretbench
LABELS="s3 http nginx"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RAW=$OUT/raw.csv
if [ -n "${SUMMARY_ONLY:-}" ]; then
    "$PY" "$SIGN" summary "$RAW" | tee "$OUT/summary.txt"
    exit 0
fi

for t in wrk curl "$PY" sha256sum; do command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }; done
seen_put=
for sc in $SCENARIOS; do
    case $sc in
        put_*) seen_put=1 ;;
        get_*) [ -z "$seen_put" ] || { echo "SCENARIOS: GETs must come before PUTs (a PUT run purges the namespace)" >&2; exit 2; } ;;
        *) echo "unknown scenario $sc" >&2; exit 2 ;;
    esac
done

W=$(mktemp -d /tmp/s3-bench.XXXXXX)
NGX=$W/nginx
CS_PID=
cleanup() {
    [ -z "$CS_PID" ] || { kill "$CS_PID" 2>/dev/null || true; wait "$CS_PID" 2>/dev/null || true; }
    [ ! -d "$NGX" ] || "$NGINX_SH" stop "$P_NGX" "$NGX" >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
exec > >(tee "$OUT/run.log") 2>&1
log() { echo "[$(date +%H:%M:%S)] $*"; }

[ "$SRC" -ef "$BIN" ] || cp "$SRC" "$BIN"
log "cstashd: $SRC -> $BIN (sha256 $(sha256sum "$BIN" | cut -c1-16)), $("$BIN" --version)"
log "git: $(git -C "$HERE" log -1 --format='%h %s' 2>/dev/null || echo '?')"

# ---------------------------------------------------------------- servers
TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN_SHA=$(printf %s "$TOKEN" | "$BIN" hash-token)
mkdir -p "$W/data"
echo "bench $AK $SK" >"$W/secrets"
chmod 600 "$W/secrets"
cat >"$W/cstashd.conf" <<EOF
listen = [ "127.0.0.1:$P_HTTP", "s3://127.0.0.1:$P_S3" ];
data_dir = "$W/data";
users = ( { name = "bench"; token_sha256 = "$TOKEN_SHA"; } );
s3 = { secrets = "$W/secrets"; };
namespaces = ( { name = "b"; read = ["*"]; write = ["*"]; admin = ["bench"]; } );
EOF
"$BIN" -c "$W/cstashd.conf" 2>"$W/server.log" &
CS_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$P_HTTP/_/health" && break; sleep 0.05; done
curl -sf -o /dev/null "http://127.0.0.1:$P_HTTP/_/health" || { cat "$W/server.log"; exit 1; }
"$NGINX_SH" start "$P_NGX" "$NGX" >/dev/null

# ---------------------------------------------------------------- populate
declare -A BYTES=([1k]=1024 [64k]=65536)
for sz in 1k 64k; do
    : >"$W/paths_$sz"
    for k in $(head -c $((N * 20)) /dev/urandom | od -An -v -tx1 | tr -d ' \n' | fold -w 40); do
        p=/b/${k:0:2}/${k:2}
        mkdir -p "$W/objs/b/${k:0:2}"
        head -c "${BYTES[$sz]}" /dev/urandom >"$W/objs$p"
        echo "$p" >>"$W/paths_$sz"
    done
    head -c "${BYTES[$sz]}" /dev/urandom >"$W/body_$sz"
done
log "populating: $N objects per size via boto3 put_object (s3), copy into nginx's root"
"$PY" "$SIGN" populate "127.0.0.1:$P_S3" "$AK" "$SK" b "$W/objs" "$W/paths_1k" "$W/paths_64k"
cp -r "$W/objs/b" "$NGX/data/b"
for sz in 1k 64k; do
    p=$(head -n1 "$W/paths_$sz")
    for port in $P_HTTP $P_NGX; do
        curl -sf --max-time 10 -o "$W/got" "http://127.0.0.1:$port$p"
        cmp -s "$W/got" "$W/objs$p" || { echo "verify GET $p on :$port: bytes differ" >&2; exit 1; }
    done
done

# ---------------------------------------------------------------- runs
port_of() { case $1 in s3) echo $P_S3 ;; http) echo $P_HTTP ;; nginx) echo $P_NGX ;; esac; }

run() { # label scenario conns round
    local lb=$1 sc=$2 c=$3 r=$4 port sz creds=() mode out res
    port=$(port_of "$lb")
    sz=${sc#*_}
    [ "$lb" = s3 ] && creds=("$AK" "$SK")
    case $sc in
        get_*)
            "$PY" "$SIGN" get "$W/req" "127.0.0.1:$port" "$W/paths_$sz" "${creds[@]}" >/dev/null
            "$PY" "$SIGN" check "$W/req.json" 127.0.0.1 "$port" --get-root "$W/objs" >/dev/null
            out=$(wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --timeout "$TIMEOUT" -s "$LUA" \
                "http://127.0.0.1:$port/" -- random "$W/req.lua" "$THREADS" 2>&1) || true ;;
        put_*)
            local keys=$PUT_KEYS_1K; [ "$sz" = 64k ] && keys=$PUT_KEYS_64K
            "$PY" "$SIGN" put "$W/req" "127.0.0.1:$port" "/b/put-$lb-$r-$c/" "$keys" "$W/body_$sz" "${creds[@]}" >/dev/null
            "$PY" "$SIGN" check "$W/req.json" 127.0.0.1 "$port" "$W/body_$sz" >/dev/null
            out=$(wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --timeout "$TIMEOUT" -s "$LUA" \
                "http://127.0.0.1:$port/" -- seq "$W/req.lua" "$THREADS" "$W/body_$sz" 2>&1) || true ;;
    esac
    res=$(grep '^RESULT' <<<"$out" || true)
    [ -n "$res" ] || { echo "wrk failed: $out" >&2; exit 1; }
    local requests duration_us rps p50_us p90_us p99_us max_us status_err conn_err read_err write_err timeout_err bytes reused
    eval "$(sed 's/^RESULT //; s/ /;/g' <<<"$res")"
    echo "$lb,$r,$sc,$c,$requests,$duration_us,$rps,$p50_us,$p90_us,$p99_us,$max_us,$status_err,$((conn_err + read_err + write_err + timeout_err)),$bytes,$reused" >>"$RAW"
    log "$(printf '%-5s r%d %-7s c=%-3s %9.0f req/s  p99 %6.2f ms  B/resp %6d  err>399=%s sockerr=%s reused=%s' \
        "$lb" "$r" "$sc" "$c" "$rps" "$(awk "BEGIN{print $p99_us/1000}")" "$((requests ? bytes / requests : 0))" \
        "$status_err" "$((conn_err + read_err + write_err + timeout_err))" "$reused")"
    if [[ $sc == put_* ]]; then
        if [ "$lb" = nginx ]; then
            rm -rf "$NGX"/data/b/put-*
        else
            curl -sf --max-time 300 -o /dev/null -X DELETE -H "Authorization: Bearer $TOKEN" \
                "http://127.0.0.1:$P_HTTP/_/ns/b" || { echo "purge of b failed" >&2; exit 1; }
        fi
        sync
        sleep 5
    fi
}

echo "label,round,scenario,conns,requests,duration_us,rps,p50_us,p90_us,p99_us,max_us,status_err,sock_err,bytes,reused" >"$RAW"
conns_of() { case $1 in put_*) echo "$PUT_CONNS" ;; *) echo "$CONNS" ;; esac; }
nruns=0; for sc in $SCENARIOS; do for _ in $(conns_of "$sc"); do nruns=$((nruns + ROUNDS * 3)); done; done
log "wrk: $nruns runs x ${DURATION}s, THREADS=$THREADS CONNS=\"$CONNS\" PUT_CONNS=\"$PUT_CONNS\" ROUNDS=$ROUNDS"
for sc in $SCENARIOS; do
    for c in $(conns_of "$sc"); do
        for r in $(seq 1 "$ROUNDS"); do
            for lb in $LABELS; do run "$lb" "$sc" "$c" "$r"; done
        done
    done
done
kill -0 "$CS_PID" || { echo "cstashd died" >&2; exit 1; }
sed "s|token_sha256 = \"[0-9a-f]*\"|token_sha256 = \"<hash of a random token>\"|; s|$W|WORKDIR|g" \
    "$W/cstashd.conf" >"$OUT/cstashd.conf"
grep -ci 'error\|warn' "$W/server.log" | sed 's/^/server.log warn|error lines: /' || true

"$PY" "$SIGN" summary "$RAW" | tee "$OUT/summary.txt"
