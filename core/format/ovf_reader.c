/* Reading an OVF descriptor a user brings (from an OVA copied into a
 * catalog) or a vCD template has: the files it references, the disks it
 * declares and the virtual hardware of its VM (for ovf_glance.c). libxml2
 * parses it with no network, no DTD loading and no entity substitution;
 * a descriptor with a DOCTYPE at all is refused, the parse stopped there
 * before its internal subset is read (include/xml_safe.h: no billion
 * laughs). */
#include "format.h"
#include "log.h"
#include "util.h"
#include "xml_safe.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OVF_NS "http://schemas.dmtf.org/ovf/envelope/1"
#define RASD_NS \
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
#define VMW_NS    "http://www.vmware.com/schema/ovf"
#define MAX_BYTES (12u << 20)

static bool is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0 && n->ns &&
           strcmp((const char *)n->ns->href, OVF_NS) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

static char *attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNsProp((xmlNode *)n, (const xmlChar *)name, (const xmlChar *)OVF_NS);
    char *s = v ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static int number(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -EINVAL;
    *out = v;
    return 0;
}

/* capacity × capacityAllocationUnits ("byte", "byte * 2^30"). */
static int capacity(const xmlNode *d, uint64_t *out)
{
    char *cap = attr(d, "capacity"), *units = attr(d, "capacityAllocationUnits");
    uint64_t v = 0;
    unsigned shift = 0;
    int err = number(cap, &v);
    if (!err && units) {
        const char *caret = strstr(units, "2^");
        if (strncmp(units, "byte", 4) != 0)
            err = -EINVAL;
        else if (caret && (sscanf(caret, "2^%u", &shift) != 1 || shift > 60))
            err = -EINVAL;
    }
    if (!err && shift && v > (UINT64_MAX >> shift))
        err = -EINVAL;
    if (!err)
        *out = v << shift;
    free(cap);
    free(units);
    return err;
}

/* A reference must name a file next to the descriptor. */
static bool flat_name(const char *s)
{
    return s && *s && !strchr(s, '/') && !strchr(s, '\\') && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0 && !strstr(s, "://") && strlen(s) <= 255;
}

/* ---- the VM's hardware: best effort, never a reason to refuse ---- */

static bool is_ns(const xmlNode *n, const char *ns, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0 && n->ns &&
           strcmp((const char *)n->ns->href, ns) == 0;
}

/* The text of n's child ns:name, trimmed, or NULL. */
static char *text_of(const xmlNode *n, const char *ns, const char *name)
{
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_ns(c, ns, name))
            continue;
        xmlChar *t = xmlNodeGetContent(c);
        const char *b = t ? (const char *)t : "";
        while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
            b++;
        size_t len = strlen(b);
        while (len && (b[len - 1] == ' ' || b[len - 1] == '\t' || b[len - 1] == '\n' ||
                       b[len - 1] == '\r'))
            len--;
        char *s = len <= 255 ? strndup(b, len) : NULL;
        xmlFree(t);
        return s;
    }
    return NULL;
}

static unsigned small_number(const char *s, unsigned max)
{
    uint64_t v;
    return number(s, &v) == 0 && v <= max ? (unsigned)v : 0;
}

/* VirtualQuantity in AllocationUnits ("byte * 2^20", "MegaBytes", ...) as
 * MiB, rounded up; 0 when not understood. */
static uint64_t memory_mb(const char *quantity, const char *units)
{
    uint64_t v;
    unsigned shift = 20;
    if (number(quantity, &v) != 0 || v > (1ull << 40))
        return 0;
    if (units) {
        const char *caret = strstr(units, "2^");
        if (caret && sscanf(caret, "2^%u", &shift) != 1)
            return 0;
        else if (!caret && strcasecmp(units, "byte") == 0)
            shift = 0;
        else if (!caret && strcasecmp(units, "KiloBytes") == 0)
            shift = 10;
        else if (!caret && strcasecmp(units, "GigaBytes") == 0)
            shift = 30;
        else if (!caret && strcasecmp(units, "MegaBytes") != 0)
            return 0;
    }
    if (shift > 40)
        return 0;
    return shift >= 20 ? v << (shift - 20) : (v + (1ull << (20 - shift)) - 1) >> (20 - shift);
}

/* The disk id of a HostResource ("ovf:/disk/vmdisk1"), or NULL. */
static const char *disk_ref(const char *host)
{
    static const char *const prefixes[] = { "ovf:/disk/", "/disk/" };
    for (size_t i = 0; host && i < 2; i++)
        if (strncmp(host, prefixes[i], strlen(prefixes[i])) == 0)
            return host + strlen(prefixes[i]);
    return NULL;
}

static const xmlNode *hardware_of(const xmlNode *vs)
{
    return child(vs, "VirtualHardwareSection");
}

/* Does the VirtualSystem vs mount the disk id? */
static bool mounts(const xmlNode *vs, const char *id)
{
    for (const xmlNode *it = child(hardware_of(vs), "Item"); it && id; it = it->next) {
        if (!is(it, "Item"))
            continue;
        char *host = text_of(it, RASD_NS, "HostResource");
        bool hit = disk_ref(host) && strcmp(disk_ref(host), id) == 0;
        free(host);
        if (hit)
            return true;
    }
    return false;
}

/* The VirtualSystem that mounts disk id, else the first one, depth first
 * through VirtualSystemCollections (bounded: a hostile nesting). */
static const xmlNode *find_system(const xmlNode *n, const char *id, int depth,
                                  const xmlNode **first)
{
    for (const xmlNode *c = n->children; c && depth < 8; c = c->next) {
        if (is(c, "VirtualSystem")) {
            if (!*first)
                *first = c;
            if (mounts(c, id))
                return c;
        } else if (is(c, "VirtualSystemCollection")) {
            const xmlNode *hit = find_system(c, id, depth + 1, first);
            if (hit)
                return hit;
        }
    }
    return NULL;
}

/* The controller Item with InstanceID parent. */
static void controller_of(const xmlNode *hw, const char *parent, struct ovf_disk *d)
{
    for (const xmlNode *it = child(hw, "Item"); it && parent; it = it->next) {
        if (!is(it, "Item"))
            continue;
        char *id = text_of(it, RASD_NS, "InstanceID");
        bool hit = id && strcmp(id, parent) == 0;
        free(id);
        if (!hit)
            continue;
        char *type = text_of(it, RASD_NS, "ResourceType");
        unsigned t = small_number(type, 100);
        free(type);
        if (t == 5 || t == 6 || t == 20) {
            d->controller = (int)t;
            d->controller_subtype = text_of(it, RASD_NS, "ResourceSubType");
        }
        return;
    }
}

static void vmw_config(const xmlNode *hw, struct ovf_vm *vm)
{
    for (const xmlNode *c = hw->children; c; c = c->next) {
        if (!is_ns(c, VMW_NS, "Config"))
            continue;
        xmlChar *k = xmlGetNsProp((xmlNode *)c, BAD_CAST "key", BAD_CAST VMW_NS);
        xmlChar *v = xmlGetNsProp((xmlNode *)c, BAD_CAST "value", BAD_CAST VMW_NS);
        if (k && v && strcmp((const char *)k, "firmware") == 0)
            vm->efi = strcasecmp((const char *)v, "efi") == 0;
        if (k && v && strcmp((const char *)k, "bootOptions.efiSecureBootEnabled") == 0)
            vm->secure_boot = strcasecmp((const char *)v, "true") == 0;
        xmlFree(k);
        xmlFree(v);
    }
}

static void read_hardware(const xmlNode *env, struct ovf_info *out)
{
    const xmlNode *first = NULL;
    const char *id0 = out->n_disks ? out->disks[0].disk_id : NULL;
    const xmlNode *vs = find_system(env, id0, 0, &first);
    if (!vs)
        vs = first;
    const xmlNode *hw = hardware_of(vs);
    if (!hw)
        return;
    const xmlNode *os = child(vs, "OperatingSystemSection");
    xmlChar *guest = os ? xmlGetNsProp((xmlNode *)os, BAD_CAST "osType", BAD_CAST VMW_NS) : NULL;
    if (guest && strlen((const char *)guest) <= 64)
        out->vm.os_type = strdup((const char *)guest);
    xmlFree(guest);
    vmw_config(hw, &out->vm);
    bool seen[OVF_MAX_ITEMS] = { false };

    for (const xmlNode *it = child(hw, "Item"); it; it = it->next) {
        if (!is(it, "Item"))
            continue;
        char *type = text_of(it, RASD_NS, "ResourceType");
        unsigned t = small_number(type, 100);
        free(type);
        if (t == 3 && !out->vm.cpus) {
            char *q = text_of(it, RASD_NS, "VirtualQuantity");
            char *cps = text_of(it, VMW_NS, "CoresPerSocket");
            out->vm.cpus = small_number(q, 4096);
            out->vm.cores_per_socket = small_number(cps, 4096);
            free(q);
            free(cps);
        } else if (t == 4 && !out->vm.memory_mb) {
            char *q = text_of(it, RASD_NS, "VirtualQuantity");
            char *u = text_of(it, RASD_NS, "AllocationUnits");
            out->vm.memory_mb = memory_mb(q, u);
            free(q);
            free(u);
        } else if (t == 10 && !out->vm.nic) {
            out->vm.nic = text_of(it, RASD_NS, "ResourceSubType");
        } else if (t == 17) {
            char *host = text_of(it, RASD_NS, "HostResource");
            /* A disk's first Item only: a hostile descriptor's thousands
             * of Items naming one disk cost one search each, not all. */
            for (size_t i = 0; i < out->n_disks && disk_ref(host); i++) {
                struct ovf_disk *d = &out->disks[i];
                if (!seen[i] && strcmp(d->disk_id, disk_ref(host)) == 0) {
                    seen[i] = true;
                    char *parent = text_of(it, RASD_NS, "Parent");
                    controller_of(hw, parent, d);
                    free(parent);
                }
            }
            free(host);
        }
    }
}

int ovf_parse(const char *xml, size_t len, const char *label, struct ovf_info *out)
{
    xmlDoc *doc = NULL;
    const char *why = NULL;
    int err = -EINVAL;

    memset(out, 0, sizeof *out);
    if (len > MAX_BYTES) {
        cfs_log_error("%s: OVF descriptor over 12 MiB", label);
        return -EFBIG;
    }
    err = cfs_xml_read(xml, len, "descriptor.ovf", 0, &doc, &why);
    if (err) {
        if (err != -ENOMEM)
            err = -EINVAL;
        goto out;
    }
    err = -EINVAL;
    const xmlNode *env = xmlDocGetRootElement(doc);
    if (!is(env, "Envelope")) {
        why = "no OVF 1.x Envelope";
        goto out;
    }
    for (const xmlNode *f = child(child(env, "References"), "File"); f; f = f->next) {
        if (!is(f, "File"))
            continue;
        if (out->n_files == OVF_MAX_ITEMS) {
            why = "too many files";
            goto out;
        }
        struct ovf_file *of = &out->files[out->n_files++];
        char *size = attr(f, "size");
        of->id = attr(f, "id");
        of->href = attr(f, "href");
        if (!of->id || !flat_name(of->href) || (size && number(size, &of->size) != 0)) {
            free(size);
            why = "a File reference is not a file next to the descriptor";
            goto out;
        }
        free(size);
    }
    for (const xmlNode *d = child(child(env, "DiskSection"), "Disk"); d; d = d->next) {
        if (!is(d, "Disk"))
            continue;
        if (out->n_disks == OVF_MAX_ITEMS) {
            why = "too many disks";
            goto out;
        }
        struct ovf_disk *od = &out->disks[out->n_disks++];
        od->disk_id = attr(d, "diskId");
        od->file_ref = attr(d, "fileRef");
        od->format = attr(d, "format");
        if (!od->disk_id || capacity(d, &od->capacity) != 0) {
            why = "a Disk has no id or no usable capacity";
            goto out;
        }
        bool found = !od->file_ref;
        for (size_t i = 0; i < out->n_files && !found; i++)
            found = strcmp(out->files[i].id, od->file_ref) == 0;
        if (!found) {
            why = "a Disk references a file the References do not list";
            goto out;
        }
    }
    const xmlNode *name = child(child(env, "VirtualSystem"), "Name");
    if (name) {
        xmlChar *t = xmlNodeGetContent(name);
        out->name = t ? strdup((const char *)t) : NULL;
        xmlFree(t);
    }
    read_hardware(env, out);
    err = 0;
out:
    if (why)
        cfs_log_error("%s: not an OVF descriptor cloudfs takes: %s", label, why);
    if (err)
        ovf_info_free(out);
    xmlFreeDoc(doc);
    return err;
}

void ovf_info_free(struct ovf_info *info)
{
    for (size_t i = 0; i < info->n_files; i++) {
        free(info->files[i].id);
        free(info->files[i].href);
    }
    for (size_t i = 0; i < info->n_disks; i++) {
        free(info->disks[i].disk_id);
        free(info->disks[i].file_ref);
        free(info->disks[i].format);
        free(info->disks[i].controller_subtype);
    }
    free(info->vm.nic);
    free(info->vm.os_type);
    free(info->name);
    memset(info, 0, sizeof *info);
}
