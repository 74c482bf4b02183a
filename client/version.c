/* The compiler's version text: the cache dir, the remote's hint checked
 * against the compiler, or the compiler (see version.h). */
#include "autoconfig.h"

#include "client/version.h"

#include <string.h>

#include "client/blob.h"

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
    if (!r) {
        rc = cs_compiler_version_probe(c, &v->text);
        if (rc == CS_OK)
            cs_compiler_version_save(c, dir, v->text.data, v->text.len);
        return rc;
    }
    /* Started first: it runs through the hint's round trip too. */
    bool started = cs_compiler_probe_start(c, &v->probe) == CS_OK;
    uint8_t key[CS_SHA256_LEN];
    cs_compiler_version_key(c, key);
    enum cs_status hint = hint_get(ss, r, c, key, &v->text);
    if (hint == CS_OK && started) {
        v->state = CS_VERSION_PENDING;
        return CS_OK;
    }
    v->text.len = 0;
    rc = started ? cs_compiler_probe_finish(c, &v->probe, &v->text)
                 : cs_compiler_version_probe(c, &v->text);
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
