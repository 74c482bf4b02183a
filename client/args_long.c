/* gcc's long spellings of short options (--output=FILE, --compile,
 * --write-user-dependencies, --include-directory DIR...). Each is read as
 * the short option it stands for, so that option's checks apply: a
 * --user-dependencies is -MM, not a compile, and --write-dependencies
 * writes a dependency file that a hit must restore. Only the spellings
 * gcc and clang both take are read so; the compiler is handed the short
 * form, which both take alike.
 *
 * gcc also takes any unambiguous abbreviation of a long option, and reads
 * every other --X as -fX (--profile-use=P is -fprofile-use=P), --no-X as
 * -fno-X and --machine-X as -mX. Such an argument, and a long option of
 * one compiler only, is passed on and not cached: which option it is
 * cannot be told here. */
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
    {"--for-linker", "-Xlinker", LONG_SEPARATE},
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
    {"--debug", "-g", LONG_FLAG_OR_JOINED},
    {"--optimize", "-O", LONG_FLAG_OR_JOINED},
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

static bool read_as_is(const char *arg, size_t n)
{
    for (size_t k = 0; k < COUNT(as_is); k++)
        if (name_is(arg, n, as_is[k]))
            return true;
    for (size_t k = 0; k < COUNT(as_is_family); k++)
        if (cs_starts_with(arg, as_is_family[k]))
            return true;
    return false;
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
    if (k == COUNT(aliases))
        return not_read(p, arg); /* an abbreviation, gcc's -fX or -mX, one compiler's own */
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
