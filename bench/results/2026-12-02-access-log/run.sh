#!/bin/bash
# get_1k with the access log on (A) and off (B): one cstashd binary, two
# configs that differ only in access_log; interleaved by http-load.sh.
set -euo pipefail
D=/tmp/al; BIN=/tmp/al/cstashd
rm -rf $D/a $D/b; mkdir -p $D/a $D/b
for x in a b; do
  port=$([ $x = a ] && echo 18301 || echo 18302)
  { echo "listen = [ \"127.0.0.1:$port\" ];"; echo "data_dir = \"$D/$x/data\";"
    [ $x = a ] && echo "access_log = \"$D/a/access.log\";"
    cat <<'C'
max_blob_size = "1G";
max_size = "10G";
namespaces = ( { name = "default"; max_blob_size = "1G"; max_size = 0; durable = false;
  read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; } );
C
  } > $D/$x/cstashd.conf
  $BIN --config $D/$x/cstashd.conf > $D/$x/out.log 2>&1 &
  echo $! > $D/$x/pid
done
sleep 1
SCENARIOS=get_1k BIG_MB=0 DURATION=5 ROUNDS=5 OUTDIR=/work/main/bench/results/2026-12-02-access-log LABEL_A=log_on LABEL_B=log_off \
  bash /work/shared/bench/http-load.sh http://127.0.0.1:18301/default/ http://127.0.0.1:18302/default/ || true
kill $(cat $D/a/pid) $(cat $D/b/pid)
wc -l $D/a/access.log
