/* An OVA copied into a catalog (ref/vcd-api.md §5.1, ref/formats.md §6):
 * vCD takes the descriptor and each file it references separately, so the
 * archive is unpacked in place (each member a slice of it), disks that are
 * not streamOptimized are converted, and the descriptor is rewritten with
 * libxml2 to say so: every File's exact ovf:size, a converted Disk's
 * ovf:format. The manifest and anything unreferenced stay behind: their
 * digests no longer hold, and the upload does not require a manifest. */
#include "package_priv.h"
#include "log.h"
#include "util.h"
#include "xml_safe.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OVF_NS      "http://schemas.dmtf.org/ovf/envelope/1"
#define MAX_MEMBERS 256
#define MAX_OVF     (12u << 20) /* vCD's bound on a descriptor */

static bool is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns &&
           strcmp((const char *)n->ns->href, OVF_NS) == 0 &&
           strcmp((const char *)n->name, name) == 0;
}

static xmlNode *first(xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

static xmlNode *next(xmlNode *n, const char *name)
{
    for (n = n->next; n; n = n->next)
        if (is(n, name))
            return n;
    return NULL;
}

/* An ovf: attribute's value (xmlFree it), or NULL. */
static char *get(xmlNode *n, const char *name)
{
    return (char *)xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)OVF_NS);
}

/* Sets an ovf: attribute under the prefix the element's ovf:id (or
 * ovf:diskId) already uses: the default namespace never applies to
 * attributes, so a prefix is needed. */
static int set(xmlNode *n, const char *id_attr, const char *name, const char *value)
{
    xmlAttr *id = xmlHasNsProp(n, (const xmlChar *)id_attr, (const xmlChar *)OVF_NS);
    if (!id || !id->ns || !id->ns->prefix)
        return -EINVAL;
    return xmlSetNsProp(n, id->ns, (const xmlChar *)name, (const xmlChar *)value) ? 0 : -ENOMEM;
}

static int set_u64(xmlNode *n, const char *id_attr, const char *name, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return set(n, id_attr, name, s);
}

struct ova {
    struct cfs_source *content;
    const char *label;
    int zip; /* DEFLATE level of converted disks */
    struct tar_member *m;
    size_t n_members;
    xmlDoc *doc;
    struct ovf_info info;
    struct pkg_disk disks[OVF_MAX_ITEMS]; /* by file, as the References list them */
};

static const struct tar_member *member(const struct ova *o, const char *name)
{
    const struct tar_member *found = NULL;
    for (size_t i = 0; i < o->n_members; i++)
        if (strcmp(o->m[i].name, name) == 0)
            found = &o->m[i]; /* a later member replaces an earlier one, as tar extracts */
    return found;
}

static bool is_disk_file(const struct ova *o, const char *file_id)
{
    for (size_t i = 0; i < o->info.n_disks; i++)
        if (o->info.disks[i].file_ref && strcmp(o->info.disks[i].file_ref, file_id) == 0)
            return true;
    return false;
}

/* The .ovf member (the first, as DSP0243 puts it) read whole. */
static int read_descriptor(struct ova *o, char **xml, size_t *len)
{
    const struct tar_member *d = NULL;
    for (size_t i = 0; i < o->n_members && !d; i++) {
        size_t n = strlen(o->m[i].name);
        if (n > 4 && strcasecmp(o->m[i].name + n - 4, ".ovf") == 0)
            d = &o->m[i];
    }
    if (!d) {
        cfs_log_error("%s: an OVA without an .ovf descriptor", o->label);
        return -EINVAL;
    }
    if (d->size > MAX_OVF) {
        cfs_log_error("%s: its OVF descriptor is over 12 MiB", o->label);
        return -EINVAL;
    }
    *xml = malloc((size_t)d->size + 1);
    if (!*xml)
        return -ENOMEM;
    size_t got = 0;
    while (got < d->size) {
        ssize_t n =
            cfs_source_pread(o->content, *xml + got, (size_t)d->size - got, d->offset + got);
        if (n <= 0) {
            cfs_log_error("%s: reading its OVF descriptor: %s", o->label,
                          n < 0 ? strerror((int)-n) : "short read");
            return n < 0 ? (int)n : -EIO;
        }
        got += (size_t)n;
    }
    (*xml)[got] = '\0';
    *len = got;
    return 0;
}

/* ovf_parse has vetted the document (no DOCTYPE, an OVF 1.x Envelope);
 * this is the same bytes, kept as a tree to edit. Files that are gzip'd
 * or chunked (ovf:compression, ovf:chunkSize) are not the disk itself. */
static int parse_tree(struct ova *o, const char *xml, size_t len)
{
    int err = cfs_xml_read(xml, len, "descriptor.ovf", 0, &o->doc, NULL);
    xmlNode *env = err ? NULL : xmlDocGetRootElement(o->doc);
    if (err == -ENOMEM)
        return err;
    if (!env || !is(env, "Envelope")) {
        cfs_log_error("%s: its OVF descriptor cannot be edited", o->label);
        return -EINVAL;
    }
    for (xmlNode *f = first(first(env, "References"), "File"); f; f = next(f, "File")) {
        char *comp = get(f, "compression"), *chunk = get(f, "chunkSize");
        bool plain = (!comp || strcmp(comp, "identity") == 0) && !chunk;
        xmlFree(comp);
        xmlFree(chunk);
        if (!plain) {
            cfs_log_error("%s: its OVF references a compressed or chunked file: not supported",
                          o->label);
            return -EINVAL;
        }
    }
    return 0;
}

/* Each referenced file: a member of the archive, a disk converted when it
 * is not a streamOptimized VMDK vCD takes as is. */
static int open_files(struct ova *o, struct cfs_package *out)
{
    for (size_t i = 0; i < o->info.n_files; i++) {
        const struct ovf_file *f = &o->info.files[i];
        if (!pkg_plain_name(f->href)) {
            cfs_log_error("%s: its OVF references \"%s\": only [A-Za-z0-9._-] names can be "
                          "uploaded",
                          o->label, f->href);
            return -EINVAL;
        }
        const struct tar_member *m = member(o, f->href);
        if (!m) {
            cfs_log_error("%s: OVA references %s, which it does not contain", o->label, f->href);
            return -EINVAL;
        }
        struct cfs_package_file *pf = &out->files[out->n_files];
        pf->href = strdup(f->href);
        if (!pf->href)
            return -ENOMEM;
        out->n_files++;
        int err;
        if (!is_disk_file(o, f->id)) {
            err = cfs_slice_source_open(o->content, m->offset, m->size, &pf->src);
            if (err)
                return err;
            continue;
        }
        struct cfs_source *slice;
        enum cfs_fmt fmt;
        err = cfs_slice_source_open(o->content, m->offset, m->size, &slice);
        if (err)
            return err;
        err = cfs_sniff(slice, &fmt);
        cfs_source_close(slice);
        if (err)
            return err;
        if (fmt == CFS_FMT_VMDK_DESC || fmt == CFS_FMT_OVA || fmt == CFS_FMT_OVF ||
            fmt == CFS_FMT_ISO) {
            static const char *const kinds[] = { [CFS_FMT_VMDK_DESC] = "a descriptor-only VMDK",
                                                 [CFS_FMT_OVA] = "an OVA",
                                                 [CFS_FMT_OVF] = "an OVF descriptor",
                                                 [CFS_FMT_ISO] = "an ISO image" };
            cfs_log_error("%s: its disk %s is %s, not a disk image", o->label, f->href, kinds[fmt]);
            return -EINVAL;
        }
        char *what = cfs_printf("%s: %s", o->label, f->href);
        if (!what)
            return -ENOMEM;
        err =
            pkg_disk_open(o->content, m->offset, m->size, fmt, f->href, o->zip, what, &o->disks[i]);
        free(what);
        if (err)
            return err;
        pf->src = o->disks[i].src;
    }
    return 0;
}

/* Every File's size the exact size of what is uploaded; a converted
 * Disk's format streamOptimized, its capacity at least the VMDK's. */
static int rewrite(struct ova *o, const struct cfs_package *out)
{
    xmlNode *env = xmlDocGetRootElement(o->doc);
    int err = 0;
    for (xmlNode *f = first(first(env, "References"), "File"); f && !err; f = next(f, "File")) {
        char *id = get(f, "id");
        for (size_t i = 0; id && i < o->info.n_files && !err; i++)
            if (strcmp(o->info.files[i].id, id) == 0)
                err = set_u64(f, "id", "size", out->files[i].src->size);
        xmlFree(id);
    }
    for (xmlNode *d = first(first(env, "DiskSection"), "Disk"); d && !err; d = next(d, "Disk")) {
        char *ref = get(d, "fileRef");
        for (size_t i = 0; ref && i < o->info.n_files && !err; i++) {
            const struct pkg_disk *k = &o->disks[i];
            if (strcmp(o->info.files[i].id, ref) != 0 || !k->converted)
                continue;
            err = set(d, "diskId", "format", PKG_STREAM_FORMAT);
            uint64_t declared = 0;
            for (size_t j = 0; j < o->info.n_disks; j++)
                if (o->info.disks[j].file_ref && strcmp(o->info.disks[j].file_ref, ref) == 0)
                    declared = o->info.disks[j].capacity;
            if (!err && declared < k->capacity) {
                err = set_u64(d, "diskId", "capacity", k->capacity);
                if (!err)
                    err = set(d, "diskId", "capacityAllocationUnits", "byte");
            }
            char *pop = get(d, "populatedSize");
            if (!err && pop)
                err = set_u64(d, "diskId", "populatedSize", k->populated);
            xmlFree(pop);
        }
        xmlFree(ref);
    }
    if (err)
        cfs_log_error("%s: its OVF descriptor cannot be rewritten: %s", o->label,
                      err == -EINVAL ? "an ovf: attribute without a prefix" : strerror(-err));
    return err;
}

static int serialise(struct ova *o, struct cfs_package *out)
{
    xmlChar *mem = NULL;
    int len = 0;
    xmlDocDumpMemoryEnc(o->doc, &mem, &len, "UTF-8");
    if (!mem)
        return -ENOMEM;
    out->ovf = malloc((size_t)len + 1);
    if (out->ovf) {
        memcpy(out->ovf, mem, (size_t)len);
        out->ovf[len] = '\0';
        out->ovf_len = (size_t)len;
    }
    xmlFree(mem);
    return out->ovf ? 0 : -ENOMEM;
}

int pkg_ova(struct cfs_source *content, int zip, const char *label, struct cfs_package *out)
{
    struct ova o = { .content = content, .label = label, .zip = zip };
    char *xml = NULL;
    size_t len = 0;
    int err;

    o.m = calloc(MAX_MEMBERS, sizeof *o.m);
    if (!o.m)
        return -ENOMEM;
    err = tar_list(content, label, o.m, MAX_MEMBERS, &o.n_members);
    if (err == -E2BIG)
        cfs_log_error("%s: an OVA of more than %d members", label, MAX_MEMBERS);
    if (err)
        goto out; /* tar_list logged the rest */
    err = read_descriptor(&o, &xml, &len);
    if (!err)
        err = ovf_parse(xml, len, label, &o.info);
    if (!err)
        err = parse_tree(&o, xml, len);
    if (!err)
        err = open_files(&o, out);
    if (!err)
        err = rewrite(&o, out);
    if (!err)
        err = serialise(&o, out);
out:
    if (err == -E2BIG)
        err = -EINVAL;
    if (err == -ENOMEM)
        cfs_log_error("%s: out of memory", label);
    ovf_info_free(&o.info);
    xmlFreeDoc(o.doc);
    free(xml);
    free(o.m);
    return err;
}
