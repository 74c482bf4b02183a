# CSTASH_PREFIX=distcc with a real distccd on loopback: a miss is compiled
# by distccd (its log shows the job), a hit never reaches distcc, and with
# distccd gone distcc falls back to compiling locally. Objects and .d files
# are compared with a plain gcc build of the same tree every time.
source "$CS_SRCDIR/tests/lib.sh"

command -v distcc >/dev/null && command -v distccd >/dev/null ||
    fail "distcc and distccd are not installed (scripts/deps.sh test installs distcc)"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_LOG=$TEST_TMP/cstash.log
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_READONLY
export CSTASH_PREFIX=distcc
# distcc's state (host locks, backoff marks) in the test's own directory,
# which distcc does not create itself; its client log for the checks.
unset DISTCC_FALLBACK DISTCC_SKIP_LOCAL_RETRY DISTCC_BACKOFF_PERIOD DISTCC_VERBOSE DISTCC_SAVE_TEMPS \
    DISTCC_POTENTIAL_HOSTS DISTCC_IO_TIMEOUT DISTCC_NO_REWRITE_CROSS INCLUDE_SERVER_PORT
export DISTCC_DIR=$TEST_TMP/distcc-state DISTCC_LOG=$TEST_TMP/distcc-client.log
# distcc's temp files (the preprocessed text) too: one that aborts leaves
# them behind
export TMPDIR=$TEST_TMP/tmp
mkdir -p "$DISTCC_DIR" "$TMPDIR"
: >"$DISTCC_LOG"

# start_distccd: a distccd on a free loopback port; sets DISTCCD_PID,
# DISTCCD_LOG, DISTCC_PORT. It logs to stderr, a file this shell opens:
# run as root, distccd becomes the distccd (or nobody) user before it opens
# a --log-file, and cannot reach the test's 0700 temp dir. With
# --no-detach it makes its own process group and, on TERM, signals that
# group (its preforked children) before it exits.
DISTCCD_PID=""
start_distccd() {
    local i tmp=$TMPDIR
    [ "$(id -u)" = 0 ] && tmp=/tmp # where the unprivileged user may write
    DISTCC_PORT=$(free_port)
    DISTCCD_LOG=$TEST_TMP/distccd.log
    SERVER_LOG=$DISTCCD_LOG # the lib prints its tail when the test fails
    : >"$DISTCCD_LOG"
    TMPDIR=$tmp distccd --daemon --no-detach --listen 127.0.0.1 --allow 127.0.0.1 --port "$DISTCC_PORT" \
        --jobs 4 --log-stderr --log-level info 2>>"$DISTCCD_LOG" &
    DISTCCD_PID=$!
    for i in $(seq 1 100); do
        grep -q "listening on 127.0.0.1:$DISTCC_PORT" "$DISTCCD_LOG" &&
            grep -q "daemon started" "$DISTCCD_LOG" && return 0
        kill -0 "$DISTCCD_PID" 2>/dev/null || { cat "$DISTCCD_LOG"; fail "distccd exited at start-up"; }
        sleep 0.05
    done
    cat "$DISTCCD_LOG"
    fail "distccd did not start listening within 5 s"
}

# live (not zombie) processes in distccd's process group
distccd_group() { ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/' | wc -l; }

# stop_distccd: TERM (distccd passes it to its group), wait; KILL the
# group if anything of it is still alive after 10 s.
stop_distccd() {
    local pid=$DISTCCD_PID i
    [ -n "$pid" ] || return 0
    DISTCCD_PID=""
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 200); do
        [ "$(distccd_group "$pid")" = 0 ] && break
        sleep 0.05
    done
    if [ "$(distccd_group "$pid")" != 0 ]; then
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 1
    fi
    wait "$pid" 2>/dev/null || true
}
test_cleanup() { stop_distccd || true; }

# distccd's jobs compiled, and all its jobs (one summary line per job)
jobs_done() { grep -c '(dcc_job_summary) client: 127\.0\.0\.1:[0-9]* COMPILE_OK ' "$DISTCCD_LOG" || true; }
jobs_all() { grep -c '(dcc_job_summary) ' "$DISTCCD_LOG" || true; }
# the distcc client's log after line $1 (what one build added)
client_log() { tail -n +"$(($1 + 1))" "$DISTCC_LOG"; }
client_count() { client_log "$1" | grep -c -- "$2" || true; }
# how many times distcc ran (one pid per run) after line $1
client_runs() { client_log "$1" | sed -n 's/^distcc\[\([0-9]*\)\].*/\1/p' | sort -u | wc -l; }
# its local runs after line $1, as "exec on localhost" lines
client_local() { client_log "$1" | grep 'exec on localhost: ' || true; }

start_distccd
export DISTCC_HOSTS=127.0.0.1:$DISTCC_PORT

# 50 files: main.c and f1.c..f49.c, one shared header; the program prints
# the sum of f<i>(i), so a wrong object shows in its output too.
proj=$TEST_TMP/proj
mkdir -p "$proj/inc"
for i in $(seq 1 49); do
    printf '#include "common.h"\nint f%d(int x) { return COMMON(x) + %d; }\n' "$i" "$i" >"$proj/f$i.c"
done
printf '#define COMMON(x) ((x) * 3)\n' >"$proj/inc/common.h"
{
    printf '#include <stdio.h>\n'
    for i in $(seq 1 49); do printf 'int f%d(int);\n' "$i"; done
    printf 'int main(void) {\n    long s = 0;\n'
    for i in $(seq 1 49); do printf '    s += f%d(%d);\n' "$i" "$i"; done
    printf '    printf("%%ld\\n", s);\n    return 0;\n}\n'
} >"$proj/main.c"
cat >"$proj/Makefile" <<'MK'
SRCS := $(wildcard *.c)
OBJS := $(SRCS:.c=.o)
all: prog
prog: $(OBJS)
	$(CC) -o $@ $(OBJS)
%.o: %.c
	$(CC) -O2 -Iinc -MD -c $< -o $@
clean:
	rm -f *.o *.d prog
MK
sum=0
for i in $(seq 1 49); do sum=$((sum + 3 * i + i)); done
sleep 0.1

# ref: the same tree built by plain gcc, no cstash, no distcc.
reference() {
    rm -rf "$TEST_TMP/ref"
    cp -r "$proj" "$TEST_TMP/ref"
    make -s --no-print-directory -C "$TEST_TMP/ref" clean
    env -u CSTASH_PREFIX make -s --no-print-directory -C "$TEST_TMP/ref" CC=gcc >/dev/null || fail "the reference build failed"
}
# same_as_ref: every object and .d file of the build equals the reference's
same_as_ref() {
    local f n=0
    for f in "$TEST_TMP"/ref/*.o "$TEST_TMP"/ref/*.d; do
        cmp -s "$f" "$proj/$(basename "$f")" || fail "$1: $(basename "$f") differs from plain gcc's"
        n=$((n + 1))
    done
    [ "$n" = 100 ] || fail "$1: compared $n files, want 50 objects and 50 .d files"
}
build() { # build [env...]: clean make -j4 through cstash and distcc
    make -s --no-print-directory -C "$proj" clean
    env "$@" make -s --no-print-directory -j4 -C "$proj" CC="$CSTASH gcc" >"$TEST_TMP/make.out" 2>&1 ||
        { cat "$TEST_TMP/make.out"; fail "make failed"; }
    [ "$(ls "$proj"/*.o | wc -l)" = 50 ] || fail "make did not produce 50 objects"
    out=$("$proj/prog") || fail "the program does not run"
}
reference

# 1. Every compile is a miss and goes to distccd. DISTCC_FALLBACK=0: a job
# distcc cannot distribute fails instead of being compiled locally (which
# also covers a remote failure: distcc's local retry is a fallback too).
l0=$(wc -l <"$DISTCC_LOG")
build DISTCC_FALLBACK=0
[ "$out" = "$sum" ] || fail "first build: the program prints $out, want $sum"
[ "$(cstat miss)" = 50 ] && [ "$(chits)" = 0 ] || fail "first build: $(cstat miss) misses, $(chits) hits; want 50, 0"
[ "$(jobs_done)" = 50 ] && [ "$(jobs_all)" = 50 ] ||
    fail "first build: distccd compiled $(jobs_done) jobs ($(jobs_all) in all), want 50"
served=$(sed -n 's/.*(dcc_job_summary) client: .* COMPILE_OK .* \([a-z0-9]*\.c\)$/\1/p' "$DISTCCD_LOG" | sort -u | tr '\n' ' ')
want=$(cd "$proj" && ls *.c | sort | tr '\n' ' ')
[ "$served" = "$want" ] || fail "distccd compiled [$served], want every source once"
# distcc ran 51 times: 50 compiles and the link (run locally, as distcc
# does with links); the preprocessor never (it would add 50 local runs).
[ "$(client_count "$l0" ' compile from ')" = 50 ] && [ "$(client_runs "$l0")" = 51 ] ||
    fail "first build: distcc ran $(client_runs "$l0") times, $(client_count "$l0" ' compile from ') of them compiles; want 51, 50"
local_runs=$(client_local "$l0")
[ "$(grep -c -- ' -o prog ' <<<"$local_runs")" = 1 ] && [ "$(wc -l <<<"$local_runs")" = 1 ] ||
    fail "first build: distcc ran locally other than for the link: $(head -n 3 <<<"$local_runs")"
[ "$(client_count "$l0" " on 127\.0\.0\.1:$DISTCC_PORT completed ok")" = 50 ] ||
    fail "first build: $(client_count "$l0" " on 127\.0\.0\.1:$DISTCC_PORT completed ok") compiles completed on distccd, want 50"
[ "$(client_count "$l0" 'running locally\|retrying locally\|failed to distribute')" = 0 ] ||
    fail "first build: distcc compiled locally: $(client_log "$l0" | grep 'locally\|failed to distribute' | head -n 3)"
same_as_ref "first build (compiled by distccd)"
ok "first build, make -j4: 50 misses, distccd's log shows the 50 jobs, one per source; none compiled locally; objects as gcc's"

# 2. After clean: 50 hits, nothing reaches distcc or distccd (the link, an
# uncacheable call, still runs as `distcc gcc -o prog ...`, locally).
l1=$(wc -l <"$DISTCC_LOG")
build DISTCC_FALLBACK=0
[ "$out" = "$sum" ] || fail "second build: the program prints $out, want $sum"
[ "$(chits)" = 50 ] && [ "$(cstat miss)" = 50 ] || fail "second build: $(chits) hits, $(cstat miss) misses in all; want 50, 50"
[ "$(jobs_all)" = 50 ] || fail "second build: distccd has $(jobs_all) jobs, want the first build's 50"
[ "$(client_count "$l1" ' compile from ')" = 0 ] && [ "$(client_runs "$l1")" = 1 ] ||
    fail "second build: distcc ran $(client_runs "$l1") times, $(client_count "$l1" ' compile from ') of them compiles; want 1 (the link), 0 (hits never go through the prefix)"
same_as_ref "second build (hits)"
ok "after clean: 50 hits, no new job in distccd's log, distcc not run for any compile; objects as gcc's"

# 3. distccd stopped, three sources changed: their misses go to distcc,
# which cannot connect and compiles them locally (its default fallback);
# the build succeeds with the right objects.
stop_distccd || fail "distccd's process group outlived TERM by 10 s"
! (exec 3<>"/dev/tcp/127.0.0.1/$DISTCC_PORT") 2>/dev/null || fail "port $DISTCC_PORT still accepts after distccd stopped"
for i in 3 17 42; do
    printf '#include "common.h"\nint f%d(int x) { return COMMON(x) + %d; }\n' "$i" $((1000 * i)) >"$proj/f$i.c"
    sum=$((sum - i + 1000 * i))
done
sleep 0.1
reference
l2=$(wc -l <"$DISTCC_LOG")
build
[ "$out" = "$sum" ] || fail "build without distccd: the program prints $out, want $sum"
[ "$(cstat miss)" = 53 ] && [ "$(chits)" = 97 ] ||
    fail "build without distccd: $(cstat miss) misses, $(chits) hits in all; want 53, 97"
[ "$(client_count "$l2" ' compile from ')" = 3 ] && [ "$(client_runs "$l2")" = 4 ] ||
    fail "build without distccd: distcc ran $(client_runs "$l2") times, $(client_count "$l2" ' compile from ') of them compiles; want 4, 3"
[ "$(client_count "$l2" 'running locally instead')" = 3 ] ||
    fail "build without distccd: $(client_count "$l2" 'running locally instead') local fallbacks, want 3: $(client_log "$l2" | grep -i 'error\|warn' | head -n 5)"
added=$(client_log "$l2")
for i in 3 17 42; do
    grep -q "compile f$i\.c on localhost completed ok" <<<"$added" || fail "f$i.c was not compiled locally by distcc"
done
same_as_ref "build without distccd (local fallback)"
ok "distccd stopped, 3 sources changed: 3 misses compiled locally by distcc's fallback, 47 hits; objects as gcc's"

# The control for check 1: with DISTCC_FALLBACK=0 and no distccd, a miss
# fails (so the first build's compiles cannot have been local), and cstash
# caches nothing of it.
printf 'int f_control(void) { return 7; }\n' >"$proj/control.c"
sleep 0.1
rc=0
l3=$(wc -l <"$DISTCC_LOG")
(cd "$proj" && DISTCC_FALLBACK=0 "$CSTASH" gcc -O2 -c control.c -o control.o) 2>"$TEST_TMP/control.err" || rc=$?
[ $rc != 0 ] || fail "DISTCC_FALLBACK=0 without distccd: the compile succeeded"
[ "$(client_count "$l3" 'failed to distribute and fallbacks are disabled')" = 1 ] || fail "distcc's log does not say why it failed"
[ "$(cstat compile_failed)" = 1 ] && [ "$(cstat miss)" = 53 ] ||
    fail "the failed compile: $(cstat compile_failed) failures, $(cstat miss) misses counted"
ok "DISTCC_FALLBACK=0 without distccd: the compile fails (exit $rc), counted as failed, not cached"
