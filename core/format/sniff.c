/* What a file's bytes are, by content alone (DESIGN.md §5): the magic
 * numbers of ref/formats.md (qcow2 §1.1, VMDK §3.1 and the createType of
 * its embedded descriptor §3.4, VHD §4.1, ustar §6.2), an OVF Envelope as
 * the root of an XML document, ISO 9660's "CD001". Reads a few sectors at
 * the start and the end; never trusts a field without a bound. */
#define _GNU_SOURCE
#include "package.h"
#include "bytes.h"
#include "package_priv.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define HEAD_BYTES      4096u
#define SECTOR          512u
#define VMDK_COMPRESSED (1u << 16)
#define VMDK_MARKERS    (1u << 17)
#define DESC_MAX_BYTES  (16u << 10) /* createType sits in the first lines */
#define ISO_PVD         32768u      /* sector 16 of 2 KiB: type byte, "CD001" */
#define TAR_SNIFF_MAX   64u

static const char *const exts[] = { "raw", "qcow2", "vmdk", "vmdk", "vmdk",
                                    "vhd", "ova",   "ovf",  "iso" };

const char *cfs_fmt_ext(enum cfs_fmt f)
{
    return (unsigned)f < sizeof exts / sizeof *exts ? exts[f] : "raw";
}

/* Up to len bytes at off; the count, or a read's -errno. */
static ssize_t read_at(struct cfs_source *src, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = cfs_source_pread(src, (char *)buf + got, len - got, off + got);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* createType's value in descriptor text, or "" (NUL-terminated text). */
static void create_type(const char *text, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, "createType", 10) != 0)
            continue;
        line += 10;
        line += strspn(line, " \t");
        if (*line++ != '=')
            continue;
        line += strspn(line, " \t\"");
        size_t n = strcspn(line, "\"\r\n \t");
        if (n >= cap)
            n = cap - 1;
        memcpy(out, line, n);
        out[n] = '\0';
        return;
    }
}

int cfs_sniff_create_type(struct cfs_source *src, char *type, size_t cap)
{
    unsigned char h[SECTOR];
    ssize_t n = read_at(src, h, sizeof h, 0);
    type[0] = '\0';
    if (n < 0)
        return (int)n;
    if (n < SECTOR || !vmdk_probe(h, SECTOR))
        return 0;
    uint64_t desc_off = cfs_le64(h + 28), desc_sectors = cfs_le64(h + 36);
    if (!desc_off || !desc_sectors || desc_off >= src->size / SECTOR)
        return 0;
    char text[DESC_MAX_BYTES + 1];
    uint64_t len = desc_sectors < DESC_MAX_BYTES / SECTOR ? desc_sectors * SECTOR : DESC_MAX_BYTES;
    n = read_at(src, text, (size_t)len, desc_off * SECTOR);
    if (n < 0)
        return (int)n;
    text[n] = '\0';
    create_type(text, type, cap);
    return 0;
}

/* A sparse extent: streamOptimized by its descriptor's createType, or by
 * its flags (compressed grains with markers) when it has no descriptor. */
static int sniff_vmdk(struct cfs_source *src, const unsigned char *h, size_t n, enum cfs_fmt *out)
{
    char type[64];
    int err = cfs_sniff_create_type(src, type, sizeof type);
    if (err)
        return err;
    uint32_t flags = n >= 12 ? cfs_le32(h + 8) : 0;
    if (*type)
        *out = strcmp(type, "streamOptimized") == 0 ? CFS_FMT_VMDK_STREAM : CFS_FMT_VMDK_SPARSE;
    else
        *out = (flags & (VMDK_COMPRESSED | VMDK_MARKERS)) == (VMDK_COMPRESSED | VMDK_MARKERS)
                   ? CFS_FMT_VMDK_STREAM
                   : CFS_FMT_VMDK_SPARSE;
    return 0;
}

/* A descriptor of extents elsewhere: text that names a createType. */
static bool is_vmdk_desc(const unsigned char *h, size_t n)
{
    static const char magic[] = "# Disk DescriptorFile";
    if (n >= sizeof magic - 1 && memcmp(h, magic, sizeof magic - 1) == 0)
        return true;
    size_t text = 0;
    while (text < n && h[text] &&
           (h[text] >= ' ' || h[text] == '\n' || h[text] == '\r' || h[text] == '\t'))
        text++;
    char buf[HEAD_BYTES + 1];
    memcpy(buf, h, text);
    buf[text] = '\0';
    char type[64];
    create_type(buf, type, sizeof type);
    /* Text up to the end of what was read, or up to NUL padding. */
    return text > 0 && (text == n || h[text] == '\0') && *type;
}

/* The footer of a fixed VHD: its cookie and a checksum that holds, so a
 * raw disk ending in "conectix" by chance stays raw. */
static bool is_vhd_footer(const unsigned char *f)
{
    uint32_t sum = 0;
    if (memcmp(f, "conectix", 8) != 0)
        return false;
    for (unsigned i = 0; i < SECTOR; i++)
        sum += i >= 64 && i < 68 ? 0 : f[i];
    return ~sum == cfs_be32(f + 64);
}

/* A ustar header whose checksum holds: really a tar, not a disk with
 * "ustar" at 257 by chance (and no log line from tar_list for it). */
bool cfs_sniff_tar_header(const unsigned char *h, size_t n)
{
    if (n < SECTOR || memcmp(h + 257, "ustar", 5) != 0)
        return false;
    unsigned sum = 0, want = 0;
    size_t i = 148;
    for (unsigned k = 0; k < SECTOR; k++)
        sum += k >= 148 && k < 156 ? ' ' : h[k];
    while (i < 156 && h[i] == ' ')
        i++;
    for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
        want = want * 8 + (unsigned)(h[i] - '0');
    return sum == want;
}

static int sniff_tar(struct cfs_source *src, enum cfs_fmt *out)
{
    struct tar_member m[TAR_SNIFF_MAX];
    size_t n = 0;
    int err = tar_list(src, "a tar archive being sniffed", m, TAR_SNIFF_MAX, &n);
    *out = CFS_FMT_RAW;
    if (err && err != -E2BIG)
        return err == -EINVAL ? 0 : err;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(m[i].name);
        if (len > 4 && strcasecmp(m[i].name + len - 4, ".ovf") == 0)
            *out = CFS_FMT_OVA;
    }
    return 0;
}

/* The root element of an XML document is an OVF Envelope (any prefix):
 * past a BOM, white space, the XML declaration, comments and processing
 * instructions. */
static bool is_ovf(const unsigned char *h, size_t n)
{
    const char *p = (const char *)h, *end = p + n;
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
            const char *c = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);
            if (!c)
                return false;
            p = c + 3;
        } else if (end - p >= 2 && memcmp(p, "<?", 2) == 0) {
            const char *c = memmem(p + 2, (size_t)(end - p - 2), "?>", 2);
            if (!c)
                return false;
            p = c + 2;
        } else {
            break;
        }
    }
    if (p >= end || *p++ != '<')
        return false;
    const char *name = p;
    while (p < end && (*p == '_' || *p == '-' || *p == '.' || *p == ':' ||
                       (*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
        p++;
    if (p >= end ||
        !(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '>' || *p == '/'))
        return false;
    const char *colon = memchr(name, ':', (size_t)(p - name));
    const char *local = colon ? colon + 1 : name;
    return p - local == 8 && memcmp(local, "Envelope", 8) == 0;
}

int cfs_sniff(struct cfs_source *src, enum cfs_fmt *out)
{
    unsigned char h[HEAD_BYTES], tail[SECTOR], iso[6];
    ssize_t n = read_at(src, h, sizeof h, 0);

    *out = CFS_FMT_RAW;
    if (n < 0)
        return (int)n;
    if (qcow2_probe(h, (size_t)n)) {
        *out = CFS_FMT_QCOW2;
        return 0;
    }
    if (vmdk_probe(h, (size_t)n))
        return sniff_vmdk(src, h, (size_t)n, out);
    if (vhd_probe(h, (size_t)n)) {
        *out = CFS_FMT_VHD;
        return 0;
    }
    if (is_vmdk_desc(h, (size_t)n)) {
        *out = CFS_FMT_VMDK_DESC;
        return 0;
    }
    if (cfs_sniff_tar_header(h, (size_t)n))
        return sniff_tar(src, out);
    if (is_ovf(h, (size_t)n)) {
        *out = CFS_FMT_OVF;
        return 0;
    }
    /* A fixed VHD of an ISO image is a VHD: the footer first. */
    if (src->size >= 2 * SECTOR) {
        ssize_t t = read_at(src, tail, SECTOR, src->size - SECTOR);
        if (t < 0)
            return (int)t;
        if (t == SECTOR && is_vhd_footer(tail)) {
            *out = CFS_FMT_VHD;
            return 0;
        }
    }
    ssize_t i = read_at(src, iso, sizeof iso, ISO_PVD);
    if (i < 0)
        return (int)i;
    if (i == sizeof iso && memcmp(iso + 1, "CD001", 5) == 0)
        *out = CFS_FMT_ISO;
    return 0;
}
