# Issue 15, "the client must never serve another compile's object": pairs of
# compiles that must not share a cache entry don't, with real gcc and clang,
# in direct mode and in preprocessed mode; and the pairs that should share
# (two checkouts with a prefix map for each) still do.
#   defect 20: files named in options (plugin, specs, sanitizer ignore list,
#              profile) are hashed by content, not by path
#   defect 21: OLD=NEW of a prefix map is split as the compiler splits it
#   defect 22: the working directory is hashed after the prefix maps, and as
#              the compiler sees it ($PWD)
# CSTASH_KEYS_ONLY=plugin,specs,... runs some of the parts (names below).
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_DIR=$TEST_TMP/cache CSTASH_LOG=$TEST_TMP/cstash.log CSTASH_CONFIG=$TEST_TMP/none.conf
unset CSTASH_REMOTE CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_DIRECT
for cc in gcc clang readelf llvm-profdata; do
    command -v $cc >/dev/null || fail "$cc is not installed (scripts/deps.sh test installs it)"
done
T=$TEST_TMP
misses() { cstat miss; }
part() { [ -z "${CSTASH_KEYS_ONLY:-}" ] || [[ ",$CSTASH_KEYS_ONLY," == *",$1,"* ]]; }
# comp_dir OBJECT: the DW_AT_comp_dir of its first compilation unit
comp_dir() { readelf --debug-dump=info "$1" | sed -n 's/.*DW_AT_comp_dir.*: //p' | head -n 1; }
# A file changed in the last 10 ms may be mid-write: direct mode skips it.
settle() { sleep 0.1; }

# expect_miss WHAT CMD...: the compile must run the compiler (a miss);
# expect_hit: must not. The compile's stderr is left in $T/err.
expect_miss() {
    local what=$1 m
    shift
    m=$(misses)
    "$@" 2>"$T/err" || fail "$what: the compile failed: $(cat "$T/err")"
    [ "$(misses)" = $((m + 1)) ] || fail "$what: not a miss ($(tail -n 1 "$CSTASH_LOG"))"
}
expect_hit() {
    local what=$1 h
    shift
    h=$(chits)
    "$@" 2>"$T/err" || fail "$what: the compile failed: $(cat "$T/err")"
    [ "$(chits)" = $((h + 1)) ] || fail "$what: not a hit ($(tail -n 1 "$CSTASH_LOG"))"
}

# --- 20: a plugin rebuilt in place -------------------------------------------
if part plugin; then
    mkdir -p "$T/plugin" && cd "$T/plugin"
    # No gcc plugin headers needed: it says which build it is on stderr, in
    # the compile only (not under -E, so the preprocessor's output and
    # warnings are the same for both builds).
    cat >plug.c <<'C'
#include <stdio.h>
#include <string.h>
int plugin_is_GPL_compatible;
int plugin_init(void *info, void *version);
int plugin_init(void *info, void *version)
{
    char buf[16384];
    FILE *f = fopen("/proc/self/cmdline", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    (void)info, (void)version;
    if (f)
        fclose(f);
    buf[n] = 0;
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
        if (!strcmp(buf + i, "-E"))
            return 0;
    fprintf(stderr, "test plugin %s\n", BUILD);
    return 0;
}
C
    printf 'int f(void) { return 1; }\n' >a.c
    for mode in true false; do
        gcc -shared -fPIC -DBUILD='"one"' plug.c -o plug.so
        settle
        CSTASH_DIRECT=$mode expect_miss "plugin" "$CSTASH" gcc -fplugin=./plug.so -c a.c -o a.o
        grep -q "test plugin one" "$T/err" || fail "the plugin did not run: $(cat "$T/err")"
        CSTASH_DIRECT=$mode expect_hit "plugin, same build" "$CSTASH" gcc -fplugin=./plug.so -c a.c -o a.o
        grep -q "test plugin one" "$T/err" || fail "the hit did not replay the plugin's stderr"
        gcc -shared -fPIC -DBUILD='"two"' plug.c -o plug.so.new && mv plug.so.new plug.so
        settle
        CSTASH_DIRECT=$mode expect_miss "plugin rebuilt in place (direct=$mode)" \
            "$CSTASH" gcc -fplugin=./plug.so -c a.c -o a.o
        grep -q "test plugin two" "$T/err" || fail "the rebuilt plugin's compile: $(cat "$T/err")"
        "$CSTASH" --clear >/dev/null
    done
    u=$(cstat uncacheable_unsupported_option)
    set +e
    "$CSTASH" gcc -fplugin=./missing.so -c a.c -o a.o 2>/dev/null; rc=$?
    set -e
    [ $rc != 0 ] && [ "$(cstat uncacheable_unsupported_option)" = $((u + 1)) ] \
        || fail "a missing plugin: exit $rc, not counted as uncacheable"
    ok "plugin: a rebuild in place misses (direct and preprocessed mode); a missing one runs uncached"
fi

# --- 20: a specs file edited in place ----------------------------------------
if part specs; then
    mkdir -p "$T/specs" && cd "$T/specs"
    # cc1_options reach the compile but not -E: the preprocessed text is
    # the same for both versions, only the object differs.
    printf 'int v = SPECV;\n' >s.c
    for spelling in "-specs=t.specs" "-specs t.specs" "--specs=$PWD/t.specs"; do
        for mode in true false; do
            printf '*cc1_options:\n+ -DSPECV=1\n' >t.specs
            settle
            # shellcheck disable=SC2086 # the spelling is one or two words
            CSTASH_DIRECT=$mode expect_miss "specs" "$CSTASH" gcc $spelling -c s.c -o one.o
            printf '*cc1_options:\n+ -DSPECV=2\n' >t.specs
            settle
            # shellcheck disable=SC2086
            CSTASH_DIRECT=$mode expect_miss "specs edited ($spelling, direct=$mode)" \
                "$CSTASH" gcc $spelling -c s.c -o two.o
            # shellcheck disable=SC2086
            gcc $spelling -c s.c -o ref.o
            cmp -s two.o ref.o || fail "specs edited ($spelling): the object is not gcc's"
            cmp -s one.o two.o && fail "specs: the two versions made the same object"
            "$CSTASH" --clear >/dev/null
        done
    done
    ok "specs: editing the file misses (-specs=, -specs FILE, --specs=; direct and preprocessed)"
fi

# --- 20: a sanitizer ignore list edited in place (clang) ---------------------
if part ignorelist; then
    mkdir -p "$T/ign" && cd "$T/ign"
    printf 'int f(int *p) { return *p; }\nint g(int *p) { return p[1]; }\n' >s.c
    for opt in -fsanitize-ignorelist -fsanitize-blacklist; do
        for mode in true false; do
            echo 'fun:f' >ign.txt
            settle
            CSTASH_DIRECT=$mode expect_miss "ignore list" "$CSTASH" clang -fsanitize=address "$opt=ign.txt" -c s.c -o one.o
            echo 'fun:g' >ign.txt
            settle
            CSTASH_DIRECT=$mode expect_miss "ignore list edited ($opt, direct=$mode)" \
                "$CSTASH" clang -fsanitize=address "$opt=ign.txt" -c s.c -o two.o
            clang -fsanitize=address "$opt=ign.txt" -c s.c -o ref.o
            cmp -s two.o ref.o || fail "$opt edited: the object is not clang's"
            "$CSTASH" --clear >/dev/null
        done
    done
    ok "sanitizer ignore list: editing it misses (-fsanitize-ignorelist=, -fsanitize-blacklist=)"
fi

# --- 20: a profile rewritten in place (clang), a profile directory (gcc) ----
if part profile; then
    mkdir -p "$T/prof" && cd "$T/prof"
    cat >p.c <<'C'
int f(int x) { return x * 3; }
int g(int x) { return x + 7; }
int main(int argc, char **argv) { (void)argv; int s = 0; for (int i = 0; i < 1000; i++) s += argc > 1 ? f(i) : g(i); return s & 1; }
C
    clang -O2 -fprofile-instr-generate p.c -o gen
    LLVM_PROFILE_FILE=f.profraw ./gen 1 || true
    LLVM_PROFILE_FILE=g.profraw ./gen || true
    llvm-profdata merge -o f.profdata f.profraw
    llvm-profdata merge -o g.profdata g.profraw
    for opt in -fprofile-use -fprofile-instr-use; do
        for mode in true false; do
            cp f.profdata cur.profdata
            settle
            CSTASH_DIRECT=$mode expect_miss "profile" "$CSTASH" clang -O2 "$opt=cur.profdata" -c p.c -o one.o
            CSTASH_DIRECT=$mode expect_hit "profile unchanged" "$CSTASH" clang -O2 "$opt=cur.profdata" -c p.c -o one.o
            cp g.profdata cur.profdata
            settle
            CSTASH_DIRECT=$mode expect_miss "profile rewritten ($opt, direct=$mode)" \
                "$CSTASH" clang -O2 "$opt=cur.profdata" -c p.c -o two.o
            clang -O2 "$opt=cur.profdata" -c p.c -o ref.o
            cmp -s two.o ref.o || fail "$opt rewritten: the object is not clang's"
            cmp -s one.o two.o && fail "$opt: the two profiles made the same object"
            "$CSTASH" --clear >/dev/null
        done
    done
    # gcc reads -fprofile-use=PATH as a directory of per-object .gcda files
    # (and names the one it wanted in a warning): a directory runs uncached,
    # a regular file is keyed with the object's path.
    u=$(cstat uncacheable_profile_or_coverage)
    mkdir -p gcda
    "$CSTASH" gcc -O2 -fprofile-use=gcda -c p.c -o d.o 2>/dev/null
    [ "$(cstat uncacheable_profile_or_coverage)" = $((u + 1)) ] || fail "-fprofile-use=DIR was cached"
    mkdir -p o1 o2
    expect_miss "gcc -fprofile-use=FILE" "$CSTASH" gcc -O2 -fprofile-use=cur.profdata -c p.c -o o1/p.o
    expect_miss "gcc -fprofile-use=FILE, another object" "$CSTASH" gcc -O2 -fprofile-use=cur.profdata -c p.c -o o2/p.o
    gcc -O2 -fprofile-use=cur.profdata -c p.c -o o2/p.o 2>eref
    cmp -s "$T/err" eref || fail "gcc -fprofile-use=FILE: the warning is not gcc's: $(cat "$T/err")"
    ok "profile: rewriting it misses (clang -fprofile-use=, -fprofile-instr-use=); gcc's profile directory runs uncached"
fi

# --- 21: where OLD=NEW is split ----------------------------------------------
# gcc 12 splits at the last '=', clang 14 at the first (as observed here:
# the comp_dir checks below would catch a change).
if part split; then
    mkdir -p "$T/split" && cd "$T/split"
    printf 'int f(void) { return 1; }\n' >a.c
    settle
    # clang: NEW is "/b=c" or "/x=c"; the last-'=' split saw "c" for both.
    expect_miss "clang map NEW=/b=c" "$CSTASH" clang -g -fdebug-prefix-map="$PWD=/b=c" -c a.c -o b.o
    [ "$(comp_dir b.o)" = "/b=c" ] || fail "clang splits -fdebug-prefix-map elsewhere: comp_dir $(comp_dir b.o)"
    expect_miss "clang map NEW=/x=c after NEW=/b=c" "$CSTASH" clang -g -fdebug-prefix-map="$PWD=/x=c" -c a.c -o x.o
    [ "$(comp_dir x.o)" = "/x=c" ] || fail "clang -fdebug-prefix-map=\$PWD=/x=c: comp_dir $(comp_dir x.o)"
    expect_miss "clang -ffile-prefix-map NEW=/x=d" "$CSTASH" clang -g -ffile-prefix-map="$PWD=/x=d" -c a.c -o fx.o
    expect_miss "clang -ffile-prefix-map NEW=/y=d" "$CSTASH" clang -g -ffile-prefix-map="$PWD=/y=d" -c a.c -o fy.o
    [ "$(comp_dir fy.o)" = "/y=d" ] || fail "clang -ffile-prefix-map: comp_dir $(comp_dir fy.o)"
    # gcc: OLD is "<dir>=y", which matches neither directory, so each
    # object keeps its own; a first-'=' split would see OLD=<dir>, NEW=y=z
    # and the same rewritten directory "y=z/w" for both.
    for d in m1 m2; do mkdir -p "$d/w" && cp a.c "$d/w/"; done
    settle
    (cd m1/w && expect_miss "gcc m1" "$CSTASH" gcc -g -fdebug-prefix-map="$T/split/m1=y=z" -c a.c -o a.o)
    (cd m2/w && expect_miss "gcc m2 (OLD with '=' matches neither)" "$CSTASH" gcc -g -fdebug-prefix-map="$T/split/m2=y=z" -c a.c -o a.o)
    [ "$(comp_dir m2/w/a.o)" = "$T/split/m2/w" ] || fail "gcc splits elsewhere: comp_dir $(comp_dir m2/w/a.o)"
    ok "prefix maps split as the compiler splits them (clang: first '=', gcc: last '=')"
fi

# --- 22: the working directory after the maps, as the compiler sees it ------
if part cwd; then
    mkdir -p "$T/co" && cd "$T/co"
    for c in one two; do mkdir -p "$c/inc" "$c/src"; done
    for c in one two; do
        printf '#define X 42\n' >"$c/inc/x.h"
        printf '#include "x.h"\nint f(void) { return X; }\n' >"$c/src/a.c"
    done
    settle
    for cc in gcc clang; do
        for mode in true false; do
            # A map that matches neither checkout leaves each one's directory.
            for c in one two; do
                (cd "$c" && CSTASH_DIRECT=$mode CSTASH_BASEDIR=$PWD expect_miss "$cc $c, a map matching neither (direct=$mode)" \
                    "$CSTASH" $cc -g -fdebug-prefix-map=/nonexistent=. -I"$PWD/inc" -c "$PWD/src/a.c" -o a.o)
            done
            [ "$(comp_dir one/a.o)" = "$T/co/one" ] && [ "$(comp_dir two/a.o)" = "$T/co/two" ] \
                || fail "$cc: comp_dir $(comp_dir one/a.o) and $(comp_dir two/a.o)"
            # One that matches each, to the same NEW: shared (cross-checkout hits).
            (cd one && CSTASH_DIRECT=$mode CSTASH_BASEDIR=$PWD expect_miss "$cc one, its own map" \
                "$CSTASH" $cc -g -fdebug-prefix-map="$PWD=." -I"$PWD/inc" -c "$PWD/src/a.c" -o m.o)
            (cd two && CSTASH_DIRECT=$mode CSTASH_BASEDIR=$PWD expect_hit "$cc two, its own map, same NEW (direct=$mode)" \
                "$CSTASH" $cc -g -fdebug-prefix-map="$PWD=." -I"$PWD/inc" -c "$PWD/src/a.c" -o m.o)
            cmp -s one/m.o two/m.o || fail "$cc: the shared objects differ"
            [ "$(comp_dir two/m.o)" = "." ] || fail "$cc: mapped comp_dir $(comp_dir two/m.o)"
            "$CSTASH" --clear >/dev/null
        done
    done
    # Two symlinks to one directory: the compiler records $PWD, not the
    # resolved path, so each gets its own debug info.
    ln -s one "$T/co/link1" && ln -s one "$T/co/link2"
    for cc in gcc clang; do
        (cd "$T/co/link1" && expect_miss "$cc through link1" "$CSTASH" $cc -g -Iinc -c src/a.c -o l1.o)
        (cd "$T/co/link2" && expect_miss "$cc through link2" "$CSTASH" $cc -g -Iinc -c src/a.c -o l2.o)
        [ "$(comp_dir one/l2.o)" = "$T/co/link2" ] || fail "$cc: comp_dir through a symlink: $(comp_dir one/l2.o)"
    done
    ok "the working directory is keyed after the prefix maps, as \$PWD: maps matching neither checkout keep them apart, maps matching each share"
fi
