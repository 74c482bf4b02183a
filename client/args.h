/* Classifies a compiler command line the way a careful ccache does: a
 * single-source compile to an object is cacheable, anything else runs the
 * compiler untouched. For a cacheable one it builds the three argument
 * lists the cache needs: preprocess, compile, and what goes into the key. */
#ifndef CS_CLIENT_ARGS_H
#define CS_CLIENT_ARGS_H

#include <stdbool.h>

#include "client/util.h"

/* Why an invocation is not cached; counted in the stats by name. */
enum cs_uncacheable {
    CS_UNC_NONE = 0,
    CS_UNC_LINK,         /* no -c: linking or a driver query */
    CS_UNC_PREPROCESS,   /* -E, -M or -MM without -MD */
    CS_UNC_ASSEMBLY_OUT, /* -S */
    CS_UNC_MULTIPLE,     /* more than one input */
    CS_UNC_NO_INPUT,
    CS_UNC_NOT_SOURCE,      /* an input that is not a C/C++/ObjC/.S source */
    CS_UNC_STDIN,           /* "-" as input */
    CS_UNC_PCH,             /* precompiled headers */
    CS_UNC_PROFILE,         /* -fprofile-*, coverage */
    CS_UNC_RESPONSE_FILE,   /* an @file that cannot be read */
    CS_UNC_OPTION,          /* an option the cache cannot reproduce */
    CS_UNC_NATIVE,          /* -march=native and friends: depends on the host */
    CS_UNC_SPECIAL_FILE,    /* input or output is not a regular file path */
    CS_UNC_ARCH,            /* several -arch */
    CS_UNC_INCREMENTAL,     /* rustc -C incremental (CARGO_INCREMENTAL=1) */
    CS_UNC_RUST_QUERY,      /* rustc -vV, --print, --explain: no compile */
    CS_UNC_RUST_EMIT,       /* an --emit kind or output path the cache does not restore */
    CS_UNC_UNSTABLE,        /* rustc -Z options */
    CS_UNC_RUST_TARGET,     /* a target whose output names are not ELF's */
    CS_UNC_UNUSUAL_PATH,    /* a working or output dir that text replacement cannot carry */
    CS_UNC_UNKNOWN_DEPS,    /* a linked crate with a dependency not built through this cache */
    CS_UNC_CODE_DIRECTIVE,  /* .incbin or .include: the assembler reads a file no key holds */
    CS_UNC_NO_LINE_MARKERS, /* preprocessor text without them (-P, -dM): it keys no code */
    CS_UNC_COUNT
};
const char *cs_uncacheable_name(enum cs_uncacheable r);

struct cs_args {
    enum cs_uncacheable reason;
    const char *reason_detail; /* the argument that decided it, or NULL */
    char *input;               /* the source as the compiler will see it */
    char *output;              /* the object file */
    const char *lang;          /* gcc -x name */
    bool dep;                  /* a dependency file is written */
    char *dep_file;            /* its path */
    bool dep_target_given;     /* -MT/-MQ or -Wp,-MD: the .d target does not follow -o */
    bool dep_user_only;        /* -MMD: system headers are left out of the dependency file */
    bool debug;                /* -g: the working directory ends up in the object */
    bool output_in_key;        /* the compiler derives text from the object's path */
    bool vfs_overlay;          /* -ivfsoverlay: line markers may name virtual paths, so
                                  direct mode (which stats them) is off */
    bool vfs_read_files;       /* cc1 reads a file named in an option (through any overlay) */
    struct cs_strv debug_maps; /* OLD=NEW of -fdebug-prefix-map/-ffile-prefix-map, in order */
    struct cs_strv pp;         /* arguments (no compiler) to preprocess to stdout */
    struct cs_strv cc;         /* arguments (no compiler) for the real compile */
    struct cs_strv hashed;     /* arguments that go into the key */
};

/* Classifies argv[0..argc) (the compiler's arguments, without the compiler).
 * cwd and basedir (both absolute, normalised; basedir may be NULL) drive the
 * rewriting of absolute paths under basedir to paths relative to cwd. */
enum cs_status cs_args_parse(int argc, char *const *argv, const char *cwd, const char *basedir,
                             struct cs_args *a);
void cs_args_free(struct cs_args *a);

/* After cs_args_parse of a cacheable call: the configuration files the
 * driver may read without being told (clang, see
 * cs_compiler_default_configs). Each of paths that exists goes into the
 * key like an explicit --config: its content, and its options checked as
 * the command line's (a->reason is set when they make the compile
 * uncacheable). A path that does not exist is left out. */
enum cs_status cs_args_add_configs(struct cs_args *a, const char *cwd, const char *basedir,
                                   const struct cs_strv *paths);

/* The working directory as the debug info of this compile records it:
 * cwd (the compiler's own view of it, see compile.c) with the debug prefix
 * maps applied. gcc and clang differ in how they split OLD=NEW and in
 * which of several matching maps they apply, so this appends the result
 * under each of those rules to out (one string when there is no map): a
 * key holding all of them is right whichever rule the compiler follows. */
enum cs_status cs_args_debug_dirs(const struct cs_args *a, const char *cwd, struct cs_strv *out);

/* Which of several maps matching a path is applied. */
enum cs_map_choice {
    CS_MAP_LAST,    /* the last given (gcc) */
    CS_MAP_LONGEST, /* the longest OLD, the first given among equals (clang 14) */
    CS_MAP_FIRST,   /* the first given */
    CS_MAP_CHOICES
};
/* path with one of maps (OLD=NEW strings) applied, split at the last '='
 * (else the first) and chosen by choice; malloc'd, NULL on OOM. */
char *cs_prefix_map_apply(const struct cs_strv *maps, const char *path, bool split_last,
                          enum cs_map_choice choice);

#endif
