#!/usr/bin/env bash
# Quick start: install dependencies, build, and run cstashd in the
# foreground with the embedded default configuration (127.0.0.1:8080, one
# namespace "default", data under ~/.cache/cstashd). Extra arguments go to
# cstashd, e.g. scripts/run.sh --listen 0.0.0.0:8080. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh
exec ./server/cstashd --print-client-config "$@"
