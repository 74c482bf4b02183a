# Real ccache (Debian's 4.7) against a real cstashd: a second build with an
# empty local cache is served by remote hits, in the subdirs, flat and
# bazel layouts, and with remote_only = true.
source "$CS_SRCDIR/tests/lib.sh"

command -v ccache >/dev/null || fail "ccache is not installed (apt-get install ccache)"
command -v gcc >/dev/null || fail "gcc is not installed"
N=6

# a small project: N units sharing a header
mkdir -p "$TEST_TMP/src"
cat >"$TEST_TMP/src/common.h" <<'C'
#define SCALE 3
int helper(int x);
C
for i in $(seq 1 $N); do
    cat >"$TEST_TMP/src/unit$i.c" <<C
#include <stdio.h>
#include "common.h"
int unit$i(int x) { printf("unit $i\\n"); return x * SCALE + $i; }
C
done

stat_of() { ccache --print-stats | awk -v k="$1" '$1 == k { print $2 }'; }

build() { # build OUTDIR: compiles every unit through ccache
    local out=$1 i
    mkdir -p "$out"
    for i in $(seq 1 $N); do
        (cd "$TEST_TMP/src" && ccache gcc -O2 -c "unit$i.c" -o "$out/unit$i.o")
    done
}

expect_stat() { # expect_stat NAME VALUE WHAT
    local got
    got=$(stat_of "$1")
    [ "$got" = "$2" ] || { ccache --print-stats | grep -E 'remote|local|cache_miss|direct' >&2; fail "$3: $1 = $got, expected $2"; }
}

run_layout() { # run_layout LAYOUT REMOTE_ONLY
    local layout=$1 remote_only=$2 label="layout=$1${2:+ remote_only}"
    local work="$TEST_TMP/$layout${remote_only:+-ro}"
    start_server "$work/data"
    export CCACHE_DIR="$work/ccache" CCACHE_CONFIGPATH="$work/ccache.conf"
    : >"$CCACHE_CONFIGPATH"
    export CCACHE_REMOTE_STORAGE="$URL/default|layout=$layout"
    if [ -n "$remote_only" ]; then export CCACHE_REMOTE_ONLY=true; else unset CCACHE_REMOTE_ONLY; fi

    ccache -z >/dev/null
    build "$work/cold"
    expect_stat cache_miss $N "$label cold build"
    expect_stat remote_storage_error 0 "$label cold build"
    expect_stat remote_storage_write $((2 * N)) "$label cold build (manifest + result per unit)"
    [ "$(count_files "$work/data/objects")" = $((2 * N)) ] || fail "$label: server holds $(count_files "$work/data/objects") objects"

    ccache -C >/dev/null # empty the local cache: every hit must come from cstashd
    ccache -z >/dev/null
    build "$work/warm"
    expect_stat remote_storage_hit $N "$label warm build"
    expect_stat cache_miss 0 "$label warm build"
    expect_stat remote_storage_error 0 "$label warm build"
    expect_stat remote_storage_timeout 0 "$label warm build"
    if [ -n "$remote_only" ]; then
        expect_stat local_storage_write 0 "$label warm build"
    fi
    for i in $(seq 1 $N); do
        cmp -s "$work/cold/unit$i.o" "$work/warm/unit$i.o" || fail "$label: unit$i.o differs"
    done
    stop_server
    ok "ccache $label: $N remote hits on a second build with an empty local cache, objects identical"
}

run_layout subdirs ""
run_layout flat ""
run_layout bazel ""
run_layout subdirs yes

# With credentials (namespace "team" readable and writable by user ci only):
# bearer-token and user:password in the URL both get remote hits; a wrong
# secret gets none, and the build still succeeds.
run_auth() { # run_auth LABEL REMOTE_URL [WRONG_URL]
    local label=$1 remote=$2 wrong=$3 work="$TEST_TMP/auth-$1"
    mkdir -p "$work"
    export CCACHE_DIR="$work/ccache" CCACHE_CONFIGPATH="$work/ccache.conf"
    : >"$CCACHE_CONFIGPATH"
    unset CCACHE_REMOTE_ONLY
    export CCACHE_REMOTE_STORAGE="$remote"
    ccache -z >/dev/null
    build "$work/cold"
    expect_stat remote_storage_error 0 "$label cold build"
    expect_stat remote_storage_write $((2 * N)) "$label cold build"
    ccache -C >/dev/null
    ccache -z >/dev/null
    build "$work/warm"
    expect_stat remote_storage_hit $N "$label warm build"
    export CCACHE_REMOTE_STORAGE="$wrong"
    ccache -C >/dev/null
    ccache -z >/dev/null
    build "$work/wrong"
    expect_stat remote_storage_hit 0 "$label build with a wrong secret"
    expect_stat cache_miss $N "$label build with a wrong secret"
    [ "$(stat_of remote_storage_error)" -gt 0 ] || fail "$label: a wrong secret was not reported by ccache"
    for i in $(seq 1 $N); do
        cmp -s "$work/cold/unit$i.o" "$work/wrong/unit$i.o" || fail "$label: unit$i.o differs"
    done
    ok "ccache $label: $N remote hits with the right secret, none (build still fine) with a wrong one"
}
team_conf "$TEST_TMP/auth.conf" ci ci-token ci-pass
start_server "$TEST_TMP/auth-data" --config "$TEST_TMP/auth.conf"
run_auth bearer "$URL/team|bearer-token=ci-token" "$URL/team|bearer-token=not-it"
stop_server
start_server "$TEST_TMP/auth-data2" --config "$TEST_TMP/auth.conf"
run_auth userinfo "http://ci:ci-pass@${URL#http://}/team" "http://ci:wrong@${URL#http://}/team"
stop_server
