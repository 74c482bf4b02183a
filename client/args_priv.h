/* Internals shared by the files of the argument classification: args.c
 * (the command line, option by option), args_cc1.c (what the driver hands
 * on to cc1), args_files.c (files named in options, clang configuration
 * files), args_long.c (--long spellings), args_prefix_map.c
 * (-f*-prefix-map). Not for other modules. */
#ifndef CS_CLIENT_ARGS_PRIV_H
#define CS_CLIENT_ARGS_PRIV_H

#include <stdbool.h>

#include "client/args.h"

/* The ways the driver hands an argument to cc1 as it is. */
enum route { ROUTE_XCLANG, ROUTE_XPREPROCESSOR, ROUTE_WP, ROUTES };
/* What the next argument handed on the same way is to the one before. */
enum operand { OPERAND_NONE, OPERAND_PLAIN, OPERAND_FILE, OPERAND_PLUGIN_ARG };

/* One classification under way; a is what it fills. */
struct args_state {
    const char *cwd, *basedir;
    struct cs_args *a;
    bool compile_only, has_E, has_S, has_M, output_given, seen_input;
    bool in_config;      /* reading a clang configuration file's options */
    bool dep_wp, dep_mf; /* -Wp,-MD,F and -MF F: cc1 writes the first only */
    int inputs, arches;
    enum cs_uncacheable input_reason;
    const char *lang_x;
    enum operand pending[ROUTES];
};

/* args.c */

/* The first reason given wins; detail is the argument that decided it. */
void cs_args_uncacheable(struct args_state *p, enum cs_uncacheable r, const char *detail);
/* The path the compiler should see: relative to cwd when under basedir;
 * malloc'd, NULL on OOM. */
char *cs_args_rewrite_path(const struct args_state *p, const char *path);
/* malloc'd a followed by b; NULL on OOM. */
char *cs_args_concat(const char *a, const char *b);
/* Pushes a copy of s to the lists named by the flags (a configuration
 * file's options only to the key). */
enum { TO_PP = 1, TO_CC = 2, TO_HASH = 4, TO_ALL = 7 };
enum cs_status cs_args_push(struct args_state *p, int to, const char *s);
/* Marks the call uncacheable when arg is a profile, precompiled-header or
 * unsupported option; whether it was one. */
bool cs_args_refuse_option(struct args_state *p, const char *arg);
/* argv[*i] and, when it takes them, the arguments after it (*i moves to
 * the last one taken). */
enum cs_status cs_args_one(struct args_state *p, int argc, char *const *argv, int *i);
/* Splits a response file's text the way gcc does: whitespace separates,
 * quotes group, backslash escapes. */
enum cs_status cs_args_split_words(const char *text, struct cs_strv *out);

/* args_cc1.c */

/* -Xclang V, -Xpreprocessor V (argv[*i] and the next). */
enum cs_status cs_args_forwarded(struct args_state *p, int argc, char *const *argv, int *i);
/* -Wp,A,B... */
enum cs_status cs_args_wp_option(struct args_state *p, const char *arg);

/* args_files.c */

/* An option naming a file whose content goes into the key; *handled says
 * whether argv[*i] is one, *i moves past its value. */
enum cs_status cs_args_file_option(struct args_state *p, int argc, char *const *argv, int *i,
                                   bool *handled);
/* The same for v, an argument handed on to cc1 as it is: a file joined to
 * it is hashed, a separate one (not followed) or --config is refused;
 * pushes v's part of the key. */
enum cs_status cs_args_forwarded_file(struct args_state *p, const char *v, bool *handled);
/* A plugin's argument arg with its value value (a file's content goes
 * into the key). Pushes to the key only. */
enum cs_status cs_args_plugin_arg(struct args_state *p, const char *arg, const char *value);
/* The file of -ivfsoverlay arg, into the key. */
enum cs_status cs_args_overlay_file(struct args_state *p, const char *arg, const char *file);
/* After all options: an overlay with files the compiler reads through it. */
void cs_args_overlay_check(struct args_state *p);
/* Whether a configuration file may not hold arg. */
bool cs_args_config_refused(const char *arg);

/* args_long.c */

/* A long option (--output=FILE, --write-dependencies...) read as the short
 * one it stands for; *handled says whether argv[*i] is one the rest of
 * the classification does not read as it is, *i moves past its value. */
enum cs_status cs_args_long_option(struct args_state *p, int argc, char *const *argv, int *i,
                                   bool *handled);

/* args_prefix_map.c */

/* -fdebug-prefix-map=, -ffile-prefix-map=, -fmacro-prefix-map=. */
enum cs_status cs_args_prefix_map(struct args_state *p, const char *arg);

#endif
