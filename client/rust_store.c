/* The content-addressed file store of the Rust path (see rust_store.h). */
#include "autoconfig.h"

#include "client/rust_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <unistd.h>

#include "client/blob.h"

#define MAX_FILE ((size_t)1 << 30) /* as rust.c reads outputs */

static void sha_of(const struct cs_bytes *b, uint8_t out[CS_SHA256_LEN])
{
    const void *parts[] = {b->data ? (const void *)b->data : ""};
    size_t lens[] = {b->len};
    cs_sha256_parts(parts, lens, 1, out);
}

/* A copy-on-write clone of src at dst (btrfs, XFS): no inode shared, so
 * nothing written to one reaches the other. CS_ERR_IO where the file
 * system cannot. */
static enum cs_status reflink(const char *src, const char *dst, uint32_t mode)
{
    size_t n = strlen(dst) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return CS_ERR_NOMEM;
    snprintf(tmp, n, "%s.tmp.%ld.%lx", dst, (long)getpid(),
             (unsigned long)(cs_now_ns() & 0xffffff));
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
    bool ok = out >= 0 && ioctl(out, FICLONE, in) == 0 && fchmod(out, mode & 0777) == 0;
    if (out >= 0 && close(out) != 0)
        ok = false;
    if (in >= 0)
        close(in);
    ok = ok && rename(tmp, dst) == 0;
    if (!ok && out >= 0)
        unlink(tmp);
    free(tmp);
    return ok ? CS_OK : CS_ERR_IO;
}

/* Links src to dst (dst must not exist); where linking is not possible (another
 * file system, fs.protected_hardlinks, the link count) a reflink, else a copy. */
static enum cs_status link_or_copy(const char *src, const char *dst, const struct cs_bytes *data,
                                   uint32_t mode)
{
    if (link(src, dst) == 0)
        return CS_OK;
    if (errno == EEXIST)
        return CS_ERR_EXISTS;
    if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP)
        return cs_status_from_errno(errno);
    if (errno != EXDEV && reflink(src, dst, mode) == CS_OK)
        return CS_OK;
    enum cs_status rc =
        cs_write_file_atomic(dst, data->data ? data->data : (uint8_t *)"", data->len);
    if (rc == CS_OK && chmod(dst, mode & 0777) != 0)
        rc = cs_status_from_errno(errno);
    return rc;
}

void cs_rust_store_add(struct cs_session *ss, const char *path, const struct cs_bytes *data,
                       const uint8_t sha[CS_SHA256_LEN], uint32_t mode)
{
    if (ss->s.readonly)
        return;
    char *cas = cs_local_path(ss->s.dir, sha, CS_KIND_FILE);
    enum cs_status rc = cas ? CS_OK : CS_ERR_NOMEM;
    if (rc == CS_OK && access(cas, F_OK) != 0) {
        rc = link_or_copy(path, cas, data, mode);
        if (rc == CS_ERR_NOT_FOUND && cs_mkdirs(cas, false) == CS_OK)
            rc = link_or_copy(path, cas, data, mode);
        if (rc == CS_OK)
            rc = cs_local_account(ss->s.dir, sha, 1, (int64_t)data->len, ss->s.maxsize);
        else if (rc == CS_ERR_EXISTS)
            rc = CS_OK; /* a parallel compile stored the same content */
    }
    if (rc != CS_OK) {
        cs_session_count(ss, CS_ST_LOCAL_ERROR);
        cs_session_log(ss, "local cache write of %s: %s", path, cs_strerror(rc));
    }
    free(cas);
    struct cs_remote *r = ss->s.remote_readonly ? NULL : cs_session_remote(ss);
    if (!r)
        return;
    struct cs_bytes blob = {0};
    rc = cs_blob_seal("CSF1", data, &blob);
    if (rc == CS_OK && (rc = cs_remote_put(r, sha, blob.data, blob.len)) != CS_OK)
        cs_session_remote_failed(ss, rc);
    else if (rc != CS_OK)
        cs_session_count(ss, CS_ST_INTERNAL_ERROR);
    cs_bytes_free(&blob);
}

/* The local copy of o, checked against its hash into data; a copy that
 * fails the check is removed. */
static enum cs_status local_file(struct cs_session *ss, const struct cs_rust_output *o,
                                 const char *cas, struct cs_bytes *data)
{
    enum cs_status rc = cs_read_file(cas, MAX_FILE, data);
    if (rc != CS_OK)
        return rc;
    uint8_t sha[CS_SHA256_LEN];
    sha_of(data, sha);
    if (memcmp(sha, o->sha, CS_SHA256_LEN) == 0 && data->len == o->size)
        return CS_OK;
    cs_session_count(ss, CS_ST_LOCAL_ERROR);
    cs_session_log(ss, "cached file %s was changed (written through a hard link?): dropped", cas);
    (void)unlink(cas);
    data->len = 0;
    return CS_ERR_NOT_FOUND;
}

static enum cs_status remote_file(struct cs_session *ss, const struct cs_rust_output *o,
                                  struct cs_bytes *data)
{
    struct cs_remote *r = cs_session_remote(ss);
    if (!r)
        return CS_ERR_NOT_FOUND;
    struct cs_bytes blob = {0};
    enum cs_status rc = cs_remote_get(r, o->sha, &blob);
    /* The envelope's length first: nothing is inflated beyond the size
     * the record names. */
    uint64_t raw_len = 0;
    for (int i = 7; rc == CS_OK && blob.len >= 12 && i >= 0; i--)
        raw_len = (raw_len << 8) | blob.data[4 + i];
    if (rc == CS_OK && (blob.len < 12 || raw_len != o->size)) {
        cs_session_count(ss, CS_ST_REMOTE_ERROR);
        cs_session_log(ss, "remote file blob does not match its hash: ignored");
        rc = CS_ERR_NOT_FOUND;
    } else if (rc == CS_OK) {
        uint8_t sha[CS_SHA256_LEN] = {0};
        rc = cs_blob_unseal("CSF1", blob.data, blob.len, data);
        if (rc == CS_OK)
            sha_of(data, sha);
        if (rc != CS_OK || memcmp(sha, o->sha, CS_SHA256_LEN) != 0 || data->len != o->size) {
            cs_session_count(ss, CS_ST_REMOTE_ERROR);
            cs_session_log(ss, "remote file blob does not match its hash: ignored");
            rc = CS_ERR_NOT_FOUND;
        }
    } else if (rc != CS_ERR_NOT_FOUND) {
        cs_session_remote_failed(ss, rc);
        rc = CS_ERR_NOT_FOUND;
    }
    cs_bytes_free(&blob);
    return rc;
}

/* Puts a file fetched from the remote into the local store. */
static bool keep_local(struct cs_session *ss, const struct cs_rust_output *o, const char *cas,
                       const struct cs_bytes *data)
{
    if (ss->s.readonly)
        return false;
    enum cs_status rc =
        cs_write_file_atomic(cas, data->data ? data->data : (uint8_t *)"", data->len);
    if (rc == CS_ERR_NOT_FOUND && cs_mkdirs(cas, false) == CS_OK)
        rc = cs_write_file_atomic(cas, data->data ? data->data : (uint8_t *)"", data->len);
    if (rc == CS_OK && chmod(cas, o->mode & 0777) != 0)
        rc = cs_status_from_errno(errno);
    if (rc == CS_OK)
        rc = cs_local_account(ss->s.dir, o->sha, 1, (int64_t)data->len, ss->s.maxsize);
    if (rc != CS_OK) {
        cs_session_count(ss, CS_ST_LOCAL_ERROR);
        cs_session_log(ss, "local cache write of %s: %s", cas, cs_strerror(rc));
        return false;
    }
    return true;
}

enum cs_status cs_rust_store_restore(struct cs_session *ss, const struct cs_rust_output *o,
                                     const char *target, bool *from_remote)
{
    *from_remote = false;
    char *cas = cs_local_path(ss->s.dir, o->sha, CS_KIND_FILE);
    if (!cas)
        return CS_ERR_NOMEM;
    struct cs_bytes data = {0};
    bool have_local = local_file(ss, o, cas, &data) == CS_OK;
    enum cs_status rc = CS_OK;
    if (!have_local) {
        data.len = 0;
        rc = remote_file(ss, o, &data);
        if (rc == CS_OK) {
            *from_remote = true;
            have_local = keep_local(ss, o, cas, &data);
        }
    }
    if (rc == CS_OK && unlink(target) != 0 && errno != ENOENT)
        rc = cs_status_from_errno(errno);
    struct stat st;
    /* A link carries the cached file's mode: only when it is the one wanted;
     * and only into one place at a time (rust_store.h). */
    bool can_link = have_local && stat(cas, &st) == 0 && (st.st_mode & 0777) == (o->mode & 0777) &&
                    st.st_nlink == 1;
    if (rc == CS_OK && can_link) {
        rc = link_or_copy(cas, target, &data, o->mode);
        /* A restore elsewhere linked it at the same moment: undo ours. */
        if (rc == CS_OK && stat(cas, &st) == 0 && st.st_nlink > 2 && unlink(target) == 0)
            can_link = false;
    }
    if (rc == CS_OK && !can_link) {
        rc = cs_write_file_atomic(target, data.data ? data.data : (uint8_t *)"", data.len);
        if (rc == CS_OK && chmod(target, o->mode & 0777) != 0)
            rc = cs_status_from_errno(errno);
    }
    if (rc == CS_OK && utimensat(AT_FDCWD, target, NULL, 0) != 0)
        rc = cs_status_from_errno(errno);
    cs_bytes_free(&data);
    free(cas);
    return rc;
}
