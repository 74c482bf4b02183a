#!/usr/bin/env bash
# The mechanical style check (like curl's checksrc): clang-format, cppcheck
# and clang-tidy over the C we write.
#   scripts/lint.sh [FILE...]        check; every finding as file:line, exit 1 on any
#   scripts/lint.sh --fix [FILE...]  reformat in place with clang-format (make format)
# Without FILEs: every .c and .h under server storage client common
# tests/unit tests/fuzz bench (nothing generated lives there).
# A missing tool is a failure, not a skip (scripts/deps.sh test installs them).
# clang-tidy needs the flags configure found: CS_LINT_CFLAGS (make lint and
# make check pass them), else they are asked of the Makefile in CS_BUILDDIR.
# LINT_JOBS (default 1) clang-tidy processes at a time.
set -euo pipefail
src=${CS_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${CS_BUILDDIR:-$src}
jobs=${LINT_JOBS:-1}
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy}
CPPCHECK=${CPPCHECK:-cppcheck}
DIRS=(server storage client common tests/unit tests/fuzz bench)

fix=no
if [ "${1:-}" = --fix ]; then
    fix=yes
    shift
fi
files=()
for f in "$@"; do
    case $f in /*) ;; *) f=$PWD/$f ;; esac
    files+=("${f#"$src"/}")
done
cd "$src"
if [ ${#files[@]} -eq 0 ]; then
    mapfile -t files < <(find "${DIRS[@]}" -type f -name '*.[ch]' | LC_ALL=C sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "lint: no files" >&2; exit 2; }
cfiles=()
for f in "${files[@]}"; do
    case $f in *.c) cfiles+=("$f") ;; esac
done

need() {
    command -v "$1" >/dev/null ||
        { echo "FAIL: $1 is not installed (scripts/deps.sh test installs it)"; exit 1; }
}

need "$CLANG_FORMAT"
if [ $fix = yes ]; then
    "$CLANG_FORMAT" -i "${files[@]}"
    exit 0
fi
need "$CPPCHECK"
need "$CLANG_TIDY"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cstash-lint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0 n=0
report() { # report NAME FINDINGS-FILE: one "ok" line, or the findings
    n=$((n + 1))
    if [ -s "$2" ]; then
        cat "$2"
        echo "not ok $n - $1: $(wc -l <"$2") finding(s)"
        failed=1
    else
        echo "ok $n - $1"
    fi
}

# clang-format: one line per place it would change. The .clang-format
# options are pinned, but another major version may still format otherwise.
"$CLANG_FORMAT" --dry-run --Werror "${files[@]}" >"$tmp/format.out" 2>&1 || true
sed -n 's/^\([^ :]*:[0-9]*:[0-9]*\): [a-z]*: code should be clang-formatted.*/\1: not clang-formatted (make format)/p' \
    "$tmp/format.out" >"$tmp/format"
# anything else it said (an unreadable file, a bad .clang-format) is a failure too
grep -E '^[^ ]+:[0-9]+:[0-9]+: (error|warning):' "$tmp/format.out" |
    grep -v 'code should be clang-formatted' >>"$tmp/format" || true
grep -E '^(error|warning|Error|Invalid)' "$tmp/format.out" >>"$tmp/format" || true
report "clang-format ($("$CLANG_FORMAT" --version | grep -o 'version [0-9.]*'), ${#files[@]} files)" \
    "$tmp/format"

# cppcheck: our headers only (-I), the documented suppressions; information
# is on so a suppression that no longer matches is reported. Any line it
# prints is a finding (unmatchedSuppression does not set its exit code).
if [ ${#cfiles[@]} -gt 0 ]; then
    "$CPPCHECK" -q --enable=warning,performance,portability,information \
        --suppress-xml=scripts/cppcheck-suppressions.xml -I. -I"$build" \
        --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
        "${cfiles[@]}" >"$tmp/cppcheck" 2>&1 || true
    report "cppcheck ($("$CPPCHECK" --version), ${#cfiles[@]} files)" "$tmp/cppcheck"
fi

# clang-tidy: the checks of .clang-tidy, each .c with the flags configure
# found; a header is reported from every file that includes it, once here.
if [ ${#cfiles[@]} -gt 0 ]; then
    if [ -z "${CS_LINT_CFLAGS:-}" ]; then
        [ -f "$build/Makefile" ] ||
            { echo "FAIL: clang-tidy needs the configure results: configure first (or set CS_LINT_CFLAGS)"; exit 1; }
        CS_LINT_CFLAGS=$(make -s --no-print-directory -C "$build" lint-cflags | tail -n 1)
    fi
    read -ra flags <<<"$CS_LINT_CFLAGS"
    kept=()
    for f in "${flags[@]}"; do
        case $f in -Werror|-Werror=*) ;; *) kept+=("$f") ;; esac # .clang-tidy says what fails
    done
    export CLANG_TIDY tmp
    # shellcheck disable=SC2016 # expanded by the sh that xargs starts
    printf '%s\n' "${cfiles[@]}" |
        xargs -P "$jobs" -I{} sh -c 'f=$1; shift; out="$tmp/tidy.$(echo "$f" | tr / _)"
            "$CLANG_TIDY" -quiet "$f" -- "$@" >"$out" 2>&1 || echo failed >"$out.rc"' \
            sh {} "${kept[@]}" || true
    : >"$tmp/tidy"
    for f in "${cfiles[@]}"; do
        out="$tmp/tidy.$(echo "$f" | tr / _)"
        if [ -f "$out.rc" ] && ! grep -qE '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$out"; then
            # failed without a diagnostic: show what it said
            sed "s|^|$f: clang-tidy: |" "$out" | grep -v 'warnings\? generated' >>"$tmp/tidy"
        fi
        grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$out" >>"$tmp/tidy.all" || true
    done
    if [ -f "$tmp/tidy.all" ]; then
        sed -e "s|^$src/||" -e 's/,-warnings-as-errors\]$/]/' "$tmp/tidy.all" | LC_ALL=C sort -u |
            LC_ALL=C sort -s -t: -k1,1 -k2,2n -k3,3n >>"$tmp/tidy"
    fi
    report "clang-tidy ($("$CLANG_TIDY" --version | grep -o 'version [0-9.]*'), ${#cfiles[@]} files)" "$tmp/tidy"
fi

# The test scripts run under pipefail: grep -q leaves at its first match,
# and a producer still writing (curl, nm) then fails with EPIPE and so
# does the check (slow_tier.sh failed 43 runs in 200). Save to a file first.
grep -rnE '\b(curl|nm)\b[^|#]*\|[[:space:]]*grep[[:space:]]+-[a-zA-Z]*q' --include='*.sh' tests bench scripts \
    | grep -v '^scripts/lint.sh:' >"$tmp/pipe" || true
report "shell: no curl or nm piped into grep -q (tests bench scripts)" "$tmp/pipe"

# A retry helper given "$(...)" runs it once, before the first try, and so
# checks a stale value (tiers.sh's redis fill check failed a CI run so).
grep -rnE '\b(wait_for|wait_until|retry)[[:space:]][^#]*\$\(' --include='*.sh' tests bench scripts \
    | grep -v '^scripts/lint.sh:' >"$tmp/retry" || true
report "shell: no command substitution in a retry helper's arguments" "$tmp/retry"

exit $failed
