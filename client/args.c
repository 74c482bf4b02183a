/* Compiler argument classification for gcc and clang: the command line
 * read option by option (args_cc1.c: what is handed on to cc1; args_files.c:
 * files named in options and clang configuration files; args_prefix_map.c:
 * the prefix maps). Unknown options are passed on and hashed; an option
 * whose effect the cache cannot reproduce, or any doubt about what the
 * inputs are, makes the call uncacheable. */
#include "autoconfig.h"

#include "client/args.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/args_priv.h"

static const char *const reason_names[CS_UNC_COUNT] = {
    [CS_UNC_NONE] = "none",
    [CS_UNC_LINK] = "link",
    [CS_UNC_PREPROCESS] = "preprocess_only",
    [CS_UNC_ASSEMBLY_OUT] = "assembly_output",
    [CS_UNC_MULTIPLE] = "multiple_sources",
    [CS_UNC_NO_INPUT] = "no_input",
    [CS_UNC_NOT_SOURCE] = "not_a_source",
    [CS_UNC_STDIN] = "stdin_input",
    [CS_UNC_PCH] = "precompiled_header",
    [CS_UNC_PROFILE] = "profile_or_coverage",
    [CS_UNC_RESPONSE_FILE] = "response_file",
    [CS_UNC_OPTION] = "unsupported_option",
    [CS_UNC_NATIVE] = "native_arch",
    [CS_UNC_SPECIAL_FILE] = "special_file",
    [CS_UNC_ARCH] = "multiple_arch",
    [CS_UNC_INCREMENTAL] = "incremental",
    [CS_UNC_RUST_QUERY] = "rust_query",
    [CS_UNC_RUST_EMIT] = "rust_emit",
    [CS_UNC_UNSTABLE] = "unstable_option",
    [CS_UNC_RUST_TARGET] = "rust_target",
    [CS_UNC_UNUSUAL_PATH] = "unusual_path",
    [CS_UNC_UNKNOWN_DEPS] = "unknown_dependency",
    [CS_UNC_CODE_DIRECTIVE] = "code_directive",
    [CS_UNC_NO_LINE_MARKERS] = "no_line_markers",
};

const char *cs_uncacheable_name(enum cs_uncacheable r)
{
    return r < CS_UNC_COUNT ? reason_names[r] : "unknown";
}

enum { ARG_PLAIN, ARG_PATH };

/* Options whose value is the next argument (or joined to them). */
static const struct {
    const char *name;
    int kind;
} with_value[] = {
    {"-I", ARG_PATH},           {"-isystem", ARG_PATH},
    {"-iquote", ARG_PATH},      {"-idirafter", ARG_PATH},
    {"-include", ARG_PATH},     {"-imacros", ARG_PATH},
    {"-isysroot", ARG_PATH},    {"--sysroot", ARG_PATH},
    {"-B", ARG_PATH},           {"-iprefix", ARG_PATH},
    {"-iwithprefix", ARG_PATH}, {"-iwithprefixbefore", ARG_PATH},
    {"-L", ARG_PATH},           {"-D", ARG_PLAIN},
    {"-U", ARG_PLAIN},          {"-Xassembler", ARG_PLAIN},
    {"-Xlinker", ARG_PLAIN}, /* -Xclang etc.: cs_args_forwarded() */
    {"-target", ARG_PLAIN},     {"-A", ARG_PLAIN},
    {"--param", ARG_PLAIN},     {"-u", ARG_PLAIN},
    {"-l", ARG_PLAIN},          {"-T", ARG_PLAIN},
    {"-G", ARG_PLAIN},          {"-gcc-toolchain", ARG_PATH},
    {"-imultilib", ARG_PLAIN},  {"-ivfsoverlay", ARG_PATH},
    {"-arch", ARG_PLAIN},
};

void cs_args_uncacheable(struct args_state *p, enum cs_uncacheable r, const char *detail)
{
    if (p->a->reason == CS_UNC_NONE) {
        p->a->reason = r;
        /* A configuration file's words do not outlive their reading. */
        p->a->reason_detail = p->in_config ? NULL : detail;
    }
}

/* The path the compiler should see: relative to cwd when under basedir. */
char *cs_args_rewrite_path(const struct args_state *p, const char *path)
{
    if (!p->basedir || path[0] != '/')
        return strdup(path);
    char *abs = cs_path_absolute(path, "/");
    if (!abs)
        return NULL;
    bool nomem;
    char *rel = cs_path_relative_under(abs, p->basedir, p->cwd, &nomem);
    free(abs);
    if (nomem)
        return NULL;
    return rel ? rel : strdup(path);
}

char *cs_args_concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

/* Pushes s to the lists named by the flags. */
enum cs_status cs_args_push(struct args_state *p, int to, const char *s)
{
    enum cs_status rc = CS_OK;
    /* The compiler reads a configuration file's options itself. */
    if (p->in_config)
        to &= TO_HASH;
    if ((to & TO_PP) && (rc = cs_strv_push(&p->a->pp, s)) != CS_OK)
        return rc;
    if ((to & TO_CC) && (rc = cs_strv_push(&p->a->cc, s)) != CS_OK)
        return rc;
    if (to & TO_HASH)
        rc = cs_strv_push(&p->a->hashed, s);
    return rc;
}

static const char *lang_of_suffix(const char *path, enum cs_uncacheable *why)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    *why = CS_UNC_NONE;
    if (!dot) {
        *why = CS_UNC_NOT_SOURCE;
        return NULL;
    }
    dot++;
    static const struct {
        const char *ext, *lang;
        enum cs_uncacheable why;
    } map[] = {
        {"c", "c", 0},
        {"cc", "c++", 0},
        {"cp", "c++", 0},
        {"cxx", "c++", 0},
        {"cpp", "c++", 0},
        {"CPP", "c++", 0},
        {"c++", "c++", 0},
        {"C", "c++", 0},
        {"m", "objective-c", 0},
        {"mm", "objective-c++", 0},
        {"M", "objective-c++", 0},
        {"S", "assembler-with-cpp", 0},
        {"sx", "assembler-with-cpp", 0},
        {"h", NULL, CS_UNC_PCH},
        {"hh", NULL, CS_UNC_PCH},
        {"hpp", NULL, CS_UNC_PCH},
        {"hxx", NULL, CS_UNC_PCH},
        {"H", NULL, CS_UNC_PCH},
        {"h++", NULL, CS_UNC_PCH},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(dot, map[i].ext) == 0) {
            *why = map[i].why;
            return map[i].lang;
        }
    *why = CS_UNC_NOT_SOURCE;
    return NULL;
}

static enum cs_status take_input(struct args_state *p, const char *arg)
{
    p->inputs++;
    p->seen_input = true;
    if (p->inputs > 1)
        return CS_OK;
    enum cs_uncacheable why = CS_UNC_NONE;
    const char *lang = NULL;
    if (p->lang_x && strcmp(p->lang_x, "none") != 0) {
        lang = p->lang_x;
        if (strstr(lang, "-header"))
            why = CS_UNC_PCH;
        else if (strcmp(lang, "c") && strcmp(lang, "c++") && strcmp(lang, "objective-c") &&
                 strcmp(lang, "objective-c++") && strcmp(lang, "assembler-with-cpp"))
            why = CS_UNC_NOT_SOURCE;
    } else {
        lang = lang_of_suffix(arg, &why);
    }
    if (why != CS_UNC_NONE) {
        p->input_reason = why;
        p->a->reason_detail = arg;
    }
    p->a->lang = lang;
    struct stat st;
    if (why == CS_UNC_NONE && (stat(arg, &st) != 0 || !S_ISREG(st.st_mode))) {
        p->input_reason = CS_UNC_SPECIAL_FILE;
        p->a->reason_detail = arg;
    }
    char *in = cs_args_rewrite_path(p, arg);
    if (!in)
        return CS_ERR_NOMEM;
    p->a->input = in;
    return cs_args_push(p, TO_ALL, in);
}

static bool is_profile_option(const char *s)
{
    return cs_starts_with(s, "-fprofile-") || cs_starts_with(s, "-fauto-profile") ||
           !strcmp(s, "-fbranch-probabilities") || !strcmp(s, "-ftest-coverage") ||
           !strcmp(s, "--coverage") || !strcmp(s, "-coverage") || !strcmp(s, "-fprofile-arcs");
}

static bool is_unsupported_option(const char *s)
{
    static const char *const exact[] = {"-fsyntax-only", "-frepo",        "-###",       "-v",
                                        "--help",        "--version",     "-MG",        "--",
                                        "-fmodules",     "-fcxx-modules", "-pipe-never"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcmp(s, exact[i]))
            return true;
    return cs_starts_with(s, "-save-temps") || cs_starts_with(s, "-fdump-") ||
           cs_starts_with(s, "-print-") || cs_starts_with(s, "-dump") ||
           cs_starts_with(s, "-fmodules-") || cs_starts_with(s, "-fstack-usage") ||
           cs_starts_with(s, "-fcallgraph-info") || cs_starts_with(s, "-aux-info") ||
           cs_starts_with(s, "-ftime-trace") || cs_starts_with(s, "--serialize-diagnostics") ||
           cs_starts_with(s, "--config-"); /* --config-system-dir= etc.: where configs are found */
}

/* An assembler option (s[0..n), a piece of -Wa, or an -Xassembler value)
 * that writes a file besides the object, which a hit would not restore: a
 * listing (-a[cdghlmns]=FILE), gas's dependency file (--MD FILE, or --M
 * as its getopt abbreviates it), -o; or reads one no key holds: an extra
 * input (-Wa,macros.s, the kernel's old trick), a regular file named
 * without an option. */
static bool assembler_writes_file(const char *s, size_t n)
{
    if (n > 0 && s[0] != '-') {
        char name[4096];
        struct stat st;
        if (n >= sizeof name)
            return true;
        memcpy(name, s, n);
        name[n] = '\0';
        if (stat(name, &st) == 0 && S_ISREG(st.st_mode))
            return true;
    }
    return (n > 2 && s[0] == '-' && s[1] == 'a' && memchr(s, '=', n)) ||
           (n >= 3 && !strncmp(s, "--M", 3)) || (n >= 3 && !strncmp(s, "-MD", 3)) ||
           (n >= 2 && !strncmp(s, "-o", 2));
}

static bool wa_writes_file(const char *arg)
{
    for (const char *s = arg + 4;; s++) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (assembler_writes_file(s, n))
            return true;
        if (!comma)
            return false;
        s = comma;
    }
}

/* Options whose output goes to a file besides the object: with '=', gcc's
 * -fopt-info writes its report there; clang's optimization records and
 * process statistics; -MJ's compilation database entry; split DWARF. */
static bool writes_side_file(const char *s)
{
    return (cs_starts_with(s, "-fopt-info") && strchr(s, '=')) ||
           cs_starts_with(s, "-fsave-optimization-record") ||
           cs_starts_with(s, "-foptimization-record-file") ||
           cs_starts_with(s, "-fproc-stat-report=") || cs_starts_with(s, "-MJ") ||
           cs_starts_with(s, "-save-stats") || cs_starts_with(s, "--save-stats") ||
           cs_starts_with(s, "-gsplit-dwarf") ||
           (cs_starts_with(s, "-fdiagnostics-format=") && strstr(s, "-file")) ||
           cs_starts_with(s, "-fdiagnostics-add-output") ||
           (cs_starts_with(s, "-Wa,") && wa_writes_file(s));
}

/* clang's C++ modules: a module file or map read that no key holds. */
static bool is_module_option(const char *s)
{
    return cs_starts_with(s, "-fmodule-file") || cs_starts_with(s, "-fprebuilt-module-path") ||
           cs_starts_with(s, "-fmodule-map-file") || !strcmp(s, "-fimplicit-module-maps");
}

static bool is_pch_option(const char *s)
{
    /* -fpreprocessed: cc1 loads the .gch a #pragma GCC pch_preprocess names */
    return !strcmp(s, "-include-pch") || !strcmp(s, "-fpch-preprocess") ||
           !strcmp(s, "-fpreprocessed") || !strcmp(s, "--preprocessed") ||
           !strcmp(s, "-emit-pch") || cs_starts_with(s, "-fpch-") || !strcmp(s, "-Xclang-emit-pch");
}

bool cs_args_refuse_option(struct args_state *p, const char *arg)
{
    enum cs_uncacheable r = CS_UNC_NONE;
    if (is_profile_option(arg))
        r = CS_UNC_PROFILE;
    else if (cs_starts_with(arg, "-Wa,") && strstr(arg, ",@"))
        r = CS_UNC_RESPONSE_FILE; /* the assembler reads it: in no key */
    else if (is_pch_option(arg))
        r = CS_UNC_PCH;
    else if (is_unsupported_option(arg) || writes_side_file(arg) || is_module_option(arg))
        r = CS_UNC_OPTION;
    if (r != CS_UNC_NONE)
        cs_args_uncacheable(p, r, arg);
    return r != CS_UNC_NONE;
}

#define WITH_VALUES (sizeof with_value / sizeof with_value[0])

/* The value joined to arg, which starts with with_value[k]'s name and goes
 * on (-Ifoo, -DX=1, --sysroot=/x); NULL when arg is another option: a
 * longer option that merely starts with a short name (-include vs -I…) is
 * matched by its own entry, and of several matching names (-imacros vs
 * -isystem etc.) the longest wins. */
static const char *joined_value(const char *arg, size_t k)
{
    const char *name = with_value[k].name, *value;
    size_t n = strlen(name);
    if (n == 2 || (name[1] == '-' && arg[n] == '='))
        value = arg + n + (arg[n] == '=' ? 1 : 0);
    else if (n > 2 && name[1] != '-')
        value = arg + n;
    else
        return NULL;
    for (size_t m = 0; m < WITH_VALUES; m++)
        if (m != k && strlen(with_value[m].name) > n && cs_starts_with(arg, with_value[m].name))
            return NULL;
    return value;
}

/* with_value[k] given as arg with value (joined to it or the next
 * argument): pushed with the value rewritten if it is a path. */
static enum cs_status push_value_option(struct args_state *p, const char *arg, size_t k,
                                        const char *value, bool joined)
{
    const char *name = with_value[k].name;
    if (!strcmp(name, "-arch"))
        p->arches++;
    char *v = with_value[k].kind == ARG_PATH ? cs_args_rewrite_path(p, value) : strdup(value);
    if (!v)
        return CS_ERR_NOMEM;
    enum cs_status rc;
    if (joined) {
        char *head = strndup(arg, (size_t)(value - arg));
        char *whole = head ? cs_args_concat(head, v) : NULL;
        free(head);
        rc = whole ? cs_args_push(p, TO_ALL, whole) : CS_ERR_NOMEM;
        free(whole);
    } else {
        rc = cs_args_push(p, TO_ALL, arg);
        if (rc == CS_OK)
            rc = cs_args_push(p, TO_ALL, v);
    }
    free(v);
    if (!strcmp(name, "-Xassembler") && assembler_writes_file(value, strlen(value)))
        cs_args_uncacheable(p, CS_UNC_OPTION, arg);
    if (rc == CS_OK && !strcmp(name, "-ivfsoverlay"))
        rc = cs_args_overlay_file(p, arg, value);
    return rc;
}

/* An option with a value, separate or joined; *used is how many argv
 * entries it took (0: not such an option). */
static enum cs_status value_option(struct args_state *p, int argc, char *const *argv, int i,
                                   int *used)
{
    const char *arg = argv[i];
    *used = 0;
    for (size_t k = 0; k < WITH_VALUES; k++) {
        size_t n = strlen(with_value[k].name);
        if (strncmp(arg, with_value[k].name, n) != 0)
            continue;
        bool joined = arg[n] != '\0';
        const char *value = joined ? joined_value(arg, k) : i + 1 < argc ? argv[i + 1] : NULL;
        if (joined && !value)
            continue;
        if (!value) {
            cs_args_uncacheable(p, CS_UNC_OPTION, arg);
            *used = 1;
            return cs_args_push(p, TO_ALL, arg);
        }
        *used = joined ? 1 : 2;
        return push_value_option(p, arg, k, value, joined);
    }
    return CS_OK;
}

/* "-" and the inputs. */
static enum cs_status operand(struct args_state *p, const char *arg)
{
    if (!strcmp(arg, "-")) {
        cs_args_uncacheable(p, CS_UNC_STDIN, arg);
        return cs_args_push(p, TO_ALL, arg);
    }
    return take_input(p, arg);
}

/* -c, -E, -S, -M and -MM: what the call makes. */
static enum cs_status action_option(struct args_state *p, const char *arg, bool *handled)
{
    *handled = true;
    if (!strcmp(arg, "-c")) {
        p->compile_only = true;
        return CS_OK; /* added back once, at the end */
    }
    if (!strcmp(arg, "-E"))
        p->has_E = true;
    else if (!strcmp(arg, "-S"))
        p->has_S = true;
    else if (!strcmp(arg, "-M") || !strcmp(arg, "-MM"))
        p->has_M = true;
    else
        *handled = false;
    return *handled ? cs_args_push(p, TO_ALL, arg) : CS_OK;
}

/* The value of argv[*i], an option of n characters: joined to it, or the
 * next argument (*i moves to it); NULL when there is none. */
static const char *option_value(size_t n, int argc, char *const *argv, int *i)
{
    const char *arg = argv[*i];
    return arg[n] ? arg + n : *i + 1 < argc ? argv[++*i] : NULL;
}

/* An option whose value is missing: passed on, not cached. */
static enum cs_status no_value(struct args_state *p, const char *arg)
{
    cs_args_uncacheable(p, CS_UNC_OPTION, arg);
    return cs_args_push(p, TO_ALL, arg);
}

/* -o FILE: the object, added at the end to the compile only. */
static enum cs_status output_option(struct args_state *p, int argc, char *const *argv, int *i,
                                    bool *handled)
{
    const char *arg = argv[*i];
    *handled = cs_starts_with(arg, "-o");
    if (!*handled)
        return CS_OK;
    const char *v = option_value(2, argc, argv, i);
    if (!v)
        return no_value(p, arg);
    free(p->a->output);
    if (!(p->a->output = cs_args_rewrite_path(p, v)))
        return CS_ERR_NOMEM;
    p->output_given = true;
    return CS_OK;
}

/* -x LANG, before the input only. */
static enum cs_status lang_option(struct args_state *p, int argc, char *const *argv, int *i,
                                  bool *handled)
{
    const char *arg = argv[*i];
    *handled = cs_starts_with(arg, "-x");
    if (!*handled)
        return CS_OK;
    const char *v = option_value(2, argc, argv, i);
    if (!v || p->seen_input)
        return no_value(p, arg);
    p->lang_x = v;
    enum cs_status rc = cs_args_push(p, TO_ALL, "-x");
    return rc == CS_OK ? cs_args_push(p, TO_ALL, v) : rc;
}

/* -MD, -MMD and -MP: a dependency file is written, and how. */
static enum cs_status dep_option(struct args_state *p, const char *arg, bool *handled)
{
    bool md = !strcmp(arg, "-MD") || !strcmp(arg, "-MMD");
    *handled = md || !strcmp(arg, "-MP");
    if (md)
        p->a->dep = true;
    if (!strcmp(arg, "-MMD"))
        p->a->dep_user_only = true;
    return *handled ? cs_args_push(p, TO_CC | TO_HASH, arg) : CS_OK;
}

/* -MF FILE (the dependency file), -MT and -MQ TARGET (its target). */
static enum cs_status dep_value_option(struct args_state *p, int argc, char *const *argv, int *i,
                                       bool *handled)
{
    const char *arg = argv[*i];
    *handled =
        cs_starts_with(arg, "-MF") || cs_starts_with(arg, "-MT") || cs_starts_with(arg, "-MQ");
    if (!*handled)
        return CS_OK;
    const char *v = option_value(3, argc, argv, i);
    if (!v)
        return no_value(p, arg);
    char opt[4] = {arg[0], arg[1], arg[2], 0};
    enum cs_status rc;
    if (arg[2] == 'F') {
        p->dep_mf = true;
        free(p->a->dep_file);
        if (!(p->a->dep_file = cs_args_rewrite_path(p, v)))
            return CS_ERR_NOMEM;
        if ((rc = cs_args_push(p, TO_CC, opt)) != CS_OK)
            return rc;
        return cs_args_push(p, TO_CC, p->a->dep_file);
    }
    p->a->dep_target_given = true;
    if ((rc = cs_args_push(p, TO_CC | TO_HASH, opt)) != CS_OK)
        return rc;
    return cs_args_push(p, TO_CC | TO_HASH, v);
}

static bool is_native_option(const char *s)
{
    return !strcmp(s, "-march=native") || !strcmp(s, "-mcpu=native") || !strcmp(s, "-mtune=native");
}

/* Any other option: checked, then passed on and hashed, with its value if
 * it takes one; *i moves past the value. */
static enum cs_status other_option(struct args_state *p, int argc, char *const *argv, int *i)
{
    const char *arg = argv[*i];
    int used;
    if (!cs_args_refuse_option(p, arg) && is_native_option(arg))
        cs_args_uncacheable(p, CS_UNC_NATIVE, arg);
    if (cs_starts_with(arg, "-fdebug-prefix-map=") || cs_starts_with(arg, "-ffile-prefix-map=") ||
        cs_starts_with(arg, "-fmacro-prefix-map="))
        return cs_args_prefix_map(p, arg);
    if (cs_starts_with(arg, "-g") && !cs_starts_with(arg, "-gcc-toolchain"))
        p->a->debug = strcmp(arg, "-g0") != 0;
    /* the assembler's own debug info records the working directory too */
    if (cs_starts_with(arg, "-Wa,") &&
        (strstr(arg, ",-g") || strstr(arg, ",--gen-debug") || strstr(arg, ",--gdwarf")))
        p->a->debug = true;
    enum cs_status rc = value_option(p, argc, argv, *i, &used);
    if (rc != CS_OK)
        return rc;
    if (used) {
        *i += used - 1;
        return CS_OK;
    }
    return cs_args_push(p, TO_ALL, arg);
}

enum cs_status cs_args_one(struct args_state *p, int argc, char *const *argv, int *i)
{
    const char *arg = argv[*i];
    enum cs_status rc;
    bool handled;

    if (p->in_config && cs_args_config_refused(arg)) {
        cs_args_uncacheable(p, CS_UNC_OPTION, NULL);
        return cs_args_push(p, TO_HASH, arg);
    }
    if (arg[0] != '-' || arg[1] == '\0')
        return operand(p, arg);
    if ((rc = action_option(p, arg, &handled)) != CS_OK || handled)
        return rc;
    if ((rc = output_option(p, argc, argv, i, &handled)) != CS_OK || handled)
        return rc;
    if ((rc = lang_option(p, argc, argv, i, &handled)) != CS_OK || handled)
        return rc;
    if ((rc = dep_option(p, arg, &handled)) != CS_OK || handled)
        return rc;
    if ((rc = dep_value_option(p, argc, argv, i, &handled)) != CS_OK || handled)
        return rc;
    if (cs_starts_with(arg, "-Wp,"))
        return cs_args_wp_option(p, arg);
    if (!strcmp(arg, "-Xclang") || !strcmp(arg, "-Xpreprocessor"))
        return cs_args_forwarded(p, argc, argv, i);
    if ((rc = cs_args_file_option(p, argc, argv, i, &handled)) != CS_OK || handled)
        return rc;
    if (cs_starts_with(arg, "-fplugin-arg-") && strchr(arg, '=')) {
        if ((rc = cs_args_push(p, TO_PP | TO_CC, arg)) != CS_OK)
            return rc;
        return cs_args_plugin_arg(p, arg, strchr(arg, '=') + 1);
    }
    if ((rc = cs_args_long_option(p, argc, argv, i, &handled)) != CS_OK || handled)
        return rc;
    return other_option(p, argc, argv, i);
}

/* Splits a response file's text the way gcc does: whitespace separates,
 * quotes group, backslash escapes. */
enum cs_status cs_args_split_words(const char *text, struct cs_strv *out)
{
    struct cs_bytes word = {0};
    enum cs_status rc = CS_OK;
    bool in_word = false;
    char quote = 0;
    for (const char *s = text; rc == CS_OK; s++) {
        char c = *s;
        if (c == '\0' || (!quote && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))) {
            if (in_word) {
                rc = cs_strv_push(out, word.data ? (char *)word.data : "");
                word.len = 0;
                if (word.data)
                    word.data[0] = 0;
                in_word = false;
            }
            if (c == '\0')
                break;
            continue;
        }
        in_word = true;
        if (quote && c == quote)
            quote = 0;
        else if (!quote && (c == '"' || c == '\''))
            quote = c;
        else if (c == '\\' && s[1])
            rc = cs_bytes_append(&word, ++s, 1);
        else
            rc = cs_bytes_append(&word, &c, 1);
    }
    cs_bytes_free(&word);
    return rc;
}

/* argv with every @file replaced by its contents (nested up to 8 deep). */
static enum cs_status expand_response_files(int argc, char *const *argv, struct cs_strv *out,
                                            int depth, bool *unreadable)
{
    for (int i = 0; i < argc; i++) {
        enum cs_status rc;
        if (argv[i][0] != '@') {
            if ((rc = cs_strv_push(out, argv[i])) != CS_OK)
                return rc;
            continue;
        }
        struct cs_bytes text = {0};
        struct cs_strv words = {0};
        if (depth >= 8 || cs_read_file(argv[i] + 1, 1 << 20, &text) != CS_OK) {
            *unreadable = true;
            cs_bytes_free(&text);
            if ((rc = cs_strv_push(out, argv[i])) != CS_OK)
                return rc;
            continue;
        }
        rc = cs_args_split_words(text.data ? (char *)text.data : "", &words);
        if (rc == CS_OK)
            rc = expand_response_files((int)words.n, words.v, out, depth + 1, unreadable);
        cs_bytes_free(&text);
        cs_strv_free(&words);
        if (rc != CS_OK)
            return rc;
    }
    return CS_OK;
}

/* gcc's name for a derived file: dir-less base of path, suffix replaced. */
static char *replace_suffix(const char *path, const char *suffix, bool strip_dir)
{
    const char *base = path;
    if (strip_dir) {
        const char *slash = strrchr(path, '/');
        if (slash)
            base = slash + 1;
    }
    const char *slash = strrchr(base, '/');
    const char *dot = strrchr(slash ? slash : base, '.');
    size_t n = dot ? (size_t)(dot - base) : strlen(base);
    char *s = malloc(n + strlen(suffix) + 1);
    if (s) {
        memcpy(s, base, n);
        strcpy(s + n, suffix);
    }
    return s;
}

static enum cs_status finish(struct args_state *p)
{
    struct cs_args *a = p->a;
    enum cs_status rc;
    /* An unreadable @file may hold -c or -E: nothing else can be told. */
    if (a->reason == CS_UNC_RESPONSE_FILE)
        return CS_OK;
    if (p->has_E || p->has_M)
        a->reason = CS_UNC_PREPROCESS, a->reason_detail = NULL;
    else if (p->dep_wp && p->dep_mf) /* which file the rule is in: not told */
        a->reason = CS_UNC_OPTION, a->reason_detail = NULL;
    else if (p->has_S)
        a->reason = CS_UNC_ASSEMBLY_OUT, a->reason_detail = NULL;
    else if (!p->compile_only)
        a->reason = CS_UNC_LINK, a->reason_detail = NULL;
    if (a->reason != CS_UNC_NONE)
        return CS_OK;
    if (p->inputs == 0)
        return cs_args_uncacheable(p, CS_UNC_NO_INPUT, NULL), CS_OK;
    if (p->inputs > 1)
        return cs_args_uncacheable(p, CS_UNC_MULTIPLE, NULL), CS_OK;
    if (p->input_reason != CS_UNC_NONE)
        return cs_args_uncacheable(p, p->input_reason, a->reason_detail), CS_OK;
    if (p->arches > 1)
        return cs_args_uncacheable(p, CS_UNC_ARCH, NULL), CS_OK;
    if (!a->output && !(a->output = replace_suffix(a->input, ".o", true)))
        return CS_ERR_NOMEM;
    struct stat st;
    if (!strcmp(a->output, "-") || (stat(a->output, &st) == 0 && !S_ISREG(st.st_mode)))
        return cs_args_uncacheable(p, CS_UNC_SPECIAL_FILE, a->output), CS_OK;
    if (a->dep && !a->dep_file) {
        a->dep_file = p->output_given ? replace_suffix(a->output, ".d", false)
                                      : replace_suffix(a->input, ".d", true);
        if (!a->dep_file)
            return CS_ERR_NOMEM;
    }
    /* a hit replaces the dependency file by rename: -MF /dev/null (as root)
     * would make /dev/null a regular file */
    if (a->dep_file &&
        (!strcmp(a->dep_file, "-") || (stat(a->dep_file, &st) == 0 && !S_ISREG(st.st_mode))))
        return cs_args_uncacheable(p, CS_UNC_SPECIAL_FILE, a->dep_file), CS_OK;
    if ((rc = cs_args_push(p, TO_CC | TO_HASH, "-c")) != CS_OK)
        return rc;
    if (p->output_given) {
        if ((rc = cs_args_push(p, TO_CC, "-o")) != CS_OK ||
            (rc = cs_args_push(p, TO_CC, a->output)) != CS_OK)
            return rc;
    }
    return cs_args_push(p, TO_PP, "-E");
}

enum cs_status cs_args_parse(int argc, char *const *argv, const char *cwd, const char *basedir,
                             struct cs_args *a)
{
    memset(a, 0, sizeof *a);
    struct args_state p = {.cwd = cwd, .basedir = basedir, .a = a};
    struct cs_strv args = {0};
    bool unreadable = false;
    enum cs_status rc = expand_response_files(argc, argv, &args, 0, &unreadable);
    if (rc == CS_OK && unreadable)
        cs_args_uncacheable(&p, CS_UNC_RESPONSE_FILE, NULL);
    for (int i = 0; rc == CS_OK && i < (int)args.n; i++)
        rc = cs_args_one(&p, (int)args.n, args.v, &i);
    /* reason_detail may point into args: keep only details that outlive it. */
    if (a->reason_detail && a->reason_detail != a->output && a->reason_detail != a->input)
        a->reason_detail = NULL;
    if (rc == CS_OK)
        rc = finish(&p);
    if (rc == CS_OK && a->reason == CS_UNC_NONE)
        cs_args_overlay_check(&p);
    if (a->reason_detail && a->reason_detail != a->output && a->reason_detail != a->input)
        a->reason_detail = NULL;
    cs_strv_free(&args);
    if (p.lang_x && a->lang == p.lang_x)
        a->lang = "explicit";
    return rc;
}

void cs_args_free(struct cs_args *a)
{
    free(a->input);
    free(a->output);
    free(a->dep_file);
    cs_strv_free(&a->pp);
    cs_strv_free(&a->cc);
    cs_strv_free(&a->hashed);
    cs_strv_free(&a->debug_maps);
    memset(a, 0, sizeof *a);
}
