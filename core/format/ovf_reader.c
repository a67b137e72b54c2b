/* Reading an OVF descriptor a user brings (from an OVA copied into a
 * catalog): the files it references and the disks it declares. libxml2
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

#define OVF_NS    "http://schemas.dmtf.org/ovf/envelope/1"
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
    }
    free(info->name);
    memset(info, 0, sizeof *info);
}
