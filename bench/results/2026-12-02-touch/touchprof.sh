#!/bin/bash
set -u
W=/tmp/cstash-index-bench; PORT=18131
cat >$W/conf <<C
max_size = 0;
track_access = ${TRACK:-true};
namespaces = ( { name = "default"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; } );
C
${CSTASHD:-/work/main/server/cstashd} -c $W/conf -d $W/data -l 127.0.0.1:$PORT >/dev/null 2>>/tmp/touchprof.log &
pid=$!
until curl -sf -o /dev/null http://127.0.0.1:$PORT/_/health; do sleep 0.01; done
wrk -t2 -c64 -d${DUR:-10}s -s $W/get.lua http://127.0.0.1:$PORT/ > /tmp/touchprof.wrk &
w=$!
if [ -n "${PERF:-}" ]; then sleep 1; perf record -g -o /tmp/touch.perf -p $pid -- sleep 6 2>/dev/null >/dev/null; fi
wait $w; curl -s http://127.0.0.1:$PORT/_/stats | grep -o "\"touches_dropped\":[0-9]*,\"index_commits\":[0-9]*"
grep Requests/sec /tmp/touchprof.wrk
kill $pid; wait $pid
