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
    {"-I", ARG_PATH},          {"-isystem", ARG_PATH},   {"-iquote", ARG_PATH},
    {"-idirafter", ARG_PATH},  {"-include", ARG_PATH},   {"-imacros", ARG_PATH},
    {"-isysroot", ARG_PATH},   {"--sysroot", ARG_PATH},  {"-B", ARG_PATH},
    {"-iprefix", ARG_PATH},    {"-iwithprefix", ARG_PATH}, {"-iwithprefixbefore", ARG_PATH},
    {"-L", ARG_PATH},          {"-D", ARG_PLAIN},        {"-U", ARG_PLAIN},
    {"-Xpreprocessor", ARG_PLAIN}, {"-Xassembler", ARG_PLAIN}, {"-Xlinker", ARG_PLAIN},
    {"-Xclang", ARG_PLAIN},    {"-target", ARG_PLAIN},   {"-A", ARG_PLAIN},
    {"--param", ARG_PLAIN},    {"-u", ARG_PLAIN},        {"-l", ARG_PLAIN},
    {"-T", ARG_PLAIN},         {"-G", ARG_PLAIN},        {"-gcc-toolchain", ARG_PATH},
    {"-imultilib", ARG_PLAIN}, {"-ivfsoverlay", ARG_PATH}, {"-arch", ARG_PLAIN},
};

struct parse {
    const char *cwd, *basedir;
    struct cs_args *a;
    bool compile_only, has_E, has_S, has_M, output_given, seen_input;
    int inputs, arches;
    enum cs_uncacheable input_reason;
    const char *lang_x;
};

static void uncacheable(struct parse *p, enum cs_uncacheable r, const char *detail)
{
    if (p->a->reason == CS_UNC_NONE) {
        p->a->reason = r;
        p->a->reason_detail = detail;
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
        {"c", "c", 0},          {"cc", "c++", 0},   {"cp", "c++", 0},   {"cxx", "c++", 0},
        {"cpp", "c++", 0},      {"CPP", "c++", 0},  {"c++", "c++", 0},  {"C", "c++", 0},
        {"m", "objective-c", 0}, {"mm", "objective-c++", 0}, {"M", "objective-c++", 0},
        {"S", "assembler-with-cpp", 0}, {"sx", "assembler-with-cpp", 0},
        {"h", NULL, CS_UNC_PCH}, {"hh", NULL, CS_UNC_PCH}, {"hpp", NULL, CS_UNC_PCH},
        {"hxx", NULL, CS_UNC_PCH}, {"H", NULL, CS_UNC_PCH}, {"h++", NULL, CS_UNC_PCH},
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
    static const char *const exact[] = {"-gsplit-dwarf", "-fsyntax-only", "-frepo", "-###",
                                        "-v", "--help", "--version", "-MG", "--", "-fmodules",
                                        "-fcxx-modules", "-pipe-never"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcmp(s, exact[i]))
            return true;
    return cs_starts_with(s, "-save-temps") || cs_starts_with(s, "-fdump-") ||
           cs_starts_with(s, "-print-") || cs_starts_with(s, "-dump") ||
           cs_starts_with(s, "-fmodules-") || cs_starts_with(s, "-fstack-usage") ||
           cs_starts_with(s, "-fcallgraph-info") || cs_starts_with(s, "-aux-info") ||
           cs_starts_with(s, "-ftime-trace") || cs_starts_with(s, "--serialize-diagnostics");
}

static bool is_pch_option(const char *s)
{
    return !strcmp(s, "-include-pch") || !strcmp(s, "-fpch-preprocess") || !strcmp(s, "-emit-pch") ||
           cs_starts_with(s, "-fpch-") || !strcmp(s, "-Xclang-emit-pch");
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
    FILE_TEXT,        /* specs, sanitizer ignore lists */
    FILE_PROFILE,     /* a profile file (clang) */
    FILE_PROFILE_GCC, /* -fprofile-use=: a file for clang, a directory for gcc */
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
    {"-fprofile-use=", FILE_PROFILE_GCC},
    {"-fprofile-instr-use=", FILE_PROFILE},
    {"-fprofile-sample-use=", FILE_PROFILE},
    {"-fauto-profile=", FILE_PROFILE},
};

/* SHA-256 of a regular file's content. */
static enum cs_status hash_file(const char *path, uint8_t out[CS_SHA256_LEN])
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
        else
            cs_sha256_update(&h, buf, (size_t)n);
    }
    close(fd);
    cs_sha256_final(&h, out);
    return rc;
}

/* *handled says whether argv[*i] is such an option; *i moves past its value. */
static enum cs_status file_option(struct parse *p, int argc, char *const *argv, int *i,
                                  bool *handled)
{
    const char *arg = argv[*i], *name = NULL, *value = NULL;
    enum file_kind kind = FILE_TEXT;
    for (size_t k = 0; !name && k < sizeof file_options / sizeof file_options[0]; k++) {
        const char *n = file_options[k].name;
        bool joined = n[strlen(n) - 1] == '=';
        if (joined ? cs_starts_with(arg, n) : !strcmp(arg, n)) {
            name = n;
            kind = file_options[k].kind;
        }
    }
    *handled = name != NULL;
    if (!name)
        return CS_OK;
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
    /* gcc loads a plugin named without '/' from its own plugin directory,
     * and dlopen() looks for such a name on the library path: not a file
     * we can find here. A profile that is a directory (or missing) makes
     * the compiler derive a file name per object: not guessed either. */
    uint8_t digest[CS_SHA256_LEN];
    bool usable = value[0] && !(kind == FILE_PLUGIN && !strchr(value, '/')) &&
                  hash_file(value, digest) == CS_OK;
    if (!usable) {
        bool profile = kind == FILE_PROFILE || kind == FILE_PROFILE_GCC;
        uncacheable(p, profile ? CS_UNC_PROFILE : CS_UNC_OPTION, arg);
        return push(p, TO_HASH, arg);
    }
    /* gcc reads -fprofile-use=PATH as a directory: it looks for
     * PATH/<object path, mangled>.gcda and names that in a warning. */
    if (kind == FILE_PROFILE_GCC)
        p->a->output_in_key = true;
    char hex[CS_SHA256_HEX_LEN + 1];
    cs_hex_encode(digest, sizeof digest, hex);
    char *path = kind == FILE_PROFILE_GCC ? strdup(value) : rewrite_path(p, value);
    char *content = concat("content sha256 ", hex);
    if (!path || !content) {
        free(path);
        free(content);
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
    return rc;
}

/* -Wp,-MD,file and -Wp,-MMD,file (the Linux kernel's way): a dependency
 * file the preprocessor writes. Other -M options inside -Wp are refused. */
static enum cs_status wp_option(struct parse *p, const char *arg)
{
    const char *rest = arg + 4;
    bool md = cs_starts_with(rest, "-MD,"), mmd = cs_starts_with(rest, "-MMD,");
    if (!md && !mmd) {
        if (strstr(rest, "-M"))
            uncacheable(p, CS_UNC_OPTION, arg);
        return push(p, TO_ALL, arg);
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
    enum cs_status rc = cs_strv_push_own(&p->a->cc, cc);
    if (rc == CS_OK)
        rc = push(p, TO_HASH, md ? "-Wp,-MD" : "-Wp,-MMD");
    return rc;
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
        return rc;
    }
    return CS_OK;
}

static enum cs_status one_arg(struct parse *p, int argc, char *const *argv, int *i)
{
    const char *arg = argv[*i];
    struct cs_args *a = p->a;
    enum cs_status rc;
    int used;

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
    bool handled;
    if ((rc = file_option(p, argc, argv, i, &handled)) != CS_OK || handled)
        return rc;
    /* clang -Xclang -load -Xclang plugin.so: a file that is not hashed. */
    if (!strcmp(arg, "-Xclang") && *i + 1 < argc &&
        (!strcmp(argv[*i + 1], "-load") || cs_starts_with(argv[*i + 1], "-fpass-plugin=") ||
         !strcmp(argv[*i + 1], "-load-pass-plugin")))
        uncacheable(p, CS_UNC_OPTION, arg);
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
