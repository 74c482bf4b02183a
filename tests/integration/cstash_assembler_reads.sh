# Files the assembler reads itself (.incbin, .include), from a .S file or
# an asm() string: no line marker or dependency rule names them, so such a
# compile runs uncached (as ccache does), in the normal and depend modes.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_LOG=$TEST_TMP/cstash.log CSTASH_CONFIG=$TEST_TMP/none.conf
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_DEPEND
cd "$TEST_TMP"
printf 'asm(".section .rodata\\n.incbin \\"data.bin\\"\\n.previous");\nint f(void) { return 0; }\n' >inl.c
printf '.section .rodata\n.INCBIN "data.bin"\n' >upper.S
printf '#define BLOB "data.bin"\n' >blob.h
printf '#include "blob.h"\n.section .rodata\n.incbin BLOB\n' >macro.S
printf '.include "part.s"\n' >inc.S
printf '.section .rodata\n.incbin "data.bin"\n' >part.s
printf '#include "asm.h"\nint g(void) { return 1; }\n' >hdr.c
printf 'asm(".section .rodata\\n.incbin \\"data.bin\\"\\n.previous");\n' >asm.h
# two literals, which the compiler joins after the preprocessor
printf 'asm(".section .rodata\\n.inc" "bin \\"data.bin\\"\\n.previous");\n' >split.c

# assembler_reads_uncached: a changed data.bin must give gcc's new object.
for mode in normal depend; do
    for src in inl.c upper.S macro.S inc.S hdr.c split.c; do
        [ $mode = depend ] && export CSTASH_DEPEND=1 || unset CSTASH_DEPEND
        echo "one $mode $src" >data.bin
        sleep 0.1
        "$CSTASH" gcc -MD -c $src -o out.o
        "$CSTASH" gcc -MD -c $src -o out.o
        echo "two $mode $src" >data.bin
        "$CSTASH" gcc -MD -c $src -o out.o
        gcc -c $src -o ref.o
        cmp -s out.o ref.o || fail "$mode mode, $src: a stale object after data.bin changed ($(tail -n 1 "$CSTASH_LOG"))"
    done
done
unset CSTASH_DEPEND
[ "$(cstat uncacheable_code_directive)" = 18 ] || fail "normal mode: $(cstat uncacheable_code_directive) compiles counted as code_directive, want 18"
ok "assembler_reads_uncached: .incbin/.include in .S files, asm() (also split over two literals) and a header run uncached in both modes"
