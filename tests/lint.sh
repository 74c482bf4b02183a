#!/usr/bin/env bash
# The style check in make check: scripts/lint.sh (clang-format, cppcheck,
# clang-tidy), so a deviation fails the suite with its file and line.
# make check sets CS_LINT_CFLAGS, the flags clang-tidy compiles with.
set -euo pipefail
src=${CS_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
exec "$BASH" "$src/scripts/lint.sh"
