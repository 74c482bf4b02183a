#!/usr/bin/env bash
# Prints one closing line for the last `make check`: how many checks passed
# and failed, counted inside each test program ("ok N" lines of the shell
# tests, Check's "Checks: N, Failures: F, Errors: E" lines).
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0
for log in tests/*.log tests/unit/*.log tests/integration/*.log tests/e2e/*.log; do
    [ -f "$log" ] || continue
    trs=${log%.log}.trs
    result=$(sed -n 's/^:test-result: //p' "$trs" 2>/dev/null | head -n 1)
    if line=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1) && [ -n "$line" ]; then
        read -r n f e < <(echo "$line" | tr -dc '0-9 ' | tr -s ' ')
        passed=$((passed + n - f - e))
        failed=$((failed + f + e))
    else
        n=$(grep -c '^ok [0-9]' "$log")
        passed=$((passed + n))
    fi
    case $result in
        FAIL|ERROR) [ -n "${line:-}" ] || failed=$((failed + 1)) ;;
        SKIP) skipped=$((skipped + 1)) ;;
    esac
    line=""
done
echo "$passed passed, $failed failed, $skipped skipped"
