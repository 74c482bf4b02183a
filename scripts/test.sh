#!/usr/bin/env bash
# Installs everything the tests need, builds with -Werror and runs the whole
# suite (unit, integration with a real cstashd, e2e with real clients).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
scripts/build.sh --enable-werror
rc=0
make -s -j"$(nproc)" check VERBOSE=1 || rc=$?
scripts/summary.sh
exit $rc
