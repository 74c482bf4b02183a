#!/usr/bin/env bash
# Configures (once) and builds in the source tree. Extra arguments go to
# configure, e.g. scripts/build.sh --enable-werror.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
    # quiet ("installing build-aux/..."): its messages only when it fails
    autoreconf -fi -Wnone >/dev/null 2>&1 || autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ $# -gt 0 ]; then
    ./configure -q "$@"
fi
make -s -j"$(nproc)"
