/* Finding an ELF file's NT_GNU_BUILD_ID note (see buildid.h). */
#include "autoconfig.h"

#include "client/buildid.h"

#include <elf.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/hash.h"

#define MAX_PHNUM 256         /* real executables have about a dozen */
#define MAX_NOTE_SEGMENT 4096 /* the build-id segment is under 100 bytes */

/* One program header, of either class. */
struct phdr {
    uint32_t type;
    uint64_t offset, filesz, align;
};

static int read_exact(cs_build_id_read rd, void *ctx, void *buf, size_t n, uint64_t off)
{
    if (off > (uint64_t)INT64_MAX - n)
        return -1;
    ssize_t got = rd(ctx, buf, n, (off_t)off);
    return got == (ssize_t)n ? 0 : -1;
}

static uint32_t align_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* The build-id among the notes of one segment, into hex. */
static enum cs_status scan_notes(const uint8_t *p, size_t len, uint32_t align, char *hex)
{
    size_t at = 0;
    while (len - at >= 12) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, p + at, 4);
        memcpy(&descsz, p + at + 4, 4);
        memcpy(&type, p + at + 8, 4);
        at += 12;
        if (namesz > len || descsz > len)
            break;
        uint32_t name_room = align_up(namesz, align), desc_room = align_up(descsz, align);
        if (name_room > len - at || desc_room > len - at - name_room)
            break;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(p + at, "GNU", 4) && descsz > 0 &&
            descsz <= CS_BUILD_ID_MAX) {
            cs_hex_encode(p + at + name_room, descsz, hex);
            return CS_OK;
        }
        at += name_room + desc_room;
    }
    return CS_ERR_NOT_FOUND;
}

static int read_phdr(cs_build_id_read rd, void *ctx, bool is64, uint64_t off, struct phdr *ph)
{
    if (is64) {
        Elf64_Phdr h;
        if (read_exact(rd, ctx, &h, sizeof h, off) != 0)
            return -1;
        *ph = (struct phdr){h.p_type, h.p_offset, h.p_filesz, h.p_align};
    } else {
        Elf32_Phdr h;
        if (read_exact(rd, ctx, &h, sizeof h, off) != 0)
            return -1;
        *ph = (struct phdr){h.p_type, h.p_offset, h.p_filesz, h.p_align};
    }
    return 0;
}

enum cs_status cs_build_id_parse(cs_build_id_read rd, void *ctx, char *hex)
{
    unsigned char ident[EI_NIDENT];
    if (read_exact(rd, ctx, ident, sizeof ident, 0) != 0 || memcmp(ident, ELFMAG, SELFMAG) != 0)
        return CS_ERR_NOT_FOUND;
    const uint16_t one = 1;
    unsigned char native = *(const unsigned char *)&one ? ELFDATA2LSB : ELFDATA2MSB;
    if (ident[EI_DATA] != native ||
        (ident[EI_CLASS] != ELFCLASS64 && ident[EI_CLASS] != ELFCLASS32))
        return CS_ERR_NOT_FOUND;
    bool is64 = ident[EI_CLASS] == ELFCLASS64;
    uint64_t phoff;
    size_t phentsize, phnum, want;
    if (is64) {
        Elf64_Ehdr e;
        if (read_exact(rd, ctx, &e, sizeof e, 0) != 0)
            return CS_ERR_NOT_FOUND;
        phoff = e.e_phoff, phentsize = e.e_phentsize, phnum = e.e_phnum, want = sizeof(Elf64_Phdr);
    } else {
        Elf32_Ehdr e;
        if (read_exact(rd, ctx, &e, sizeof e, 0) != 0)
            return CS_ERR_NOT_FOUND;
        phoff = e.e_phoff, phentsize = e.e_phentsize, phnum = e.e_phnum, want = sizeof(Elf32_Phdr);
    }
    if (phentsize != want || phnum == 0 || phnum > MAX_PHNUM)
        return CS_ERR_NOT_FOUND;
    uint8_t seg[MAX_NOTE_SEGMENT];
    for (size_t i = 0; i < phnum; i++) {
        struct phdr ph;
        if (read_phdr(rd, ctx, is64, phoff + i * phentsize, &ph) != 0)
            return CS_ERR_NOT_FOUND;
        if (ph.type != PT_NOTE || ph.filesz == 0 || ph.filesz > sizeof seg)
            continue;
        if (read_exact(rd, ctx, seg, (size_t)ph.filesz, ph.offset) != 0)
            continue;
        uint32_t align = ph.align == 8 ? 8 : 4; /* notes are 4-aligned, GNU property ones 8 */
        if (scan_notes(seg, (size_t)ph.filesz, align, hex) == CS_OK)
            return CS_OK;
    }
    return CS_ERR_NOT_FOUND;
}

static ssize_t read_fd(void *ctx, void *buf, size_t n, off_t off)
{
    int fd = *(int *)ctx;
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

enum cs_status cs_build_id_of(const char *path, char *hex)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CS_ERR_NOT_FOUND : cs_status_from_errno(errno);
    enum cs_status rc = cs_build_id_parse(read_fd, &fd, hex);
    close(fd);
    return rc;
}
