/* rustc command line classification (see rust_args.h). Options are taken
 * as rustc's own parser takes them: long ones as --opt=V or --opt V, short
 * ones as -XV or -X V. An option this file does not know makes the call
 * uncacheable: it may name a file or change what is written. */
#include "autoconfig.h"

#include "client/rust_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Long options that take a value. */
static const char *const long_with_value[] = {
    "--crate-name",
    "--edition",
    "--crate-type",
    "--emit",
    "--print",
    "--out-dir",
    "--explain",
    "--target",
    "--sysroot",
    "--extern",
    "--error-format",
    "--json",
    "--color",
    "--diagnostic-width",
    "--remap-path-prefix",
    "--cap-lints",
    "--cfg",
    "--check-cfg",
    "--codegen",
    "--force-warn",
    "--allow",
    "--warn",
    "--deny",
    "--forbid",
    "--env-set",
};
/* Short options that take a value, joined (-Cfoo) or as the next word. */
static const char short_with_value[] = "CLloWADFZ";

static bool unc(struct cs_rust_args *a, enum cs_uncacheable r, const char *detail)
{
    /* A query wins: `rustc - --print cfg` is cargo asking, not compiling. */
    if (a->reason == CS_UNC_NONE || (r == CS_UNC_RUST_QUERY && a->reason != r)) {
        a->reason = r;
        a->reason_detail = detail;
    }
    return false;
}

static enum cs_status key(struct cs_rust_args *a, const char *opt, const char *path)
{
    enum cs_status rc = cs_strv_push(&a->key_opt, opt);
    return rc == CS_OK ? cs_strv_push(&a->key_path, path ? path : "") : rc;
}

static enum cs_status key2(struct cs_rust_args *a, const char *opt, const char *val)
{
    size_t n = strlen(opt) + strlen(val) + 2;
    char *s = malloc(n);
    if (!s)
        return CS_ERR_NOMEM;
    snprintf(s, n, "%s %s", opt, val);
    enum cs_status rc = key(a, s, NULL);
    free(s);
    return rc;
}

static enum cs_status crate_types(struct cs_rust_args *a, const char *v)
{
    char *copy = strdup(v), *save = NULL;
    if (!copy)
        return CS_ERR_NOMEM;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "bin"))
            a->types |= CS_RT_BIN;
        else if (!strcmp(t, "lib") || !strcmp(t, "rlib"))
            a->types |= CS_RT_LIB;
        else if (!strcmp(t, "dylib"))
            a->types |= CS_RT_DYLIB;
        else if (!strcmp(t, "cdylib"))
            a->types |= CS_RT_CDYLIB;
        else if (!strcmp(t, "staticlib"))
            a->types |= CS_RT_STATICLIB;
        else if (!strcmp(t, "proc-macro"))
            a->types |= CS_RT_PROC_MACRO;
        else
            unc(a, CS_UNC_OPTION, v);
    }
    free(copy);
    return key2(a, "--crate-type", v);
}

static enum cs_status emits(struct cs_rust_args *a, const char *v)
{
    char *copy = strdup(v), *save = NULL;
    if (!copy)
        return CS_ERR_NOMEM;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "dep-info"))
            a->emit |= CS_RE_DEP_INFO;
        else if (!strcmp(t, "metadata"))
            a->emit |= CS_RE_METADATA;
        else if (!strcmp(t, "link"))
            a->emit |= CS_RE_LINK;
        else
            unc(a, CS_UNC_RUST_EMIT, v); /* asm, obj, llvm-ir..., or KIND=PATH */
    }
    free(copy);
    return CS_OK; /* the emit set goes into the key as bits (rust.c) */
}

/* A linker argument: the files it may name (the word, each piece of
 * -Wl,a,b, what follows = or -T or @ in one) are hashed when they exist;
 * -lNAME and -LDIR are taken like -l and -L native=. */
static enum cs_status link_word(struct cs_rust_args *a, const char *w)
{
    enum cs_status rc = cs_strv_push(&a->link_files, w);
    char *copy = strdup(cs_starts_with(w, "-Wl,") ? w + 4 : w), *save = NULL;
    if (!copy)
        return CS_ERR_NOMEM;
    bool wl = cs_starts_with(w, "-Wl,");
    for (char *p = wl ? strtok_r(copy, ",", &save) : copy; p && rc == CS_OK;
         p = wl ? strtok_r(NULL, ",", &save) : NULL) {
        const char *eq = strchr(p, '=');
        if (wl)
            rc = cs_strv_push(&a->link_files, p);
        if (rc == CS_OK && eq)
            rc = cs_strv_push(&a->link_files, eq + 1);
        if (rc == CS_OK && (cs_starts_with(p, "-T") || p[0] == '@') && p[1 + (p[0] != '@')])
            rc = cs_strv_push(&a->link_files, p + 1 + (p[0] != '@'));
        if (rc == CS_OK && cs_starts_with(p, "-l") && p[2])
            rc = cs_strv_push(&a->native_libs, p + 2);
        if (rc == CS_OK && cs_starts_with(p, "-L") && p[2])
            rc = cs_strv_push(&a->native_dirs, p + 2);
    }
    free(copy);
    return rc;
}

/* -C NAME[=VALUE] */
static enum cs_status codegen(struct cs_rust_args *a, const char *v)
{
    const char *eq = strchr(v, '=');
    size_t n = eq ? (size_t)(eq - v) : strlen(v);
    const char *val = eq ? eq + 1 : "";
#define IS(s) (n == strlen(s) && !strncmp(v, s, n))
    if (IS("incremental"))
        return unc(a, CS_UNC_INCREMENTAL, v), CS_OK;
    if (IS("extra-filename")) {
        a->extra = val;
        return key2(a, "-C", v);
    }
    if (IS("linker")) {
        a->linker = val;
        return key(a, "-C linker=", val);
    }
    if (IS("split-debuginfo") && strcmp(val, "off") != 0)
        return unc(a, CS_UNC_RUST_EMIT, v), CS_OK; /* .dwo/.dwp files beside */
    if (IS("save-temps") || IS("dlltool") || IS("linker-plugin-lto") || IS("profile-sample-use"))
        return unc(a, CS_UNC_OPTION, v), CS_OK;
    if (IS("profile-generate") || IS("profile-use") || IS("instrument-coverage"))
        return unc(a, CS_UNC_PROFILE, v), CS_OK;
    if (IS("target-cpu") && !strcmp(val, "native"))
        return unc(a, CS_UNC_NATIVE, v), CS_OK;
    if (IS("link-arg") || IS("link-args")) {
        char *copy = strdup(val), *save = NULL;
        enum cs_status rc = copy ? CS_OK : CS_ERR_NOMEM;
        for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w && rc == CS_OK;
             w = strtok_r(NULL, " ", &save))
            rc = link_word(a, w);
        free(copy);
        if (rc != CS_OK)
            return rc;
    }
#undef IS
    return key2(a, "-C", v);
}

/* -L [KIND=]PATH */
static enum cs_status lib_dir(struct cs_rust_args *a, const char *v)
{
    const char *eq = strchr(v, '=');
    const char *path = v;
    char opt[32] = "-L";
    if (eq && (size_t)(eq - v) < 16) {
        snprintf(opt, sizeof opt, "-L %.*s=", (int)(eq - v), v);
        path = eq + 1;
    }
    bool dep = cs_starts_with(v, "dependency=");
    bool native = cs_starts_with(v, "native=") || cs_starts_with(v, "framework=");
    bool crate = cs_starts_with(v, "crate=");
    bool all = path == v || cs_starts_with(v, "all=");
    if (!dep && !native && !crate && !all)
        return unc(a, CS_UNC_OPTION, v), CS_OK;
    enum cs_status rc = CS_OK;
    if (native || all)
        rc = cs_strv_push(&a->native_dirs, path);
    if (rc == CS_OK && (crate || all))
        rc = cs_strv_push(&a->crate_dirs, path);
    return rc == CS_OK ? key(a, opt, path) : rc;
}

/* -l [KIND[:MODIFIERS]=]NAME[:RENAME] */
static enum cs_status native_lib(struct cs_rust_args *a, const char *v)
{
    const char *eq = strchr(v, '=');
    const char *name = eq ? eq + 1 : v;
    /* +verbatim: NAME is the file name itself; kept with a \001 in front. */
    bool verbatim = eq && memmem(v, (size_t)(eq - v), "+verbatim", 9) != NULL;
    size_t n = strcspn(name, ":");
    char *copy = malloc(n + 2);
    if (!copy)
        return CS_ERR_NOMEM;
    snprintf(copy, n + 2, "%s%.*s", verbatim ? "\001" : "", (int)n, name);
    enum cs_status rc = cs_strv_push_own(&a->native_libs, copy);
    return rc == CS_OK ? key2(a, "-l", v) : rc;
}

/* --extern [MODS:]NAME[=PATH] */
static enum cs_status extern_crate(struct cs_rust_args *a, const char *v)
{
    const char *eq = strchr(v, '=');
    if (!eq)
        return key2(a, "--extern", v);
    char *opt = malloc((size_t)(eq - v) + 16);
    if (!opt)
        return CS_ERR_NOMEM;
    sprintf(opt, "--extern %.*s=", (int)(eq - v), v);
    enum cs_status rc = key(a, opt, eq + 1);
    free(opt);
    return rc == CS_OK ? cs_strv_push(&a->externs, eq + 1) : rc;
}

/* --remap-path-prefix FROM=TO: rustc splits at the last '='. */
static enum cs_status remap(struct cs_rust_args *a, const char *v)
{
    const char *eq = strrchr(v, '=');
    if (!eq)
        return unc(a, CS_UNC_OPTION, v), CS_OK;
    char *from = strndup(v, (size_t)(eq - v));
    size_t n = strlen(eq) + 32;
    char *opt = malloc(n);
    enum cs_status rc = from && opt ? CS_OK : CS_ERR_NOMEM;
    if (rc == CS_OK) {
        snprintf(opt, n, "--remap-path-prefix %s", eq);
        rc = key(a, opt, from);
    }
    free(from);
    free(opt);
    return rc;
}

static bool target_is_elf(const char *t)
{
    size_t n = strlen(t);
    if (n > 5 && !strcmp(t + n - 5, ".json"))
        return true; /* a spec file: its content decides (rust.c) */
    return strstr(t, "-linux-") != NULL;
}

/* One option with its value (NULL for a flag). */
static enum cs_status option(struct cs_rust_args *a, const char *name, const char *v)
{
    if (!strcmp(name, "--crate-name")) {
        a->crate_name = v;
        return key2(a, name, v);
    }
    if (!strcmp(name, "--crate-type"))
        return crate_types(a, v);
    if (!strcmp(name, "--emit"))
        return emits(a, v);
    if (!strcmp(name, "--print") || !strcmp(name, "--explain"))
        return unc(a, CS_UNC_RUST_QUERY, v), CS_OK;
    if (!strcmp(name, "--out-dir")) {
        a->out_dir = v;
        return key(a, "--out-dir", v);
    }
    if (!strcmp(name, "-o")) {
        a->out_file = v;
        return CS_OK; /* the outputs' names are in the key (rust.c) */
    }
    if (!strcmp(name, "--target")) {
        a->target = v;
        if (!target_is_elf(v))
            return unc(a, CS_UNC_RUST_TARGET, v), CS_OK;
        return key2(a, name, v);
    }
    if (!strcmp(name, "--sysroot"))
        return key(a, "--sysroot", v);
    if (!strcmp(name, "--extern"))
        return extern_crate(a, v);
    if (!strcmp(name, "--remap-path-prefix"))
        return remap(a, v);
    if (!strcmp(name, "-C") || !strcmp(name, "--codegen"))
        return codegen(a, v);
    if (!strcmp(name, "-L"))
        return lib_dir(a, v);
    if (!strcmp(name, "-l"))
        return native_lib(a, v);
    if (!strcmp(name, "-Z"))
        return unc(a, CS_UNC_UNSTABLE, v), CS_OK;
    if (!strcmp(name, "--env-set"))
        return unc(a, CS_UNC_UNSTABLE, v), CS_OK;
    if (v)
        return key2(a, name, v); /* edition, cfg, lints, message formats */
    return key(a, name, NULL);
}

/* Options dropped from the dep-info pass: outputs and message formats. */
static bool dep_info_drops(const char *name)
{
    return !strcmp(name, "--emit") || !strcmp(name, "--out-dir") || !strcmp(name, "-o") ||
           !strcmp(name, "--error-format") || !strcmp(name, "--json") || !strcmp(name, "--color") ||
           !strcmp(name, "--diagnostic-width");
}

static bool is_long_with_value(const char *name)
{
    for (size_t i = 0; i < sizeof long_with_value / sizeof long_with_value[0]; i++)
        if (!strcmp(name, long_with_value[i]))
            return true;
    return false;
}

static bool is_flag(const char *s)
{
    return !strcmp(s, "-g") || !strcmp(s, "-O") || !strcmp(s, "--test") || !strcmp(s, "-v") ||
           !strcmp(s, "--verbose");
}

static bool is_query(const char *s)
{
    return !strcmp(s, "-V") || !strcmp(s, "--version") || !strcmp(s, "-vV") || !strcmp(s, "-Vv") ||
           !strcmp(s, "-h") || !strcmp(s, "--help");
}

enum cs_status cs_rust_args_parse(int argc, char *const *argv, struct cs_rust_args *a)
{
    memset(a, 0, sizeof *a);
    a->extra = "";
    enum cs_status rc = CS_OK;
    for (int i = 0; i < argc && rc == CS_OK; i++) {
        const char *s = argv[i];
        char name[64];
        const char *v = NULL;
        int first = i;
        if (s[0] == '@')
            unc(a, CS_UNC_RESPONSE_FILE, s);
        else if (!strcmp(s, "-"))
            unc(a, CS_UNC_STDIN, s);
        if (s[0] != '-' || !strcmp(s, "-") || s[0] == '@') {
            if (a->input)
                unc(a, CS_UNC_MULTIPLE, s);
            a->input = s;
            continue;
        }
        if (is_query(s)) {
            unc(a, CS_UNC_RUST_QUERY, s);
            continue;
        }
        if (is_flag(s)) {
            rc = option(a, s, NULL);
            if (rc == CS_OK)
                rc = cs_strv_push(&a->dep_info, s);
            continue;
        }
        if (s[1] == '-') {
            const char *eq = strchr(s, '=');
            size_t n = eq ? (size_t)(eq - s) : strlen(s);
            if (n >= sizeof name) {
                unc(a, CS_UNC_OPTION, s);
                continue;
            }
            memcpy(name, s, n);
            name[n] = 0;
            if (!is_long_with_value(name)) {
                unc(a, CS_UNC_OPTION, s);
                continue;
            }
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else {
                unc(a, CS_UNC_OPTION, s);
                continue;
            }
        } else {
            if (!strchr(short_with_value, s[1])) {
                unc(a, CS_UNC_OPTION, s);
                continue;
            }
            name[0] = '-';
            name[1] = s[1];
            name[2] = 0;
            if (s[2])
                v = s + 2;
            else if (i + 1 < argc)
                v = argv[++i];
            else {
                unc(a, CS_UNC_OPTION, s);
                continue;
            }
        }
        rc = option(a, name, v);
        for (int k = first; rc == CS_OK && k <= i && !dep_info_drops(name); k++)
            rc = cs_strv_push(&a->dep_info, argv[k]);
    }
    if (rc != CS_OK)
        return rc;
    if (!a->input)
        unc(a, CS_UNC_RUST_QUERY, NULL); /* rustc - --print..., or nothing to compile */
    if (!a->emit)
        a->emit = CS_RE_LINK;
    /* With -o, rustc derives the other outputs' names from it: only a
     * single output is taken. */
    if (a->out_file && (a->emit != CS_RE_LINK || (a->types & (a->types - 1)) != 0))
        unc(a, CS_UNC_RUST_EMIT, a->out_file);
    return CS_OK;
}

void cs_rust_args_free(struct cs_rust_args *a)
{
    cs_strv_free(&a->key_opt);
    cs_strv_free(&a->key_path);
    cs_strv_free(&a->externs);
    cs_strv_free(&a->native_dirs);
    cs_strv_free(&a->crate_dirs);
    cs_strv_free(&a->native_libs);
    cs_strv_free(&a->link_files);
    cs_strv_free(&a->dep_info);
}

void cs_rust_types_name(unsigned types, char *buf, size_t len)
{
    static const char *const names[] = {"bin", "lib", "dylib", "cdylib", "staticlib", "proc-macro"};
    size_t at = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < 6; i++)
        if (types & (1u << i)) {
            int n = snprintf(buf + at, len - at, "%s%s", at ? "," : "", names[i]);
            if (n < 0 || (size_t)n >= len - at)
                return;
            at += (size_t)n;
        }
    if (!at)
        snprintf(buf, len, "bin");
}
