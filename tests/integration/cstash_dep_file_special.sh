# A dependency file that is not a regular file (-MF /dev/null, or a link
# to it) runs the compiler uncached: a hit replaces the dependency file by
# rename, which made a link to /dev/null (and, as root, /dev/null itself)
# a regular file.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_DIR=$TEST_TMP/cache
unset CSTASH_LOG CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_READONLY
cd "$TEST_TMP"
printf 'int f(void) { return 1; }\n' >a.c
sleep 2.2 # older than direct mode's 2 s
ln -s /dev/null null.d
for i in 1 2 3; do
    "$CSTASH" gcc -c a.c -o a.o -MD -MF null.d || fail "compile $i with -MF a link to /dev/null failed"
done
[ -L null.d ] || fail "the link to /dev/null was replaced by a $(stat -c %F null.d)"
[ -c /dev/null ] || fail "/dev/null is no longer a character device"
[ "$(cstat uncacheable_special_file)" = 3 ] || fail "not counted as a special file: $(cstat uncacheable_special_file)"
[ "$(chits)" = 0 ] || fail "a compile with a special dependency file hit the cache"
ok "-MF naming a device runs uncached; the link stays a link"
