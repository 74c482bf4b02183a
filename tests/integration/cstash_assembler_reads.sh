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

# assembler_extra_input: -Wa,FILE hands gas a second input (the kernel's
# old -Wa,arch/x86/kernel/macros.s): its content is in no key.
printf '.section .rodata\n.long 1\n' >extra.s
printf 'int h(void) { return 0; }\n' >e.c
sleep 0.1
"$CSTASH" gcc -c e.c -o e.o -Wa,extra.s
"$CSTASH" gcc -c e.c -o e.o -Wa,extra.s
printf '.section .rodata\n.long 2\n' >extra.s
"$CSTASH" gcc -c e.c -o e.o -Wa,extra.s
gcc -c e.c -o eref.o -Wa,extra.s
cmp -s e.o eref.o || fail "-Wa,extra.s: a stale object after extra.s changed"
"$CSTASH" gcc -c e.c -o e.o -Wa,--defsym,sym=1
"$CSTASH" gcc -c e.c -o e.o -Wa,--defsym,sym=1
grep -q "direct hit" <(tail -n 1 "$CSTASH_LOG") || fail "-Wa,--defsym,sym=1 no longer hits"
ok "assembler_extra_input: -Wa,FILE runs uncached; -Wa,--defsym,X=1 still hits"

# assembler_debug_dir: -Wa,-g (and --gdwarf-5, as kbuild passes) makes gas
# record the working directory: two directories must not share a hit.
mkdir -p wdA wdB
printf '.text\nnop\n' >wdA/x.S
cp wdA/x.S wdB/x.S
sleep 0.1
for o in -Wa,-g -Wa,--gdwarf-5; do
    (cd wdA && "$CSTASH" gcc $o -c x.S -o x.o)
    (cd wdB && "$CSTASH" gcc $o -c x.S -o x.o && gcc $o -c x.S -o ref.o)
    cmp -s wdB/x.o wdB/ref.o || fail "$o: the object from wdB names wdA ($(tail -n 1 "$CSTASH_LOG"))"
done
ok "assembler_debug_dir: -Wa,-g and -Wa,--gdwarf-5 key the working directory"
