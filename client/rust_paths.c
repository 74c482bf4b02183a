/* Roots and placeholders of the Rust path (see rust_paths.h). */
#include "autoconfig.h"

#include "client/rust_paths.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cs_rust_under(const char *abs, const char *root)
{
    size_t n = root ? strlen(root) : 0;
    return n > 1 && !strncmp(abs, root, n) && (abs[n] == '/' || abs[n] == 0);
}

/* p (relative to cwd or absolute) in the key's form, malloc'd. */
char *cs_rust_norm_path(const struct cs_rust_roots *r, const char *p, const char *basedir)
{
    /* Relative: as written, the same in every checkout. Its spelling stays
     * apart from an absolute one's: rustc keeps either in file!() and remap
     * prefixes match the text as given. */
    if (p[0] != '/')
        return strdup(p);
    const char *tag = NULL, *rest = NULL;
    if (r->target && cs_rust_under(p, r->target))
        tag = "\001T", rest = p + strlen(r->target);
    else if (cs_rust_under(p, r->cwd))
        tag = "\001C", rest = p + strlen(r->cwd);
    if (tag) {
        size_t n = strlen(rest) + 3;
        char *s = malloc(n);
        if (s)
            snprintf(s, n, "%s%s", tag, rest);
        return s;
    }
    if (basedir) {
        char *abs = cs_path_absolute(p, "/");
        bool nomem = !abs;
        char *rel = abs ? cs_path_relative_under(abs, basedir, r->cwd, &nomem) : NULL;
        free(abs);
        if (nomem)
            return NULL;
        if (rel) { /* tagged: not the same as a relative spelling */
            size_t n = strlen(rel) + 3;
            char *t = malloc(n);
            if (t)
                snprintf(t, n, "\001B%s", rel);
            free(rel);
            return t;
        }
    }
    return strdup(p);
}

/* The inverse for this call: a path to stat, malloc'd. */
char *cs_rust_denorm_path(const struct cs_rust_roots *r, const char *s)
{
    const char *root = NULL;
    if (s[0] == '\001' && s[1] == 'B')
        return strdup(s + 2); /* relative to the working dir */
    if (s[0] == '\001' && s[1] == 'T')
        root = r->target;
    else if (s[0] == '\001' && s[1] == 'C')
        root = r->cwd;
    if (!root)
        return s[0] == '\001' ? NULL : strdup(s);
    return cs_path_join(root, s[2] == '/' ? s + 3 : s + 2);
}

static bool path_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '-' || c == '~' || c == '+' || c == '@';
}

/* text with the roots replaced by placeholders (and \001 doubled). */
enum cs_status cs_rust_norm_text(const struct cs_rust_roots *r, const uint8_t *p, size_t n,
                                 struct cs_bytes *out)
{
    /* The longer root first: the target dir usually lies in the working dir. */
    bool target_first = r->target && strlen(r->target) >= strlen(r->cwd);
    const char *rs[2] = {target_first ? r->target : r->cwd, target_first ? r->cwd : r->target};
    const char tags[2] = {target_first ? 'T' : 'C', target_first ? 'C' : 'T'};
    enum cs_status rc = cs_bytes_append(out, "", 0);
    size_t i = 0, from = 0;
    while (rc == CS_OK && i < n) {
        if (p[i] == '\001') {
            rc = cs_bytes_append(out, p + from, i + 1 - from);
            from = i; /* the byte again: doubled */
            i++;
            continue;
        }
        bool hit = false;
        for (int k = 0; k < 2 && !hit && rc == CS_OK; k++) {
            size_t rl = rs[k] ? strlen(rs[k]) : 0;
            /* A whole path component at both ends: not /src inside app/src/x. */
            if (rl > 1 && i + rl <= n && p[i] == '/' && !memcmp(p + i, rs[k], rl) &&
                (i + rl == n || !path_char(p[i + rl])) &&
                (i == 0 || (!path_char(p[i - 1]) && p[i - 1] != '/'))) {
                char tag[2] = {'\001', tags[k]};
                rc = cs_bytes_append(out, p + from, i - from);
                if (rc == CS_OK)
                    rc = cs_bytes_append(out, tag, 2);
                i += rl;
                from = i;
                hit = true;
            }
        }
        if (!hit)
            i++;
    }
    if (rc == CS_OK)
        rc = cs_bytes_append(out, p + from, n - from);
    return rc;
}

enum cs_status cs_rust_denorm_text(const struct cs_rust_roots *r, const struct cs_bytes *in,
                                   struct cs_bytes *out)
{
    enum cs_status rc = cs_bytes_append(out, "", 0);
    size_t from = 0;
    for (size_t i = 0; rc == CS_OK && i < in->len; i++) {
        if (in->data[i] != '\001')
            continue;
        rc = cs_bytes_append(out, in->data + from, i - from);
        if (i + 1 >= in->len)
            return CS_ERR_INVALID;
        char t = (char)in->data[++i];
        const char *root = t == 'T' ? r->target : t == 'C' ? r->cwd : NULL;
        if (rc == CS_OK && t == '\001')
            rc = cs_bytes_append(out, "\001", 1);
        else if (rc == CS_OK && root)
            rc = cs_bytes_append_str(out, root);
        else if (rc == CS_OK)
            return CS_ERR_INVALID;
        from = i + 1;
    }
    return rc == CS_OK ? cs_bytes_append(out, in->data + from, in->len - from) : rc;
}

/* Roots that text replacement can carry: JSON (cargo's messages) and
 * make (the .d file) would escape these characters, so a literal search
 * would miss them. */
bool cs_rust_plain_path(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || strchr(" \"\\$#:%*?[]'", *p) || *p == 0x7f)
            return false;
    return true;
}
