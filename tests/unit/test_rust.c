/* The Rust path's pure logic: rustc command lines (what is cached and why
 * not), roots and placeholders (paths and texts, their boundaries and the
 * escaping of \001), dep-info parsing, and the result record, hostile
 * records included. */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rust_args.h"
#include "client/rust_depinfo.h"
#include "client/rust_paths.h"
#include "client/rust_result.h"
#include "tests/unit/check_main.h"

static enum cs_uncacheable parse(const char *line, struct cs_rust_args *a, char **copy)
{
    char *save = NULL;
    static char *argv[96];
    int argc = 0;
    *copy = strdup(line);
    for (char *w = strtok_r(*copy, " ", &save); w && argc < 95; w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    ck_assert_int_eq(cs_rust_args_parse(argc, argv, a), CS_OK);
    return a->reason;
}

static bool has(const struct cs_strv *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->v[i], s))
            return true;
    return false;
}

#define CARGO_LIB                                                                                  \
    "--crate-name util --edition=2021 util/src/lib.rs --error-format=json "                        \
    "--json=diagnostic-rendered-ansi,artifacts,future-incompat --crate-type lib "                  \
    "--emit=dep-info,metadata,link -C embed-bitcode=no -C debuginfo=2 -C metadata=5bb1 "           \
    "-C extra-filename=-5bb1 --out-dir /ws/target/debug/deps -L dependency=/ws/target/debug/deps " \
    "--extern serde=/ws/target/debug/deps/libserde-1.rmeta --cap-lints warn"

START_TEST(cargo_lib_line)
{
    struct cs_rust_args a;
    char *copy;
    ck_assert_int_eq(parse(CARGO_LIB, &a, &copy), CS_UNC_NONE);
    ck_assert_str_eq(a.input, "util/src/lib.rs");
    ck_assert_str_eq(a.crate_name, "util");
    ck_assert_str_eq(a.extra, "-5bb1");
    ck_assert_str_eq(a.out_dir, "/ws/target/debug/deps");
    ck_assert_uint_eq(a.types, CS_RT_LIB);
    ck_assert_uint_eq(a.emit, CS_RE_DEP_INFO | CS_RE_METADATA | CS_RE_LINK);
    ck_assert(has(&a.externs, "/ws/target/debug/deps/libserde-1.rmeta"));
    ck_assert_uint_eq(a.crate_dirs.n, 0); /* dependency= dirs are not searched for crates */
    /* The dep-info pass gets neither outputs nor message formats. */
    ck_assert(!has(&a.dep_info, "--emit=dep-info,metadata,link"));
    ck_assert(!has(&a.dep_info, "--out-dir") && !has(&a.dep_info, "--error-format=json"));
    ck_assert(has(&a.dep_info, "--crate-type") && has(&a.dep_info, "--cap-lints"));
    /* Paths are kept apart for normalising: out-dir, -L and --extern. */
    bool out_dir = false, ext = false;
    for (size_t i = 0; i < a.key_opt.n; i++) {
        out_dir |= !strcmp(a.key_opt.v[i], "--out-dir") &&
                   !strcmp(a.key_path.v[i], "/ws/target/debug/deps");
        ext |= !strcmp(a.key_opt.v[i], "--extern serde=") &&
               !strcmp(a.key_path.v[i], "/ws/target/debug/deps/libserde-1.rmeta");
    }
    ck_assert(out_dir && ext);
    cs_rust_args_free(&a);
    free(copy);
}
END_TEST

struct rcase {
    const char *line;
    enum cs_uncacheable want;
};

START_TEST(what_is_not_cached)
{
    static const struct rcase cases[] = {
        {"-vV", CS_UNC_RUST_QUERY},
        {"- --crate-name ___ --print=file-names --crate-type bin", CS_UNC_RUST_QUERY},
        {"- --crate-name ___ --print=file-names -Csplit-debuginfo=packed", CS_UNC_RUST_QUERY},
        {"--crate-name a a.rs -C incremental=/ws/target/debug/incremental", CS_UNC_INCREMENTAL},
        {"--crate-name a a.rs -Z unpretty=expanded", CS_UNC_UNSTABLE},
        {"--crate-name a a.rs -Zthreads=4", CS_UNC_UNSTABLE},
        {"--crate-name a a.rs --emit=asm", CS_UNC_RUST_EMIT},
        {"--crate-name a a.rs --emit=link=/tmp/x", CS_UNC_RUST_EMIT},
        {"--crate-name a a.rs --emit=link,metadata -o x", CS_UNC_RUST_EMIT},
        {"--crate-name a a.rs -C split-debuginfo=unpacked", CS_UNC_RUST_EMIT},
        {"--crate-name a a.rs --target wasm32-unknown-unknown", CS_UNC_RUST_TARGET},
        {"--crate-name a a.rs --target x86_64-unknown-linux-musl", CS_UNC_NONE},
        {"--crate-name a a.rs --frobnicate", CS_UNC_OPTION},
        {"--crate-name a a.rs --crate-type exe", CS_UNC_OPTION},
        {"--crate-name a a.rs -C target-cpu=native", CS_UNC_NATIVE},
        {"--crate-name a a.rs -C profile-generate=/tmp/p", CS_UNC_PROFILE},
        {"--crate-name a a.rs -L weird=/x", CS_UNC_OPTION},
        {"--crate-name a a.rs b.rs", CS_UNC_MULTIPLE},
        {"--crate-name a @args", CS_UNC_RESPONSE_FILE},
        {"--crate-name a -", CS_UNC_STDIN},
        {"--crate-name a", CS_UNC_RUST_QUERY},
        {"--crate-name a a.rs --crate-type proc-macro -C prefer-dynamic", CS_UNC_NONE},
        {"a.rs -o out/a", CS_UNC_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cs_rust_args a;
        char *copy;
        enum cs_uncacheable got = parse(cases[i].line, &a, &copy);
        ck_assert_msg(got == cases[i].want, "\"%s\": got %s, want %s", cases[i].line,
                      cs_uncacheable_name(got), cs_uncacheable_name(cases[i].want));
        cs_rust_args_free(&a);
        free(copy);
    }
}
END_TEST

START_TEST(lib_dirs_and_libs)
{
    struct cs_rust_args a;
    char *copy;
    ck_assert_int_eq(parse("--crate-name a a.rs -L native=/n -L /all -L crate=/c -l static=foo "
                           "-l dylib=bar:baz -lqux -C link-arg=-Tmy.ld",
                           &a, &copy),
                     CS_UNC_NONE);
    ck_assert(has(&a.native_dirs, "/n") && has(&a.native_dirs, "/all") &&
              !has(&a.native_dirs, "/c"));
    ck_assert(has(&a.crate_dirs, "/all") && has(&a.crate_dirs, "/c") && !has(&a.crate_dirs, "/n"));
    ck_assert(has(&a.native_libs, "foo") && has(&a.native_libs, "bar") &&
              has(&a.native_libs, "qux"));
    ck_assert(has(&a.link_files, "-Tmy.ld") && has(&a.link_files, "my.ld"));
    cs_rust_args_free(&a);
    free(copy);
}
END_TEST

static char *ps(const char *s)
{
    return (char *)s;
}

static void expect_norm(const struct cs_rust_roots *r, const char *in, const char *base,
                        const char *want)
{
    char *p = cs_rust_norm_path(r, in, base);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, want);
    free(p);
}

static void expect_denorm(const struct cs_rust_roots *r, const char *in, const char *want)
{
    char *p = cs_rust_denorm_path(r, in);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, want);
    free(p);
}

START_TEST(link_args_name_files)
{
    struct cs_rust_args a;
    char *copy;
    ck_assert_int_eq(parse("--crate-name a a.rs -C link-arg=-Wl,--version-script=v.map,-T,s.ld "
                           "-C link-args=@rsp -C link-arg=-lfoo -C link-arg=-L/opt/lib",
                           &a, &copy),
                     CS_UNC_NONE);
    ck_assert(has(&a.link_files, "v.map") && has(&a.link_files, "s.ld") &&
              has(&a.link_files, "rsp"));
    ck_assert(has(&a.native_libs, "foo") && has(&a.native_dirs, "/opt/lib"));
    cs_rust_args_free(&a);
    free(copy);
}
END_TEST

START_TEST(paths_to_placeholders)
{
    struct cs_rust_roots r = {ps("/ws"), ps("/ws/target/debug")};
    expect_norm(&r, "src/lib.rs", NULL, "src/lib.rs");
    expect_norm(&r, "/ws/src/lib.rs", NULL, "\001C/src/lib.rs"); /* not the same spelling */
    expect_norm(&r, "src/../x", NULL, "src/../x");               /* rustc opened it so */
    expect_norm(&r, "/ws/target/debug/deps/x", NULL, "\001T/deps/x");
    expect_norm(&r, "/ws2/x", NULL, "/ws2/x");                           /* not under /ws */
    expect_norm(&r, "/home/u/lib/x", "/home/u", "\001B../home/u/lib/x"); /* not "../home/u/lib/x" */
    expect_norm(&r, "/usr/share/x", "/home/u", "/usr/share/x");
    struct cs_rust_roots other = {ps("/elsewhere/ws"), ps("/elsewhere/ws/target/debug")};
    expect_denorm(&other, "\001T/deps/x", "/elsewhere/ws/target/debug/deps/x");
    expect_denorm(&other, "\001C/src/lib.rs", "/elsewhere/ws/src/lib.rs");
    ck_assert_ptr_null(cs_rust_denorm_path(&other, "\001Zsomething"));
    ck_assert(!cs_rust_under("/ws", "/"));
    ck_assert(cs_rust_under("/ws/a", "/ws") && cs_rust_under("/ws", "/ws"));
    ck_assert(!cs_rust_under("/wsa", "/ws"));
}
END_TEST

static char *round_trip(const struct cs_rust_roots *from, const struct cs_rust_roots *to,
                        const char *text)
{
    struct cs_bytes n = {0}, out = {0};
    ck_assert_int_eq(cs_rust_norm_text(from, (const uint8_t *)text, strlen(text), &n), CS_OK);
    ck_assert_int_eq(cs_rust_denorm_text(to, &n, &out), CS_OK);
    cs_bytes_free(&n);
    return (char *)out.data;
}

START_TEST(texts_to_placeholders)
{
    struct cs_rust_roots a = {ps("/a/ws"), ps("/a/ws/target/debug")};
    struct cs_rust_roots b = {ps("/b/checkout"), ps("/b/checkout/target/debug")};
    char *t = round_trip(&a, &b,
                         "{\"artifact\":\"/a/ws/target/debug/deps/libu.rmeta\",\"emit\":\"m\"}\n"
                         "/a/ws/target/debug/deps/u.d: util/src/lib.rs /a/ws/util/x.txt\n"
                         "/a/wsx/y /a/ws-other \001 /a/ws x/a/ws/y");
    ck_assert_str_eq(t,
                     "{\"artifact\":\"/b/checkout/target/debug/deps/libu.rmeta\",\"emit\":\"m\"}\n"
                     "/b/checkout/target/debug/deps/u.d: util/src/lib.rs /b/checkout/util/x.txt\n"
                     "/a/wsx/y /a/ws-other \001 /b/checkout x/a/ws/y");
    free(t);
    /* A target dir outside the working dir (a registry crate's call). */
    struct cs_rust_roots c = {ps("/usr/share/cargo/registry/x-1"), ps("/a/ws/target/debug")};
    struct cs_rust_roots d = {ps("/usr/share/cargo/registry/x-1"), ps("/b/t/debug")};
    t = round_trip(&c, &d,
                   "/a/ws/target/debug/build/x/out/gen.rs /usr/share/cargo/registry/x-1/src");
    ck_assert_str_eq(t, "/b/t/debug/build/x/out/gen.rs /usr/share/cargo/registry/x-1/src");
    free(t);
    struct cs_bytes bad = {0}, out = {0};
    cs_bytes_append(&bad, "x\001Zy", 4);
    ck_assert_int_eq(cs_rust_denorm_text(&a, &bad, &out), CS_ERR_INVALID);
    bad.len = 0;
    out.len = 0;
    cs_bytes_append(&bad, "x\001", 2);
    ck_assert_int_eq(cs_rust_denorm_text(&a, &bad, &out), CS_ERR_INVALID);
    cs_bytes_free(&bad);
    cs_bytes_free(&out);
    ck_assert(cs_rust_plain_path("/home/u/ws-1.2"));
    ck_assert(!cs_rust_plain_path("/home/u/my ws") && !cs_rust_plain_path("/a\"b") &&
              !cs_rust_plain_path("/a\\b") && !cs_rust_plain_path("/a:b"));
}
END_TEST

START_TEST(depinfo_files_and_env)
{
    struct cs_rust_depinfo d = {0};
    ck_assert_int_eq(cs_rust_depinfo_parse("/t/deps/u.d: src/lib.rs /w/my\\ file.txt src/a.rs\n\n"
                                           "src/lib.rs:\n/w/my\\ file.txt:\nsrc/a.rs:\n\n"
                                           "# env-dep:OUT_DIR=/t/build/u/out\n"
                                           "# env-dep:UTIL_FLAVOUR\n",
                                           &d),
                     CS_OK);
    ck_assert_uint_eq(d.files.n, 3);
    ck_assert_str_eq(d.files.v[1], "/w/my file.txt");
    ck_assert_uint_eq(d.env.n, 2);
    ck_assert_str_eq(d.env.v[0], "OUT_DIR=/t/build/u/out");
    ck_assert_str_eq(d.env.v[1], "UTIL_FLAVOUR");
    cs_rust_depinfo_free(&d);
    struct cs_rust_depinfo e = {0};
    ck_assert_int_eq(cs_rust_depinfo_parse("no target here\n", &e), CS_ERR_INVALID);
    cs_rust_depinfo_free(&e);
    setenv("CS_TEST_ENV", "a\nb\\c", 1);
    char *t = cs_rust_env_dep_text("CS_TEST_ENV");
    ck_assert_str_eq(t, "CS_TEST_ENV=a\\nb\\\\c");
    free(t);
    unsetenv("CS_TEST_ENV");
    t = cs_rust_env_dep_text("CS_TEST_ENV");
    ck_assert_str_eq(t, "CS_TEST_ENV");
    free(t);
}
END_TEST

START_TEST(result_roundtrip_and_hostile)
{
    struct cs_rust_result r = {0}, back;
    r.n = 2;
    r.out[0].name = ps("libu-1.rlib");
    r.out[0].size = 10;
    r.out[0].mode = 0644;
    memset(r.out[0].sha, 0xab, CS_SHA256_LEN);
    r.out[1].name = ps("u-1");
    r.out[1].mode = 0755;
    cs_bytes_append(&r.dep_info, "\001T/deps/u.d: x\n", 15);
    cs_bytes_append(&r.err_text, "warning\n", 8);
    r.pin = ps("C/usr/share/x\n");
    struct cs_bytes blob = {0};
    ck_assert_int_eq(cs_rust_result_encode(&r, &blob), CS_OK);
    ck_assert_int_eq(cs_rust_result_decode(blob.data, blob.len, &back), CS_OK);
    ck_assert_uint_eq(back.n, 2);
    ck_assert_str_eq(back.out[1].name, "u-1");
    ck_assert_uint_eq(back.out[1].mode, 0755);
    ck_assert_uint_eq(back.out[0].size, 10);
    ck_assert_mem_eq(back.out[0].sha, r.out[0].sha, CS_SHA256_LEN);
    ck_assert_uint_eq(back.dep_info.len, 15);
    ck_assert_uint_eq(back.out_text.len, 0);
    ck_assert_str_eq((char *)back.err_text.data, "warning\n");
    ck_assert_str_eq(back.pin, "C/usr/share/x\n");
    cs_rust_result_free(&back);
    /* Every truncation is refused. */
    for (size_t cut = 0; cut < blob.len; cut++)
        ck_assert_int_ne(cs_rust_result_decode(blob.data, cut, &back), CS_OK);
    /* A name that would leave the output dir is refused. */
    r.out[1].name = ps("../../etc/x");
    blob.len = 0;
    ck_assert_int_eq(cs_rust_result_encode(&r, &blob), CS_OK);
    ck_assert_int_ne(cs_rust_result_decode(blob.data, blob.len, &back), CS_OK);
    r.out[1].name = ps("..");
    blob.len = 0;
    ck_assert_int_eq(cs_rust_result_encode(&r, &blob), CS_OK);
    ck_assert_int_ne(cs_rust_result_decode(blob.data, blob.len, &back), CS_OK);
    cs_bytes_free(&blob);
    cs_bytes_free(&r.dep_info);
    cs_bytes_free(&r.err_text);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rust");
    TCase *tc = tcase_create("all");
    tcase_add_test(tc, cargo_lib_line);
    tcase_add_test(tc, what_is_not_cached);
    tcase_add_test(tc, lib_dirs_and_libs);
    tcase_add_test(tc, link_args_name_files);
    tcase_add_test(tc, paths_to_placeholders);
    tcase_add_test(tc, texts_to_placeholders);
    tcase_add_test(tc, depinfo_files_and_env);
    tcase_add_test(tc, result_roundtrip_and_hostile);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cs_run_suite(suite());
}
