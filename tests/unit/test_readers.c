/* The readers of what users bring: tar archives (OVA) and OVF descriptors,
 * on archives cloudfs and GNU tar made, and on hostile ones. */
#define _GNU_SOURCE
#include "format.h"
#include "unit.h"

#include <errno.h>
#include <libxml/globals.h>
#include <stdio.h>
#include <stdlib.h>

static struct cfs_source *mem(const char *text, size_t len)
{
    struct cfs_source *s = NULL;
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    CHECK(cfs_mem_source_new(copy, len, &s) == 0);
    return s;
}

static char *read_all(struct cfs_source *s)
{
    char *buf = malloc(s->size + 1);
    CHECK(cfs_source_pread(s, buf, s->size, 0) == (ssize_t)s->size);
    buf[s->size] = '\0';
    return buf;
}

static void test_tar(void)
{
    struct tar_member m[4];
    size_t n;
    struct ova_member in[] = { { "vm.ovf", mem("<ovf/>", 6) },
                               { "vm-disk1.vmdk", mem("0123456789", 10) } };
    struct cfs_source *ova = NULL;
    CHECK(ova_open(in, 2, 1700000000, &ova) == 0);
    if (!ova)
        return;
    CHECK(tar_list(ova, "ova", m, 4, &n) == 0 && n == 2);
    CHECK_STR(m[0].name, "vm.ovf");
    CHECK(m[0].offset == 512 && m[0].size == 6);
    CHECK_STR(m[1].name, "vm-disk1.vmdk");
    CHECK(m[1].offset == 1536 && m[1].size == 10);
    CHECK(tar_list(ova, "ova", m, 1, &n) == -E2BIG);

    /* Hostile: a broken checksum, a size past the end, a path, a link. */
    char *bytes = read_all(ova);
    size_t len = ova->size;
    struct cfs_source *bad;
    bytes[0] = 'X'; /* name changed, checksum not */
    bad = mem(bytes, len);
    CHECK(tar_list(bad, "bad", m, 4, &n) == -EINVAL);
    cfs_source_close(bad);
    bytes[0] = 'v';

    char h[512];
    memcpy(h, bytes, 512);
    snprintf(h + 124, 12, "%011o", 077777777);
    unsigned sum = 0;
    memset(h + 148, ' ', 8);
    for (int i = 0; i < 512; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    memcpy(bytes, h, 512);
    bad = mem(bytes, len);
    CHECK(tar_list(bad, "bad", m, 4, &n) == -EINVAL); /* past the end */
    cfs_source_close(bad);
    free(bytes);

    bad = mem("not a tar at all", 16);
    CHECK(tar_list(bad, "bad", m, 4, &n) == -EINVAL);
    cfs_source_close(bad);
    cfs_source_close(ova);

    /* An archive GNU tar made, with a path member: refused. */
    char dir[] = "/tmp/cfs-tar-XXXXXX", cmd[512], path[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cmd, sizeof cmd,
             "cd %s && mkdir d && echo x > d/f && echo y > a.ovf && "
             "tar --format=ustar -cf ok.tar a.ovf && tar --format=ustar -cf path.tar d/f",
             dir);
    if (system(cmd) == 0) {
        struct cfs_source *t;
        snprintf(path, sizeof path, "%s/ok.tar", dir);
        CHECK(cfs_file_source_open(path, &t) == 0);
        CHECK(tar_list(t, "ok", m, 4, &n) == 0 && n == 1 && strcmp(m[0].name, "a.ovf") == 0 &&
              m[0].size == 2);
        cfs_source_close(t);
        snprintf(path, sizeof path, "%s/path.tar", dir);
        CHECK(cfs_file_source_open(path, &t) == 0);
        CHECK(tar_list(t, "path", m, 4, &n) == -EINVAL);
        cfs_source_close(t);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* Nodes libxml2 builds besides documents: a parse stopped at a DOCTYPE
 * builds none (no DTD, no entity, no element). */
static int nodes_built;

static void count_node(xmlNodePtr n)
{
    nodes_built += n->type != XML_DOCUMENT_NODE;
}

/* ovf_parse of xml builds no node: the parse ended at its DOCTYPE. */
static int built_by(const char *xml)
{
    struct ovf_info info;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    xmlRegisterNodeFunc prev = xmlRegisterNodeDefault(count_node);
    nodes_built = 0;
    CHECK(ovf_parse(xml, strlen(xml), "doctype", &info) == -EINVAL);
    xmlRegisterNodeDefault(prev);
#pragma GCC diagnostic pop
    return nodes_built;
}

static void test_ovf(void)
{
    struct ovf_params p = { .name = "vm <1>",
                            .vmdk_name = "vm.vmdk",
                            .vmdk_size = 79872,
                            .capacity = 1 << 30,
                            .populated = 65536 };
    char *xml = NULL, *warn = NULL;
    struct ovf_info info;
    CHECK(ovf_build(&p, &xml, &warn) == 0);
    if (!xml)
        return;
    CHECK(ovf_parse(xml, strlen(xml), "built", &info) == 0);
    CHECK(info.n_files == 1 && info.n_disks == 1);
    CHECK_STR(info.files[0].href, "vm.vmdk");
    CHECK(info.files[0].size == 79872);
    CHECK(info.disks[0].capacity == 1u << 30);
    CHECK_STR(info.name, "vm <1>");
    ovf_info_free(&info);

    /* No DOCTYPE (entity bombs), no path in a reference, OVF 1.x only. */
    const char *bomb = "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaa\">"
                       "<!ENTITY b \"&a;&a;&a;&a;\">]><Envelope "
                       "xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\">&b;</Envelope>";
    CHECK(ovf_parse(bomb, strlen(bomb), "bomb", &info) == -EINVAL);
    /* Refused before its internal subset is parsed (as vCD's answers),
     * not after libxml2 built and expanded it; an external one alike. */
    CHECK(built_by(bomb) == 0);
    CHECK(built_by("<!DOCTYPE Envelope SYSTEM \"http://127.0.0.1:1/ovf.dtd\"><Envelope "
                   "xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"/>") == 0);
    char *doctyped = NULL, *decl_end = strstr(xml, "?>");
    int decl = decl_end ? (int)(decl_end + 2 - xml) : 0;
    CHECK(asprintf(&doctyped, "%.*s<!DOCTYPE Envelope [<!ENTITY n \"x\">]>%s", decl, xml,
                   xml + decl) > 0);
    CHECK(doctyped && ovf_parse(doctyped, strlen(doctyped), "doctyped", &info) == -EINVAL);
    CHECK(doctyped && built_by(doctyped) == 0);
    free(doctyped);
    /* The counter itself sees what a parse builds. */
    const char *plain = "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/2\"/>";
    CHECK(built_by(plain) > 0);
    char *escape = strdup(xml);
    char *at = strstr(escape, "ovf:href=\"vm.vmdk\"");
    if (at)
        memcpy(at, "ovf:href=\"../vmdk\"", 18);
    CHECK(at && ovf_parse(escape, strlen(escape), "escape", &info) == -EINVAL);
    free(escape);
    const char *v2 = "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/2\"/>";
    CHECK(ovf_parse(v2, strlen(v2), "v2", &info) == -EINVAL);
    CHECK(ovf_parse("<a", 2, "junk", &info) == -EINVAL);
    free(xml);
    free(warn);
}

int main(void)
{
    test_tar();
    test_ovf();
    return UNIT_RESULT();
}
