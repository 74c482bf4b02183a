/* Compiler argument classification for gcc and clang. Unknown options are
 * passed on and hashed; an option whose effect the cache cannot reproduce,
 * or any doubt about what the inputs are, makes the call uncacheable. */
#include "autoconfig.h"

#include "client/args.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"

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
    {"-Xlinker", ARG_PLAIN}, /* -Xclang etc.: forwarded() */
    {"-target", ARG_PLAIN},     {"-A", ARG_PLAIN},
    {"--param", ARG_PLAIN},     {"-u", ARG_PLAIN},
    {"-l", ARG_PLAIN},          {"-T", ARG_PLAIN},
    {"-G", ARG_PLAIN},          {"-gcc-toolchain", ARG_PATH},
    {"-imultilib", ARG_PLAIN},  {"-ivfsoverlay", ARG_PATH},
    {"-arch", ARG_PLAIN},
};

/* The ways the driver hands an argument to cc1 as it is. */
enum route { ROUTE_XCLANG, ROUTE_XPREPROCESSOR, ROUTE_WP, ROUTES };
/* What the next argument handed on the same way is to the one before. */
enum operand { OPERAND_NONE, OPERAND_PLAIN, OPERAND_FILE, OPERAND_PLUGIN_ARG };

struct parse {
    const char *cwd, *basedir;
    struct cs_args *a;
    bool compile_only, has_E, has_S, has_M, output_given, seen_input;
    bool in_config; /* reading a clang configuration file's options */
    int inputs, arches;
    enum cs_uncacheable input_reason;
    const char *lang_x;
    enum operand pending[ROUTES];
};

static void uncacheable(struct parse *p, enum cs_uncacheable r, const char *detail)
{
    if (p->a->reason == CS_UNC_NONE) {
        p->a->reason = r;
        /* A configuration file's words do not outlive their reading. */
        p->a->reason_detail = p->in_config ? NULL : detail;
    }
}

/* The path the compiler should see: relative to cwd when under basedir. */
static char *rewrite_path(const struct parse *p, const char *path)
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

static char *concat(const char *a, const char *b)
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
enum { TO_PP = 1, TO_CC = 2, TO_HASH = 4, TO_ALL = 7 };
static enum cs_status push(struct parse *p, int to, const char *s)
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

static enum cs_status take_input(struct parse *p, const char *arg)
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
    char *in = rewrite_path(p, arg);
    if (!in)
        return CS_ERR_NOMEM;
    p->a->input = in;
    return push(p, TO_ALL, in);
}

static bool is_profile_option(const char *s)
{
    return cs_starts_with(s, "-fprofile-") || cs_starts_with(s, "-fauto-profile") ||
           !strcmp(s, "-fbranch-probabilities") || !strcmp(s, "-ftest-coverage") ||
           !strcmp(s, "--coverage") || !strcmp(s, "-coverage") || !strcmp(s, "-fprofile-arcs");
}

static bool is_unsupported_option(const char *s)
{
    static const char *const exact[] = {
        "-gsplit-dwarf", "-fsyntax-only", "-frepo", "-###", "-v",
        "--help",        "--version",     "-MG",    "--",   "-fmodules",
        "-fcxx-modules", "-pipe-never"};
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

static bool is_pch_option(const char *s)
{
    return !strcmp(s, "-include-pch") || !strcmp(s, "-fpch-preprocess") ||
           !strcmp(s, "-emit-pch") || cs_starts_with(s, "-fpch-") || !strcmp(s, "-Xclang-emit-pch");
}

/* How OLD of a prefix map goes into the key. It differs between
 * checkouts, but it decides which paths the map rewrites, so it cannot be
 * left out: under CSTASH_BASEDIR (and lexically clean, since the compiler
 * compares strings) it is hashed relative to the working directory, like
 * every other path under the base dir; otherwise as written. */
static char *map_old_form(const struct parse *p, const char *old, size_t n)
{
    char *o = strndup(old, n);
    if (!o)
        return NULL;
    char *form = NULL;
    if (p->basedir && o[0] == '/') {
        char *abs = cs_path_absolute(o, "/");
        if (!abs) {
            free(o);
            return NULL;
        }
        size_t la = strlen(abs);
        bool slash = n > 1 && o[n - 1] == '/';
        bool clean = slash ? la == n - 1 && !strncmp(abs, o, la) : !strcmp(abs, o);
        bool nomem = false;
        char *rel = clean ? cs_path_relative_under(abs, p->basedir, p->cwd, &nomem) : NULL;
        free(abs);
        if (nomem) {
            free(o);
            return NULL;
        }
        if (rel) {
            form = concat(slash ? "under basedir, slash: " : "under basedir: ", rel);
            free(rel);
            free(o);
            return form;
        }
    }
    form = concat("as written: ", o);
    free(o);
    return form;
}

/* -fdebug-prefix-map=OLD=NEW, -ffile-prefix-map= (debug info and
 * __FILE__) and -fmacro-prefix-map= (__FILE__ only). gcc splits the value
 * at its last '=' (OLD may hold '=', NEW not), clang at its first (the
 * other way round), so the key holds OLD and NEW under both splits. */
static enum cs_status prefix_map(struct parse *p, const char *arg)
{
    const char *value = strchr(arg, '=') + 1;
    enum cs_status rc = push(p, TO_PP | TO_CC, arg);
    if (rc == CS_OK && !cs_starts_with(arg, "-fmacro-prefix-map="))
        rc = cs_strv_push(&p->a->debug_maps, value);
    if (rc != CS_OK)
        return rc;
    const char *first = strchr(value, '='), *last = strrchr(value, '=');
    if (!first) /* the compiler refuses it */
        return push(p, TO_HASH, arg);
    char *name = strndup(arg, (size_t)(value - arg));
    if (!name)
        return CS_ERR_NOMEM;
    rc = cs_strv_push_own(&p->a->hashed, name);
    const char *splits[] = {first, last};
    for (int k = 0; k < 2 && rc == CS_OK; k++) {
        rc = cs_strv_push_own(&p->a->hashed, map_old_form(p, value, (size_t)(splits[k] - value)));
        if (rc == CS_OK)
            rc = cs_strv_push(&p->a->hashed, splits[k] + 1);
    }
    return rc;
}

char *cs_prefix_map_apply(const struct cs_strv *maps, const char *path, bool split_last,
                          enum cs_map_choice choice)
{
    const char *new = NULL;
    size_t best = 0;
    for (size_t i = 0; i < maps->n; i++) {
        const char *m = maps->v[i];
        const char *eq = split_last ? strrchr(m, '=') : strchr(m, '=');
        if (!eq)
            continue;
        size_t n = (size_t)(eq - m);
        if (strncmp(path, m, n) != 0)
            continue;
        if (!new || choice == CS_MAP_LAST || (choice == CS_MAP_LONGEST && n > best)) {
            new = eq + 1;
            best = n;
        }
    }
    return new ? concat(new, path + best) : strdup(path);
}

enum cs_status cs_args_debug_dirs(const struct cs_args *a, const char *cwd, struct cs_strv *out)
{
    if (a->debug_maps.n == 0)
        return cs_strv_push(out, cwd);
    /* What the compilers here do (gcc 12, clang 14; readelf on their
     * objects, see tests/integration/cstash_keys.sh): gcc splits at the last
     * '=' and applies the last given map that matches; clang 14 splits at
     * the first and applies the longest matching OLD. Both compare plain
     * string prefixes. Other clang versions are said to choose otherwise,
     * so every split and choice goes into the key. */
    enum cs_status rc = CS_OK;
    for (int split_last = 0; split_last < 2 && rc == CS_OK; split_last++)
        for (int c = 0; c < CS_MAP_CHOICES && rc == CS_OK; c++)
            rc = cs_strv_push_own(
                out, cs_prefix_map_apply(&a->debug_maps, cwd, split_last, (enum cs_map_choice)c));
    return rc;
}

/* Options that name a file whose content, not its name, decides the
 * output: the content is hashed, so a plugin rebuilt in place or an
 * edited profile makes a new key. One that cannot be read runs uncached.
 * The path reaches the compiler as given (gcc looks a relative specs name
 * up in its own directories first, and a plugin path without '/' would
 * change meaning); the key holds it relative under CSTASH_BASEDIR.
 * Known limit: a relative -specs name that exists both here and in gcc's
 * directories is hashed from here, while gcc reads its own. */
enum file_kind {
    FILE_PLUGIN,      /* dlopen()ed into the compiler */
    FILE_TEXT,        /* specs; sanitizer, coverage, xray and section lists */
    FILE_PROFILE,     /* a profile file (clang) */
    FILE_PROFILE_GCC, /* -fprofile-use=: a file for clang, a directory for gcc */
    FILE_CONFIG,      /* clang --config: options, checked as the command line's */
};
static const struct {
    const char *name; /* ending in '=': joined; else the value is the next argument */
    enum file_kind kind;
} file_options[] = {
    {"-fplugin=", FILE_PLUGIN},
    {"-fpass-plugin=", FILE_PLUGIN},
    {"-specs=", FILE_TEXT},
    {"--specs=", FILE_TEXT},
    {"-specs", FILE_TEXT},
    {"--specs", FILE_TEXT},
    {"-fsanitize-blacklist=", FILE_TEXT},
    {"-fsanitize-ignorelist=", FILE_TEXT},
    {"-fsanitize-system-blacklist=", FILE_TEXT},
    {"-fsanitize-system-ignorelist=", FILE_TEXT},
    {"-fsanitize-coverage-allowlist=", FILE_TEXT},
    {"-fsanitize-coverage-ignorelist=", FILE_TEXT},
    {"-fsanitize-coverage-whitelist=", FILE_TEXT},
    {"-fsanitize-coverage-blacklist=", FILE_TEXT},
    {"-fxray-attr-list=", FILE_TEXT},
    {"-fxray-always-instrument=", FILE_TEXT},
    {"-fxray-never-instrument=", FILE_TEXT},
    {"-fbasic-block-sections=list=", FILE_TEXT},
    {"-fprofile-use=", FILE_PROFILE_GCC},
    {"-fprofile-instr-use=", FILE_PROFILE},
    {"-fprofile-sample-use=", FILE_PROFILE},
    {"-fauto-profile=", FILE_PROFILE},
    {"-fprofile-instrument-use-path=", FILE_PROFILE}, /* cc1's name, reached by -Xclang */
    {"--config=", FILE_CONFIG},                       /* clang 16 and later */
    {"--config", FILE_CONFIG},
};

/* The entry of file_options that arg is, or -1. */
static int file_option_index(const char *arg)
{
    for (size_t k = 0; k < sizeof file_options / sizeof file_options[0]; k++) {
        const char *n = file_options[k].name;
        bool joined = n[strlen(n) - 1] == '=';
        if (joined ? cs_starts_with(arg, n) : !strcmp(arg, n))
            return (int)k;
    }
    return -1;
}

#define MAX_CONFIG ((size_t)1 << 20) /* a clang configuration file read for its options */

/* SHA-256 of a regular file's content; with keep, the content is also
 * appended there (CS_ERR_TOO_LARGE past max bytes). */
static enum cs_status hash_file(const char *path, uint8_t out[CS_SHA256_LEN], struct cs_bytes *keep,
                                size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return cs_status_from_errno(errno);
    struct stat st;
    enum cs_status rc = CS_OK;
    if (fstat(fd, &st) != 0)
        rc = cs_status_from_errno(errno);
    else if (!S_ISREG(st.st_mode))
        rc = CS_ERR_INVALID;
    struct cs_sha256 h;
    cs_sha256_init(&h);
    char buf[65536];
    while (rc == CS_OK) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = cs_status_from_errno(errno);
        else if (n == 0)
            break;
        else if (keep && keep->len + (size_t)n > max)
            rc = CS_ERR_TOO_LARGE;
        else if (keep && (rc = cs_bytes_append(keep, buf, (size_t)n)) != CS_OK)
            break;
        else
            cs_sha256_update(&h, buf, (size_t)n);
    }
    close(fd);
    cs_sha256_final(&h, out);
    return rc;
}

static char *content_form(const uint8_t digest[CS_SHA256_LEN])
{
    char hex[CS_SHA256_HEX_LEN + 1];
    cs_hex_encode(digest, CS_SHA256_LEN, hex);
    return concat("content sha256 ", hex);
}

static enum cs_status config_options(struct parse *p, const struct cs_bytes *text);

/* Puts the file an option names into the key: the option's name, the path
 * (relative under CSTASH_BASEDIR) and the content's SHA-256. arg is the
 * option as given, name its entry in file_options, value the file. */
static enum cs_status key_file(struct parse *p, const char *arg, const char *name,
                               enum file_kind kind, const char *value)
{
    /* gcc loads a plugin named without '/' from its own plugin directory,
     * dlopen() looks for such a name on the library path, and clang looks
     * a --config name without '/' up in its own directories: not files we
     * can find here. A profile that is a directory (or missing) makes the
     * compiler derive a file name per object: not guessed either. */
    uint8_t digest[CS_SHA256_LEN];
    struct cs_bytes text = {0};
    bool elsewhere = (kind == FILE_PLUGIN || kind == FILE_CONFIG) && !strchr(value, '/');
    enum cs_status rc = CS_ERR_INVALID;
    if (value[0] && !elsewhere)
        rc = hash_file(value, digest, kind == FILE_CONFIG ? &text : NULL, MAX_CONFIG);
    if (rc != CS_OK) {
        cs_bytes_free(&text);
        if (rc == CS_ERR_NOMEM)
            return rc;
        bool profile = kind == FILE_PROFILE || kind == FILE_PROFILE_GCC;
        uncacheable(p, profile ? CS_UNC_PROFILE : CS_UNC_OPTION, arg);
        return push(p, TO_HASH, arg);
    }
    /* gcc reads -fprofile-use=PATH as a directory: it looks for
     * PATH/<object path, mangled>.gcda and names that in a warning. */
    if (kind == FILE_PROFILE_GCC)
        p->a->output_in_key = true;
    /* The compiler proper reads these through a -ivfsoverlay, if any. */
    if (kind != FILE_PLUGIN && kind != FILE_CONFIG)
        p->a->vfs_read_files = true;
    char *path = kind == FILE_PROFILE_GCC ? strdup(value) : rewrite_path(p, value);
    char *content = content_form(digest);
    if (!path || !content) {
        free(path);
        free(content);
        cs_bytes_free(&text);
        return CS_ERR_NOMEM;
    }
    rc = push(p, TO_HASH, name);
    if (rc == CS_OK)
        rc = cs_strv_push_own(&p->a->hashed, path); /* frees path on failure */
    else
        free(path);
    if (rc == CS_OK)
        rc = cs_strv_push_own(&p->a->hashed, content);
    else
        free(content);
    if (rc == CS_OK && kind == FILE_CONFIG)
        rc = config_options(p, &text);
    cs_bytes_free(&text);
    return rc;
}

/* *handled says whether argv[*i] is such an option; *i moves past its value. */
static enum cs_status file_option(struct parse *p, int argc, char *const *argv, int *i,
                                  bool *handled)
{
    const char *arg = argv[*i], *value = NULL;
    int k = file_option_index(arg);
    *handled = k >= 0;
    if (k < 0)
        return CS_OK;
    const char *name = file_options[k].name;
    enum cs_status rc;
    if (name[strlen(name) - 1] == '=') {
        value = arg + strlen(name);
        rc = push(p, TO_PP | TO_CC, arg);
    } else {
        if (*i + 1 >= argc) {
            uncacheable(p, CS_UNC_OPTION, arg);
            return push(p, TO_ALL, arg);
        }
        value = argv[++*i];
        rc = push(p, TO_PP | TO_CC, arg);
        if (rc == CS_OK)
            rc = push(p, TO_PP | TO_CC, value);
    }
    if (rc != CS_OK)
        return rc;
    return key_file(p, arg, name, file_options[k].kind, value);
}

/* A plugin's argument (gcc -fplugin-arg-NAME-KEY=VALUE, clang -Xclang
 * -plugin-arg-NAME -Xclang VALUE): a plugin may read a file it is told
 * of, so when the value names a regular file its content goes into the
 * key too. The key gets two entries either way. */
static enum cs_status plugin_arg(struct parse *p, const char *arg, const char *value)
{
    enum cs_status rc = push(p, TO_HASH, arg);
    struct stat st;
    if (rc != CS_OK)
        return rc;
    if (!value[0] || stat(value, &st) != 0 || !S_ISREG(st.st_mode))
        return push(p, TO_HASH, "not a file");
    uint8_t digest[CS_SHA256_LEN];
    if ((rc = hash_file(value, digest, NULL, 0)) != CS_OK) {
        if (rc == CS_ERR_NOMEM)
            return rc;
        uncacheable(p, CS_UNC_OPTION, arg);
        return push(p, TO_HASH, "unreadable");
    }
    return cs_strv_push_own(&p->a->hashed, content_form(digest));
}

/* cc1 options reached through -Xclang, -Xpreprocessor or -Wp, whose next
 * argument is a file the compiler reads (bitcode to link, a plugin, an
 * AST, a file to remap, an overlay) or writes besides the object and the
 * dependency file (a cached result would not have it): not followed,
 * the compile runs uncached. */
static const char *const cc1_file_next[] = {
    "-load",
    "-load-pass-plugin",
    "-mlink-bitcode-file",
    "-mlink-builtin-bitcode",
    "-mlink-cuda-bitcode",
    "-fcuda-include-gpubinary",
    "-fopenmp-host-ir-file-path",
    "-ast-merge",
    "-chain-include",
    "-remap-file",
    "-include-pch",
    "-ivfsoverlay",
    "-dependency-file",
    "-dependency-dot",
    "-header-include-file",
    "-diagnostic-log-file",
    "-stack-usage-file",
    "-split-dwarf-file",
    "-split-dwarf-output",
    "-opt-record-file",
    "-serialize-diagnostic-file",
    "-coverage-data-file",
    "-coverage-notes-file",
    "-o",
};
/* The same, joined to the option. */
static const char *const cc1_file_joined[] = {
    "-fmodule-file=",
    "-fmodule-map-file=",
    "-fmodules-embed-file=",
    "-fembed-offload-object=",
    "-fthin-link-bitcode=",
    "-stats-file=",
    "-fverify-debuginfo-preserve-export=",
};
/* cc1 options whose next argument is a value, not an option. */
static const char *const cc1_plain_next[] = {
    "-plugin",         "-add-plugin", "-mllvm",          "-triple",          "-target-cpu",
    "-target-feature", "-target-abi", "-main-file-name", "-analyzer-config", "-analyzer-checker",
};

static bool in_list(const char *const *list, size_t n, const char *s, bool prefix)
{
    for (size_t k = 0; k < n; k++)
        if (prefix ? cs_starts_with(s, list[k]) : !strcmp(s, list[k]))
            return true;
    return false;
}
#define IN_LIST(list, s, prefix) in_list(list, sizeof(list) / sizeof((list)[0]), s, prefix)

/* One argument the driver hands to cc1 as it is: -Xclang V and
 * -Xpreprocessor V (gcc's and clang's), each piece of -Wp,A,B. It gets the
 * checks of the command line's options, so -Xclang
 * -fprofile-instrument-use-path=P is hashed like -fprofile-instr-use=P.
 * An option taking a separate value gets it from the next argument handed
 * on the same way; r says which. Pushes v's part of the key only. */
static enum cs_status forwarded_value(struct parse *p, enum route r, const char *v)
{
    enum operand op = p->pending[r];
    p->pending[r] = OPERAND_NONE;
    if (op == OPERAND_PLUGIN_ARG)
        return plugin_arg(p, v, v);
    if (op != OPERAND_NONE) /* a plain value, or the file of a refused option */
        return push(p, TO_HASH, v);
    int k = file_option_index(v);
    if (k >= 0) {
        const char *name = file_options[k].name;
        /* Not followed: a separate value (the next one handed on), and
         * --config, which only the driver reads. */
        if (name[strlen(name) - 1] == '=' && file_options[k].kind != FILE_CONFIG)
            return key_file(p, v, name, file_options[k].kind, v + strlen(name));
        uncacheable(p, CS_UNC_OPTION, v);
    } else if (IN_LIST(cc1_file_next, v, false)) {
        uncacheable(p, CS_UNC_OPTION, v);
        p->pending[r] = OPERAND_FILE;
    } else if (IN_LIST(cc1_file_joined, v, true)) {
        uncacheable(p, CS_UNC_OPTION, v);
    } else if (cs_starts_with(v, "-plugin-arg-")) {
        p->pending[r] = OPERAND_PLUGIN_ARG;
    } else if (IN_LIST(cc1_plain_next, v, false)) {
        p->pending[r] = OPERAND_PLAIN;
    } else if (cs_starts_with(v, "-fplugin-arg-") && strchr(v, '=')) {
        return plugin_arg(p, v, strchr(v, '=') + 1);
    } else if (cs_starts_with(v, "-M")) {
        uncacheable(p, CS_UNC_OPTION, v); /* a dependency file the cache does not know of */
    } else if (is_profile_option(v)) {
        uncacheable(p, CS_UNC_PROFILE, v);
    } else if (is_pch_option(v)) {
        uncacheable(p, CS_UNC_PCH, v);
    } else if (is_unsupported_option(v)) {
        uncacheable(p, CS_UNC_OPTION, v);
    }
    return push(p, TO_HASH, v);
}

/* -Xclang V, -Xpreprocessor V. */
static enum cs_status forwarded(struct parse *p, int argc, char *const *argv, int *i)
{
    const char *via = argv[*i];
    if (*i + 1 >= argc) {
        uncacheable(p, CS_UNC_OPTION, via);
        return push(p, TO_ALL, via);
    }
    const char *v = argv[++*i];
    enum cs_status rc = push(p, TO_PP | TO_CC, via);
    if (rc == CS_OK)
        rc = push(p, TO_PP | TO_CC, v);
    if (rc == CS_OK)
        rc = push(p, TO_HASH, via);
    if (rc != CS_OK)
        return rc;
    return forwarded_value(p, !strcmp(via, "-Xclang") ? ROUTE_XCLANG : ROUTE_XPREPROCESSOR, v);
}

/* -Wp,-MD,file and -Wp,-MMD,file (the Linux kernel's way): a dependency
 * file the preprocessor writes. Other -M options inside -Wp are refused;
 * the other pieces reach cc1 (gcc's and clang's, both preprocess in it)
 * and are checked as such. */
static enum cs_status wp_option(struct parse *p, const char *arg)
{
    const char *rest = arg + 4;
    bool md = cs_starts_with(rest, "-MD,"), mmd = cs_starts_with(rest, "-MMD,");
    enum cs_status rc;
    if (!md && !mmd) {
        if (strstr(rest, "-M")) {
            uncacheable(p, CS_UNC_OPTION, arg);
            return push(p, TO_ALL, arg);
        }
        /* The whole argument first: its pieces' entries follow it. */
        if ((rc = push(p, TO_ALL, arg)) != CS_OK)
            return rc;
        for (const char *s = rest;; s++) {
            const char *comma = strchr(s, ',');
            char *piece = comma ? strndup(s, (size_t)(comma - s)) : strdup(s);
            if (!piece)
                return CS_ERR_NOMEM;
            rc = forwarded_value(p, ROUTE_WP, piece);
            free(piece);
            if (rc != CS_OK || !comma)
                return rc;
            s = comma;
        }
    }
    const char *file = rest + (md ? 4 : 5);
    if (!*file || strchr(file, ',')) {
        uncacheable(p, CS_UNC_OPTION, arg);
        return push(p, TO_ALL, arg);
    }
    char *f = rewrite_path(p, file);
    if (!f)
        return CS_ERR_NOMEM;
    p->a->dep = true;
    /* cc1 names the target after the source, not -o: nothing to rewrite. */
    p->a->dep_target_given = true;
    free(p->a->dep_file);
    p->a->dep_file = f;
    char *cc = concat(md ? "-Wp,-MD," : "-Wp,-MMD,", f);
    rc = cs_strv_push_own(&p->a->cc, cc);
    if (rc == CS_OK)
        rc = push(p, TO_HASH, md ? "-Wp,-MD" : "-Wp,-MMD");
    return rc;
}

/* clang -ivfsoverlay FILE: the overlay's text decides which file the
 * compiler reads for a path, so it goes into the key. The preprocessed
 * text shows what headers it mapped, but its line markers may name the
 * virtual paths ('use-external-names': false), which direct mode would
 * stat instead of the files read: direct mode is off. Files the compiler
 * proper reads through it (a sanitizer list named in an option) cannot be
 * told from here: with both, the compile runs uncached (see finish). */
static enum cs_status overlay_file(struct parse *p, const char *arg, const char *file)
{
    uint8_t digest[CS_SHA256_LEN];
    enum cs_status rc = hash_file(file, digest, NULL, 0);
    p->a->vfs_overlay = true;
    if (rc != CS_OK) {
        if (rc == CS_ERR_NOMEM)
            return rc;
        uncacheable(p, CS_UNC_OPTION, arg);
        return push(p, TO_HASH, "unreadable");
    }
    return cs_strv_push_own(&p->a->hashed, content_form(digest));
}

/* An option with a value, separate or joined; *used is how many argv
 * entries it took (0: not such an option). */
static enum cs_status value_option(struct parse *p, int argc, char *const *argv, int i, int *used)
{
    const char *arg = argv[i];
    *used = 0;
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) {
        const char *name = with_value[k].name;
        size_t n = strlen(name);
        if (strncmp(arg, name, n) != 0)
            continue;
        const char *value;
        bool joined = arg[n] != '\0';
        if (joined) {
            /* -Ifoo, -DX=1, --sysroot=/x; a longer option that merely starts
             * with a short name (-include vs -I…) is matched by its own entry. */
            if (n == 2 || (name[1] == '-' && arg[n] == '='))
                value = arg + n + (arg[n] == '=' ? 1 : 0);
            else if (n > 2 && name[1] != '-')
                value = arg + n;
            else
                continue;
            /* -imacros vs -isystem etc.: prefer the longest matching name. */
            bool longer = false;
            for (size_t m = 0; m < sizeof with_value / sizeof with_value[0]; m++)
                if (m != k && strlen(with_value[m].name) > n &&
                    cs_starts_with(arg, with_value[m].name))
                    longer = true;
            if (longer)
                continue;
        } else {
            if (i + 1 >= argc) {
                uncacheable(p, CS_UNC_OPTION, arg);
                *used = 1;
                return push(p, TO_ALL, arg);
            }
            value = argv[i + 1];
        }
        if (!strcmp(name, "-arch"))
            p->arches++;
        char *v = with_value[k].kind == ARG_PATH ? rewrite_path(p, value) : strdup(value);
        if (!v)
            return CS_ERR_NOMEM;
        enum cs_status rc;
        if (joined) {
            char *head = strndup(arg, (size_t)(value - arg));
            char *whole = head ? concat(head, v) : NULL;
            free(head);
            rc = whole ? push(p, TO_ALL, whole) : CS_ERR_NOMEM;
            free(whole);
            *used = 1;
        } else {
            rc = push(p, TO_ALL, arg);
            if (rc == CS_OK)
                rc = push(p, TO_ALL, v);
            *used = 2;
        }
        free(v);
        if (rc == CS_OK && !strcmp(name, "-ivfsoverlay"))
            rc = overlay_file(p, arg, value);
        return rc;
    }
    return CS_OK;
}

/* Options of a configuration file that would change what cstash takes
 * for the inputs and outputs (it reads only the command line for those),
 * an @file (clang reads it relative to the configuration file) and
 * anything that is not an option. */
static bool config_refused(const char *arg)
{
    return arg[0] != '-' || !arg[1] || !strcmp(arg, "-c") || !strcmp(arg, "-E") ||
           !strcmp(arg, "-S") || cs_starts_with(arg, "-o") || cs_starts_with(arg, "-x") ||
           cs_starts_with(arg, "-M") || (cs_starts_with(arg, "-Wp,") && strstr(arg, "-M")) ||
           !strcmp(arg, "-arch") || cs_starts_with(arg, "--config");
}

static enum cs_status one_arg(struct parse *p, int argc, char *const *argv, int *i)
{
    const char *arg = argv[*i];
    struct cs_args *a = p->a;
    enum cs_status rc;
    int used;

    if (p->in_config && config_refused(arg)) {
        uncacheable(p, CS_UNC_OPTION, NULL);
        return push(p, TO_HASH, arg);
    }
    if (arg[0] != '-' || arg[1] == '\0') {
        if (!strcmp(arg, "-")) {
            uncacheable(p, CS_UNC_STDIN, arg);
            return push(p, TO_ALL, arg);
        }
        return take_input(p, arg);
    }
    if (!strcmp(arg, "-c")) {
        p->compile_only = true;
        return CS_OK; /* added back once, at the end */
    }
    if (!strcmp(arg, "-E")) {
        p->has_E = true;
        return push(p, TO_ALL, arg);
    }
    if (!strcmp(arg, "-S")) {
        p->has_S = true;
        return push(p, TO_ALL, arg);
    }
    if (!strcmp(arg, "-M") || !strcmp(arg, "-MM")) {
        p->has_M = true;
        return push(p, TO_ALL, arg);
    }
    if (!strcmp(arg, "-o") || (cs_starts_with(arg, "-o") && arg[2])) {
        const char *v = arg[2] ? arg + 2 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v) {
            uncacheable(p, CS_UNC_OPTION, arg);
            return push(p, TO_ALL, arg);
        }
        free(a->output);
        if (!(a->output = rewrite_path(p, v)))
            return CS_ERR_NOMEM;
        p->output_given = true;
        return CS_OK; /* added at the end, to cc only */
    }
    if (!strcmp(arg, "-x") || (cs_starts_with(arg, "-x") && arg[2])) {
        const char *v = arg[2] ? arg + 2 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v || p->seen_input) {
            uncacheable(p, CS_UNC_OPTION, arg);
            return push(p, TO_ALL, arg);
        }
        p->lang_x = v;
        if ((rc = push(p, TO_ALL, "-x")) != CS_OK)
            return rc;
        return push(p, TO_ALL, v);
    }
    if (!strcmp(arg, "-MD") || !strcmp(arg, "-MMD")) {
        a->dep = true;
        return push(p, TO_CC | TO_HASH, arg);
    }
    if (!strcmp(arg, "-MP"))
        return push(p, TO_CC | TO_HASH, arg);
    if (cs_starts_with(arg, "-MF") || cs_starts_with(arg, "-MT") || cs_starts_with(arg, "-MQ")) {
        const char *v = arg[3] ? arg + 3 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v) {
            uncacheable(p, CS_UNC_OPTION, arg);
            return push(p, TO_ALL, arg);
        }
        char opt[4] = {arg[0], arg[1], arg[2], 0};
        if (arg[2] == 'F') {
            free(a->dep_file);
            if (!(a->dep_file = rewrite_path(p, v)))
                return CS_ERR_NOMEM;
            if ((rc = push(p, TO_CC, opt)) != CS_OK)
                return rc;
            return push(p, TO_CC, a->dep_file);
        }
        a->dep_target_given = true;
        if ((rc = push(p, TO_CC | TO_HASH, opt)) != CS_OK)
            return rc;
        return push(p, TO_CC | TO_HASH, v);
    }
    if (cs_starts_with(arg, "-Wp,"))
        return wp_option(p, arg);
    if (!strcmp(arg, "-Xclang") || !strcmp(arg, "-Xpreprocessor"))
        return forwarded(p, argc, argv, i);
    bool handled;
    if ((rc = file_option(p, argc, argv, i, &handled)) != CS_OK || handled)
        return rc;
    if (cs_starts_with(arg, "-fplugin-arg-") && strchr(arg, '=')) {
        if ((rc = push(p, TO_PP | TO_CC, arg)) != CS_OK)
            return rc;
        return plugin_arg(p, arg, strchr(arg, '=') + 1);
    }
    if (is_profile_option(arg))
        uncacheable(p, CS_UNC_PROFILE, arg);
    else if (is_pch_option(arg))
        uncacheable(p, CS_UNC_PCH, arg);
    else if (is_unsupported_option(arg))
        uncacheable(p, CS_UNC_OPTION, arg);
    else if (!strcmp(arg, "-march=native") || !strcmp(arg, "-mcpu=native") ||
             !strcmp(arg, "-mtune=native"))
        uncacheable(p, CS_UNC_NATIVE, arg);
    if (cs_starts_with(arg, "-fdebug-prefix-map=") || cs_starts_with(arg, "-ffile-prefix-map=") ||
        cs_starts_with(arg, "-fmacro-prefix-map="))
        return prefix_map(p, arg);
    if (cs_starts_with(arg, "-g") && !cs_starts_with(arg, "-gcc-toolchain"))
        a->debug = strcmp(arg, "-g0") != 0;
    if ((rc = value_option(p, argc, argv, *i, &used)) != CS_OK)
        return rc;
    if (used) {
        *i += used - 1;
        return CS_OK;
    }
    return push(p, TO_ALL, arg);
}

/* Splits a response file's text the way gcc does: whitespace separates,
 * quotes group, backslash escapes. */
static enum cs_status split_response(const char *text, struct cs_strv *out)
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

/* The options of a clang configuration file, read as clang 14 reads
 * them: a line whose first non-blank is '#' is a comment, a backslash at
 * the end of a line joins the next one to it (nothing in between), the
 * rest splits like a response file. They get the command line's checks
 * (a file named in them is hashed by content, a profile refused...) and
 * go into the key only: the compiler reads them itself. */
static enum cs_status config_options(struct parse *p, const struct cs_bytes *text)
{
    const char *s = text->data ? (const char *)text->data : "";
    size_t n = text->len, i = 0;
    if (memchr(s, '\0', n)) {
        uncacheable(p, CS_UNC_OPTION, NULL);
        return CS_OK;
    }
    struct cs_bytes joined = {0};
    enum cs_status rc = cs_bytes_append(&joined, "", 0);
    while (i < n && rc == CS_OK) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
        bool comment = i < n && s[i] == '#';
        for (; i < n && s[i] != '\n' && rc == CS_OK; i++) {
            if (comment)
                continue;
            if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\n')
                i++;
            else if (s[i] == '\\' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
                i += 2;
            else
                rc = cs_bytes_append(&joined, s + i, 1);
        }
        if (rc == CS_OK)
            rc = cs_bytes_append(&joined, "\n", 1);
        i++;
    }
    struct cs_strv words = {0};
    if (rc == CS_OK)
        rc = split_response((const char *)joined.data, &words);
    bool was = p->in_config;
    p->in_config = true;
    for (int k = 0; rc == CS_OK && k < (int)words.n; k++)
        rc = one_arg(p, (int)words.n, words.v, &k);
    p->in_config = was;
    cs_strv_free(&words);
    cs_bytes_free(&joined);
    return rc;
}

/* An overlay may map the files the compiler proper reads for an option to
 * others, whose content the key does not hold. */
static void overlay_check(struct parse *p)
{
    if (p->a->vfs_overlay && p->a->vfs_read_files)
        uncacheable(p, CS_UNC_OPTION, NULL);
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
        rc = split_response(text.data ? (char *)text.data : "", &words);
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

static enum cs_status finish(struct parse *p)
{
    struct cs_args *a = p->a;
    enum cs_status rc;
    /* An unreadable @file may hold -c or -E: nothing else can be told. */
    if (a->reason == CS_UNC_RESPONSE_FILE)
        return CS_OK;
    if (p->has_E || p->has_M)
        a->reason = CS_UNC_PREPROCESS, a->reason_detail = NULL;
    else if (p->has_S)
        a->reason = CS_UNC_ASSEMBLY_OUT, a->reason_detail = NULL;
    else if (!p->compile_only)
        a->reason = CS_UNC_LINK, a->reason_detail = NULL;
    if (a->reason != CS_UNC_NONE)
        return CS_OK;
    if (p->inputs == 0)
        return uncacheable(p, CS_UNC_NO_INPUT, NULL), CS_OK;
    if (p->inputs > 1)
        return uncacheable(p, CS_UNC_MULTIPLE, NULL), CS_OK;
    if (p->input_reason != CS_UNC_NONE)
        return uncacheable(p, p->input_reason, a->reason_detail), CS_OK;
    if (p->arches > 1)
        return uncacheable(p, CS_UNC_ARCH, NULL), CS_OK;
    if (!a->output && !(a->output = replace_suffix(a->input, ".o", true)))
        return CS_ERR_NOMEM;
    struct stat st;
    if (!strcmp(a->output, "-") || (stat(a->output, &st) == 0 && !S_ISREG(st.st_mode)))
        return uncacheable(p, CS_UNC_SPECIAL_FILE, a->output), CS_OK;
    if (a->dep && !a->dep_file) {
        a->dep_file = p->output_given ? replace_suffix(a->output, ".d", false)
                                      : replace_suffix(a->input, ".d", true);
        if (!a->dep_file)
            return CS_ERR_NOMEM;
    }
    if ((rc = push(p, TO_CC | TO_HASH, "-c")) != CS_OK)
        return rc;
    if (p->output_given) {
        if ((rc = push(p, TO_CC, "-o")) != CS_OK || (rc = push(p, TO_CC, a->output)) != CS_OK)
            return rc;
    }
    return push(p, TO_PP, "-E");
}

enum cs_status cs_args_parse(int argc, char *const *argv, const char *cwd, const char *basedir,
                             struct cs_args *a)
{
    memset(a, 0, sizeof *a);
    struct parse p = {.cwd = cwd, .basedir = basedir, .a = a};
    struct cs_strv args = {0};
    bool unreadable = false;
    enum cs_status rc = expand_response_files(argc, argv, &args, 0, &unreadable);
    if (rc == CS_OK && unreadable)
        uncacheable(&p, CS_UNC_RESPONSE_FILE, NULL);
    for (int i = 0; rc == CS_OK && i < (int)args.n; i++)
        rc = one_arg(&p, (int)args.n, args.v, &i);
    /* reason_detail may point into args: keep only details that outlive it. */
    if (a->reason_detail && a->reason_detail != a->output && a->reason_detail != a->input)
        a->reason_detail = NULL;
    if (rc == CS_OK)
        rc = finish(&p);
    if (rc == CS_OK && a->reason == CS_UNC_NONE)
        overlay_check(&p);
    if (a->reason_detail && a->reason_detail != a->output && a->reason_detail != a->input)
        a->reason_detail = NULL;
    cs_strv_free(&args);
    if (p.lang_x && a->lang == p.lang_x)
        a->lang = "explicit";
    return rc;
}

enum cs_status cs_args_add_configs(struct cs_args *a, const char *cwd, const char *basedir,
                                   const struct cs_strv *paths)
{
    struct parse p = {.cwd = cwd, .basedir = basedir, .a = a};
    enum cs_status rc = CS_OK;
    if (a->reason != CS_UNC_NONE)
        return CS_OK;
    for (size_t i = 0; rc == CS_OK && a->reason == CS_UNC_NONE && i < paths->n; i++) {
        struct stat st;
        if (stat(paths->v[i], &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
            continue;
        uint8_t digest[CS_SHA256_LEN];
        struct cs_bytes text = {0};
        rc = hash_file(paths->v[i], digest, &text, MAX_CONFIG);
        if (rc != CS_OK) {
            cs_bytes_free(&text);
            if (rc == CS_ERR_NOMEM)
                return rc;
            uncacheable(&p, CS_UNC_OPTION, NULL);
            return CS_OK;
        }
        rc = push(&p, TO_HASH, "default config");
        if (rc == CS_OK)
            rc = push(&p, TO_HASH, paths->v[i]);
        if (rc == CS_OK)
            rc = cs_strv_push_own(&a->hashed, content_form(digest));
        if (rc == CS_OK)
            rc = config_options(&p, &text);
        cs_bytes_free(&text);
    }
    if (rc == CS_OK)
        overlay_check(&p);
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
