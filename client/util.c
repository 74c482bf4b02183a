/* Buffers, string vectors, files and paths for the cstash client. */
#include "autoconfig.h"

#include "client/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum cs_status cs_bytes_append(struct cs_bytes *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p)
            return CS_ERR_NOMEM;
        b->data = p;
        b->cap = cap;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return CS_OK;
}

enum cs_status cs_bytes_append_str(struct cs_bytes *b, const char *s)
{
    return cs_bytes_append(b, s, strlen(s));
}

void cs_bytes_free(struct cs_bytes *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

enum cs_status cs_strv_push_own(struct cs_strv *sv, char *s)
{
    if (!s)
        return CS_ERR_NOMEM;
    if (sv->n + 2 > sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 16;
        char **v = realloc(sv->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return CS_ERR_NOMEM;
        }
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return CS_OK;
}

enum cs_status cs_strv_push(struct cs_strv *sv, const char *s)
{
    return cs_strv_push_own(sv, strdup(s));
}

void cs_strv_free(struct cs_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

/* Room for at least n more bytes (and the NUL) without moving what is there. */
static enum cs_status reserve(struct cs_bytes *b, size_t n)
{
    if (b->cap >= b->len + n + 1)
        return CS_OK;
    uint8_t *p = realloc(b->data, b->len + n + 1);
    if (!p)
        return CS_ERR_NOMEM;
    b->data = p;
    b->cap = b->len + n + 1;
    return CS_OK;
}

enum cs_status cs_read_file(const char *path, size_t max, struct cs_bytes *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CS_ERR_NOT_FOUND : cs_status_from_errno(errno);
    struct stat st;
    enum cs_status rc = CS_OK;
    size_t start = b->len;
    if (fstat(fd, &st) != 0)
        rc = cs_status_from_errno(errno);
    else if ((uint64_t)st.st_size > max)
        rc = CS_ERR_TOO_LARGE;
    /* Straight into the buffer, sized by fstat. Once it is full, one byte
     * more is asked into probe: 0 (end of file) is the usual answer; a file
     * that grew while we read gets more room, bounded by max. */
    if (rc == CS_OK)
        rc = reserve(b, (size_t)st.st_size);
    while (rc == CS_OK) {
        uint8_t probe;
        bool full = b->cap - b->len - 1 == 0;
        ssize_t n = full ? read(fd, &probe, 1) : read(fd, b->data + b->len, b->cap - b->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = cs_status_from_errno(errno);
            break;
        }
        if (n == 0)
            break;
        if (full) {
            size_t got = b->len - start;
            rc = reserve(b, got < 65536 ? 65536 : got);
            if (rc == CS_OK)
                b->data[b->len++] = probe;
        } else {
            b->len += (size_t)n;
        }
        if (rc == CS_OK && b->len - start > max)
            rc = CS_ERR_TOO_LARGE;
    }
    if (rc != CS_OK)
        b->len = start;
    if (b->data)
        b->data[b->len] = 0;
    close(fd);
    return rc;
}

static enum cs_status write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cs_status_from_errno(errno);
        p += n;
        len -= (size_t)n;
    }
    return CS_OK;
}

static enum cs_status write_via_temp(const char *path, const void *data, size_t len,
                                     bool unlink_first)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp)
        return CS_ERR_NOMEM;
    snprintf(tmp, plen + 32, "%s.tmp.%ld.%lx", path, (long)getpid(),
             (unsigned long)(cs_now_ns() & 0xffffff));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    enum cs_status rc = CS_OK;
    if (fd < 0) {
        rc = cs_status_from_errno(errno);
    } else {
        rc = write_all(fd, data, len);
        if (close(fd) != 0 && rc == CS_OK)
            rc = cs_status_from_errno(errno);
        if (rc == CS_OK && unlink_first)
            (void)unlink(path); /* a failure shows in the rename */
        if (rc == CS_OK && rename(tmp, path) != 0)
            rc = cs_status_from_errno(errno);
        if (rc != CS_OK)
            unlink(tmp);
    }
    free(tmp);
    return rc;
}

enum cs_status cs_write_file_atomic(const char *path, const void *data, size_t len)
{
    return write_via_temp(path, data, len, false);
}

enum cs_status cs_write_output(const char *path, const void *data, size_t len)
{
    return write_via_temp(path, data, len, true);
}

/* mkdir -p of p (a writable copy): the deepest directory first, its
 * parents only when it says they are missing, so a directory whose parent
 * exists costs one call, not one per component. */
static enum cs_status mkdir_p(char *p)
{
    if (mkdir(p, 0777) == 0 || errno == EEXIST)
        return CS_OK;
    if (errno != ENOENT)
        return cs_status_from_errno(errno);
    char *slash = strrchr(p, '/');
    if (!slash || slash == p)
        return CS_ERR_NOT_FOUND;
    *slash = '\0';
    enum cs_status rc = mkdir_p(p);
    *slash = '/';
    if (rc == CS_OK && mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = cs_status_from_errno(errno);
    return rc;
}

enum cs_status cs_mkdirs(const char *path, bool dirs_only)
{
    char *p = strdup(path);
    if (!p)
        return CS_ERR_NOMEM;
    if (!dirs_only) {
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) {
            free(p);
            return CS_OK;
        }
        *slash = '\0';
    }
    /* trailing slashes name the same directory */
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    enum cs_status rc = n == 0 ? CS_OK : mkdir_p(p);
    free(p);
    return rc;
}

char *cs_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    size_t o = la;
    if (la && a[la - 1] != '/')
        p[o++] = '/';
    memcpy(p + o, b, lb + 1);
    return p;
}

char *cs_path_absolute(const char *p, const char *cwd)
{
    char *joined = p[0] == '/' ? strdup(p) : cs_path_join(cwd, p);
    if (!joined)
        return NULL;
    /* Normalise in place: drop "." and empty segments, resolve "..". */
    char *out = joined;
    size_t o = 0;
    const char *s = joined;
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - s);
        if (n == 0)
            break;
        if (n == 1 && s[0] == '.') { /* "." adds nothing */
            s = e;
            continue;
        }
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else {
            out[o++] = '/';
            memmove(out + o, s, n);
            o += n;
        }
        s = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

/* Whether path is base or lies below it. */
static bool under(const char *path, const char *base)
{
    size_t n = strlen(base);
    if (n == 1 && base[0] == '/')
        return true;
    return strncmp(path, base, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

char *cs_path_relative_under(const char *abs, const char *base, const char *cwd, bool *nomem)
{
    *nomem = false;
    if (!under(abs, base))
        return NULL;
    /* Longest common directory prefix of abs and cwd. */
    size_t common = 0, i = 0;
    for (;; i++) {
        char a = abs[i], c = cwd[i];
        if ((a == '/' || a == '\0') && (c == '/' || c == '\0'))
            common = i;
        if (a != c || a == '\0')
            break;
    }
    size_t ups = 0;
    if (strcmp(cwd, "/") == 0)
        common = 0;
    else
        for (const char *s = cwd + common; *s; s++)
            if (*s == '/')
                ups++;
    const char *rest = abs + common;
    if (*rest == '/')
        rest++;
    size_t len = ups * 3 + strlen(rest) + 2;
    char *out = malloc(len);
    if (!out) {
        *nomem = true;
        return NULL;
    }
    size_t o = 0;
    for (size_t u = 0; u < ups; u++) {
        memcpy(out + o, "../", 3);
        o += 3;
    }
    strcpy(out + o, rest);
    o += strlen(rest);
    if (o == 0)
        strcpy(out, ".");
    else if (out[o - 1] == '/')
        out[o - 1] = '\0';
    return out;
}

bool cs_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int64_t cs_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void cs_first_line(const void *p, size_t n, char *out, size_t cap)
{
    const unsigned char *s = p;
    size_t o = 0;

    if (cap == 0)
        return;
    for (size_t i = 0; i < n && o + 1 < cap && s[i] != '\n' && s[i] != '\r'; i++)
        out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    out[o] = '\0';
}
