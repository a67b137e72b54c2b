/* The .ovf view: an OVF 1.x descriptor of one VM with one streamOptimized
 * disk (ref/formats.md §5.1), with the hardware ovf_map.c derives from the
 * image's properties (DESIGN.md §4).
 *
 * Everything a cloud supplies (names) is untrusted: it is written through
 * libxml2's writer, which escapes it, after anything XML 1.0 cannot carry
 * (invalid UTF-8, control characters) has become U+FFFD. */
#define _GNU_SOURCE
#include "format.h"
#include "ovf_map.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#define NETWORK_NAME "VM Network"

/* ---- XML ---- */

/* s as XML 1.0 can carry it: valid UTF-8 of allowed characters, anything
 * else (and tabs and line ends, which a name should not have) U+FFFD. */
static char *xml_clean(const char *s)
{
    size_t n = strlen(s), o = 0;
    unsigned char *out = malloc(3 * n + 1);
    const unsigned char *p = (const unsigned char *)s;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i], len = 0, cp = 0, min = 0;
        if (c < 0x80)
            len = 1, cp = c;
        else if ((c & 0xe0) == 0xc0)
            len = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
            len = 3, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
            len = 4, cp = c & 0x07, min = 0x10000;
        bool ok = len && i + len <= n;
        for (unsigned k = 1; ok && k < len; k++) {
            ok = (p[i + k] & 0xc0) == 0x80;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        ok = ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) && cp != 0xfffe &&
             cp != 0xffff && (cp >= 0x20 && cp != 0x7f);
        if (ok) {
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i += len && i + len <= n ? len : 1;
        }
    }
    out[o] = '\0';
    return (char *)out;
}

struct out {
    xmlTextWriterPtr w;
    int err;
};

static void start(struct out *o, const char *name)
{
    if (!o->err && xmlTextWriterStartElement(o->w, BAD_CAST name) < 0)
        o->err = -ENOMEM;
}

static void end(struct out *o)
{
    if (!o->err && xmlTextWriterEndElement(o->w) < 0)
        o->err = -ENOMEM;
}

static void attr(struct out *o, const char *name, const char *value)
{
    if (!o->err && xmlTextWriterWriteAttribute(o->w, BAD_CAST name, BAD_CAST value) < 0)
        o->err = -ENOMEM;
}

static void attr_u64(struct out *o, const char *name, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    attr(o, name, b);
}

static void elem(struct out *o, const char *name, const char *text)
{
    if (!o->err && xmlTextWriterWriteElement(o->w, BAD_CAST name, BAD_CAST text) < 0)
        o->err = -ENOMEM;
}

static void config(struct out *o, const char *key, const char *value)
{
    start(o, "vmw:Config");
    attr(o, "ovf:required", "false");
    attr(o, "vmw:key", key);
    attr(o, "vmw:value", value);
    end(o);
}

struct rasd {
    const char *name;
    char value[64];
};

static int rasd_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rasd *)a)->name, ((const struct rasd *)b)->name);
}

/* An Item; the CIM RASD schema is a sequence in alphabetical order. */
static void item(struct out *o, struct rasd *r, size_t n, unsigned cores_per_socket)
{
    qsort(r, n, sizeof *r, rasd_cmp);
    start(o, "Item");
    for (size_t i = 0; i < n; i++) {
        char name[40];
        snprintf(name, sizeof name, "rasd:%s", r[i].name);
        elem(o, name, r[i].value);
    }
    if (cores_per_socket) {
        char b[16];
        snprintf(b, sizeof b, "%u", cores_per_socket);
        start(o, "vmw:CoresPerSocket");
        attr(o, "ovf:required", "false");
        if (!o->err && xmlTextWriterWriteString(o->w, BAD_CAST b) < 0)
            o->err = -ENOMEM;
        end(o);
    }
    end(o);
}

static void set(struct rasd *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set(struct rasd *r, const char *name, const char *fmt, ...)
{
    va_list ap;
    r->name = name;
    va_start(ap, fmt);
    vsnprintf(r->value, sizeof r->value, fmt, ap);
    va_end(ap);
}

static void hardware(struct out *o, const struct ovf_hw *hw, const char *name)
{
    struct rasd r[10];
    const char *ctl = hw->controller == 5 ? "IDE" : hw->controller == 20 ? "SATA" : "SCSI";

    start(o, "VirtualHardwareSection");
    elem(o, "Info", "Virtual hardware requirements");
    start(o, "System");
    elem(o, "vssd:ElementName", "Virtual Hardware Family");
    elem(o, "vssd:InstanceID", "0");
    elem(o, "vssd:VirtualSystemIdentifier", name);
    char type[16];
    snprintf(type, sizeof type, "vmx-%02u", hw->version);
    elem(o, "vssd:VirtualSystemType", type);
    end(o);

    set(&r[0], "AllocationUnits", "hertz * 10^6");
    set(&r[1], "Description", "Number of Virtual CPUs");
    set(&r[2], "ElementName", "%u virtual CPU(s)", hw->cpus);
    set(&r[3], "InstanceID", "1");
    set(&r[4], "ResourceType", "3");
    set(&r[5], "VirtualQuantity", "%u", hw->cpus);
    item(o, r, 6, hw->cores_per_socket);

    set(&r[0], "AllocationUnits", "byte * 2^20");
    set(&r[1], "Description", "Memory Size");
    set(&r[2], "ElementName", "%uMB of memory", hw->memory_mb);
    set(&r[3], "InstanceID", "2");
    set(&r[4], "ResourceType", "4");
    set(&r[5], "VirtualQuantity", "%u", hw->memory_mb);
    item(o, r, 6, 0);

    size_t n = 0;
    set(&r[n++], "Address", "0");
    set(&r[n++], "Description", "%s Controller", ctl);
    set(&r[n++], "ElementName", "%s Controller 0", ctl);
    set(&r[n++], "InstanceID", "3");
    set(&r[n++], "ResourceType", "%d", hw->controller);
    if (hw->controller == 6)
        set(&r[n++], "ResourceSubType", "%s", hw->scsi);
    if (hw->controller == 20)
        set(&r[n++], "ResourceSubType", "vmware.sata.ahci");
    item(o, r, n, 0);

    set(&r[0], "AddressOnParent", "0");
    set(&r[1], "ElementName", "Hard Disk 1");
    set(&r[2], "HostResource", "ovf:/disk/vmdisk1");
    set(&r[3], "InstanceID", "4");
    set(&r[4], "Parent", "3");
    set(&r[5], "ResourceType", "17");
    item(o, r, 6, 0);

    set(&r[0], "AutomaticAllocation", "true");
    set(&r[1], "Connection", NETWORK_NAME);
    set(&r[2], "Description", "%s ethernet adapter on \"%s\"", hw->nic, NETWORK_NAME);
    set(&r[3], "ElementName", "Network adapter 1");
    set(&r[4], "InstanceID", "5");
    set(&r[5], "ResourceSubType", "%s", hw->nic);
    set(&r[6], "ResourceType", "10");
    item(o, r, 7, 0);

    if (hw->efi)
        config(o, "firmware", "efi");
    if (hw->secure_boot)
        config(o, "bootOptions.efiSecureBootEnabled", "true");
    end(o);
}

static void envelope(struct out *o, const struct ovf_params *p, const struct ovf_hw *hw,
                     const char *name, const char *vmdk_name)
{
    start(o, "Envelope");
    attr(o, "xmlns", "http://schemas.dmtf.org/ovf/envelope/1");
    attr(o, "xmlns:ovf", "http://schemas.dmtf.org/ovf/envelope/1");
    attr(o, "xmlns:rasd",
         "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData");
    attr(o, "xmlns:vssd",
         "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData");
    attr(o, "xmlns:vmw", "http://www.vmware.com/schema/ovf");

    start(o, "References");
    start(o, "File");
    attr(o, "ovf:href", vmdk_name);
    attr(o, "ovf:id", "file1");
    attr_u64(o, "ovf:size", p->vmdk_size);
    end(o);
    end(o);

    start(o, "DiskSection");
    elem(o, "Info", "Virtual disk information");
    start(o, "Disk");
    attr_u64(o, "ovf:capacity", p->capacity);
    attr(o, "ovf:capacityAllocationUnits", "byte");
    attr(o, "ovf:diskId", "vmdisk1");
    attr(o, "ovf:fileRef", "file1");
    attr(o, "ovf:format",
         "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized");
    attr_u64(o, "ovf:populatedSize", p->populated);
    end(o);
    end(o);

    start(o, "NetworkSection");
    elem(o, "Info", "The list of logical networks");
    start(o, "Network");
    attr(o, "ovf:name", NETWORK_NAME);
    elem(o, "Description", "The " NETWORK_NAME " network");
    end(o);
    end(o);

    start(o, "VirtualSystem");
    attr(o, "ovf:id", "vm");
    elem(o, "Info", "A virtual machine");
    elem(o, "Name", name);
    start(o, "OperatingSystemSection");
    char cim[8];
    snprintf(cim, sizeof cim, "%u", hw->cim);
    attr(o, "ovf:id", cim);
    attr(o, "vmw:osType", hw->guest);
    elem(o, "Info", "The kind of installed guest operating system");
    end(o);
    hardware(o, hw, name);
    end(o);
    end(o);
}

static void xml_init(void)
{
    xmlInitParser();
}

int ovf_build(const struct ovf_params *p, char **xml, char **warnings)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct ovf_hw hw;
    char *name = NULL, *vmdk_name = NULL, *w = NULL;
    xmlBufferPtr buf = NULL;
    struct out o = { NULL, 0 };
    int err;

    *xml = NULL;
    *warnings = NULL;
    if (!p->vmdk_name || !*p->vmdk_name)
        return -EINVAL;
    err = ovf_map_hardware(p, &hw, &w);
    if (err)
        return err;

    pthread_once(&once, xml_init);
    name = xml_clean(p->name && *p->name ? p->name : "vm");
    vmdk_name = xml_clean(p->vmdk_name);
    buf = xmlBufferCreate();
    o.w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!name || !vmdk_name || !o.w) {
        err = -ENOMEM;
        goto out;
    }
    xmlTextWriterSetIndent(o.w, 1);
    xmlTextWriterSetIndentString(o.w, BAD_CAST "  ");
    if (xmlTextWriterStartDocument(o.w, NULL, "UTF-8", NULL) < 0)
        o.err = -ENOMEM;
    envelope(&o, p, &hw, name, vmdk_name);
    if (!o.err && xmlTextWriterEndDocument(o.w) < 0)
        o.err = -ENOMEM;
    xmlFreeTextWriter(o.w); /* flushes into buf */
    o.w = NULL;
    err = o.err;
    if (!err) {
        *xml = strdup((const char *)xmlBufferContent(buf));
        if (!*xml)
            err = -ENOMEM;
    }
out:
    if (o.w)
        xmlFreeTextWriter(o.w);
    if (buf)
        xmlBufferFree(buf);
    free(name);
    free(vmdk_name);
    if (err)
        free(w);
    else
        *warnings = w;
    return err;
}
