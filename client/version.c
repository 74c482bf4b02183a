/* The compiler's version text: the cache dir, the remote's hint checked
 * against the compiler, or the compiler (see version.h). */
#include "autoconfig.h"

#include "client/version.h"

#include <ctype.h>
#include <string.h>

#include "client/blob.h"
#include "client/buildid.h"

/* The remote keeps the blob "CSV1" of the identity, a NUL and the text at
 * the version key; the identity inside makes a blob stored for another
 * compiler (or not by cstash) no hint. */
static enum cs_status hint_get(struct cs_session *ss, struct cs_remote *r,
                               const struct cs_compiler *c, const uint8_t key[CS_SHA256_LEN],
                               struct cs_bytes *text)
{
    struct cs_bytes blob = {0}, raw = {0};
    enum cs_status rc = cs_remote_get(r, key, &blob);
    if (rc != CS_OK && rc != CS_ERR_NOT_FOUND)
        cs_session_remote_failed(ss, rc);
    size_t idl = strlen(c->identity);
    if (rc == CS_OK && cs_blob_unseal("CSV1", blob.data, blob.len, &raw) == CS_OK &&
        raw.len > idl + 1 && raw.len - idl - 1 <= CS_COMPILER_VERSION_MAX &&
        !memcmp(raw.data, c->identity, idl) && raw.data[idl] == 0)
        rc = cs_bytes_append(text, raw.data + idl + 1, raw.len - idl - 1);
    else if (rc == CS_OK)
        rc = CS_ERR_INVALID;
    cs_bytes_free(&blob);
    cs_bytes_free(&raw);
    return rc;
}

static void hint_put(struct cs_session *ss, struct cs_remote *r, const struct cs_compiler *c,
                     const uint8_t key[CS_SHA256_LEN], const struct cs_bytes *text)
{
    struct cs_bytes raw = {0}, blob = {0};
    enum cs_status rc = cs_bytes_append(&raw, c->identity, strlen(c->identity) + 1);
    if (rc == CS_OK)
        rc = cs_bytes_append(&raw, text->data, text->len);
    if (rc == CS_OK)
        rc = cs_blob_seal("CSV1", &raw, &blob);
    if (rc == CS_OK && (rc = cs_remote_put(r, key, blob.data, blob.len)) != CS_OK)
        cs_session_remote_failed(ss, rc);
    cs_bytes_free(&raw);
    cs_bytes_free(&blob);
}

/* The remote key of a compiler's text. Bound to its build-id when it has
 * one: the text of one build. Else to the identity only. */
static void hint_key(const struct cs_compiler *c, const char *build_id, uint8_t key[CS_SHA256_LEN])
{
    if (!build_id) {
        cs_compiler_version_key(c, key);
        return;
    }
    const void *parts[] = {"cstash-compiler-v2", c->identity, build_id};
    size_t lens[] = {18, strlen(c->identity) + 1, strlen(build_id)};
    cs_sha256_parts(parts, lens, 3, key);
}

/* Whether text has the form of gcc's -dumpfullversion -dumpmachine, a
 * version line (gcc 12 answers only the first -dump option) and maybe a
 * target line, which the driver prints from what was built into it. clang's (its target only, or
 * --version) can come from its configuration files and the directory it runs from. */
static bool gcc_form(const struct cs_bytes *t)
{
    size_t i = 0, n = t->data ? t->len : 0;
    while (i < n && (isdigit(t->data[i]) || (i > 0 && t->data[i] == '.')))
        i++;
    if (i == 0 || i >= n || t->data[i++] != '\n')
        return false;
    if (i == n)
        return true; /* gcc 12 prints only the first -dump */
    size_t start = i;
    while (i < n && (isalnum(t->data[i]) || (t->data[i] && strchr("_.+-", t->data[i]))))
        i++;
    return i > start && i + 1 == n && t->data[i] == '\n';
}

enum cs_status cs_version_find(struct cs_version *v, struct cs_session *ss,
                               const struct cs_compiler *c)
{
    const char *dir = ss->s.dir;
    v->state = CS_VERSION_OWN;
    enum cs_status rc = cs_compiler_version_cached(c, dir, &v->text);
    if (rc == CS_OK || rc == CS_ERR_NOMEM)
        return rc;
    v->text.len = 0;
    struct cs_remote *r = cs_session_remote(ss);
    char id[2 * CS_BUILD_ID_MAX + 1];
    /* A launcher's build-id is not its compiler's. */
    bool bound = r && !c->launcher && c->real && cs_build_id_of(c->real, id) == CS_OK;
    uint8_t key[CS_SHA256_LEN];
    hint_key(c, bound ? id : NULL, key);
    enum cs_status hint = r ? hint_get(ss, r, c, key, &v->text) : CS_ERR_NOT_FOUND;
    if (hint == CS_OK && bound && gcc_form(&v->text)) {
        cs_session_log(ss, "version text of %s from the remote (build-id %s)", c->path, id);
        cs_compiler_version_save(c, dir, v->text.data, v->text.len);
        return CS_OK;
    }
    if (hint == CS_OK && cs_compiler_probe_start(c, &v->probe) == CS_OK) {
        v->state = CS_VERSION_PENDING;
        return CS_OK;
    }
    v->text.len = 0;
    rc = cs_compiler_version_probe(c, &v->text);
    if (rc != CS_OK)
        return rc;
    cs_compiler_version_save(c, dir, v->text.data, v->text.len);
    /* The first text stays: one of another compiler is not overwritten,
     * or two machines would undo each other's. */
    if (hint == CS_ERR_NOT_FOUND && !ss->s.readonly && !ss->s.remote_readonly &&
        (r = cs_session_remote(ss)) != NULL)
        hint_put(ss, r, c, key, &v->text);
    return CS_OK;
}

bool cs_version_confirm(struct cs_version *v, struct cs_session *ss, const struct cs_compiler *c)
{
    if (v->state != CS_VERSION_PENDING)
        return v->state == CS_VERSION_OWN;
    struct cs_bytes own = {0};
    enum cs_status rc = cs_compiler_probe_finish(c, &v->probe, &own);
    bool same = rc == CS_OK && own.len == v->text.len && !memcmp(own.data, v->text.data, own.len);
    v->state = same ? CS_VERSION_OWN : CS_VERSION_WRONG;
    if (rc == CS_OK)
        cs_compiler_version_save(c, ss->s.dir, own.data, own.len);
    if (!same)
        cs_session_count(ss, CS_ST_COMPILER_MISMATCH);
    if (!same)
        cs_session_log(ss, "the remote's version text for %s is not the compiler's own (%s)",
                       c->path, rc == CS_OK ? "another compiler" : cs_strerror(rc));
    cs_bytes_free(&own);
    return same;
}

void cs_version_free(struct cs_version *v, struct cs_session *ss, const struct cs_compiler *c)
{
    if (v->state == CS_VERSION_PENDING)
        (void)cs_version_confirm(v, ss, c);
    cs_bytes_free(&v->text);
}
