/* VMware hardware -> Glance properties (core/format/ovf_glance.c): the
 * table of cloudfs(1) on descriptors as VMware and vCD write them, the
 * round trip through the .ovf view's mapping (ovf_map.c), and every value
 * the mapping can write checked against the files Glance and Nova take
 * them from: Glance's metadata definitions (glance-common,
 * /usr/share/glance-common/metadefs) and Nova's enums (python3-nova,
 * nova/objects/fields.py, nova/network/model.py). */
#define _GNU_SOURCE
#include "format.h"
#include "ovf_glance.h"
#include "unit.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

/* A descriptor as vCD exports one (a VirtualSystemCollection, an IDE
 * controller for the CD before the disk's), with what varies as %s. */
static char *vmware_ovf(const char *scsi_type, const char *scsi_sub, const char *nic,
                        const char *os, const char *config)
{
    char *x = NULL;
    int n = asprintf(
        &x,
        "<?xml version=\"1.0\"?>\n"
        "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
        "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\" "
        "xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
        "CIM_ResourceAllocationSettingData\" "
        "xmlns:vmw=\"http://www.vmware.com/schema/ovf\">"
        "<References><File ovf:href=\"a.vmdk\" ovf:id=\"f1\"/><File ovf:href=\"b.vmdk\" "
        "ovf:id=\"f2\"/></References>"
        "<DiskSection><Info>d</Info>"
        "<Disk ovf:capacity=\"3\" ovf:capacityAllocationUnits=\"byte * 2^30\" ovf:diskId=\"d1\" "
        "ovf:fileRef=\"f1\"/>"
        "<Disk ovf:capacity=\"1073741825\" ovf:diskId=\"d2\" ovf:fileRef=\"f2\"/></DiskSection>"
        "<VirtualSystemCollection ovf:id=\"t\"><Info>c</Info>"
        "<VirtualSystem ovf:id=\"vm\"><Info>v</Info><Name>vm</Name>"
        "<OperatingSystemSection ovf:id=\"96\" vmw:osType=\"%s\"><Info>o</Info>"
        "</OperatingSystemSection>"
        "<VirtualHardwareSection><Info>h</Info>"
        "<Item><rasd:ElementName>4 CPUs</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID>"
        "<rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>4</rasd:VirtualQuantity>"
        "<vmw:CoresPerSocket ovf:required=\"false\">2</vmw:CoresPerSocket></Item>"
        "<Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>"
        "<rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType>"
        "<rasd:VirtualQuantity>2048</rasd:VirtualQuantity></Item>"
        "<Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>5</rasd:ResourceType>"
        "</Item>"
        "<Item><rasd:InstanceID>4</rasd:InstanceID><rasd:ResourceSubType>%s</rasd:ResourceSubType>"
        "<rasd:ResourceType>%s</rasd:ResourceType></Item>"
        "<Item><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>5</"
        "rasd:InstanceID>"
        "<rasd:Parent>4</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>"
        "<Item><rasd:HostResource>ovf:/disk/d2</rasd:HostResource><rasd:InstanceID>6</"
        "rasd:InstanceID>"
        "<rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>"
        "<Item><rasd:InstanceID>7</rasd:InstanceID><rasd:ResourceSubType>%s</rasd:ResourceSubType>"
        "<rasd:ResourceType>10</rasd:ResourceType></Item>"
        "%s"
        "</VirtualHardwareSection></VirtualSystem></VirtualSystemCollection></Envelope>\n",
        os, scsi_sub, scsi_type, nic, config);
    return n < 0 ? NULL : x;
}

/* The value of key in g's pairs, or NULL. */
static const char *prop(const struct ovf_glance *g, const char *key)
{
    for (size_t off = 0; g->props && off < g->props_len;) {
        const char *k = g->props + off, *v = k + strlen(k) + 1;
        if (strcmp(k, key) == 0)
            return v;
        off = (size_t)(v - g->props) + strlen(v) + 1;
    }
    return NULL;
}

static int map(const char *xml, size_t disk, struct ovf_glance *g)
{
    struct ovf_info info;
    memset(g, 0, sizeof *g);
    int err = xml ? ovf_parse(xml, strlen(xml), "test", &info) : -ENOMEM;
    if (!err) {
        err = ovf_glance_map(&info, disk, g);
        ovf_info_free(&info);
    }
    return err;
}

static void test_vmware(void)
{
    char *x =
        vmware_ovf("6", "VirtualSCSI", "VmxNet3", "debian12_64Guest",
                   "<vmw:Config ovf:required=\"false\" vmw:key=\"firmware\" vmw:value=\"efi\"/>"
                   "<vmw:Config ovf:required=\"false\" "
                   "vmw:key=\"bootOptions.efiSecureBootEnabled\" vmw:value=\"true\"/>");
    struct ovf_glance g;
    CHECK(map(x, 0, &g) == 0);
    CHECK_STR(prop(&g, "min_ram"), "2048");
    CHECK_STR(prop(&g, "min_disk"), "3");
    CHECK_STR(prop(&g, "hw_cpu_sockets"), "2");
    CHECK_STR(prop(&g, "hw_cpu_cores"), "2");
    CHECK_STR(prop(&g, "hw_disk_bus"), "scsi");
    CHECK_STR(prop(&g, "hw_scsi_model"), "vmpvscsi");
    CHECK_STR(prop(&g, "hw_vif_model"), "vmxnet3");
    CHECK_STR(prop(&g, "hw_firmware_type"), "uefi");
    CHECK_STR(prop(&g, "os_secure_boot"), "required");
    CHECK_STR(prop(&g, "hw_machine_type"), "q35");
    CHECK_STR(prop(&g, "os_type"), "linux");
    CHECK_STR(prop(&g, "os_distro"), "debian");
    CHECK_STR(prop(&g, "os_version"), "12");
    CHECK(g.warnings == NULL);
    ovf_glance_free(&g);

    /* The second disk: its own capacity (1 GiB + 1 byte: 2) and bus;
     * on a secure-boot VM (q35) not IDE. */
    CHECK(map(x, 1, &g) == 0);
    CHECK_STR(prop(&g, "min_disk"), "2");
    CHECK_STR(prop(&g, "hw_disk_bus"), "sata");
    CHECK(prop(&g, "hw_scsi_model") == NULL);
    CHECK(g.warnings && strstr(g.warnings, "q35"));
    ovf_glance_free(&g);
    free(x);

    static const struct {
        const char *type, *sub, *nic, *os, *bus, *model, *vif, *os_type, *distro, *version;
        bool warned;
    } t[] = {
        { "6", "lsilogicsas", "E1000e", "windows9Server64Guest", "scsi", "lsisas1068", "e1000e",
          "windows", "windows", NULL, false },
        { "6", "lsilogicsas", "VmxNet3", "centos64Guest", "scsi", "lsisas1068", "vmxnet3", "linux",
          "centos", NULL, true },
        { "20", "vmware.sata.ahci", "E1000", "centos64Guest", "sata", NULL, "e1000", "linux",
          "centos", NULL, false },
        { "5", "", "PCNet32", "otherLinux64Guest", "ide", NULL, "pcnet", "linux", NULL, NULL,
          false },
        { "6", "lsilogic", "VmxNet3", "rhel7_64Guest", "sata", NULL, "vmxnet3", "linux", "rhel",
          "7", true },
        { "6", "buslogic", "VmxNet3", "ubuntu64Guest", "sata", NULL, "vmxnet3", "linux", "ubuntu",
          NULL, true },
        { "6", "VirtualSCSI", "VmxNet2", "freebsd13_64Guest", "scsi", "vmpvscsi", "e1000", NULL,
          "freebsd", "13", true },
        { "6", "VirtualSCSI", "Vmxnet99", "darwin19_64Guest", "scsi", "vmpvscsi", "e1000", NULL,
          NULL, NULL, true },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        x = vmware_ovf(t[i].type, t[i].sub, t[i].nic, t[i].os, "");
        CHECK(map(x, 0, &g) == 0);
        CHECK_STR(prop(&g, "hw_disk_bus"), t[i].bus);
        if (t[i].model)
            CHECK_STR(prop(&g, "hw_scsi_model"), t[i].model);
        else
            CHECK(prop(&g, "hw_scsi_model") == NULL);
        CHECK_STR(prop(&g, "hw_vif_model"), t[i].vif);
        if (t[i].os_type)
            CHECK_STR(prop(&g, "os_type"), t[i].os_type);
        else
            CHECK(prop(&g, "os_type") == NULL);
        if (t[i].distro)
            CHECK_STR(prop(&g, "os_distro"), t[i].distro);
        else
            CHECK(prop(&g, "os_distro") == NULL);
        if (t[i].version)
            CHECK_STR(prop(&g, "os_version"), t[i].version);
        else
            CHECK(prop(&g, "os_version") == NULL);
        CHECK(prop(&g, "hw_firmware_type") == NULL && prop(&g, "os_secure_boot") == NULL);
        if (!t[i].warned)
            CHECK(g.warnings == NULL);
        else
            CHECK(g.warnings != NULL);
        if (strcmp(t[i].sub, "lsilogic") == 0)
            CHECK(g.warnings && strstr(g.warnings, "53C1030") && strstr(g.warnings, "SATA"));
        if (strcmp(t[i].sub, "lsilogicsas") == 0 && t[i].warned)
            CHECK(g.warnings && strstr(g.warnings, "WWN"));
        ovf_glance_free(&g);
        free(x);
    }

    /* A descriptor that says nothing of its hardware maps to nothing. */
    const char *bare = "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"/>";
    CHECK(map(bare, 0, &g) == 0 && g.props == NULL && g.warnings == NULL);
}

/* Thousands of Items naming one disk, none of them on a controller: read
 * once each (an Item search per disk, not per Item: no quadratic time). */
static void test_hostile(void)
{
    FILE *f;
    char *x = NULL;
    size_t len = 0;
    struct ovf_glance g;
    f = open_memstream(&x, &len);
    fputs("<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
          "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\" "
          "xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
          "CIM_ResourceAllocationSettingData\">"
          "<DiskSection><Info>d</Info><Disk ovf:capacity=\"1\" ovf:diskId=\"d1\"/></DiskSection>"
          "<VirtualSystem ovf:id=\"v\"><Info>v</Info><VirtualHardwareSection><Info>h</Info>",
          f);
    for (int i = 0; i < 40000; i++)
        fprintf(f,
                "<Item><rasd:HostResource>ovf:/disk/d1</rasd:HostResource>"
                "<rasd:InstanceID>%d</rasd:InstanceID><rasd:Parent>x</rasd:Parent>"
                "<rasd:ResourceType>17</rasd:ResourceType></Item>",
                i);
    fputs("</VirtualHardwareSection></VirtualSystem></Envelope>", f);
    fclose(f);
    CHECK(map(x, 0, &g) == 0 && prop(&g, "hw_disk_bus") == NULL);
    CHECK_STR(prop(&g, "min_disk"), "1");
    ovf_glance_free(&g);
    free(x);
}

static const char *glance_props[][2] = {
    { "hw_disk_bus", "scsi" },      { "hw_scsi_model", "vmpvscsi" }, { "hw_vif_model", "e1000e" },
    { "hw_firmware_type", "uefi" }, { "min_ram", "3072" },           { "hw_cpu_sockets", "2" },
    { "hw_cpu_cores", "3" },        { "os_distro", "ubuntu" },       { "os_type", "linux" },
};

static const char *lookup(const void *ctx, const char *key)
{
    const char *(*props)[2] = (const char *(*)[2])ctx;
    for (size_t i = 0; i < sizeof glance_props / sizeof *glance_props; i++)
        if (strcmp(props[i][0], key) == 0)
            return props[i][1];
    return NULL;
}

/* Glance -> the .ovf view (ovf_map.c) -> Glance gives the properties back. */
static void test_round_trip(void)
{
    struct ovf_params p = { .name = "rt",
                            .vmdk_name = "rt.vmdk",
                            .vmdk_size = 1024,
                            .capacity = 5ull << 30,
                            .prop = lookup,
                            .prop_ctx = glance_props };
    char *xml = NULL, *warn = NULL;
    struct ovf_glance g;
    CHECK(ovf_build(&p, &xml, &warn) == 0 && warn == NULL);
    CHECK(map(xml, 0, &g) == 0);
    for (size_t i = 0; i < sizeof glance_props / sizeof *glance_props; i++)
        CHECK_STR(prop(&g, glance_props[i][0]), glance_props[i][1]);
    CHECK_STR(prop(&g, "min_disk"), "5");
    CHECK(g.warnings == NULL);
    ovf_glance_free(&g);
    free(xml);
    free(warn);
}

/* ---- the values against Glance's and Nova's own files ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    if (!f)
        return NULL;
    FILE *m = open_memstream(&buf, &len);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(m);
    fclose(f);
    return buf;
}

/* Is value one of the string constants NAME = 'value' in text between
 * from and to (the body of a Python enum class)? */
static bool py_constant(const char *text, const char *from, const char *to, const char *value)
{
    const char *a = text ? strstr(text, from) : NULL;
    const char *b = a ? strstr(a + strlen(from), to) : NULL;
    if (!b)
        b = a ? a + strlen(a) : NULL;
    for (const char *p = a; p && p < b; p++) {
        if (*p == '#') { /* a comment: "don't" is no string */
            p = strchr(p, '\n');
            if (!p)
                break;
            continue;
        }
        if ((*p != '\'' && *p != '"') || p[-1] == '\\')
            continue;
        const char *eq = p - 1;
        while (eq > a && *eq == ' ')
            eq--;
        const char *end = strchr(p + 1, *p);
        if (*eq == '=' && end && end < b && (size_t)(end - p - 1) == strlen(value) &&
            strncmp(p + 1, value, strlen(value)) == 0)
            return true;
        p = end ? end : b;
    }
    return false;
}

struct check {
    json_t *metadefs; /* key -> array of allowed values, for enumerated keys */
    char *fields, *model, *driver;
    int checked;
};

static void load_metadefs(struct check *c, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    c->metadefs = json_object();
    while (d && (e = readdir(d))) {
        if (!strstr(e->d_name, ".json"))
            continue;
        char *path = NULL;
        CHECK(asprintf(&path, "%s/%s", dir, e->d_name) > 0);
        json_t *doc = json_load_file(path, 0, NULL);
        free(path);
        json_t *lists[16];
        size_t n = 0;
        lists[n++] = json_object_get(doc, "properties");
        json_t *o;
        size_t i;
        json_array_foreach (json_object_get(doc, "objects"), i, o)
            if (n < 16)
                lists[n++] = json_object_get(o, "properties");
        for (size_t k = 0; k < n; k++) {
            const char *key;
            json_t *v;
            json_object_foreach (lists[k], key, v) {
                json_t *en = json_object_get(v, "enum");
                json_t *all = json_object_get(c->metadefs, key);
                if (!json_is_array(en))
                    continue;
                if (!all)
                    json_object_set_new(c->metadefs, key, all = json_array());
                json_array_extend(all, en);
            }
        }
        json_decref(doc);
    }
    if (d)
        closedir(d);
}

static bool in_metadefs(const struct check *c, const char *key, const char *value)
{
    json_t *v;
    size_t i;
    json_array_foreach (json_object_get(c->metadefs, key), i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), value) == 0)
            return true;
    return false;
}

static void check_value(void *ctx, const char *key, const char *value)
{
    struct check *c = ctx;
    /* Nova's enum of each key (nova/objects/image_meta.py's field types). */
    static const struct {
        const char *key, *class;
    } nova[] = {
        { "hw_disk_bus", "class DiskBus(" },
        { "hw_scsi_model", "class SCSIModel(" },
        { "hw_firmware_type", "class FirmwareType(" },
        { "os_secure_boot", "class SecureBoot(" },
        { "os_type", "class OSType(" },
    };
    bool enumerated = json_object_get(c->metadefs, key) != NULL, nova_ok = false, known = false;

    c->checked++;
    if (enumerated && !in_metadefs(c, key, value)) {
        fprintf(stderr, "%s=%s: not in Glance's metadefs\n", key, value);
        unit_failures++;
    }
    for (size_t i = 0; i < sizeof nova / sizeof *nova; i++)
        if (strcmp(nova[i].key, key) == 0) {
            known = true;
            nova_ok = py_constant(c->fields, nova[i].class, "\nclass ", value);
        }
    if (strcmp(key, "hw_vif_model") == 0) {
        known = true; /* VIFModel.ALL is network_model.VIF_MODEL_ALL */
        nova_ok = py_constant(c->model, "\nVIF_MODEL_", "\nVIF_MODEL_ALL", value);
    }
    if (strcmp(key, "hw_machine_type") == 0) {
        known = true; /* a string Nova's libvirt driver tests for q35 */
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", value);
        nova_ok = c->driver && strstr(c->driver, quoted);
    }
    if (strcmp(key, "os_distro") == 0) {
        /* A string to Glance and Nova; the metadefs want it lower case. */
        known = nova_ok = true;
        for (const char *p = value; *p; p++)
            nova_ok &= islower((unsigned char)*p) || isdigit((unsigned char)*p);
    }
    if (!known || !nova_ok) {
        fprintf(stderr, "%s=%s: not a value Nova takes%s\n", key, value,
                known ? "" : " (no check for this key)");
        unit_failures++;
    }
}

static void test_values_accepted(void)
{
    const char *metadefs = getenv("CFS_GLANCE_METADEFS");
    const char *nova = getenv("CFS_NOVA_DIR");
    struct check c = { 0 };
    char path[512];

    metadefs = metadefs ? metadefs : "/usr/share/glance-common/metadefs";
    nova = nova ? nova : "/usr/lib/python3/dist-packages/nova";
    snprintf(path, sizeof path, "%s/objects/fields.py", nova);
    c.fields = slurp(path);
    snprintf(path, sizeof path, "%s/network/model.py", nova);
    c.model = slurp(path);
    snprintf(path, sizeof path, "%s/virt/libvirt/driver.py", nova);
    c.driver = slurp(path);
    load_metadefs(&c, metadefs);
    if (!c.fields || !c.model || !c.driver || !json_object_get(c.metadefs, "hw_disk_bus")) {
        fprintf(stderr,
                "Glance's metadefs (%s) or Nova's sources (%s) are missing: "
                "install glance-common and python3-nova (tests/deps.sh)\n",
                metadefs, nova);
        unit_failures++;
    }
    /* The checks themselves must be able to say no. */
    CHECK(!py_constant(c.fields, "class SCSIModel(", "\nclass ", "virtio"));
    CHECK(!in_metadefs(&c, "hw_vif_model", "vmpvscsi"));
    ovf_glance_values(check_value, &c);
    CHECK(c.checked > 20);
    json_decref(c.metadefs);
    free(c.fields);
    free(c.model);
    free(c.driver);
}

int main(void)
{
    test_vmware();
    test_hostile();
    test_round_trip();
    test_values_accepted();
    return UNIT_RESULT();
}
