# Issue 15, "the client must never serve another compile's object": pairs of
# compiles that must not share a cache entry don't, with real gcc and clang,
# in direct mode and in preprocessed mode; and the pairs that should share
# (two checkouts with a prefix map for each) still do.
#   defect 20: files named in options (plugin, specs, sanitizer ignore list,
#              profile) are hashed by content, not by path; and (review of
#              it) clang configuration files, coverage/xray/section lists,
#              the -ivfsoverlay file, values handed on by -Xclang,
#              -Xpreprocessor and -Wp,
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

# make_profiles: p.c and two clang profiles of it, f.profdata and
# g.profdata, from runs that take different branches
make_profiles() {
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
}

# write_test_plugin: plug.c, a gcc plugin that needs no plugin headers: it
# says which build it is (BUILD) on stderr, in the compile only (not under
# -E, so the preprocessor's output and warnings are the same for both builds).
write_test_plugin() {
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
}

# --- 20: a plugin rebuilt in place -------------------------------------------
if part plugin; then
    mkdir -p "$T/plugin" && cd "$T/plugin"
    write_test_plugin
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
    make_profiles
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

# --- 20: clang configuration files (--config FILE, and the driver's own) ----
if part config; then
    mkdir -p "$T/config" && cd "$T/config"
    # -O0/-O2 change the object, not the preprocessed text.
    printf 'int f(int *p) { return *p * 3 + p[1]; }\nint g(int *p) { return p[1] + 7; }\n' >c.c
    for mode in true false; do
        printf -- '-O0\n' >t.cfg
        settle
        CSTASH_DIRECT=$mode expect_miss "config" "$CSTASH" clang --config ./t.cfg -c c.c -o one.o
        CSTASH_DIRECT=$mode expect_hit "config unchanged" "$CSTASH" clang --config ./t.cfg -c c.c -o one.o
        printf -- '# optimise\n-O2 \\\n  -fno-inline\n' >t.cfg
        settle
        CSTASH_DIRECT=$mode expect_miss "config edited (--config FILE, direct=$mode)" \
            "$CSTASH" clang --config ./t.cfg -c c.c -o two.o
        clang --config ./t.cfg -c c.c -o ref.o
        cmp -s two.o ref.o || fail "--config edited: the object is not clang's"
        cmp -s one.o two.o && fail "--config: the two versions made the same object"
        # A file named inside it is hashed by content like one on the command line.
        echo 'fun:f' >ign.txt
        printf -- '-fsanitize=address -fsanitize-ignorelist=ign.txt\n' >t.cfg
        settle
        CSTASH_DIRECT=$mode expect_miss "config naming a list" "$CSTASH" clang --config ./t.cfg -c c.c -o one.o
        echo 'fun:g' >ign.txt
        settle
        CSTASH_DIRECT=$mode expect_miss "list named in a config edited (direct=$mode)" \
            "$CSTASH" clang --config ./t.cfg -c c.c -o two.o
        clang --config ./t.cfg -c c.c -o ref.o
        cmp -s two.o ref.o || fail "list named in a config: the object is not clang's"
        "$CSTASH" --clear >/dev/null
    done
    # What cstash cannot follow runs uncached: a name clang looks up in its
    # own directory, an @file inside the configuration.
    printf -- '-O1\n' >inc.cfg
    printf -- '@inc.cfg\n' >at.cfg
    u=$(cstat uncacheable_unsupported_option)
    set +e
    "$CSTASH" clang --config t.cfg -c c.c -o x.o 2>/dev/null
    "$CSTASH" clang --config ./at.cfg -c c.c -o x.o 2>/dev/null
    set -e
    [ "$(cstat uncacheable_unsupported_option)" = $((u + 2)) ] \
        || fail "--config NAME or a config with @file was cached"
    if clang --config=./t.cfg -c c.c -o /dev/null 2>/dev/null; then
        printf -- '-O0\n' >t.cfg
        settle
        expect_miss "--config=FILE" "$CSTASH" clang --config=./t.cfg -c c.c -o one.o
        printf -- '-O2\n' >t.cfg
        settle
        expect_miss "--config=FILE edited" "$CSTASH" clang --config=./t.cfg -c c.c -o two.o
    else
        echo "# $(clang --version | head -n 1) has no --config=FILE (clang 16 and later): only tests/unit/test_client checks it"
    fi
    # The file clang reads without --config: clang 14 run as
    # <prefix>-clang reads <prefix>.cfg next to its resolved path (a copy
    # here, as the real one lives in a system directory).
    mkdir -p bin
    cp "$(readlink -f "$(command -v clang)")" bin/x86_64-linux-gnu-clang
    printf -- '-O0\n' >bin/x86_64-linux-gnu.cfg
    if bin/x86_64-linux-gnu-clang --version | grep -q "^Configuration file: $PWD/bin/x86_64-linux-gnu.cfg"; then
        for mode in true false; do
            printf -- '-O0\n' >bin/x86_64-linux-gnu.cfg
            settle
            CSTASH_DIRECT=$mode expect_miss "default config" "$CSTASH" bin/x86_64-linux-gnu-clang -c c.c -o one.o
            printf -- '-O2\n' >bin/x86_64-linux-gnu.cfg
            settle
            CSTASH_DIRECT=$mode expect_miss "default config edited (direct=$mode)" \
                "$CSTASH" bin/x86_64-linux-gnu-clang -c c.c -o two.o
            bin/x86_64-linux-gnu-clang -c c.c -o ref.o
            cmp -s two.o ref.o || fail "default config edited: the object is not clang's"
            cmp -s one.o two.o && fail "default config: the two versions made the same object"
            "$CSTASH" --clear >/dev/null
        done
    else
        fail "clang does not read <prefix>.cfg next to itself (clang 14 does; scripts/deps.sh test installs it)"
    fi
    ok "clang config files: editing --config FILE, a file it names, or the driver's own <prefix>.cfg misses; what cannot be followed runs uncached"
fi

# --- 20: sanitizer coverage, xray and basic block section lists (clang) -----
# gcc 12 has none of these options; -fsanitize-system-ignorelist= is unused
# by clang 14's driver (it passes its own), so it is given to cc1 here.
if part lists; then
    mkdir -p "$T/lists" && cd "$T/lists"
    printf 'int f(int *p) { return *p * 3; }\nint g(int *p) { return p[1] + 7; }\n' >l.c
    # flags|option|first content|second content (printf %b)
    while IFS='|' read -r flags opt one two; do
        for mode in true false; do
            printf '%b' "$one" >list.txt
            settle
            # shellcheck disable=SC2086 # flags are several words
            CSTASH_DIRECT=$mode expect_miss "$opt" "$CSTASH" clang $flags "${opt}list.txt" -c l.c -o one.o
            printf '%b' "$two" >list.txt
            settle
            # shellcheck disable=SC2086
            CSTASH_DIRECT=$mode expect_miss "$opt edited (direct=$mode)" \
                "$CSTASH" clang $flags "${opt}list.txt" -c l.c -o two.o
            # shellcheck disable=SC2086
            clang $flags "${opt}list.txt" -c l.c -o ref.o
            cmp -s two.o ref.o || fail "$opt edited: the object is not clang's"
            cmp -s one.o two.o && fail "$opt: the two lists made the same object"
            "$CSTASH" --clear >/dev/null
        done
    done <<'LISTS'
-fsanitize-coverage=trace-pc-guard|-fsanitize-coverage-allowlist=|src:*\nfun:f\n|src:*\nfun:g\n
-fsanitize-coverage=trace-pc-guard|-fsanitize-coverage-whitelist=|src:*\nfun:f\n|src:*\nfun:g\n
-fsanitize-coverage=trace-pc-guard|-fsanitize-coverage-ignorelist=|fun:f\n|fun:g\n
-fsanitize-coverage=trace-pc-guard|-fsanitize-coverage-blacklist=|fun:f\n|fun:g\n
-fxray-instrument|-fxray-always-instrument=|fun:f\n|fun:g\n
-fxray-instrument -fxray-instruction-threshold=1|-fxray-never-instrument=|fun:f\n|fun:g\n
-fxray-instrument|-fxray-attr-list=|[always]\nfun:f\n|[always]\nfun:g\n
-O2|-fbasic-block-sections=list=|!f\n|!g\n
-fsanitize=address -Xclang|-fsanitize-system-ignorelist=|fun:f\n|fun:g\n
LISTS
    u=$(cstat uncacheable_unsupported_option)
    set +e
    "$CSTASH" clang -fxray-instrument -fxray-attr-list=missing.txt -c l.c -o x.o 2>/dev/null
    set -e
    [ "$(cstat uncacheable_unsupported_option)" = $((u + 1)) ] || fail "a missing xray list was cached"
    ok "coverage, xray and section lists: editing one misses (allowlist, ignorelist and their old names, xray always/never/attr-list, -fbasic-block-sections=list=, -Xclang -fsanitize-system-ignorelist=)"
fi

# --- 20: -ivfsoverlay: the overlay's content, and what it maps (clang) ------
if part vfsoverlay; then
    mkdir -p "$T/vfs" && cd "$T/vfs"
    # (a) An overlay edited to map the system ignore list clang reads for
    # -fsanitize=address elsewhere: the object changes, the preprocessed
    # text does not.
    share=$(clang -print-resource-dir)/share
    printf 'int f(int *p) { return *p * 3; }\nint g(int *p) { return p[1] + 7; }\n' >s.c
    echo 'fun:f' >one.txt
    echo 'fun:g' >two.txt
    overlay() { # overlay FILE ROOT NAME TARGET [use-external-names]
        printf "{ 'version': 0, 'use-external-names': %s, 'roots': [ { 'name': '%s', 'type': 'directory', 'contents': [ { 'name': '%s', 'type': 'file', 'external-contents': '%s' } ] } ] }\n" \
            "${5:-true}" "$2" "$3" "$4" >"$1"
    }
    if [ -f "$share/asan_ignorelist.txt" ]; then
        for mode in true false; do
            overlay o.yaml "$share" asan_ignorelist.txt "$PWD/one.txt"
            settle
            CSTASH_DIRECT=$mode expect_miss "overlay" "$CSTASH" clang -fsanitize=address -ivfsoverlay o.yaml -c s.c -o one.o
            overlay o.yaml "$share" asan_ignorelist.txt "$PWD/two.txt"
            settle
            CSTASH_DIRECT=$mode expect_miss "overlay edited (direct=$mode)" \
                "$CSTASH" clang -fsanitize=address -ivfsoverlay o.yaml -c s.c -o two.o
            clang -fsanitize=address -ivfsoverlay o.yaml -c s.c -o ref.o
            cmp -s two.o ref.o || fail "overlay edited: the object is not clang's"
            cmp -s one.o two.o && fail "overlay: the two maps made the same object"
            "$CSTASH" --clear >/dev/null
        done
    else
        fail "no $share/asan_ignorelist.txt (scripts/deps.sh test installs clang's runtime, libclang-rt-dev)"
    fi
    # (b) 'use-external-names': false: the line markers name x.h, a real
    # file, while the compiler reads real.h. Direct mode must not stat x.h.
    printf '#include "x.h"\nint h(void) { return X; }\n' >h.c
    printf '#define X 1\n' >x.h
    printf '#define X 2\n' >real.h
    overlay n.yaml "$PWD" x.h "$PWD/real.h" false
    settle
    expect_miss "overlay without external names" "$CSTASH" clang -ivfsoverlay n.yaml -c h.c -o one.o
    printf '#define X 3\n' >real.h
    settle
    expect_miss "a file mapped by the overlay edited (direct mode)" "$CSTASH" clang -ivfsoverlay n.yaml -c h.c -o two.o
    clang -ivfsoverlay n.yaml -c h.c -o ref.o
    cmp -s two.o ref.o || fail "mapped file edited: the object is not clang's"
    # (c) An option's file read through an overlay may be another file.
    u=$(cstat uncacheable_unsupported_option)
    "$CSTASH" clang -fsanitize=address -fsanitize-ignorelist=one.txt -ivfsoverlay o.yaml -c s.c -o x.o
    [ "$(cstat uncacheable_unsupported_option)" = $((u + 1)) ] || fail "an overlay with a file option was cached"
    ok "-ivfsoverlay: editing the overlay misses; a mapped header under a virtual name is not stat'ed by direct mode; with a file option it runs uncached"
fi

# --- 20: values the driver hands to cc1 (-Xclang, -Xpreprocessor, -Wp,) ----
if part forwarded; then
    mkdir -p "$T/fwd" && cd "$T/fwd"
    # -Xclang -fprofile-instrument-use-path= is -fprofile-instr-use= for cc1.
    make_profiles
    for mode in true false; do
        cp f.profdata cur.profdata
        settle
        CSTASH_DIRECT=$mode expect_miss "-Xclang profile" \
            "$CSTASH" clang -O2 -Xclang -fprofile-instrument-use-path=cur.profdata -c p.c -o one.o
        cp g.profdata cur.profdata
        settle
        CSTASH_DIRECT=$mode expect_miss "-Xclang profile rewritten (direct=$mode)" \
            "$CSTASH" clang -O2 -Xclang -fprofile-instrument-use-path=cur.profdata -c p.c -o two.o
        clang -O2 -Xclang -fprofile-instrument-use-path=cur.profdata -c p.c -o ref.o
        cmp -s two.o ref.o || fail "-Xclang profile rewritten: the object is not clang's"
        cmp -s one.o two.o && fail "-Xclang profile: the two profiles made the same object"
        "$CSTASH" --clear >/dev/null
    done
    # A plugin's argument naming a file: the plugin may read it (this one
    # prints it, in the compile only).
    cat >cplug.c <<'C'
#include <stdio.h>
#include <string.h>
__attribute__((constructor)) static void init(void)
{
    char buf[16384], text[256];
    FILE *f = fopen("/proc/self/cmdline", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    const char *prev = "", *prev2 = "", *file = NULL;
    if (f)
        fclose(f);
    buf[n] = 0;
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
        if (!strcmp(buf + i, "-E"))
            return;
        if ((!strcmp(prev, "-plugin-arg-t") && strcmp(buf + i, "-Xclang")) ||
            (!strcmp(prev2, "-plugin-arg-t") && !strcmp(prev, "-Xclang")))
            file = buf + i;
        prev2 = prev;
        prev = buf + i;
    }
    if (file && (f = fopen(file, "r"))) {
        text[fread(text, 1, sizeof text - 1, f)] = 0;
        fclose(f);
        fprintf(stderr, "plugin read %s", text);
    }
}
C
    clang -shared -fPIC cplug.c -o cplug.so
    printf 'int a(void) { return 1; }\n' >a.c
    for mode in true false; do
        echo one >parg.txt
        settle
        CSTASH_DIRECT=$mode expect_miss "plugin argument" \
            "$CSTASH" clang -fplugin=./cplug.so -Xclang -plugin-arg-t -Xclang parg.txt -c a.c -o a.o
        grep -q "plugin read one" "$T/err" || fail "the clang plugin did not read its argument: $(cat "$T/err")"
        echo two >parg.txt
        settle
        CSTASH_DIRECT=$mode expect_miss "file named by a plugin argument edited (direct=$mode)" \
            "$CSTASH" clang -fplugin=./cplug.so -Xclang -plugin-arg-t -Xclang parg.txt -c a.c -o a.o
        grep -q "plugin read two" "$T/err" || fail "the edited plugin argument's compile: $(cat "$T/err")"
        "$CSTASH" --clear >/dev/null
    done
    # gcc's cc1 loads a plugin handed to it by -Wp, or -Xpreprocessor.
    write_test_plugin
    for spelling in "-Wp,-fplugin=./plug.so" "-Xpreprocessor -fplugin=./plug.so"; do
        for mode in true false; do
            gcc -shared -fPIC -DBUILD='"one"' plug.c -o plug.so
            settle
            # shellcheck disable=SC2086 # the spelling is one or two words
            CSTASH_DIRECT=$mode expect_miss "gcc $spelling" "$CSTASH" gcc $spelling -c a.c -o a.o
            grep -q "test plugin one" "$T/err" || fail "gcc $spelling: the plugin did not run: $(cat "$T/err")"
            gcc -shared -fPIC -DBUILD='"two"' plug.c -o plug.so.new && mv plug.so.new plug.so
            settle
            # shellcheck disable=SC2086
            CSTASH_DIRECT=$mode expect_miss "gcc $spelling, plugin rebuilt (direct=$mode)" "$CSTASH" gcc $spelling -c a.c -o a.o
            grep -q "test plugin two" "$T/err" || fail "gcc $spelling rebuilt: $(cat "$T/err")"
            "$CSTASH" --clear >/dev/null
        done
    done
    # Files cc1 reads that cstash does not follow run uncached.
    u=$(cstat uncacheable_unsupported_option)
    set +e
    "$CSTASH" clang -Xclang -load -Xclang ./cplug.so -c a.c -o x.o 2>/dev/null
    "$CSTASH" clang -Xclang -mlink-bitcode-file -Xclang x.bc -c a.c -o x.o 2>/dev/null
    "$CSTASH" gcc -Xpreprocessor -MD -c a.c -o x.o 2>/dev/null
    set -e
    [ "$(cstat uncacheable_unsupported_option)" = $((u + 3)) ] \
        || fail "-Xclang -load, -Xclang -mlink-bitcode-file or -Xpreprocessor -MD was cached"
    ok "-Xclang, -Xpreprocessor and -Wp, values get the file checks: a profile, a plugin argument's file, a plugin rebuilt in place miss"
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
