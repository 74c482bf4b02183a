/* Files named in compiler options whose content, not their name, decides
 * the output (plugins, profiles, specs, sanitizer lists, -ivfsoverlay),
 * and clang configuration files, whose options are checked like the
 * command line's. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/args_priv.h"
#include "common/hash.h"

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
    return cs_args_concat("content sha256 ", hex);
}

static enum cs_status config_options(struct args_state *p, const struct cs_bytes *text);

/* Puts the file an option names into the key: the option's name, the path
 * (relative under CSTASH_BASEDIR) and the content's SHA-256. arg is the
 * option as given, name its entry in file_options, value the file. */
static enum cs_status key_file(struct args_state *p, const char *arg, const char *name,
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
        cs_args_uncacheable(p, profile ? CS_UNC_PROFILE : CS_UNC_OPTION, arg);
        return cs_args_push(p, TO_HASH, arg);
    }
    /* gcc reads -fprofile-use=PATH as a directory: it looks for
     * PATH/<object path, mangled>.gcda and names that in a warning. */
    if (kind == FILE_PROFILE_GCC)
        p->a->output_in_key = true;
    /* The compiler proper reads these through a -ivfsoverlay, if any. */
    if (kind != FILE_PLUGIN && kind != FILE_CONFIG)
        p->a->vfs_read_files = true;
    char *path = kind == FILE_PROFILE_GCC ? strdup(value) : cs_args_rewrite_path(p, value);
    char *content = content_form(digest);
    if (!path || !content) {
        free(path);
        free(content);
        cs_bytes_free(&text);
        return CS_ERR_NOMEM;
    }
    rc = cs_args_push(p, TO_HASH, name);
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
enum cs_status cs_args_file_option(struct args_state *p, int argc, char *const *argv, int *i,
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
        rc = cs_args_push(p, TO_PP | TO_CC, arg);
    } else {
        if (*i + 1 >= argc) {
            cs_args_uncacheable(p, CS_UNC_OPTION, arg);
            return cs_args_push(p, TO_ALL, arg);
        }
        value = argv[++*i];
        rc = cs_args_push(p, TO_PP | TO_CC, arg);
        if (rc == CS_OK)
            rc = cs_args_push(p, TO_PP | TO_CC, value);
    }
    if (rc != CS_OK)
        return rc;
    return key_file(p, arg, name, file_options[k].kind, value);
}

enum cs_status cs_args_forwarded_file(struct args_state *p, const char *v, bool *handled)
{
    int k = file_option_index(v);
    *handled = k >= 0;
    if (k < 0)
        return CS_OK;
    const char *name = file_options[k].name;
    /* Not followed: a separate value (the next one handed on), and
     * --config, which only the driver reads. */
    if (name[strlen(name) - 1] == '=' && file_options[k].kind != FILE_CONFIG)
        return key_file(p, v, name, file_options[k].kind, v + strlen(name));
    cs_args_uncacheable(p, CS_UNC_OPTION, v);
    return cs_args_push(p, TO_HASH, v);
}

/* A plugin's argument (gcc -fplugin-arg-NAME-KEY=VALUE, clang -Xclang
 * -plugin-arg-NAME -Xclang VALUE): a plugin may read a file it is told
 * of, so when the value names a regular file its content goes into the
 * key too. The key gets two entries either way. */
enum cs_status cs_args_plugin_arg(struct args_state *p, const char *arg, const char *value)
{
    enum cs_status rc = cs_args_push(p, TO_HASH, arg);
    struct stat st;
    if (rc != CS_OK)
        return rc;
    if (!value[0] || stat(value, &st) != 0 || !S_ISREG(st.st_mode))
        return cs_args_push(p, TO_HASH, "not a file");
    uint8_t digest[CS_SHA256_LEN];
    if ((rc = hash_file(value, digest, NULL, 0)) != CS_OK) {
        if (rc == CS_ERR_NOMEM)
            return rc;
        cs_args_uncacheable(p, CS_UNC_OPTION, arg);
        return cs_args_push(p, TO_HASH, "unreadable");
    }
    return cs_strv_push_own(&p->a->hashed, content_form(digest));
}

/* clang -ivfsoverlay FILE: the overlay's text decides which file the
 * compiler reads for a path, so it goes into the key. The preprocessed
 * text shows what headers it mapped, but its line markers may name the
 * virtual paths ('use-external-names': false), which direct mode would
 * stat instead of the files read: direct mode is off. Files the compiler
 * proper reads through it (a sanitizer list named in an option) cannot be
 * told from here: with both, the compile runs uncached (see finish). */
enum cs_status cs_args_overlay_file(struct args_state *p, const char *arg, const char *file)
{
    uint8_t digest[CS_SHA256_LEN];
    enum cs_status rc = hash_file(file, digest, NULL, 0);
    p->a->vfs_overlay = true;
    if (rc != CS_OK) {
        if (rc == CS_ERR_NOMEM)
            return rc;
        cs_args_uncacheable(p, CS_UNC_OPTION, arg);
        return cs_args_push(p, TO_HASH, "unreadable");
    }
    return cs_strv_push_own(&p->a->hashed, content_form(digest));
}

/* Options of a configuration file that would change what cstash takes
 * for the inputs and outputs (it reads only the command line for those),
 * an @file (clang reads it relative to the configuration file) and
 * anything that is not an option. */
bool cs_args_config_refused(const char *arg)
{
    return arg[0] != '-' || !arg[1] || !strcmp(arg, "-c") || !strcmp(arg, "-E") ||
           !strcmp(arg, "-S") || cs_starts_with(arg, "-o") || cs_starts_with(arg, "-x") ||
           cs_starts_with(arg, "-M") || (cs_starts_with(arg, "-Wp,") && strstr(arg, "-M")) ||
           !strcmp(arg, "-arch") || cs_starts_with(arg, "--config");
}

/* The options of a clang configuration file, read as clang 14 reads
 * them: a line whose first non-blank is '#' is a comment, a backslash at
 * the end of a line joins the next one to it (nothing in between), the
 * rest splits like a response file. They get the command line's checks
 * (a file named in them is hashed by content, a profile refused...) and
 * go into the key only: the compiler reads them itself. */
static enum cs_status config_options(struct args_state *p, const struct cs_bytes *text)
{
    const char *s = text->data ? (const char *)text->data : "";
    size_t n = text->len, i = 0;
    if (memchr(s, '\0', n)) {
        cs_args_uncacheable(p, CS_UNC_OPTION, NULL);
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
        rc = cs_args_split_words((const char *)joined.data, &words);
    bool was = p->in_config;
    p->in_config = true;
    for (int k = 0; rc == CS_OK && k < (int)words.n; k++)
        rc = cs_args_one(p, (int)words.n, words.v, &k);
    p->in_config = was;
    cs_strv_free(&words);
    cs_bytes_free(&joined);
    return rc;
}

/* An overlay may map the files the compiler proper reads for an option to
 * others, whose content the key does not hold. */
void cs_args_overlay_check(struct args_state *p)
{
    if (p->a->vfs_overlay && p->a->vfs_read_files)
        cs_args_uncacheable(p, CS_UNC_OPTION, NULL);
}

enum cs_status cs_args_add_configs(struct cs_args *a, const char *cwd, const char *basedir,
                                   const struct cs_strv *paths)
{
    struct args_state p = {.cwd = cwd, .basedir = basedir, .a = a};
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
            cs_args_uncacheable(&p, CS_UNC_OPTION, NULL);
            return CS_OK;
        }
        rc = cs_args_push(&p, TO_HASH, "default config");
        if (rc == CS_OK)
            rc = cs_args_push(&p, TO_HASH, paths->v[i]);
        if (rc == CS_OK)
            rc = cs_strv_push_own(&a->hashed, content_form(digest));
        if (rc == CS_OK)
            rc = config_options(&p, &text);
        cs_bytes_free(&text);
    }
    if (rc == CS_OK)
        cs_args_overlay_check(&p);
    return rc;
}
