/* What the driver hands on to cc1 as it is: -Xclang V, -Xpreprocessor V
 * and the pieces of -Wp,A,B. Each gets the command line's checks; cc1
 * options that name files the cache cannot follow make the call
 * uncacheable. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "client/args_priv.h"

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
static enum cs_status forwarded_value(struct args_state *p, enum route r, const char *v)
{
    enum operand op = p->pending[r];
    p->pending[r] = OPERAND_NONE;
    if (v[0] == '@') {
        /* cc1 reads the @file itself; its options are in no key (review of 3174205) */
        cs_args_uncacheable(p, CS_UNC_RESPONSE_FILE, v);
        return cs_args_push(p, TO_HASH, v);
    }
    if (op == OPERAND_PLUGIN_ARG)
        return cs_args_plugin_arg(p, v, v);
    if (op != OPERAND_NONE) /* a plain value, or the file of a refused option */
        return cs_args_push(p, TO_HASH, v);
    bool handled;
    enum cs_status rc = cs_args_forwarded_file(p, v, &handled);
    if (rc != CS_OK || handled)
        return rc;
    if (IN_LIST(cc1_file_next, v, false)) {
        cs_args_uncacheable(p, CS_UNC_OPTION, v);
        p->pending[r] = OPERAND_FILE;
    } else if (IN_LIST(cc1_file_joined, v, true)) {
        cs_args_uncacheable(p, CS_UNC_OPTION, v);
    } else if (cs_starts_with(v, "-plugin-arg-")) {
        p->pending[r] = OPERAND_PLUGIN_ARG;
    } else if (IN_LIST(cc1_plain_next, v, false)) {
        p->pending[r] = OPERAND_PLAIN;
    } else if (cs_starts_with(v, "-fplugin-arg-") && strchr(v, '=')) {
        return cs_args_plugin_arg(p, v, strchr(v, '=') + 1);
    } else if (cs_starts_with(v, "-M")) {
        cs_args_uncacheable(p, CS_UNC_OPTION, v); /* a dependency file the cache does not know of */
    } else if (r != ROUTE_XCLANG && cs_starts_with(v, "--")) {
        /* gcc's cc1 reads long options and their abbreviations too:
         * -Wp,--write-user-dependencies,F writes a dependency file */
        cs_args_uncacheable(p, CS_UNC_OPTION, v);
    } else {
        cs_args_refuse_option(p, v);
    }
    return cs_args_push(p, TO_HASH, v);
}

/* -Xclang V, -Xpreprocessor V. */
enum cs_status cs_args_forwarded(struct args_state *p, int argc, char *const *argv, int *i)
{
    const char *via = argv[*i];
    if (*i + 1 >= argc) {
        cs_args_uncacheable(p, CS_UNC_OPTION, via);
        return cs_args_push(p, TO_ALL, via);
    }
    const char *v = argv[++*i];
    enum cs_status rc = cs_args_push(p, TO_PP | TO_CC, via);
    if (rc == CS_OK)
        rc = cs_args_push(p, TO_PP | TO_CC, v);
    if (rc == CS_OK)
        rc = cs_args_push(p, TO_HASH, via);
    if (rc != CS_OK)
        return rc;
    return forwarded_value(p, !strcmp(via, "-Xclang") ? ROUTE_XCLANG : ROUTE_XPREPROCESSOR, v);
}

/* -Wp,-MD,file and -Wp,-MMD,file (the Linux kernel's way): a dependency
 * file the preprocessor writes. Other -M options inside -Wp are refused;
 * the other pieces reach cc1 (gcc's and clang's, both preprocess in it)
 * and are checked as such. */
enum cs_status cs_args_wp_option(struct args_state *p, const char *arg)
{
    const char *rest = arg + 4;
    bool md = cs_starts_with(rest, "-MD,"), mmd = cs_starts_with(rest, "-MMD,");
    enum cs_status rc;
    if (!md && !mmd) {
        if (strstr(rest, "-M")) {
            cs_args_uncacheable(p, CS_UNC_OPTION, arg);
            return cs_args_push(p, TO_ALL, arg);
        }
        /* The whole argument first: its pieces' entries follow it. */
        if ((rc = cs_args_push(p, TO_ALL, arg)) != CS_OK)
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
        cs_args_uncacheable(p, CS_UNC_OPTION, arg);
        return cs_args_push(p, TO_ALL, arg);
    }
    char *f = cs_args_rewrite_path(p, file);
    if (!f)
        return CS_ERR_NOMEM;
    p->a->dep = true;
    p->a->dep_user_only = mmd;
    p->dep_wp = true;
    /* cc1 names the target after the source, not -o: nothing to rewrite. */
    p->a->dep_target_given = true;
    free(p->a->dep_file);
    p->a->dep_file = f;
    char *cc = cs_args_concat(md ? "-Wp,-MD," : "-Wp,-MMD,", f);
    rc = cs_strv_push_own(&p->a->cc, cc);
    if (rc == CS_OK)
        rc = cs_args_push(p, TO_HASH, md ? "-Wp,-MD" : "-Wp,-MMD");
    return rc;
}
