# --show-stats is for people (no raw counter lines, sizes in KiB/MiB,
# hit rates for local, remote and direct); --print-stats is for scripts
# (NAME<TAB>VALUE, as ccache's).
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_DIR=$TEST_TMP/cache
unset CSTASH_LOG CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_READONLY
cd "$TEST_TMP"
{ # random data, so the stored result is over 1 KiB compressed
    printf 'const unsigned char blob[] = {'
    head -c 4096 /dev/urandom | od -An -tu1 -v | tr -s ' \n' ',,' | sed 's/^,//; s/,$//'
    printf '};\nint f(void) { return blob[7]; }\n'
} >a.c
sleep 2.2 # a source changed in the last 2 s is not trusted to direct mode
"$CSTASH" gcc -c a.c -o a.o || fail "first compile"
"$CSTASH" gcc -c a.c -o a.o || fail "second compile"
"$CSTASH" --show-stats >human || fail "--show-stats failed"
cat human
grep -q '^stat ' human && fail "--show-stats prints raw stat lines"
grep -q '^ *hits: *1 (50.0%)$' human || fail "no hit rate"
grep -q '^ *local: *1 (50.0%; direct 1, preprocessed 0)$' human || fail "no local hit rate"
grep -q '^ *remote: *0 (0.0%;' human || fail "no remote hit rate"
grep -q '^ *direct: *1 (100.0% of hits' human || fail "no direct hit rate"
grep -Eq '^local cache size: *[0-9]+\.[0-9] KiB in [0-9]+ files, limit 5\.0 GiB' human ||
    fail "the size is not in KiB with its files"
ok "--show-stats: rates for local, remote and direct, sizes in KiB, no raw counters"

"$CSTASH" --print-stats >machine || fail "--print-stats failed"
grep -qx "$(printf 'direct_hit_local\t1')" machine || fail "--print-stats lacks direct_hit_local 1: $(cat machine)"
grep -qx "$(printf 'miss\t1')" machine || fail "--print-stats lacks miss 1"
[ "$(cstat miss)" = 1 ] || fail "cstat reads $(cstat miss)"
ok "--print-stats: NAME<TAB>VALUE lines"
