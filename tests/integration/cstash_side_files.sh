# Options that make the compiler or the assembler write a file besides the
# object and the dependency file: a hit would not restore it, so each runs
# uncached and the file is there after every compile.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_LOG=$TEST_TMP/cstash.log CSTASH_CONFIG=$TEST_TMP/none.conf
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_DEPEND
cd "$TEST_TMP"
printf 'int f(int *a) { int s = 0; for (int i = 0; i < 100; i++) s += a[i]; return s; }\n' >v.c
sleep 0.1

# side_files_uncached CC FILE ARGS...: FILE is written by each of two
# compiles (removed before each), and the second is no hit.
side_file() {
    local cc=$1 file=$2
    shift 2
    rm -f "$file"
    "$CSTASH" $cc "$@" -O2 -c v.c -o v.o 2>/dev/null
    [ -f "$file" ] || fail "$cc $*: the compile wrote no $file"
    rm -f "$file"
    h=$(chits)
    "$CSTASH" $cc "$@" -O2 -c v.c -o v.o 2>/dev/null
    [ "$(chits)" = "$h" ] || fail "$cc $*: a hit, which restores no $file"
    [ -f "$file" ] || fail "$cc $*: $file is missing after the second compile"
}
side_file gcc v.lst -Wa,-adhln=v.lst
side_file gcc as.d -Wa,--MD,as.d
side_file gcc x.lst -Xassembler -adhln=x.lst
side_file gcc vec.txt -fopt-info-vec-optimized=vec.txt
side_file gcc v.c.opt-record.json.gz -fsave-optimization-record
side_file clang v.opt.yaml -fsave-optimization-record
side_file clang rec.yaml -fsave-optimization-record -foptimization-record-file=rec.yaml
side_file clang stat.csv -fproc-stat-report=stat.csv
side_file clang cdb.json -MJcdb.json
ok "side_files_uncached: assembler listings and --MD, -fopt-info=FILE, optimization records, -fproc-stat-report= and -MJ run uncached"

# Their stdout and stderr forms are cached: the hit replays them.
"$CSTASH" gcc -O3 -fopt-info-vec -c v.c -o v.o 2>e1
"$CSTASH" gcc -O3 -fopt-info-vec -c v.c -o v.o 2>e2
h=$(chits)
"$CSTASH" gcc -O3 -fopt-info-vec -c v.c -o v.o 2>e2
[ "$(chits)" = $((h + 1)) ] && cmp -s e1 e2 || fail "-fopt-info-vec (to stderr): no hit, or other output"
ok "-fopt-info without a file still hits and replays its report"

# clang's -save-stats (and --save-stats) writes FILE.stats; gas takes --M
# for --MD (getopt's abbreviation).
printf 'int g(void) { return 1; }\n' >s.c
sleep 0.1
side_file_src() {
    local cc=$1 file=$2
    shift 2
    rm -f "$file"
    "$CSTASH" $cc "$@" -c s.c -o s.o 2>/dev/null
    [ -f "$file" ] || fail "$cc $*: the compile wrote no $file"
    rm -f "$file"
    h=$(chits)
    "$CSTASH" $cc "$@" -c s.c -o s.o 2>/dev/null
    [ "$(chits)" = "$h" ] && [ -f "$file" ] || fail "$cc $*: a hit, or no $file after the second compile"
}
side_file_src clang s.stats -save-stats
side_file_src clang s.stats --save-stats
side_file_src gcc asm.d -Wa,--M,asm.d
ok "side_files_uncached: clang's -save-stats and --save-stats, gas's --M abbreviation"
