/* The cstash client's pure logic: argument classification, path
 * rewriting, blob encoding (and hostile blobs), line-marker scanning, the
 * names of clang's default configuration files, the parse of HTTP
 * responses, the text of the stats shards. */
#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/args.h"
#include "client/blob.h"
#include "client/compiler.h"
#include "client/depfile.h"
#include "client/depscan.h"
#include "client/http_response.h"
#include "client/ppscan.h"
#include "client/stats.h"
#include "client/util.h"
#include "tests/unit/check_main.h"

static char dir[] = "/tmp/cstash-unit-XXXXXX";

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chdir(dir), 0);
    FILE *f = fopen("a.c", "w");
    fputs("int x;\n", f);
    fclose(f);
}

static void teardown(void)
{
    unlink("a.c");
    ck_assert_int_eq(chdir("/"), 0);
    rmdir(dir);
    strcpy(dir, "/tmp/cstash-unit-XXXXXX");
}

static enum cs_uncacheable classify(const char *line, struct cs_args *a)
{
    char *copy = strdup(line), *save = NULL, *argv[64];
    int argc = 0;
    for (char *w = strtok_r(copy, " ", &save); w && argc < 63; w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    ck_assert_int_eq(cs_args_parse(argc, argv, dir, NULL, a), CS_OK);
    free(copy);
    return a->reason;
}

/* A command line and the reason it is not cached (CS_UNC_NONE: cached). */
struct class_case {
    const char *line;
    enum cs_uncacheable want;
};

static void check_classes(const struct class_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct cs_args a;
        enum cs_uncacheable got = classify(cases[i].line, &a);
        ck_assert_msg(got == cases[i].want, "\"%s\": got %s, want %s", cases[i].line,
                      cs_uncacheable_name(got), cs_uncacheable_name(cases[i].want));
        cs_args_free(&a);
    }
}

START_TEST(cacheable_and_not)
{
    static const struct class_case cases[] = {
        {"-c a.c", CS_UNC_NONE},
        {"-c a.c -o x.o -O2 -g -Wall -DX=1 -I inc -isystem sys -include a.h -std=c11", CS_UNC_NONE},
        {"-c a.c -MD -MF a.d -MT t -MQ q -MP", CS_UNC_NONE},
        {"-c a.c -Wp,-MMD,.a.o.d -o a.o", CS_UNC_NONE},
        {"-x c -c a.c", CS_UNC_NONE},
        {"a.c -o prog", CS_UNC_LINK},
        {"-E a.c", CS_UNC_PREPROCESS},
        {"-M a.c", CS_UNC_PREPROCESS},
        {"-S a.c", CS_UNC_ASSEMBLY_OUT},
        {"-c a.c a.c", CS_UNC_MULTIPLE},
        {"-c", CS_UNC_NO_INPUT},
        {"-c a.o", CS_UNC_NOT_SOURCE},
        {"-c -", CS_UNC_STDIN},
        {"-c a.h", CS_UNC_PCH},
        {"-x c-header -c a.c", CS_UNC_PCH},
        {"-c a.c -fprofile-generate", CS_UNC_PROFILE},
        {"-c a.c --coverage", CS_UNC_PROFILE},
        {"-c @/nonexistent.rsp", CS_UNC_RESPONSE_FILE},
        {"-c a.c -save-temps", CS_UNC_OPTION},
        {"-c a.c -gsplit-dwarf", CS_UNC_OPTION},
        {"-c a.c -Wp,-MD,x,y", CS_UNC_OPTION},
        {"-c a.c -Wp,-MD,b.d -MD -MF a.d", CS_UNC_OPTION}, /* cc1 writes b.d only */
        {"-c a.c -MF a.d -Wp,-MMD,b.d", CS_UNC_OPTION},
        {"-c a.c -march=native", CS_UNC_NATIVE},
        {"-c /dev/null", CS_UNC_NOT_SOURCE},
        {"-x c -c /dev/null", CS_UNC_SPECIAL_FILE},
        {"-c a.c -o /dev/null", CS_UNC_SPECIAL_FILE},
        {"-c a.c -arch x86_64 -arch arm64", CS_UNC_ARCH},
        {"-c a.c -I", CS_UNC_OPTION},
        {"-c nonexistent.c", CS_UNC_SPECIAL_FILE},
        /* files written besides the object */
        {"-c a.c -Wa,--noexecstack,-adhln=a.lst", CS_UNC_OPTION},
        {"-c a.c -Wa,--noexecstack -Wa,-a -fopt-info-vec", CS_UNC_NONE},
        {"-c a.c -fopt-info-vec=v.txt", CS_UNC_OPTION},
        {"-c a.c -Xassembler --MD -Xassembler a.dep", CS_UNC_OPTION},
        {"-c a.c -gsplit-dwarf=split", CS_UNC_OPTION},
        {"-c a.c -MJ a.json", CS_UNC_OPTION},
        {"-c a.c -fmodule-file=m.pcm", CS_UNC_OPTION},
        {"-c a.c -fprebuilt-module-path=.", CS_UNC_OPTION},
        {"-c a.c -fpreprocessed", CS_UNC_PCH},
        {"-c a.c -Wa,--M,x.d", CS_UNC_OPTION},
        /* long spellings, read as their short forms (args_long.c) */
        {"--compile a.c --output=x.o --write-user-dependencies --include-directory inc",
         CS_UNC_NONE},
        {"-c a.c --std c11 --optimize=2 --debug --warn-all --define-macro=X=1", CS_UNC_NONE},
        {"-c a.c --sysroot=/ --param max-inline-insns-auto=10 -Xlinker --entry=x", CS_UNC_NONE},
        {"--user-dependencies -c a.c", CS_UNC_PREPROCESS},
        {"--compile a.c --output", CS_UNC_OPTION},
        {"--preprocess a.c", CS_UNC_PREPROCESS},
        {"--compile a.c --output /dev/null", CS_UNC_SPECIAL_FILE},
        {"-c a.c --write-u", CS_UNC_OPTION},             /* gcc's abbreviation */
        {"-c a.c --profile-use=p", CS_UNC_OPTION},       /* gcc: -fprofile-use=p */
        {"-c a.c --machine=arch=native", CS_UNC_OPTION}, /* gcc only */
        {"-c a.c --compile=x", CS_UNC_OPTION},
        {"-c a.c --debug=3", CS_UNC_OPTION}, /* -g3 to gcc, -g to clang */
        {"-c a.c --pic -mllvm --x86-asm-syntax=intel --no-builtin", CS_UNC_NONE},
        {"-c a.c --plugin=/nonexistent.so", CS_UNC_OPTION},
        {"-c a.c --debug-prefix-map=/a=/b", CS_UNC_OPTION},
        {"-c a.c --for-linker x", CS_UNC_OPTION},
        {"-c a.c --targ=x86_64-linux-gnu", CS_UNC_OPTION},
        {"-c a.c -Wp,--write-user-dependencies,b.d", CS_UNC_OPTION},
        {"--language c++-header -c a.c", CS_UNC_PCH},
        {"--language=c++-header -c a.c", CS_UNC_PCH},
    };
    check_classes(cases, sizeof cases / sizeof cases[0]);
}
END_TEST

static bool has(const struct cs_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (!strcmp(sv->v[i], s))
            return true;
    return false;
}

START_TEST(argument_lists)
{
    struct cs_args a;
    ck_assert_int_eq(classify("-c a.c -o out/x.o -MD -MF out/x.d -DX -O2", &a), CS_UNC_NONE);
    ck_assert_str_eq(a.output, "out/x.o");
    ck_assert_str_eq(a.dep_file, "out/x.d");
    ck_assert(a.dep && !a.dep_target_given);
    /* -o and -MF reach the compile only; the key and the preprocessor never see them. */
    ck_assert(has(&a.cc, "out/x.o") && has(&a.cc, "out/x.d") && has(&a.cc, "-MD"));
    ck_assert(!has(&a.hashed, "out/x.o") && !has(&a.hashed, "out/x.d"));
    ck_assert(has(&a.hashed, "-MD") && has(&a.hashed, "-DX") && has(&a.hashed, "-O2"));
    ck_assert(!has(&a.pp, "-MD") && !has(&a.pp, "-c") && has(&a.pp, "-E") && has(&a.pp, "-DX"));
    cs_args_free(&a);
    /* Derived names: a.o and a.d next to the working directory. */
    ck_assert_int_eq(classify("-c a.c -MMD", &a), CS_UNC_NONE);
    ck_assert_str_eq(a.output, "a.o");
    ck_assert_str_eq(a.dep_file, "a.d");
    cs_args_free(&a);
    ck_assert_int_eq(classify("-c a.c -o b/c.o -MD", &a), CS_UNC_NONE);
    ck_assert_str_eq(a.dep_file, "b/c.d");
    cs_args_free(&a);
    /* -fdebug-prefix-map: OLD and NEW are hashed (OLD as written: no base dir). */
    ck_assert_int_eq(classify("-c a.c -g -fdebug-prefix-map=/home/x/src=.", &a), CS_UNC_NONE);
    ck_assert(a.debug && a.debug_maps.n == 1);
    ck_assert_str_eq(a.debug_maps.v[0], "/home/x/src=.");
    ck_assert(has(&a.hashed, "-fdebug-prefix-map=") && has(&a.hashed, "as written: /home/x/src"));
    ck_assert(!has(&a.hashed, "-fdebug-prefix-map=/home/x/src=."));
    ck_assert(has(&a.cc, "-fdebug-prefix-map=/home/x/src=."));
    cs_args_free(&a);
    /* -fmacro-prefix-map does not touch debug info. */
    ck_assert_int_eq(classify("-c a.c -g -fmacro-prefix-map=/home/x=.", &a), CS_UNC_NONE);
    ck_assert(a.debug_maps.n == 0 && has(&a.hashed, "as written: /home/x"));
    cs_args_free(&a);
}
END_TEST

/* Issue 15, defects 21 and 22: OLD=NEW is split at the last '=' by gcc and
 * at the first by clang, and of several matching maps gcc applies the last
 * given, clang 14 the longest (as observed with gcc 12 and clang 14, see
 * tests/integration/cstash_keys.sh). */
START_TEST(prefix_map_rules)
{
    struct cs_strv maps = {0};
    cs_strv_push(&maps, "/w=A");
    cs_strv_push(&maps, "/w/p=B");
    cs_strv_push(&maps, "/w=C");
    cs_strv_push(&maps, "/w/p=D");
    static const struct {
        bool split_last;
        enum cs_map_choice choice;
        const char *want;
    } cases[] = {
        {true, CS_MAP_LAST, "D/x"},     /* gcc: the last given that matches */
        {false, CS_MAP_LONGEST, "B/x"}, /* clang 14: longest OLD, first given among equals */
        {false, CS_MAP_FIRST, "A/p/x"},
        {true, CS_MAP_LONGEST, "B/x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = cs_prefix_map_apply(&maps, "/w/p/x", cases[i].split_last, cases[i].choice);
        ck_assert_str_eq(got, cases[i].want);
        free(got);
    }
    cs_strv_free(&maps);
    /* '=' in the value: gcc's OLD is "/q=r", clang's NEW is "r=s". */
    cs_strv_push(&maps, "/q=r=s");
    char *gcc = cs_prefix_map_apply(&maps, "/q=r/x", true, CS_MAP_LAST);
    char *clang = cs_prefix_map_apply(&maps, "/q=r/x", false, CS_MAP_LONGEST);
    char *none = cs_prefix_map_apply(&maps, "/qq", true, CS_MAP_LAST);
    ck_assert_str_eq(gcc, "s/x");
    ck_assert_str_eq(clang, "r=s=r/x");
    ck_assert_str_eq(none, "/qq");
    free(gcc);
    free(clang);
    free(none);
    cs_strv_free(&maps);
    /* The key gets the result under every rule; no map: the directory. */
    struct cs_args a;
    struct cs_strv dirs = {0};
    ck_assert_int_eq(classify("-c a.c -g", &a), CS_UNC_NONE);
    ck_assert_int_eq(cs_args_debug_dirs(&a, "/w/p", &dirs), CS_OK);
    ck_assert_uint_eq(dirs.n, 1);
    ck_assert_str_eq(dirs.v[0], "/w/p");
    cs_strv_free(&dirs);
    cs_args_free(&a);
    ck_assert_int_eq(classify("-c a.c -g -fdebug-prefix-map=/w=a=b -ffile-prefix-map=/w/p=c", &a),
                     CS_UNC_NONE);
    ck_assert_int_eq(cs_args_debug_dirs(&a, "/w/p", &dirs), CS_OK);
    ck_assert(has(&dirs, "c") && dirs.n == 2 * CS_MAP_CHOICES);
    cs_strv_free(&dirs);
    cs_args_free(&a);
    ck_assert_int_eq(classify("-c a.c -g -ffile-prefix-map=/w/p=c -fdebug-prefix-map=/w=a=b", &a),
                     CS_UNC_NONE);
    ck_assert_int_eq(cs_args_debug_dirs(&a, "/w/p", &dirs), CS_OK);
    ck_assert(has(&dirs, "c") && has(&dirs, "a=b/p")); /* clang 14 vs the last given */
    cs_strv_free(&dirs);
    cs_args_free(&a);
}
END_TEST

/* Issue 15, defect 20: files named in options are hashed by content. */
START_TEST(file_options)
{
    FILE *f = fopen("p.so", "w");
    fputs("plugin v1", f);
    fclose(f);
    ck_assert_int_eq(mkdir("prof.d", 0700), 0);
    static const struct class_case cases[] = {
        {"-c a.c -fplugin=./p.so -fplugin-arg-p-x=1", CS_UNC_NONE},
        {"-c a.c -fplugin=p.so", CS_UNC_OPTION}, /* no '/': not looked up in cwd */
        {"-c a.c -fplugin=./missing.so", CS_UNC_OPTION},
        {"-c a.c -fpass-plugin=./p.so", CS_UNC_NONE},
        {"-c a.c -specs=p.so", CS_UNC_NONE},
        {"-c a.c -specs p.so", CS_UNC_NONE},
        {"-c a.c --specs p.so", CS_UNC_NONE},
        {"-c a.c --specs=missing", CS_UNC_OPTION},
        {"-c a.c -specs", CS_UNC_OPTION},
        {"-c a.c -fsanitize=address -fsanitize-ignorelist=p.so", CS_UNC_NONE},
        {"-c a.c -fsanitize-blacklist=missing", CS_UNC_OPTION},
        {"-c a.c -fsanitize-ignorelist=prof.d", CS_UNC_OPTION},
        {"-c a.c -fprofile-use=p.so", CS_UNC_NONE},
        {"-c a.c -fprofile-instr-use=p.so", CS_UNC_NONE},
        {"-c a.c -fprofile-sample-use=p.so", CS_UNC_NONE},
        {"-c a.c -fprofile-use=prof.d", CS_UNC_PROFILE}, /* gcc derives a .gcda per object */
        {"-c a.c -fprofile-use=missing", CS_UNC_PROFILE},
        {"-c a.c -fprofile-use", CS_UNC_PROFILE},
        {"-c a.c -fprofile-use=p.so -fprofile-correction", CS_UNC_PROFILE},
        {"-c a.c -Xclang -load -Xclang ./p.so", CS_UNC_OPTION},
    };
    check_classes(cases, sizeof cases / sizeof cases[0]);
    /* The content goes into the key, and a change of it changes the key. */
    struct cs_args a, b;
    ck_assert_int_eq(classify("-c a.c -fplugin=./p.so", &a), CS_UNC_NONE);
    ck_assert(has(&a.cc, "-fplugin=./p.so") && has(&a.pp, "-fplugin=./p.so"));
    f = fopen("p.so", "w");
    fputs("plugin v2", f);
    fclose(f);
    ck_assert_int_eq(classify("-c a.c -fplugin=./p.so", &b), CS_UNC_NONE);
    ck_assert_uint_eq(a.hashed.n, b.hashed.n);
    size_t differ = 0;
    for (size_t i = 0; i < a.hashed.n; i++)
        differ += strcmp(a.hashed.v[i], b.hashed.v[i]) != 0;
    ck_assert_uint_eq(differ, 1);
    ck_assert(!a.output_in_key);
    cs_args_free(&a);
    cs_args_free(&b);
    ck_assert_int_eq(classify("-c a.c -fprofile-use=p.so", &a), CS_UNC_NONE);
    ck_assert(a.output_in_key);
    cs_args_free(&a);
    unlink("p.so");
    rmdir("prof.d");
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Issue 15, defect 20, review: more options that name files, clang
 * configuration files, the -ivfsoverlay file, and values the driver hands
 * to cc1 (-Xclang, -Xpreprocessor, -Wp,) get the same content checks. */
START_TEST(more_file_options)
{
    write_file("p.so", "file v1");
    write_file("ok.cfg", "# -fprofile-generate is a comment\n-O2 \\\n-DX=1\n");
    write_file("at.cfg", "@other.cfg\n");
    write_file("gen.cfg", "-fprofile-generate\n");
    write_file("c.cfg", "-c\n");
    write_file("out.cfg", "-o x.o\n");
    write_file("plug.cfg", "-fplugin=./missing.so\n");
    write_file("input.cfg", "b.c\n");
    static const struct class_case cases[] = {
        {"-c a.c -fsanitize-coverage-allowlist=p.so", CS_UNC_NONE},
        {"-c a.c -fsanitize-coverage-allowlist=missing", CS_UNC_OPTION},
        {"-c a.c -fsanitize-coverage-ignorelist=missing", CS_UNC_OPTION},
        {"-c a.c -fsanitize-coverage-whitelist=missing", CS_UNC_OPTION},
        {"-c a.c -fsanitize-coverage-blacklist=missing", CS_UNC_OPTION},
        {"-c a.c -fsanitize-system-ignorelist=missing", CS_UNC_OPTION},
        {"-c a.c -fsanitize-system-blacklist=missing", CS_UNC_OPTION},
        {"-c a.c -fxray-attr-list=missing", CS_UNC_OPTION},
        {"-c a.c -fxray-always-instrument=missing", CS_UNC_OPTION},
        {"-c a.c -fxray-never-instrument=p.so", CS_UNC_NONE},
        {"-c a.c -fxray-never-instrument=missing", CS_UNC_OPTION},
        {"-c a.c -fbasic-block-sections=list=missing", CS_UNC_OPTION},
        {"-c a.c -fbasic-block-sections=list=p.so", CS_UNC_NONE},
        {"-c a.c -fbasic-block-sections=all", CS_UNC_NONE},
        /* clang --config FILE, --config=FILE (clang 16+) */
        {"-c a.c --config ./ok.cfg", CS_UNC_NONE},
        {"-c a.c --config=./ok.cfg", CS_UNC_NONE},
        {"-c a.c --config ./missing.cfg", CS_UNC_OPTION},
        {"-c a.c --config=./missing.cfg", CS_UNC_OPTION},
        {"-c a.c --config ok.cfg", CS_UNC_OPTION}, /* no '/': clang's own directories */
        {"-c a.c --config", CS_UNC_OPTION},
        {"-c a.c --config ./at.cfg", CS_UNC_OPTION},
        {"-c a.c --config ./gen.cfg", CS_UNC_PROFILE},
        {"-c a.c --config ./c.cfg", CS_UNC_OPTION},
        {"-c a.c --config ./out.cfg", CS_UNC_OPTION},
        {"-c a.c --config ./plug.cfg", CS_UNC_OPTION},
        {"-c a.c --config ./input.cfg", CS_UNC_OPTION},
        {"-c a.c --config-system-dir=/etc/clang", CS_UNC_OPTION},
        /* -ivfsoverlay: its content is hashed; with a file option, refused */
        {"-c a.c -ivfsoverlay p.so", CS_UNC_NONE},
        {"-c a.c -ivfsoverlay missing.yaml", CS_UNC_OPTION},
        {"-c a.c -ivfsoverlay p.so -fsanitize-ignorelist=p.so", CS_UNC_OPTION},
        {"-c a.c -ivfsoverlay p.so -fplugin=./p.so", CS_UNC_NONE}, /* dlopen: not through it */
        /* -Xclang, -Xpreprocessor, -Wp, */
        {"-c a.c -Xclang -fprofile-instrument-use-path=p.so", CS_UNC_NONE},
        {"-c a.c -Xclang -fprofile-instrument-use-path=missing", CS_UNC_PROFILE},
        {"-c a.c -Xclang -fsanitize-system-ignorelist=missing", CS_UNC_OPTION},
        {"-c a.c -Xclang -fxray-attr-list=missing", CS_UNC_OPTION},
        {"-c a.c -Xclang -fprofile-instrument=clang", CS_UNC_PROFILE},
        {"-c a.c -Xclang -load -Xclang ./p.so", CS_UNC_OPTION},
        {"-c a.c -Xclang -mlink-bitcode-file -Xclang p.so", CS_UNC_OPTION},
        {"-c a.c -Xclang -dependency-file -Xclang x.d", CS_UNC_OPTION},
        {"-c a.c -Xclang -fmodule-file=p.so", CS_UNC_OPTION},
        {"-c a.c -Xclang -emit-pch", CS_UNC_PCH},
        {"-c a.c -Xclang --config=./ok.cfg", CS_UNC_OPTION}, /* the driver's alone */
        {"-c a.c -Xclang -specs -Xclang p.so", CS_UNC_OPTION},
        {"-c a.c -Xclang", CS_UNC_OPTION},
        /* an operand is not an option: here a plugin's argument */
        {"-c a.c -Xclang -plugin-arg-x -Xclang -fsanitize-ignorelist=missing", CS_UNC_NONE},
        {"-c a.c -Xclang -mllvm -Xclang -fsanitize-ignorelist=missing", CS_UNC_NONE},
        {"-c a.c -Xclang -disable-O0-optnone", CS_UNC_NONE},
        {"-c a.c -Xpreprocessor -fplugin=./missing.so", CS_UNC_OPTION},
        {"-c a.c -Xpreprocessor -fplugin=./p.so", CS_UNC_NONE},
        {"-c a.c -Xpreprocessor -MD", CS_UNC_OPTION},
        {"-c a.c -Wp,-fplugin=./missing.so", CS_UNC_OPTION},
        {"-c a.c -Wp,-DX,-fplugin=./p.so", CS_UNC_NONE},
        {"-c a.c -Wp,-DX,-fsanitize-ignorelist=missing", CS_UNC_OPTION},
        {"-c a.c -fplugin=./p.so -fplugin-arg-p-file=missing", CS_UNC_NONE},
    };
    check_classes(cases, sizeof cases / sizeof cases[0]);
    /* The file's content goes into the key: rewriting it changes the key. */
    static const char *const keyed[] = {
        "-c a.c -fsanitize-coverage-allowlist=p.so",
        "-c a.c -fsanitize-coverage-ignorelist=p.so",
        "-c a.c -fsanitize-coverage-whitelist=p.so",
        "-c a.c -fsanitize-coverage-blacklist=p.so",
        "-c a.c -fsanitize-system-ignorelist=p.so",
        "-c a.c -fxray-attr-list=p.so",
        "-c a.c -fxray-always-instrument=p.so",
        "-c a.c -fxray-never-instrument=p.so",
        "-c a.c -fbasic-block-sections=list=p.so",
        "-c a.c --config ./p.so",
        "-c a.c --config=./p.so",
        "-c a.c -ivfsoverlay p.so",
        "-c a.c -ivfsoverlayp.so",
        "-c a.c -Xclang -fprofile-instrument-use-path=p.so",
        "-c a.c -Xclang -fsanitize-system-ignorelist=p.so",
        "-c a.c -Xclang -plugin-arg-x -Xclang p.so",
        "-c a.c -fplugin-arg-x-file=p.so",
        "-c a.c -Xpreprocessor -fplugin=./p.so",
        "-c a.c -Wp,-fplugin=./p.so",
    };
    for (size_t i = 0; i < sizeof keyed / sizeof keyed[0]; i++) {
        struct cs_args a, b;
        write_file("p.so", "-O1\n");
        ck_assert_msg(classify(keyed[i], &a) == CS_UNC_NONE, "\"%s\": %s", keyed[i],
                      cs_uncacheable_name(a.reason));
        write_file("p.so", "-O2\n");
        ck_assert_msg(classify(keyed[i], &b) == CS_UNC_NONE, "\"%s\" (2)", keyed[i]);
        bool same = a.hashed.n == b.hashed.n;
        for (size_t k = 0; same && k < a.hashed.n; k++)
            same = !strcmp(a.hashed.v[k], b.hashed.v[k]);
        ck_assert_msg(!same, "\"%s\": the key does not change with the file", keyed[i]);
        cs_args_free(&a);
        cs_args_free(&b);
    }
    /* A configuration file's options reach the key, not the compile: the
     * compiler reads them itself. */
    struct cs_args a;
    ck_assert_int_eq(classify("-c a.c --config ./ok.cfg", &a), CS_UNC_NONE);
    ck_assert(has(&a.cc, "--config") && has(&a.cc, "./ok.cfg") && has(&a.pp, "./ok.cfg"));
    ck_assert(has(&a.hashed, "-O2") && has(&a.hashed, "-DX=1") && !has(&a.cc, "-O2"));
    ck_assert(!has(&a.hashed, "-fprofile-generate"));
    cs_args_free(&a);
    /* -Xclang's value reaches the compile as given; the key has its file. */
    ck_assert_int_eq(classify("-c a.c -Xclang -fsanitize-system-ignorelist=p.so", &a), CS_UNC_NONE);
    ck_assert(has(&a.cc, "-Xclang") && has(&a.cc, "-fsanitize-system-ignorelist=p.so"));
    ck_assert(has(&a.hashed, "-fsanitize-system-ignorelist=") && has(&a.hashed, "p.so"));
    cs_args_free(&a);
    static const char *const files[] = {"p.so",  "ok.cfg",  "at.cfg",   "gen.cfg",
                                        "c.cfg", "out.cfg", "plug.cfg", "input.cfg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
}
END_TEST

/* The configuration files clang reads without --config (clang 14, seen
 * with strace: <prefix>-<mode>.cfg, then <prefix>.cfg, next to its
 * resolved path; clang 16: <triple>-<driver>.cfg, <driver>.cfg), and how
 * those that exist are read. */
START_TEST(default_configs)
{
    struct cs_compiler c = {.path = "/usr/bin/x86_64-linux-gnu-clang-14",
                            .real = "/opt/llvm/bin/clang"};
    struct cs_strv paths = {0};
    ck_assert_int_eq(cs_compiler_default_configs(&c, "x86_64-pc-linux-gnu", "/", &paths), CS_OK);
    static const char *const want[] = {
        "/opt/llvm/bin/x86_64-linux-gnu-clang.cfg", "/opt/llvm/bin/x86_64-linux-gnu.cfg",
        "/opt/llvm/bin/clang.cfg", "/opt/llvm/bin/x86_64-pc-linux-gnu-clang.cfg",
        "/usr/bin/x86_64-linux-gnu.cfg"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(has(&paths, want[i]), "%s is not listed", want[i]);
    ck_assert(!has(&paths, "/opt/llvm/bin/x86_64-linux-gnu-clang-14.cfg"));
    cs_strv_free(&paths);
    struct cs_compiler plain = {.path = "clang++", .real = "/usr/lib/llvm-14/bin/clang"};
    ck_assert_int_eq(cs_compiler_default_configs(&plain, NULL, dir, &paths), CS_OK);
    ck_assert(has(&paths, "/usr/lib/llvm-14/bin/clang++.cfg"));
    cs_strv_free(&paths);

    /* Those that exist go into the key, their options checked. */
    write_file("x.cfg", "-O2\n");
    write_file("gen.cfg", "-fprofile-generate\n");
    cs_strv_push(&paths, "missing.cfg");
    cs_strv_push(&paths, "x.cfg");
    struct cs_args a, b;
    ck_assert_int_eq(classify("-c a.c", &a), CS_UNC_NONE);
    size_t n = a.hashed.n;
    ck_assert_int_eq(cs_args_add_configs(&a, dir, NULL, &paths), CS_OK);
    ck_assert(a.reason == CS_UNC_NONE && a.hashed.n > n);
    ck_assert(has(&a.hashed, "x.cfg") && has(&a.hashed, "-O2") && !has(&a.cc, "-O2"));
    ck_assert(!has(&a.hashed, "missing.cfg"));
    write_file("x.cfg", "-O1\n");
    ck_assert_int_eq(classify("-c a.c", &b), CS_UNC_NONE);
    ck_assert_int_eq(cs_args_add_configs(&b, dir, NULL, &paths), CS_OK);
    ck_assert(b.reason == CS_UNC_NONE && !has(&b.hashed, "-O2") && has(&b.hashed, "-O1"));
    cs_args_free(&a);
    cs_args_free(&b);
    cs_strv_push(&paths, "gen.cfg");
    ck_assert_int_eq(classify("-c a.c", &a), CS_UNC_NONE);
    ck_assert_int_eq(cs_args_add_configs(&a, dir, NULL, &paths), CS_OK);
    ck_assert_int_eq(a.reason, CS_UNC_PROFILE);
    cs_args_free(&a);
    cs_strv_free(&paths);
    /* An overlay turns direct mode off (its line markers may be virtual). */
    ck_assert_int_eq(classify("-c a.c -ivfsoverlay x.cfg", &a), CS_UNC_NONE);
    ck_assert(a.vfs_overlay);
    cs_args_free(&a);
    ck_assert_int_eq(classify("-c a.c", &a), CS_UNC_NONE);
    ck_assert(!a.vfs_overlay);
    cs_args_free(&a);
    unlink("x.cfg");
    unlink("gen.cfg");
}
END_TEST

START_TEST(basedir_rewrite)
{
    char *argv[] = {"-c", "/base/proj/src/a.c",  "-I/base/proj/inc", "-isystem", "/usr/include/x",
                    "-o", "/base/proj/build/a.o"};
    struct cs_args a;
    /* The source need not exist for the rewrite; classification then says so. */
    ck_assert_int_eq(cs_args_parse(7, argv, "/base/proj/build", "/base/proj", &a), CS_OK);
    ck_assert(has(&a.cc, "../src/a.c"));
    ck_assert(has(&a.cc, "-I../inc"));
    ck_assert(has(&a.cc, "/usr/include/x"));
    ck_assert_str_eq(a.output, "a.o");
    cs_args_free(&a);
}
END_TEST

START_TEST(paths)
{
    bool nomem;
    char *p = cs_path_absolute("x/../y/./z//", "/a/b");
    ck_assert_str_eq(p, "/a/b/y/z");
    free(p);
    p = cs_path_absolute("../../../..", "/a");
    ck_assert_str_eq(p, "/");
    free(p);
    static const struct {
        const char *abs, *base, *cwd, *want;
    } cases[] = {
        {"/x/one/inc", "/x/one", "/x/one/build", "../inc"},
        {"/x/one/build/sub/f.c", "/x/one", "/x/one/build", "sub/f.c"},
        {"/x/one", "/x/one", "/x/one/build", ".."},
        {"/x/one/build", "/x/one", "/x/one/build", "."},
        {"/x/other/f.h", "/x/one", "/x/one/build", NULL},
        {"/x/onetwo/f.h", "/x/one", "/x/one", NULL},
        {"/a/f.c", "/", "/", "a/f.c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = cs_path_relative_under(cases[i].abs, cases[i].base, cases[i].cwd, &nomem);
        if (!cases[i].want)
            ck_assert_msg(r == NULL, "%s: got %s", cases[i].abs, r);
        else
            ck_assert_msg(r && !strcmp(r, cases[i].want), "%s from %s: got %s, want %s",
                          cases[i].abs, cases[i].cwd, r ? r : "(null)", cases[i].want);
        free(r);
    }
}
END_TEST

START_TEST(result_roundtrip_and_hostile)
{
    struct cs_result r = {0}, back;
    r.has[CS_SEC_OBJECT] = r.has[CS_SEC_STDERR] = true;
    cs_bytes_append_str(&r.sec[CS_SEC_OBJECT], "\x7f"
                                               "ELF object bytes");
    cs_bytes_append_str(&r.sec[CS_SEC_STDERR], "warning: x");
    struct cs_bytes blob = {0};
    ck_assert_int_eq(cs_result_encode(&r, &blob), CS_OK);
    ck_assert_int_eq(cs_result_decode(blob.data, blob.len, &back), CS_OK);
    ck_assert(back.has[CS_SEC_OBJECT] && back.has[CS_SEC_STDERR] && !back.has[CS_SEC_DEP]);
    ck_assert_mem_eq(back.sec[CS_SEC_OBJECT].data, r.sec[CS_SEC_OBJECT].data,
                     r.sec[CS_SEC_OBJECT].len);
    cs_result_free(&back);
    /* Every truncation and every single-byte change is refused or decodes
     * to something bounded: never a crash (ASan watches). */
    for (size_t n = 0; n < blob.len; n++)
        if (cs_result_decode(blob.data, n, &back) == CS_OK)
            cs_result_free(&back);
    for (size_t i = 0; i < blob.len; i++) {
        blob.data[i] ^= 0x5a;
        if (cs_result_decode(blob.data, blob.len, &back) == CS_OK)
            cs_result_free(&back);
        blob.data[i] ^= 0x5a;
    }
    ck_assert_int_ne(cs_result_decode((const uint8_t *)"CSM1xxxxxxxxxxxx", 16, &back), CS_OK);
    cs_bytes_free(&blob);
    cs_result_free(&r);
}
END_TEST

START_TEST(manifest_roundtrip)
{
    struct cs_manifest m = {0}, back;
    for (int k = 0; k < CS_MANIFEST_MAX_ENTRIES + 5; k++) {
        struct cs_manifest_entry e = {0};
        e.result_key[0] = (uint8_t)k;
        e.files = calloc(1, sizeof *e.files);
        e.files[0].path = strdup("inc/x.h");
        e.files[0].size = 12;
        e.nfiles = 1;
        ck_assert_int_eq(cs_manifest_add(&m, &e), CS_OK);
    }
    ck_assert_uint_eq(m.n, CS_MANIFEST_MAX_ENTRIES);
    ck_assert_uint_eq(m.e[0].result_key[0], CS_MANIFEST_MAX_ENTRIES + 4); /* newest first */
    struct cs_bytes blob = {0};
    ck_assert_int_eq(cs_manifest_encode(&m, &blob), CS_OK);
    ck_assert_int_eq(cs_manifest_decode(blob.data, blob.len, &back), CS_OK);
    ck_assert_uint_eq(back.n, m.n);
    ck_assert_str_eq(back.e[3].files[0].path, "inc/x.h");
    cs_manifest_free(&back);
    for (size_t n = 0; n < blob.len; n++)
        if (cs_manifest_decode(blob.data, n, &back) == CS_OK)
            cs_manifest_free(&back);
    cs_bytes_free(&blob);
    cs_manifest_free(&m);
}
END_TEST

START_TEST(line_markers)
{
    const char *pp = "# 1 \"/base/p/src/a.c\"\n# 0 \"/base/p//\"\n# 1 \"<built-in>\"\nint x;\n"
                     "# 1 \"/base/p/inc/x.h\" 1\n#line 3 \"/usr/include/stdio.h\"\n"
                     "# 7 \"/base/p/inc/x.h\" 2\nint y;\n";
    struct cs_sha256 h1, h2;
    struct cs_strv inc = {0}, inc2 = {0};
    uint8_t d1[CS_SHA256_LEN], d2[CS_SHA256_LEN];
    cs_sha256_init(&h1);
    ck_assert_int_eq(cs_ppscan(pp, strlen(pp), "/base/p", "/base/p", &h1, &inc), CS_OK);
    cs_sha256_final(&h1, d1);
    ck_assert_uint_eq(inc.n, 3);
    ck_assert_str_eq(inc.v[1], "/base/p/inc/x.h");
    ck_assert_str_eq(inc.v[2], "/usr/include/stdio.h");
    /* The same text from another checkout hashes the same. */
    const char *pp2 = "# 1 \"/other/q/src/a.c\"\n# 0 \"/other/q//\"\n# 1 \"<built-in>\"\nint x;\n"
                      "# 1 \"/other/q/inc/x.h\" 1\n#line 3 \"/usr/include/stdio.h\"\n"
                      "# 7 \"/other/q/inc/x.h\" 2\nint y;\n";
    cs_sha256_init(&h2);
    ck_assert_int_eq(cs_ppscan(pp2, strlen(pp2), "/other/q", "/other/q", &h2, &inc2), CS_OK);
    cs_sha256_final(&h2, d2);
    ck_assert_mem_eq(d1, d2, sizeof d1);
    cs_strv_free(&inc);
    cs_strv_free(&inc2);
}
END_TEST

/* clang writes a path's bytes past ASCII in octal and a tab as \t; gcc
 * only escapes '\\' and '"'. The names must be the files' own, or the
 * source is not found among them (markers_name_source) and a header's
 * stat fails. */
START_TEST(line_marker_escapes)
{
    const char *pp = "# 1 \"\\303\\251 q.c\"\n# 1 \"t\\tab.h\" 1\n"
                     "# 1 \"a\\\\1.h\" 1\n# 1 \"q\\\"uote.h\" 1\n";
    struct cs_sha256 h;
    struct cs_strv inc = {0};
    cs_sha256_init(&h);
    ck_assert_int_eq(cs_ppscan(pp, strlen(pp), dir, NULL, &h, &inc), CS_OK);
    ck_assert_uint_eq(inc.n, 4);
    ck_assert_str_eq(inc.v[0], "\303\251 q.c");
    ck_assert_str_eq(inc.v[1], "t\tab.h");
    ck_assert_str_eq(inc.v[2], "a\\1.h");
    ck_assert_str_eq(inc.v[3], "q\"uote.h");
    cs_strv_free(&inc);
}
END_TEST

/* Issue 15, defect 23: includes were told apart by a 64-bit FNV-1a hash
 * alone, so of two paths with the same hash only the first reached the
 * manifest, and a change to the second could not invalidate a direct hit.
 * These two have the same FNV-1a value (found by a rho search on the top
 * 56 bits of the state after "inc/" and ten characters, then one last byte
 * each to cancel the low 8 bits). */
START_TEST(include_hash_collision)
{
    static const char one[] = "inc/9h6cJcFz0a@.h", two[] = "inc/UVScBTcmVcv.h";
    const char *pp = "# 1 \"a.c\"\n# 1 \"inc/9h6cJcFz0a@.h\" 1\nint x;\n"
                     "# 2 \"a.c\" 2\n# 1 \"inc/UVScBTcmVcv.h\" 1\nint y;\n"
                     "# 3 \"a.c\" 2\n# 1 \"inc/9h6cJcFz0a@.h\" 1\n";
    struct cs_sha256 h;
    struct cs_strv inc = {0};
    cs_sha256_init(&h);
    ck_assert_int_eq(cs_ppscan(pp, strlen(pp), dir, NULL, &h, &inc), CS_OK);
    ck_assert_msg(inc.n == 3, "want a.c and both headers listed once each, got %zu entries", inc.n);
    ck_assert_str_eq(inc.v[0], "a.c");
    ck_assert_str_eq(inc.v[1], one);
    ck_assert_str_eq(inc.v[2], two);
    cs_strv_free(&inc);
}
END_TEST

/* .incbin (even split over two strings, which the compiler joins after
 * the preprocessor) and .include as gas and asm() strings spell them, in
 * any case; a member named include_dir is none. */
START_TEST(assembler_reads_file)
{
    static const char *const yes[] = {
        ".incbin \"x\"",
        "asm(\"\\t.incbin\\t\\\"d\\\"\")",
        ".INCBIN\t\"x\"",
        "  .include \"part.s\"",
        ".incbin\"x\"",
        "asm(\".inc\" \"bin \\\"x\\\"\")",
        "asm(\".\"\n \"include \\\"y\\\"\")",
        "asm(\"x:\\n.inc\"\n# 12 \"a.c\"\n\"bin \\\"y\\\"\")",
        "lbl: .incbin \"z\"",
    };
    static const char *const no[] = {
        "s.include_dir = 1;",
        "x.include",
        ".incbi",
        "include \"x\"",
        ".in\" x \"cbin",
        "struct o a = { .include = 1, .incbin = 2 };",
        "return s.incbin ;",
        "/* use .include \"f\" */",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        ck_assert_msg(cs_ppscan_assembler_reads_file(yes[i], strlen(yes[i])), "missed: %s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        ck_assert_msg(!cs_ppscan_assembler_reads_file(no[i], strlen(no[i])), "false: %s", no[i]);
}
END_TEST

/* resp parsed as client/http.c reads one: piece bytes at a time (0: all),
 * then the connection ends if eof. The body's status (into body, emptied
 * first); *used: the bytes head and body took. */
static enum cs_status http_read(const char *resp, const struct cs_http_limits *lim, size_t piece,
                                bool eof, struct cs_http_head *head, struct cs_bytes *body,
                                size_t *used)
{
    size_t len = strlen(resp), start = 0, end = 0, n = 0;
    const uint8_t *p = (const uint8_t *)resp;
    const char *why = NULL;
    body->len = 0;
    while (n == 0) {
        end = piece && end + piece < len ? end + piece : len;
        ck_assert_int_eq(cs_http_head_parse(p, end, false, lim, head, &n, &why), CS_OK);
        ck_assert_msg(n || end < len, "the head of \"%s\" is not complete", resp);
    }
    struct cs_http_body b;
    enum cs_status rc = cs_http_body_start(&b, head, lim);
    for (start = n; rc == CS_OK && !b.done;) {
        rc = cs_http_body_feed(&b, p + start, end - start, body, &n);
        start += rc == CS_OK ? n : 0;
        if (rc == CS_OK && !b.done && end == len) {
            if (eof && (rc = cs_http_body_end(&b, p + start, end - start, body)) == CS_OK)
                start = end;
            break;
        }
        end = piece && end + piece < len ? end + piece : len;
    }
    *used = start;
    return rc == CS_OK && !b.done ? CS_ERR_IO : rc;
}

/* cs_http_head_parse of all of s. */
static enum cs_status head_of(const char *s, bool head_request, const struct cs_http_limits *lim,
                              struct cs_http_head *h, size_t *used)
{
    const char *why = NULL;
    return cs_http_head_parse((const uint8_t *)s, strlen(s), head_request, lim, h, used, &why);
}

START_TEST(http_response_parse)
{
    const struct cs_http_limits *lim = &cs_http_limits_default;
    struct cs_http_head h;
    struct cs_bytes body = {0};
    size_t used;
    const char *next = "HTTP/1.1 204 No Content\r\n\r\n";
    char resp[512];
    for (size_t piece = 0; piece < 4; piece++) {
        snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello%s", next);
        ck_assert_int_eq(http_read(resp, lim, piece, false, &h, &body, &used), CS_OK);
        ck_assert(h.status == 200 && h.framing == CS_HTTP_LENGTH && !h.close);
        ck_assert_str_eq((char *)body.data, "hello");
        ck_assert_uint_eq(used, strlen(resp) - strlen(next)); /* the next response is left */
        snprintf(resp, sizeof resp,
                 "HTTP/1.1 200 OK\nTransfer-encoding: chunked\nConnection: close\n\n"
                 "3;ext=1\r\nhel\r\n2\nlo\n0\r\nTrailer: x\r\n\r\n%s",
                 next);
        ck_assert_int_eq(http_read(resp, lim, piece, false, &h, &body, &used), CS_OK);
        ck_assert(h.close && h.framing == CS_HTTP_CHUNKED);
        ck_assert_str_eq((char *)body.data, "hello");
        ck_assert_uint_eq(used, strlen(resp) - strlen(next));
        ck_assert_int_eq(
            http_read("HTTP/1.0 200 OK\r\n\r\nto the end", lim, piece, true, &h, &body, &used),
            CS_OK);
        ck_assert(h.close && h.framing == CS_HTTP_UNTIL_CLOSE);
        ck_assert_str_eq((char *)body.data, "to the end");
        static const char *const cut[] = {
            "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello"};
        for (size_t i = 0; i < 2; i++) /* cut short */
            ck_assert_int_eq(http_read(cut[i], lim, piece, true, &h, &body, &used), CS_ERR_IO);
    }
    /* No body for HEAD, 204, 304 and 1xx, whatever the headers say. */
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    ck_assert_int_eq(head_of(s, true, lim, &h, &used), CS_OK);
    ck_assert(used == strlen(s) && h.framing == CS_HTTP_NO_BODY);
    s = "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n";
    ck_assert(head_of(s, false, lim, &h, &used) == CS_OK && h.framing == CS_HTTP_NO_BODY);
    /* Not complete yet; not a response; over the limits. */
    s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n";
    ck_assert(head_of(s, false, lim, &h, &used) == CS_OK && used == 0);
    ck_assert_int_eq(head_of("SSH-2.0-OpenSSH_9.2\r\n\r\n", false, lim, &h, &used), CS_ERR_INVALID);
    struct cs_http_limits small = {.head = 48, .line = 28, .body = 4};
    s = "HTTP/1.1 200 OK\r\nX-Long: 0123456789abcdefghijk\r\n"; /* a line of 29 */
    ck_assert_int_eq(head_of(s, false, &small, &h, &used), CS_ERR_INVALID);
    s = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 56789"; /* 49 bytes, not complete */
    ck_assert_int_eq(head_of(s, false, &small, &h, &used), CS_ERR_INVALID);
    struct cs_http_body b;
    s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    ck_assert_int_eq(head_of(s, false, &small, &h, &used), CS_OK);
    ck_assert_int_eq(cs_http_body_start(&b, &h, &small), CS_ERR_INVALID);
    ck_assert_int_eq(http_read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
                               "2\r\nde\r\n0\r\n\r\n",
                               &small, 0, false, &h, &body, &used),
                     CS_ERR_INVALID);
    cs_bytes_free(&body);
}
END_TEST

/* A body without Content-Length or chunks (it ends with the connection)
 * over the body limit was taken as complete and empty: a 200 with no body
 * (found by tests/fuzz/fuzz_http_response.c). */
START_TEST(http_until_close_over_limit)
{
    struct cs_http_limits small = {.head = 1024, .line = 256, .body = 4};
    struct cs_http_head h;
    struct cs_bytes body = {0};
    size_t used;
    for (size_t piece = 0; piece < 3; piece++) {
        ck_assert_int_eq(
            http_read("HTTP/1.1 200 OK\r\n\r\n0123456789", &small, piece, true, &h, &body, &used),
            CS_ERR_INVALID);
        ck_assert_uint_eq(body.len, 0);
    }
    ck_assert_int_eq(http_read("HTTP/1.1 200 OK\r\n\r\n0123", &small, 0, true, &h, &body, &used),
                     CS_OK);
    ck_assert_str_eq((char *)body.data, "0123");
    cs_bytes_free(&body);
}
END_TEST

/* A chunk's data must be followed by its line end: whatever came before
 * it was dropped, so a chunk longer than its size line said gave a body
 * cut short as if complete. The size is hex digits: strtoull also took
 * "0x5", "+5" and " 5". (Found by reading, writing the fuzz target.) */
START_TEST(http_chunk_framing)
{
    static const char *const bad[] = {
        "5\r\nhelloXYZ\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n", "+5\r\nhello\r\n0\r\n\r\n",
        " 5\r\nhello\r\n0\r\n\r\n",   "5 x\r\nhello\r\n0\r\n\r\n", ";\r\n0\r\n\r\n",
        "ffffffffffffffffff\r\n",
    };
    const char *te = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    char resp[256];
    struct cs_http_head h;
    struct cs_bytes body = {0};
    size_t used;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(resp, sizeof resp, "%s%s", te, bad[i]);
        ck_assert_msg(http_read(resp, &cs_http_limits_default, 0, true, &h, &body, &used) ==
                          CS_ERR_INVALID,
                      "chunks \"%s\" taken", bad[i]);
    }
    snprintf(resp, sizeof resp, "%sB \t;x\r\nhello world\r\n00\r\n\r\n", te);
    ck_assert_int_eq(http_read(resp, &cs_http_limits_default, 0, true, &h, &body, &used), CS_OK);
    ck_assert_str_eq((char *)body.data, "hello world");
    cs_bytes_free(&body);
}
END_TEST

/* The stats shards are read at every compile (no sscanf since issue 19):
 * lines of another cstash (unknown names), junk, signs, blanks and CR, and
 * values out of range are skipped or read as before; what is written is
 * "name value\n" for every counter, in order. */
START_TEST(stats_text)
{
    ck_assert_int_eq(mkdir("st", 0777), 0);
    ck_assert_int_eq(mkdir("st/3", 0777), 0);
    write_file("st/3/stats", "direct_hit_local 7\nnot_ours 5\nmiss -2\r\nbytes  +40\n\tfiles\t3\n"
                             "cleanups x\nuncacheable_link 9\nuncacheable_nope 1\n"
                             "preprocessed_hit_local 99999999999999999999\nlocal_error\n\n"
                             "remote_error 4");
    struct cs_stats s;
    ck_assert_int_eq(cs_stats_read("st", 3, &s), CS_OK);
    ck_assert_int_eq(s.v[CS_ST_DIRECT_HIT_LOCAL], 7);
    ck_assert_int_eq(s.v[CS_ST_MISS], -2);
    ck_assert_int_eq(s.v[CS_ST_BYTES], 40);
    ck_assert_int_eq(s.v[CS_ST_FILES], 3);
    ck_assert_int_eq(s.v[CS_ST_CLEANUPS], 0);
    ck_assert_int_eq(s.v[CS_ST_UNCACHEABLE + CS_UNC_LINK], 9);
    ck_assert_int_eq(s.v[CS_ST_PP_HIT_LOCAL], 0);
    ck_assert_int_eq(s.v[CS_ST_LOCAL_ERROR], 0);
    ck_assert_int_eq(s.v[CS_ST_REMOTE_ERROR], 4);

    struct cs_stats d = {0};
    d.v[CS_ST_MISS] = 3;
    d.v[CS_ST_INTERNAL_ERROR] = -5;
    struct cs_stats after;
    ck_assert_int_eq(cs_stats_add("st", 3, &d, &after), CS_OK);
    ck_assert_int_eq(after.v[CS_ST_MISS], 1);
    ck_assert_int_eq(after.v[CS_ST_DIRECT_HIT_LOCAL], 7);
    ck_assert_int_eq(cs_stats_set_size("st", 3, INT64_MAX, 0), CS_OK);
    struct cs_bytes text = {0};
    ck_assert_int_eq(cs_read_file("st/3/stats", 1 << 16, &text), CS_OK);
    const char *t = (const char *)text.data;
    ck_assert_msg(cs_starts_with(t, "direct_hit_local 7\ndirect_hit_remote 0\n"), "%s", t);
    ck_assert_ptr_nonnull(strstr(t, "\nmiss 1\n"));
    ck_assert_ptr_nonnull(strstr(t, "\ninternal_error -5\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nfiles 9223372036854775807\nbytes 0\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nuncacheable_link 9\n"));
    size_t lines = 0;
    for (size_t i = 0; i < text.len; i++)
        lines += t[i] == '\n';
    ck_assert_uint_eq(lines, CS_ST_COUNT);
    ck_assert_int_eq(t[text.len - 1], '\n');
    ck_assert_int_eq(cs_stats_read("st", 3, &s), CS_OK);
    ck_assert_int_eq(s.v[CS_ST_FILES], INT64_MAX);
    ck_assert_int_eq(s.v[CS_ST_INTERNAL_ERROR], -5);
    ck_assert_int_eq(s.v[CS_ST_UNCACHEABLE + CS_UNC_LINK], 9);
    cs_bytes_free(&text);
    unlink("st/3/stats");
    rmdir("st/3");
    rmdir("st");
}
END_TEST

/* mkdir -p from the deepest directory up: absolute and relative, existing,
 * trailing slashes, a file in the way. */
START_TEST(mkdirs)
{
    char abs[64];
    snprintf(abs, sizeof abs, "%s/m1/m2/m3", dir);
    ck_assert_int_eq(cs_mkdirs(abs, true), CS_OK);
    ck_assert_int_eq(access("m1/m2/m3", F_OK), 0);
    ck_assert_int_eq(cs_mkdirs(abs, true), CS_OK);
    ck_assert_int_eq(cs_mkdirs("r1/r2/file", false), CS_OK);
    ck_assert_int_eq(access("r1/r2", F_OK), 0);
    ck_assert_int_ne(access("r1/r2/file", F_OK), 0);
    ck_assert_int_eq(cs_mkdirs("r1/t//", true), CS_OK);
    ck_assert_int_eq(access("r1/t", F_OK), 0);
    write_file("r1/f", "x");
    ck_assert_int_ne(cs_mkdirs("r1/f/g/h", true), CS_OK);
    ck_assert_int_eq(cs_mkdirs("plain", false), CS_OK);
    unlink("r1/f");
    const char *dirs[] = {"m1/m2/m3", "m1/m2", "m1", "r1/r2", "r1/t", "r1"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        ck_assert_int_eq(rmdir(dirs[i]), 0);
}
END_TEST

/* The -MD rule as gcc writes it: continued lines, escaped spaces and
 * '#', "$$"; only the first rule (-MP's phony ones after it are not
 * dependencies); anything it cannot read for sure is refused. */
static void depfile_is(const char *text, const char *const *want, size_t n)
{
    struct cs_strv v = {0};
    ck_assert_int_eq(cs_depfile_parse(text, strlen(text), &v), CS_OK);
    ck_assert_uint_eq(v.n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(v.v[i], want[i]);
    cs_strv_free(&v);
}

static void depfile_refused(const char *text)
{
    struct cs_strv v = {0};
    ck_assert_int_eq(cs_depfile_parse(text, strlen(text), &v), CS_ERR_INVALID);
    cs_strv_free(&v);
}

START_TEST(depfile_rules)
{
    const char *const a[] = {"d.c", "/usr/include/stdio.h", "inc/h.h"};
    depfile_is("d.o: d.c /usr/include/stdio.h \\\n inc/h.h\n", a, 3);
    depfile_is("d.o: d.c /usr/include/stdio.h \\\r\n inc/h.h\r\n", a, 3);
    depfile_is("d.o: d.c /usr/include/stdio.h inc/h.h\ninc/h.h:\n/usr/include/stdio.h:\n", a, 3);
    depfile_is("d.o: d.c /usr/include/stdio.h inc/h.h", a, 3); /* no newline at the end */
    depfile_is("out/d.o \\\n  other.o: \\\n d.c \\\n /usr/include/stdio.h inc/h.h\n", a, 3);
    const char *const sp[] = {"a b/c.h", "x#y.h", "p$q.h", "c:d.h"};
    depfile_is("t.o: a\\ b/c.h x\\#y.h p$$q.h c:d.h\n", sp, 4);
    depfile_is("t.o:\n", NULL, 0);
    depfile_refused("");
    depfile_refused("no rule here\n");
    depfile_refused(": a.c\n");
    depfile_refused("t.o: a\\b.h\n");    /* a backslash gcc does not escape */
    depfile_refused("t.o: a\\\\ b.h\n"); /* doubled before a space */
    depfile_refused("t.o: p$q.h\n");
    depfile_refused("t.o: p$\n");
    depfile_refused("t.o: a.c bs/z\\\n"); /* a name's own trailing backslash */
    depfile_refused("t.o: a.c bs/z\\\n inc/h.h\n");
    depfile_refused("\nt.o: a.c\n");
}
END_TEST

/* What depend mode reads in a source before it trusts the compiler's
 * rule: a header that makes itself a system one, and the includes gcc
 * may take from a precompiled header. */
static bool declares(const char *text)
{
    return cs_depscan_declares_system_header((const uint8_t *)text, strlen(text));
}

START_TEST(depscan_system_header)
{
    ck_assert(declares("#pragma GCC system_header\n"));
    ck_assert(declares("int a;\n  #  pragma clang system_header\n"));
    ck_assert(declares("_Pragma(\"GCC system_header\")"));
    ck_assert(declares("# 1 \"x.h\" 3\n"));
    ck_assert(declares("int a;\n\t#12 \"x.h\"\n"));
    ck_assert(declares("#line 5\n# 7   \"y\" 1 3 4"));
    ck_assert(!declares(""));
    ck_assert(!declares("#include \"a.h\"\n#define X 1\n"));
    ck_assert(declares("\t# 36(%esp) %eflags\n"));            /* an assembler comment: cautious */
    ck_assert(!declares("#line 12 \"x.h\"\n"));               /* #line sets no flags */
    ck_assert(!declares("x # 1 \"x.h\" 3\n"));                /* not at the start of a line */
    ck_assert(declares("#pragma GCC system_\\\nheader\n"));   /* a splice */
    ck_assert(declares("// note ?\?/\n# 1 \"tg.h\" 3\n"));    /* no trigraphs: a marker */
    ck_assert(declares("#pragma GCC system_?\?/\nheader\n")); /* trigraphs: a splice */
    ck_assert(declares("/* c\n*/ # 1 \"sys.h\" 3\n"));        /* after a comment over lines */
    ck_assert(declares("#/* c\n*/ 1 \"sys.h\" 3\n"));
    ck_assert(declares("int a;\r# 1 \"x.h\" 3\r"));                /* lone CRs */
    ck_assert(declares("R\"(\n/*)\";\n# 1 \"raw.h\" 3\n// */\n")); /* a raw string */
    ck_assert(declares("%: 1 \"h1.h\" 3\n"));
    ck_assert(declares("#/**/1 \"h1.h\" 3\n"));
    ck_assert(declares("#define F \"h1.h\"\n# 1 F 3\n"));
    ck_assert(declares("#\\\n 1 \"h1.h\" 3\n"));
    ck_assert(declares("?\?= 1 \"h1.h\" 3\n"));
    ck_assert(declares("\xef\xbb\xbf# 1 \"h1.h\" 3\n"));
}
END_TEST

static void leading_is(const char *text, const char *const *want, size_t n)
{
    struct cs_strv v = {0};
    ck_assert_int_eq(cs_depscan_leading_includes(text, strlen(text), &v), CS_OK);
    ck_assert_uint_eq(v.n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(v.v[i], want[i]);
    cs_strv_free(&v);
}

START_TEST(depscan_leading_includes)
{
    const char *const ab[] = {"a.h", "sys/b.h"};
    /* Up to the first outside #if: gcc opens it, and no later one is
     * precompiled. */
    leading_is("#include \"a.h\"\n#include <sys/b.h>\nint x;\n#include \"c.h\"\n", ab, 1);
    leading_is(
        "// SPDX\n/* a\n * comment */\n#define F(x) x /* over\n lines */\n"
        "#ifdef Q\n  #  include \"a.h\" // why\n#endif\n#import <sys/b.h>\n#include \"c.h\"\n",
        ab, 2);
    leading_is("#if A\n#if B\n#include \"a.h\"\n#endif\n#endif\n#include <sys/b.h>\n", ab, 2);
    leading_is("#ifdef A\n#endif\n#include \"a.h\"\n#if X\nint y;\n#endif\n", ab, 1);
    leading_is("#define LONG \\\n  #include \"no.h\"\n#include_next \"a.h\"\n;#include <sys/b.h>\n",
               ab, 1);
    leading_is("int x;\nstatic int y;\n", NULL, 0);
    leading_is("// licence\r#include \"a.h\"\r", ab, 1); /* a lone CR ends a line */
    leading_is("", NULL, 0);
    const char *const p[] = {"p.h"};
    leading_is("\xef\xbb\xbf#include \"p.h\"\nint x;\n", p, 1); /* a byte order mark */
    leading_is("%:include \"p.h\"\n", p, 1);
    leading_is("#inc\\\nlude \"p.h\"\n", p, 1);
    leading_is("#define OPEN \"/*\"\n#include \"p.h\"\n", p, 1);
    leading_is("#define A \\ \r\n  1\r\n#include \"p.h\"\r\n", p, 1);
    struct cs_strv v = {0};
    const char *bad[] = {
        "#include HDR\n", "#include \"a.h\n\"\n", "#include <a.h\n",
        "#if 0\nold text\n#endif\n#include \"p.h\"\n", "#define X ?\?/\n#include \"p.h\"\n",
        /* no token to gcc: an include may follow */
        "#define EMPTY\nEMPTY\n#include \"p.h\"\n", "_Pragma(\"GCC poison z\")\n#include \"p.h\"\n",
        "int x;\n#include \"a.h\"\n", "$E\n#include \"p.h\"\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(cs_depscan_leading_includes(bad[i], strlen(bad[i]), &v), CS_ERR_INVALID);
        cs_strv_free(&v);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("client");
    TCase *tc = tcase_create("all");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, cacheable_and_not);
    tcase_add_test(tc, argument_lists);
    tcase_add_test(tc, basedir_rewrite);
    tcase_add_test(tc, paths);
    tcase_add_test(tc, result_roundtrip_and_hostile);
    tcase_add_test(tc, manifest_roundtrip);
    tcase_add_test(tc, line_markers);
    tcase_add_test(tc, include_hash_collision);
    tcase_add_test(tc, assembler_reads_file);
    tcase_add_test(tc, line_marker_escapes);
    tcase_add_test(tc, prefix_map_rules);
    tcase_add_test(tc, file_options);
    tcase_add_test(tc, more_file_options);
    tcase_add_test(tc, default_configs);
    tcase_add_test(tc, http_response_parse);
    tcase_add_test(tc, http_until_close_over_limit);
    tcase_add_test(tc, http_chunk_framing);
    tcase_add_test(tc, stats_text);
    tcase_add_test(tc, mkdirs);
    tcase_add_test(tc, depfile_rules);
    tcase_add_test(tc, depscan_system_header);
    tcase_add_test(tc, depscan_leading_includes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cs_run_suite(suite());
}
