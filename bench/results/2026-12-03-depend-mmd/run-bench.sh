#!/bin/bash
cd /tmp/b
export COLD_RUNS=1 WARM_RUNS=1 WORK=/tmp/cstash-bench OUTDIR=/work/main/bench/results/2026-12-03-depend-mmd
export COLD_HOOK='rm -rf /tmp/b/ccache /tmp/b/cstash' WARM_HOOK=':'
bash /work/shared/bench/compile.sh cmd:/tmp/b/plain cmd:/tmp/b/ccache-l cmd:/tmp/b/cstash-pp cmd:/tmp/b/cstash-d cmd:/tmp/b/ccache-d \
    cmd:/tmp/b/plain cmd:/tmp/b/ccache-l cmd:/tmp/b/cstash-pp cmd:/tmp/b/cstash-d cmd:/tmp/b/ccache-d > /tmp/b/bench.out 2> /tmp/b/bench.err
touch /tmp/b/bench-done
