/* -fdebug-prefix-map, -ffile-prefix-map and -fmacro-prefix-map: how they
 * go into the key, and the working directory the debug info records
 * under them. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "client/args_priv.h"

/* How OLD of a prefix map goes into the key. It differs between
 * checkouts, but it decides which paths the map rewrites, so it cannot be
 * left out: under CSTASH_BASEDIR (and lexically clean, since the compiler
 * compares strings) it is hashed relative to the working directory, like
 * every other path under the base dir; otherwise as written. */
static char *map_old_form(const struct args_state *p, const char *old, size_t n)
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
            form = cs_args_concat(slash ? "under basedir, slash: " : "under basedir: ", rel);
            free(rel);
            free(o);
            return form;
        }
    }
    form = cs_args_concat("as written: ", o);
    free(o);
    return form;
}

/* -fdebug-prefix-map=OLD=NEW, -ffile-prefix-map= (debug info and
 * __FILE__) and -fmacro-prefix-map= (__FILE__ only). gcc splits the value
 * at its last '=' (OLD may hold '=', NEW not), clang at its first (the
 * other way round), so the key holds OLD and NEW under both splits. */
enum cs_status cs_args_prefix_map(struct args_state *p, const char *arg)
{
    const char *value = strchr(arg, '=') + 1;
    enum cs_status rc = cs_args_push(p, TO_PP | TO_CC, arg);
    if (rc == CS_OK && !cs_starts_with(arg, "-fmacro-prefix-map="))
        rc = cs_strv_push(&p->a->debug_maps, value);
    if (rc != CS_OK)
        return rc;
    const char *first = strchr(value, '='), *last = strrchr(value, '=');
    if (!first) /* the compiler refuses it */
        return cs_args_push(p, TO_HASH, arg);
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
    return new ? cs_args_concat(new, path + best) : strdup(path);
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
