/* gcc's long spellings of short options (--output=FILE, --compile,
 * --write-user-dependencies, --include-directory DIR...). Each that gcc
 * and clang both take alike is read as the short option it stands for, so
 * that option's checks apply (a --user-dependencies is -MM, not a compile;
 * --write-dependencies writes a dependency file a hit must restore), and
 * the compiler is handed the short form. A long option of gcc's alone,
 * and an abbreviation of any (gcc takes --write-u for
 * --write-user-dependencies), is passed on and not cached.
 *
 * gcc reads any other --X as -fX and --no-X as -fno-X (--profile-use=P is
 * -fprofile-use=P): when that -f option is one the classification treats
 * specially (a profile, a plugin, a file written besides the object...),
 * the call is not cached; else --X is passed on as it is (clang's own, or
 * a value such as -mllvm's). */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "client/args_priv.h"

enum long_kind {
    LONG_FLAG,           /* no value */
    LONG_SEPARATE,       /* a value after '=' or in the next argument; to takes it separately */
    LONG_JOINED,         /* the same, joined to to */
    LONG_FLAG_OR_JOINED, /* to alone; with '=', the value joined to it */
};

static const struct {
    const char *name, *to;
    enum long_kind kind;
} aliases[] = {
    {"--all-warnings", "-Wall", LONG_FLAG},
    {"--ansi", "-ansi", LONG_FLAG},
    {"--assemble", "-S", LONG_FLAG},
    {"--compile", "-c", LONG_FLAG},
    {"--dependencies", "-M", LONG_FLAG},
    {"--extra-warnings", "-Wextra", LONG_FLAG},
    {"--no-integrated-cpp", "-no-integrated-cpp", LONG_FLAG},
    {"--no-line-commands", "-P", LONG_FLAG},
    {"--no-standard-includes", "-nostdinc", LONG_FLAG},
    {"--no-standard-libraries", "-nostdlib", LONG_FLAG},
    {"--no-warnings", "-w", LONG_FLAG},
    {"--pedantic", "-pedantic", LONG_FLAG},
    {"--pedantic-errors", "-pedantic-errors", LONG_FLAG},
    {"--pipe", "-pipe", LONG_FLAG},
    {"--preprocess", "-E", LONG_FLAG},
    {"--print-missing-file-dependencies", "-MG", LONG_FLAG},
    {"--save-temps", "-save-temps", LONG_FLAG},
    {"--static", "-static", LONG_FLAG},
    {"--trace-includes", "-H", LONG_FLAG},
    {"--trigraphs", "-trigraphs", LONG_FLAG},
    {"--user-dependencies", "-MM", LONG_FLAG},
    {"--verbose", "-v", LONG_FLAG},
    {"--write-dependencies", "-MD", LONG_FLAG},
    {"--write-user-dependencies", "-MMD", LONG_FLAG},
    {"--define-macro", "-D", LONG_SEPARATE},
    {"--imacros", "-imacros", LONG_SEPARATE},
    {"--include", "-include", LONG_SEPARATE},
    {"--include-directory", "-I", LONG_SEPARATE},
    {"--include-directory-after", "-idirafter", LONG_SEPARATE},
    {"--include-prefix", "-iprefix", LONG_SEPARATE},
    {"--include-with-prefix", "-iwithprefix", LONG_SEPARATE},
    {"--include-with-prefix-after", "-iwithprefix", LONG_SEPARATE},
    {"--include-with-prefix-before", "-iwithprefixbefore", LONG_SEPARATE},
    {"--language", "-x", LONG_SEPARATE},
    {"--output", "-o", LONG_SEPARATE},
    {"--prefix", "-B", LONG_SEPARATE},
    {"--undefine-macro", "-U", LONG_SEPARATE},
    {"--std", "-std=", LONG_JOINED},
    {"--debug", "-g", LONG_FLAG}, /* --debug=X: -gX to gcc, -g to clang */
    {"--optimize", "-O", LONG_FLAG_OR_JOINED},
};

/* gcc's other long options (gcc 12's option table; --for-linker is for
 * links only): not read here. */
static const char *const others[] = {
    "--assert",
    "--comments",
    "--comments-in-macros",
    "--completion",
    "--dump",
    "--dumpbase",
    "--dumpbase-ext",
    "--dumpdir",
    "--entry",
    "--for-assembler",
    "--for-linker",
    "--force-link",
    "--include-barrier",
    "--library-directory",
    "--machine",
    "--no-canonical-prefixes",
    "--no-sysroot-suffix",
    "--output-pch",
    "--pass-exit-codes",
    "--pie",
    "--print-file-name",
    "--print-libgcc-file-name",
    "--print-multi-directory",
    "--print-multi-lib",
    "--print-multi-os-directory",
    "--print-multiarch",
    "--print-prog-name",
    "--print-search-dirs",
    "--print-sysroot",
    "--print-sysroot-headers-suffix",
    "--profile",
    "--shared",
    "--static-pie",
    "--symbolic",
    "--target-help",
    "--time",
    "--traditional",
    "--traditional-cpp",
};

/* Long options the rest of the classification reads as they are (clang's
 * own, and those gcc spells only so): the name, up to any '='. */
static const char *const as_is[] = {
    "--param",
    "--sysroot",
    "--coverage",
    "--help",
    "--help-hidden",
    "--version",
    "--target",
    "--gcc-toolchain",
    "--driver-mode",
    "--rtlib",
    "--unwindlib",
    "--stdlib",
    "--ld-path",
    "--analyze",
    "--analyzer-output",
    "--precompile",
    "--migrate",
    "--emit-static-lib",
    "--start-no-unused-arguments",
    "--end-no-unused-arguments",
    "--verify-debug-info",
    "--system-header-prefix",
    "--no-system-header-prefix",
    "--serialize-diagnostics",
    "--save-stats", /* refused as it is: clang writes a .stats file */
    "--signed-char",
    "--unsigned-char",
    "--specs",
    "--config",
};
/* The same, whole families by their start (clang's GPU offloading). */
static const char *const as_is_family[] = {
    "--cuda-",   "--no-cuda-",      "--hip-",     "--hipspv-",     "--gpu-",
    "--no-gpu-", "--offload-",      "--offload=", "--no-offload-", "--rocm-",
    "--amdgpu-", "--libomptarget-", "--ptxas-",   "--config-",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool name_is(const char *arg, size_t n, const char *name)
{
    return strlen(name) == n && !strncmp(arg, name, n);
}

/* Whether arg's name (its first n characters) is a shorter form of name,
 * as gcc takes it. */
static bool abbreviates(const char *arg, size_t n, const char *name)
{
    return strlen(name) > n && !strncmp(arg, name, n);
}

static bool in_names(const char *arg, size_t n, const char *const *names, size_t count,
                     bool (*match)(const char *, size_t, const char *))
{
    for (size_t k = 0; k < count; k++)
        if (match(arg, n, names[k]))
            return true;
    return false;
}

static bool abbreviation(const char *arg, size_t n)
{
    for (size_t k = 0; k < COUNT(aliases); k++)
        if (abbreviates(arg, n, aliases[k].name))
            return true;
    return in_names(arg, n, as_is, COUNT(as_is), abbreviates) ||
           in_names(arg, n, as_is_family, COUNT(as_is_family), abbreviates) ||
           in_names(arg, n, others, COUNT(others), abbreviates);
}

static bool read_as_is(const char *arg, size_t n)
{
    for (size_t k = 0; k < COUNT(as_is_family); k++)
        if (cs_starts_with(arg, as_is_family[k]))
            return true;
    return in_names(arg, n, as_is, COUNT(as_is), name_is);
}

/* Classifies the short option `to` joined to value (NULL: to alone). A
 * reason that names the spelling made here names arg instead. */
static enum cs_status classify_joined(struct args_state *p, const char *arg, const char *to,
                                      const char *value)
{
    char *s = value ? cs_args_concat(to, value) : strdup(to);
    if (!s)
        return CS_ERR_NOMEM;
    char *local[] = {s};
    int k = 0;
    enum cs_status rc = cs_args_one(p, 1, local, &k);
    if (p->a->reason_detail == s)
        p->a->reason_detail = arg;
    free(s);
    return rc;
}

/* Classifies `to` with value as its separate argument. */
static enum cs_status classify_separate(struct args_state *p, const char *to, const char *value)
{
    char *local[] = {(char *)to, (char *)value};
    int k = 0;
    enum cs_status rc = cs_args_one(p, 2, local, &k);
    /* to took no value: the value is an argument of its own, as gcc reads it */
    if (rc == CS_OK && k == 0) {
        k = 1;
        rc = cs_args_one(p, 2, local, &k);
    }
    return rc;
}

static enum cs_status not_read(struct args_state *p, const char *arg)
{
    cs_args_uncacheable(p, CS_UNC_OPTION, arg);
    return cs_args_push(p, TO_ALL, arg);
}

/* Whether the classification treats f (gcc's -fX for --X) as more than a
 * plain option: refused, or keyed or handed on otherwise (a file's
 * content, a rewritten path). Classified apart, into a throwaway. */
static enum cs_status special_f_option(const struct args_state *p, const char *f, bool *special)
{
    struct cs_args a = {0};
    struct args_state q = {.cwd = p->cwd, .basedir = p->basedir, .a = &a};
    char *local[] = {(char *)f};
    int k = 0;
    enum cs_status rc = cs_args_one(&q, 1, local, &k);
    *special = a.reason != CS_UNC_NONE || a.debug || a.hashed.n != 1 ||
               strcmp(a.hashed.v[0], f) != 0 || a.cc.n != 1 || strcmp(a.cc.v[0], f) != 0 ||
               a.pp.n != 1 || strcmp(a.pp.v[0], f) != 0 || a.debug_maps.n != 0;
    cs_args_free(&a);
    return rc;
}

/* Any other --X: as gcc reads it, -fX (-fno-X for --no-X). */
static enum cs_status other_long(struct args_state *p, const char *arg)
{
    bool no = cs_starts_with(arg, "--no-");
    char *f = cs_args_concat(no ? "-fno-" : "-f", arg + (no ? 5 : 2));
    if (!f)
        return CS_ERR_NOMEM;
    bool special = true;
    enum cs_status rc = special_f_option(p, f, &special);
    free(f);
    if (rc != CS_OK)
        return rc;
    return special ? not_read(p, arg) : cs_args_push(p, TO_ALL, arg);
}

enum cs_status cs_args_long_option(struct args_state *p, int argc, char *const *argv, int *i,
                                   bool *handled)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    *handled = cs_starts_with(arg, "--") && n > 2 && !read_as_is(arg, n);
    if (!*handled)
        return CS_OK;
    /* gcc and clang read --warn-X as -WX */
    if (cs_starts_with(arg, "--warn-") && arg[7])
        return classify_joined(p, arg, "-W", arg + 7);
    size_t k = 0;
    while (k < COUNT(aliases) && !name_is(arg, n, aliases[k].name))
        k++;
    if (k == COUNT(aliases)) {
        /* gcc's --machine-X is -mX */
        if (in_names(arg, n, others, COUNT(others), name_is) || abbreviation(arg, n) ||
            cs_starts_with(arg, "--machine"))
            return not_read(p, arg);
        return other_long(p, arg);
    }
    const char *value = eq ? eq + 1 : NULL;
    switch (aliases[k].kind) {
    case LONG_FLAG: return eq ? not_read(p, arg) : classify_joined(p, arg, aliases[k].to, NULL);
    case LONG_FLAG_OR_JOINED: return classify_joined(p, arg, aliases[k].to, value);
    case LONG_SEPARATE:
    case LONG_JOINED:
        if (!value && *i + 1 < argc)
            value = argv[++*i];
        if (!value)
            return not_read(p, arg);
        return aliases[k].kind == LONG_SEPARATE ? classify_separate(p, aliases[k].to, value)
                                                : classify_joined(p, arg, aliases[k].to, value);
    }
    return not_read(p, arg);
}
