/* Listing (ref/vcd-api.md §3, §13.10): catalogs with the query service,
 * and for one catalog its usable vApp templates as files: <name>.ova,
 * <name>.ovf, <name>.vmdk and <name>-diskN.vmdk for further disks (the
 * count from the template's descriptor, GET <template>/ovf, which needs
 * no export; its VM's hardware becomes the Glance properties a copy into
 * Glance takes, ovf_glance.c). Items are found by the catalog's href, not its name:
 * another org's shared catalog may have the same name. */
#define _GNU_SOURCE
#include "format.h"
#include "ovf_glance.h"
#include "log.h"
#include "mtime.h"
#include "util.h"
#include "vcloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_OBJECTS     200000
#define MAX_XATTR_VALUE 4096
#define MAX_XATTRS      (64 * 1024)

int vcd_uuid_of(const char *href, char *out, size_t n)
{
    const char *end = href + strcspn(href, "?#");
    while (end > href && end[-1] == '/')
        end--;
    const char *last = end;
    while (last > href && last[-1] != '/')
        last--;
    /* "/api/vAppTemplate/vappTemplate-<uuid>": the uuid is the last 36. */
    const char *dash = NULL;
    for (const char *p = last; p < end; p++)
        if (strncasecmp(p, "vappTemplate-", 13) == 0)
            dash = p + 13;
    if (dash)
        last = dash;
    size_t len = (size_t)(end - last);
    if (len == 0 || len >= n || len > 64)
        return -EINVAL;
    for (const char *p = last; p < end; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return -EINVAL;
    memcpy(out, last, len);
    out[len] = '\0';
    return 0;
}

static int append(struct cfs_object_list *out, size_t *cap, struct cfs_object *o)
{
    return out->n >= MAX_OBJECTS ? -EFBIG : cfs_object_list_add(out, cap, o);
}

/* Bounds what a hostile server can make us keep per object. */
static int add_xattr(struct cfs_object *o, const char *name, const char *value)
{
    if (!value || strlen(value) > MAX_XATTR_VALUE ||
        o->xattrs_len + strlen(name) + strlen(value) + 2 > MAX_XATTRS)
        return 0;
    return cfs_object_add_xattr(o, name, value);
}

static void set_time(struct cfs_object *o, xmlNodePtr rec)
{
    char *d = cfs_xml_attr(rec, "creationDate");
    if (!d || cfs_parse_iso8601(d, &o->mtime) != 0)
        o->mtime.tv_sec = 0, o->mtime.tv_nsec = 0;
    o->ctime = o->mtime;
    free(d);
}

/* ---- catalogs ---- */

struct catalogs {
    struct vcd_cloud *c;
    struct cfs_object_list *out;
    size_t cap;
};

static int catalog_record(void *ctx, xmlNodePtr rec)
{
    struct catalogs *cs = ctx;
    char *name = cfs_xml_attr(rec, "name"), *href = cfs_xml_attr(rec, "href");
    char id[80];
    struct cfs_object o = { 0 };
    int err = 0;

    if (!name || !href || vcd_uuid_of(href, id, sizeof id) != 0) {
        cfs_log_warn("vcloud: %s: catalog %.100s (href %.200s) skipped: no usable name or href",
                     cs->c->base.name, name ? name : "(no name)", href ? href : "none");
        goto out;
    }
    o.id = strdup(id);
    o.name = name;
    o.ext = strdup("");
    o.is_dir = true;
    name = NULL;
    set_time(&o, rec);
    if (!o.id || !o.name || !o.ext)
        err = -ENOMEM;
    if (!err)
        err = add_xattr(&o, "user.cloudfs.id", id);
    if (!err)
        err = add_xattr(&o, "user.vcloud.href", href);
    if (!err)
        err = append(cs->out, &cs->cap, &o);
    if (err)
        cfs_object_clear(&o);
out:
    free(name);
    free(href);
    return err;
}

int vcd_list_catalogs(struct vcd_cloud *c, struct cfs_object_list *out)
{
    struct catalogs cs = { .c = c, .out = out };
    memset(out, 0, sizeof *out);
    int err = vcd_query(c, "catalog", NULL, catalog_record, &cs);
    if (err)
        cfs_object_list_free(out);
    return err;
}

/* The catalog a directory names: its name, or "name~<id prefix>" as fs/
 * shows duplicates. Among several of one name, the user's own org's. */
int vcd_catalog_find(struct vcd_cloud *c, const char *catalog, char **href)
{
    struct cfs_object_list all;
    const struct cfs_object *hit = NULL;
    int n_hits = 0;

    *href = NULL;
    int err = vcd_list_catalogs(c, &all);
    if (err)
        return err;
    for (size_t i = 0; i < all.n; i++) {
        if (strcmp(all.v[i].name, catalog) == 0) {
            hit = &all.v[i];
            n_hits++;
        }
    }
    const char *tilde = n_hits ? NULL : strrchr(catalog, '~');
    if (tilde && tilde[1]) {
        size_t base = (size_t)(tilde - catalog);
        for (size_t i = 0; i < all.n; i++) {
            const struct cfs_object *o = &all.v[i];
            if (strlen(o->name) == base && strncmp(o->name, catalog, base) == 0 &&
                strncmp(o->id, tilde + 1, strlen(tilde + 1)) == 0) {
                hit = o;
                n_hits++;
            }
        }
    }
    if (n_hits > 1)
        cfs_log_warn("vcloud: %s: %d catalogs are named %s; using the one with id %s", c->base.name,
                     n_hits, catalog, hit->id);
    if (hit)
        *href = strdup(cfs_object_xattr(hit, "user.vcloud.href"));
    cfs_object_list_free(&all);
    if (!hit)
        return -ENOENT;
    return *href ? 0 : -ENOMEM;
}

/* ---- templates ---- */

size_t vcd_ovf_disk_files(const struct ovf_info *info, size_t idx[OVF_MAX_ITEMS])
{
    size_t n = 0;
    for (size_t f = 0; f < info->n_files; f++) {
        for (size_t d = 0; d < info->n_disks; d++) {
            if (info->disks[d].file_ref &&
                strcmp(info->disks[d].file_ref, info->files[f].id) == 0) {
                idx[n++] = f;
                break;
            }
        }
    }
    return n;
}

/* A template's descriptor (no export needed), parsed: how many disks it
 * has, and its VM's hardware. 1 when it cannot be had (logged): a
 * template still shows its first disk. info is zeroed then. */
static int read_descriptor(struct vcd_cloud *c, const char *template_href, const char *name,
                           struct ovf_info *info)
{
    char *url = cfs_printf("%s/ovf", template_href);
    struct cfs_http_resp resp;
    size_t idx[OVF_MAX_ITEMS];
    char label[300], what[300];
    int n = 1;

    memset(info, 0, sizeof *info);
    if (!url)
        return -ENOMEM;
    snprintf(label, sizeof label, "vcloud: %s: template %s", c->base.name, name);
    snprintf(what, sizeof what, "descriptor of template %s", name);
    int err = vcd_api(c, "GET", url, NULL, NULL, 0, &resp);
    if (!err && resp.status != 200)
        err = vcd_api_error(c, what, &resp);
    else if (!err && ovf_parse(resp.body, resp.body_len, label, info) == 0)
        n = (int)vcd_ovf_disk_files(info, idx);
    cfs_http_resp_free(&resp);
    free(url);
    return err == -ENOMEM ? err : n;
}

/* What a copy of disk number disk into Glance takes from the template's
 * hardware (core/format/ovf_glance.c): the properties as
 * user.cloudfs.props.<key>, which fs/copy.c hands on as cfs_put.src_props,
 * and what has no equivalent as user.cloudfs.warnings. The disk's own
 * Disk entry counts: the n-th file is the n-th disk file. */
static int add_props(const struct ovf_info *info, size_t disk, struct cfs_object *o)
{
    size_t idx[OVF_MAX_ITEMS], n = vcd_ovf_disk_files(info, idx), d = 0;

    /* The Disk entry of the disk-th disk file. */
    for (size_t i = 0; disk < n && i < info->n_disks; i++)
        if (info->disks[i].file_ref &&
            strcmp(info->disks[i].file_ref, info->files[idx[disk]].id) == 0)
            d = i;
    return cfs_object_add_hw(o, info, d);
}

/* Metadata entries of a catalog item as user.vcloud.meta.<key>. */
static int add_metadata(struct vcd_cloud *c, const char *item_href, struct cfs_object *o)
{
    char *url = cfs_printf("%s/metadata", item_href);
    char what[300];
    xmlDocPtr doc;
    int err;

    if (!url)
        return -ENOMEM;
    snprintf(what, sizeof what, "metadata of %s", o->name);
    err = vcd_get_xml(c, url, what, &doc);
    free(url);
    if (err)
        return err == -ENOMEM ? err : 0; /* logged; the files are still there */
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr e = cfs_xml_child(root, VCD_NS, "MetadataEntry"); e && !err;
         e = cfs_xml_next(e, VCD_NS, "MetadataEntry")) {
        char *key = cfs_xml_text(cfs_xml_child(e, VCD_NS, "Key"));
        xmlNodePtr tv = cfs_xml_child(e, VCD_NS, "TypedValue");
        /* 5.1+: TypedValue/Value; 1.5: Value directly. */
        char *value = cfs_xml_text(cfs_xml_child(tv ? tv : e, VCD_NS, "Value"));
        if (key && value && *key && strlen(key) <= 200) {
            char *name = cfs_printf("user.vcloud.meta.%s", key);
            err = name ? add_xattr(o, name, value) : -ENOMEM;
            free(name);
        }
        free(key);
        free(value);
    }
    xmlFreeDoc(doc);
    return err;
}

struct templates {
    struct vcd_cloud *c;
    const char *catalog, *catalog_href;
    struct cfs_object_list *out;
    size_t cap;
};

static bool usable(xmlNodePtr rec, const char *entity)
{
    char *type = cfs_xml_attr(rec, "entityType"), *status = cfs_xml_attr(rec, "status");
    bool is_template =
        type ? strcasecmp(type, "vapptemplate") == 0 : strstr(entity, "/vAppTemplate/") != NULL;
    /* Uploads in progress (UNRESOLVED) and failed ones are not files. */
    bool ready = status && (strcasecmp(status, "RESOLVED") == 0 ||
                            strcasecmp(status, "POWERED_OFF") == 0 || strcmp(status, "8") == 0);
    free(type);
    free(status);
    return is_template && ready;
}

static int add_file(struct templates *ts, const struct cfs_object *proto, const char *name,
                    const char *id, const char *ext, const struct ovf_info *info, size_t disk)
{
    struct cfs_object o = *proto;
    o.name = strdup(name);
    o.id = strdup(id);
    o.ext = strdup(ext);
    o.xattrs = malloc(proto->xattrs_len ? proto->xattrs_len : 1);
    o.digest_algo = o.digest_hex = NULL;
    int err = o.name && o.id && o.ext && o.xattrs ? 0 : -ENOMEM;
    if (!err) {
        memcpy(o.xattrs, proto->xattrs, proto->xattrs_len);
        err = cfs_object_add_xattr(&o, "user.cloudfs.id", id);
    }
    if (!err)
        err = add_props(info, disk, &o);
    if (!err)
        err = append(ts->out, &ts->cap, &o);
    if (err)
        cfs_object_clear(&o);
    return err;
}

static int template_record(void *ctx, xmlNodePtr rec)
{
    struct templates *ts = ctx;
    struct vcd_cloud *c = ts->c;
    char *name = cfs_xml_attr(rec, "name"), *entity = cfs_xml_attr(rec, "entity");
    char *item = cfs_xml_attr(rec, "href"), *status = cfs_xml_attr(rec, "status");
    char *cat = cfs_xml_attr(rec, "catalog");
    char id[80], file[300];
    struct cfs_object proto = { 0 };
    struct ovf_info info = { 0 };
    int err = 0, n_disks;

    /* A server that ignored the filter must not mix catalogs up. */
    if (!name || !entity || !item || !usable(rec, entity) ||
        (cat && strcmp(cat, ts->catalog_href) != 0))
        goto out;
    if (vcd_uuid_of(entity, id, sizeof id) != 0) {
        cfs_log_warn("vcloud: %s: template %s has an unusable href, skipped", c->base.name, name);
        goto out;
    }
    set_time(&proto, rec);
    proto.size = 0;
    proto.immutable = true;
    proto.no_views = true;
    proto.size_at_open = true; /* known only after the export */
    proto.name = name;
    if ((err = add_xattr(&proto, "user.vcloud.href", entity)) ||
        (err = add_xattr(&proto, "user.vcloud.catalog", ts->catalog)) ||
        (err = add_xattr(&proto, "user.vcloud.status", status)) ||
        (err = add_xattr(&proto, "user.vcloud.name", name)) ||
        (err = add_xattr(&proto, "user.vcloud.item", item)) ||
        (err = add_metadata(c, item, &proto)))
        goto out;
    /* A time stored by utimensat (mtime.c) wins over the creation date. */
    cfs_mtime_parse(cfs_object_xattr(&proto, "user.vcloud.meta." CFS_MTIME_KEY), &proto.mtime);
    n_disks = read_descriptor(c, entity, name, &info);
    if (n_disks < 0) {
        err = n_disks;
        goto out;
    }
    /* The .ova and .ovf are the template: they take its first disk's. */
    if ((err = add_file(ts, &proto, name, id, "ova", &info, 0)) ||
        (err = add_file(ts, &proto, name, id, "ovf", &info, 0)))
        goto out;
    for (int d = 1; d <= n_disks && !err; d++) {
        char did[96];
        if (d == 1) {
            err = add_file(ts, &proto, name, id, "vmdk", &info, 0);
            continue;
        }
        snprintf(file, sizeof file, "%s-disk%d", name, d);
        snprintf(did, sizeof did, "%s-disk%d", id, d);
        err = add_file(ts, &proto, file, did, "vmdk", &info, (size_t)d - 1);
    }
out:
    ovf_info_free(&info);
    free(proto.xattrs);
    free(name);
    free(entity);
    free(item);
    free(status);
    free(cat);
    return err;
}

int vcd_list_templates(struct vcd_cloud *c, const char *catalog, struct cfs_object_list *out)
{
    char *href = NULL, *value = NULL, *filter = NULL;
    struct templates ts = { .c = c, .catalog = catalog, .out = out };

    memset(out, 0, sizeof *out);
    int err = vcd_catalog_find(c, catalog, &href);
    if (!err) {
        value = vcd_query_value(href);
        filter = value ? cfs_printf("catalog==%s", value) : NULL;
        err = filter ? 0 : -ENOMEM;
    }
    if (!err) {
        ts.catalog_href = href;
        err = vcd_query(c, "catalogItem", filter, template_record, &ts);
    }
    if (err)
        cfs_object_list_free(out);
    free(href);
    free(value);
    free(filter);
    return err;
}
