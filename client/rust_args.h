/* Classifies a rustc command line: one crate from one source file, with
 * outputs the cache knows how to name and restore, is cacheable; anything
 * else (queries, -C incremental, -Z, other --emit kinds, stdin...) runs
 * rustc untouched, counted by reason. For a cacheable call it lists what
 * goes into the key, with the paths apart so they can be made independent
 * of the checkout (rust.c), and the arguments of the dep-info pass. */
#ifndef CS_CLIENT_RUST_ARGS_H
#define CS_CLIENT_RUST_ARGS_H

#include <stdbool.h>

#include "client/args.h"
#include "client/util.h"

enum cs_rust_type {
    CS_RT_BIN = 1 << 0,
    CS_RT_LIB = 1 << 1, /* lib and rlib: an rlib */
    CS_RT_DYLIB = 1 << 2,
    CS_RT_CDYLIB = 1 << 3,
    CS_RT_STATICLIB = 1 << 4,
    CS_RT_PROC_MACRO = 1 << 5,
};
enum cs_rust_emit { CS_RE_DEP_INFO = 1 << 0, CS_RE_METADATA = 1 << 1, CS_RE_LINK = 1 << 2 };

struct cs_rust_args {
    enum cs_uncacheable reason;
    const char *reason_detail; /* the argument that decided it, or NULL */
    const char *input;         /* the source as given */
    const char *crate_name;    /* --crate-name, or NULL (from the file name) */
    const char *extra;         /* -C extra-filename, or "" */
    const char *out_dir;       /* --out-dir, or NULL (the working dir) */
    const char *out_file;      /* -o, or NULL */
    const char *linker;        /* -C linker, or NULL (cc) */
    const char *target;        /* --target, or NULL (the host) */
    unsigned types;            /* enum cs_rust_type bits; 0: none given */
    unsigned emit;             /* enum cs_rust_emit bits */
    /* What goes into the key, in order: key_opt[i] then, unless
     * key_path[i] is "", that path made checkout-independent. */
    struct cs_strv key_opt, key_path;
    struct cs_strv externs;     /* --extern files, hashed by content */
    struct cs_strv native_dirs; /* -L dirs searched for -l libraries (not dependency=) */
    struct cs_strv crate_dirs;  /* -L crate=, all= and plain dirs: crates in them are hashed */
    struct cs_strv native_libs; /* -l names */
    struct cs_strv link_files;  /* -C link-arg(s) words that may name files */
    struct cs_strv dep_info;    /* the arguments minus outputs and message formats */
};

/* Classifies argv[0..argc) (rustc's arguments, without rustc). The
 * strings point into argv. */
enum cs_status cs_rust_args_parse(int argc, char *const *argv, struct cs_rust_args *a);
void cs_rust_args_free(struct cs_rust_args *a);
/* "lib,bin"-style names of a's crate types into buf. */
void cs_rust_types_name(unsigned types, char *buf, size_t len);

#endif
