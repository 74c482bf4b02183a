#!/usr/bin/env bash
# Instructions (callgrind Ir) of one S3 GET hit vs one plain HTTP GET hit,
# in the style of bench/hotpath-callgrind.sh: counted, not timed.
#   bench/s3-callgrind.sh CSTASHD [OUTDIR]
# For each mode a fresh cstashd runs under callgrind with the config of
# bench/s3-bench.sh (HTTP listener + s3:// listener, namespace b, user
# bench with key AKBENCH), one object of SIZE (1024) bytes is stored, then:
#   none   nothing (start-up and stop only)
#   http   3000 GETs of it on the HTTP listener (ab -k -c 4, anonymous)
#   s3     3000 GETs of it on the S3 listener (ab -k -c 4), each with the same
#          SigV4 Authorization header, x-amz-content-sha256: UNSIGNED-PAYLOAD
#          and x-amz-date (signed by bench/s3-sign.py just before)
# and a clean stop. (mode - none) / 3000 is one request's instructions.
# MODES ["none http s3"] picks the modes. Prints "MODE total_Ir N" and
# "MODE per_request_Ir N", and writes OUTDIR/MODE.callgrind.out,
# OUTDIR/MODE.annotate.txt (callgrind_annotate, exclusive) and
# OUTDIR/s3-minus-http.txt: per-function (s3 - http) / 3000, exclusive Ir.
# Ports 18135-18136 on 127.0.0.1.
set -euo pipefail
bin=$1
out=${2:-$(mktemp -d /tmp/s3-cg.XXXXXX)}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SIGN=$HERE/bench/s3-sign.py
SIZE=${SIZE:-1024}
REQS=${REQS:-3000}
MODES=${MODES:-"none http s3"}
P_HTTP=18135 P_S3=18136
mkdir -p "$out"
out=$(cd "$out" && pwd)
W=$(mktemp -d /tmp/s3-cg-work.XXXXXX)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$W"' EXIT
echo "bench AKBENCH secretbench" >"$W/secrets"
chmod 600 "$W/secrets"
tok_sha=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | "$bin" hash-token)
head -c "$SIZE" /dev/urandom >"$W/obj"
echo /b/ab/obj >"$W/paths"

for mode in $MODES; do
    rm -rf "$W/data" && mkdir -p "$W/data"
    cat >"$W/c.conf" <<EOF
listen = [ "127.0.0.1:$P_HTTP", "s3://127.0.0.1:$P_S3" ];
data_dir = "$W/data";
threads = 2;
users = ( { name = "bench"; token_sha256 = "$tok_sha"; } );
s3 = { secrets = "$W/secrets"; };
namespaces = ( { name = "b"; read = ["*"]; write = ["*"]; } );
EOF
    valgrind --tool=callgrind --callgrind-out-file="$out/$mode.callgrind.out" \
        "$bin" -c "$W/c.conf" >"$out/$mode.server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$P_HTTP/_/health" && break; sleep 0.1; done
    curl -sf -o /dev/null -X PUT --data-binary @"$W/obj" "http://127.0.0.1:$P_HTTP/b/ab/obj"
    case $mode in
        none) ;;
        http) ab -q -k -c 4 -n "$REQS" "http://127.0.0.1:$P_HTTP/b/ab/obj" >"$out/ab-$mode.txt" ;;
        s3)
            /usr/bin/python3 "$SIGN" get "$W/req" "127.0.0.1:$P_S3" "$W/paths" AKBENCH secretbench >/dev/null
            /usr/bin/python3 "$SIGN" check "$W/req.json" 127.0.0.1 "$P_S3" >/dev/null
            hdrs=()
            while IFS= read -r h; do hdrs+=(-H "$h"); done < <(/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))[0]
for l in r.split("\r\n")[2:]:   # skip the request line and Host (ab sends the same Host)
    if l: print(l)' "$W/req.json")
            ab -q -k -c 4 -n "$REQS" "${hdrs[@]}" "http://127.0.0.1:$P_S3/b/ab/obj" >"$out/ab-$mode.txt" ;;
        *) echo "unknown mode $mode" >&2; exit 2 ;;
    esac
    if [ "$mode" != none ]; then
        grep -E '^(Complete|Failed|Non-2xx)' "$out/ab-$mode.txt" | tr -s ' ' | sed "s/^/$mode ab: /"
        ! grep -q '^Non-2xx' "$out/ab-$mode.txt" || { echo "$mode: non-2xx answers" >&2; exit 1; }
    fi
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    awk -v m="$mode" '/^summary:/ { print m, "total_Ir", $2 }' "$out/$mode.callgrind.out" | tee "$out/$mode.total"
    callgrind_annotate --auto=no --inclusive=no --threshold=100 "$out/$mode.callgrind.out" >"$out/$mode.annotate.txt" 2>/dev/null || true
done

if [ -f "$out/none.total" ]; then
    none=$(awk '{ print $3 }' "$out/none.total")
    for mode in $MODES; do
        [ "$mode" != none ] || continue
        awk -v n="$none" -v r="$REQS" -v m="$mode" '{ printf "%s per_request_Ir %.0f\n", m, ($3 - n) / r }' "$out/$mode.total"
    done
fi
if [ -f "$out/s3.annotate.txt" ] && [ -f "$out/http.annotate.txt" ]; then
    /usr/bin/python3 - "$out/s3.annotate.txt" "$out/http.annotate.txt" "$REQS" >"$out/s3-minus-http.txt" <<'EOF'
import re, sys
def load(p):
    d = {}
    for l in open(p):
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*?)\s*$", l)
        if m and ":" in m.group(2) or (m and "???" in m.group(2)):
            fn = m.group(2).split(" [")[0]
            d[fn] = d.get(fn, 0) + int(m.group(1).replace(",", ""))
    return d
s3, http, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
diff = sorted(((s3.get(k, 0) - http.get(k, 0)) / n, k) for k in set(s3) | set(http))
tot = sum(d for d, _ in diff)
print("per-request exclusive Ir, (s3 - http) / %d, functions with |diff| >= 50; sum of all diffs %.0f" % (n, tot))
for d, k in sorted(diff, key=lambda x: -abs(x[0])):
    if abs(d) >= 50:
        print("%10.0f  %s" % (d, k))
EOF
    head -40 "$out/s3-minus-http.txt"
fi
