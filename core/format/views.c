/* Views stacked on an image's bytes: decoder (qcow2, or none for raw),
 * then the view (raw = the guest disk itself, streamOptimized VMDK, OVF
 * descriptor, OVA of both). */
#include "views.h"
#include "cache.h"
#include "log.h"
#include "util.h"
#include "verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const exts[CFS_VIEW_COUNT] = { "raw", "vmdk", "vhd", "qcow2", "ovf", "ova" };

const char *cfs_view_ext(enum cfs_view v)
{
    return v < CFS_VIEW_COUNT ? exts[v] : "?";
}

int cfs_view_parse_list(const char *s, unsigned *mask)
{
    unsigned m = 0;
    while (*s) {
        size_t n = strcspn(s, ":,");
        if (n == 3 && strncmp(s, "all", 3) == 0) {
            m = (1u << CFS_VIEW_COUNT) - 1;
        } else if (!(n == 4 && strncmp(s, "none", 4) == 0)) {
            int found = -1;
            for (int v = 0; v < CFS_VIEW_COUNT; v++)
                if (strlen(exts[v]) == n && strncmp(s, exts[v], n) == 0)
                    found = v;
            if (found < 0)
                return -EINVAL;
            m |= 1u << found;
        }
        s += n;
        if (*s)
            s++;
    }
    *mask = m;
    return 0;
}

bool cfs_ovf_defaults_valid(const struct ovf_defaults *d)
{
    struct ovf_params p = { .name = "x", .vmdk_name = "x.vmdk", .defaults = d };
    char *xml = NULL, *warnings = NULL;
    int err = ovf_build(&p, &xml, &warnings);
    free(xml);
    free(warnings);
    return err == 0;
}

static bool decodable(const char *native_ext)
{
    static const char *const formats[] = { "qcow2", "raw", "vmdk", "vhd" };
    for (size_t i = 0; i < CFS_ARRAY_SIZE(formats); i++)
        if (strcmp(native_ext, formats[i]) == 0)
            return true;
    return false;
}

bool cfs_view_offered(enum cfs_view v, const char *native_ext)
{
    if (v >= CFS_VIEW_COUNT || !decodable(native_ext) || strcmp(exts[v], native_ext) == 0)
        return false;
    /* A stored .vmdk may be monolithicSparse: no .ovf may point at it. */
    return v != CFS_VIEW_OVF || strcmp(native_ext, "vmdk") != 0;
}

/* image: the stored bytes as the provider opened them (the block cache),
 * file: what the decoder reads (image, or a check of it stacked on it). */
static int decode(struct cfs_source *file, struct cfs_source *image, const char *native_ext,
                  const char *label, struct cfs_source **disk)
{
    if (strcmp(native_ext, "qcow2") == 0) {
        int err = qcow2_open(file, label, disk);
        struct cfs_source *cached;
        /* Compressed clusters: keep them decompressed in the block cache. */
        if (!err && (*disk)->costly &&
            cfs_cache_source_derive(image, *disk, "qcow2-guest-v1", &cached) == 0)
            *disk = cached;
        return err;
    }
    if (strcmp(native_ext, "raw") == 0) {
        *disk = file; /* the stored bytes are the guest disk */
        return 0;
    }
    if (strcmp(native_ext, "vmdk") == 0)
        return vmdk_open(file, label, disk);
    if (strcmp(native_ext, "vhd") == 0)
        return vhd_open(file, label, disk);
    cfs_source_close(file);
    return -ENOTSUP;
}

/* The bytes of base that a tar member name may hold with an extension,
 * cut on a UTF-8 boundary. */
static int member_base_len(const char *base)
{
    size_t n = strlen(base);
    if (n <= 90)
        return (int)n;
    n = 90;
    while (n > 0 && ((unsigned char)base[n] & 0xc0) == 0x80)
        n--;
    return (int)n;
}

static const char *adapter_of(const struct cfs_view_spec *spec)
{
    const char *bus = spec->prop ? spec->prop(spec->prop_ctx, "hw_disk_bus") : NULL;
    return bus && strcmp(bus, "ide") == 0 ? "ide" : "lsilogic";
}

/* The descriptor of a disk whose VMDK view is vmdk (of disk). */
static int build_ovf(const struct cfs_view_spec *spec, const struct cfs_source *disk,
                     const struct cfs_source *vmdk, const char *vmdk_name, struct cfs_source **out,
                     char **warnings)
{
    uint64_t capacity = (disk->size + CFS_GRAIN_BYTES - 1) & ~(uint64_t)(CFS_GRAIN_BYTES - 1);
    uint64_t grains =
        disk->alloc ? disk->alloc->n_alloc : (disk->size + CFS_GRAIN_BYTES - 1) >> CFS_GRAIN_SHIFT;
    struct ovf_params p = {
        .name = spec->base,
        .vmdk_name = vmdk_name,
        .vmdk_size = vmdk->size,
        .capacity = capacity,
        .populated = grains << CFS_GRAIN_SHIFT,
        .prop = spec->prop,
        .prop_ctx = spec->prop_ctx,
        .defaults = spec->defaults,
    };
    char *xml = NULL, *warn = NULL;
    int err = ovf_build(&p, &xml, &warn);
    if (err)
        return err;
    /* Logged where they are asked for: once per view and mount. */
    if (warn && warnings)
        cfs_log_warn("%s: the OVF's hardware may not suit this guest: %s", spec->label, warn);
    if (warnings)
        *warnings = warn;
    else
        free(warn);
    err = cfs_mem_source_new(xml, strlen(xml), out);
    if (err)
        free(xml);
    return err;
}

static int open_view(struct cfs_source *file, struct cfs_source *image, const char *native_ext,
                     enum cfs_view v, const struct cfs_view_spec *spec, struct cfs_source **out,
                     char **warnings)
{
    struct cfs_source *disk = NULL, *vmdk = NULL, *ovf = NULL;
    char *own_vmdk = NULL;
    int err;

    err = decode(file, image, native_ext, spec->label, &disk);
    if (err)
        return err;
    if (v == CFS_VIEW_RAW) {
        *out = disk;
        return 0;
    }
    if (v == CFS_VIEW_VHD)
        return vhd_view_open(disk, spec->vhd, spec->vhd_azure, spec->cid, out);
    if (v == CFS_VIEW_QCOW2)
        return qcow2_view_open(disk, out);
    /* Inside an OVA the members' names must fit ustar's 100 bytes. */
    int keep = v == CFS_VIEW_OVA ? member_base_len(spec->base) : (int)strlen(spec->base);
    own_vmdk = cfs_printf("%.*s.vmdk", keep, spec->base);
    if (!own_vmdk) {
        cfs_source_close(disk);
        return -ENOMEM;
    }
    /* The VMDK view owns the disk from here on. */
    err = vmdk_stream_open(disk, own_vmdk, spec->cid, adapter_of(spec), &vmdk);
    if (err)
        goto out;
    if (v == CFS_VIEW_VMDK) {
        *out = vmdk;
        vmdk = NULL;
        goto out;
    }
    /* The descriptor needs the disk (for capacity and allocation) and the
     * VMDK's exact size; vmdk still owns disk, so both are alive. */
    err = build_ovf(spec, disk, vmdk,
                    v == CFS_VIEW_OVF && spec->vmdk_name ? spec->vmdk_name : own_vmdk, &ovf,
                    warnings);
    if (err)
        goto out;
    if (v == CFS_VIEW_OVF) {
        *out = ovf;
        ovf = NULL;
        goto out;
    }
    char *ovf_name = cfs_printf("%.*s.ovf", keep, spec->base);
    if (!ovf_name) {
        err = -ENOMEM;
        goto out;
    }
    struct ova_member members[] = { { ovf_name, ovf }, { own_vmdk, vmdk } };
    ovf = vmdk = NULL; /* the archive owns them now */
    err = ova_open(members, 2, spec->mtime, out);
    free(ovf_name);
out:
    cfs_source_close(ovf);
    cfs_source_close(vmdk);
    free(own_vmdk);
    if (err && warnings) {
        free(*warnings);
        *warnings = NULL;
    }
    return err;
}

int cfs_view_open(struct cfs_source *file, const char *native_ext, enum cfs_view v,
                  const struct cfs_view_spec *spec, struct cfs_source **out, char **warnings)
{
    struct cfs_source *image = file, *check = NULL, *view;
    int err;

    if (warnings)
        *warnings = NULL;
    if (!cfs_view_offered(v, native_ext)) {
        cfs_source_close(file);
        return -ENOTSUP;
    }
    /* The descriptor holds no byte of the image: nothing to hold back. */
    if (spec->digest_algo && spec->digest_hex && v != CFS_VIEW_OVF) {
        err =
            cfs_verify_open(image, spec->digest_algo, spec->digest_hex, spec->label, true, &check);
        if (err)
            return err;
        file = check;
    }
    err = open_view(file, image, native_ext, v, spec, &view, warnings);
    if (!err && check)
        err = cfs_verify_gate_open(view, check, &view);
    if (!err)
        *out = view;
    else if (warnings) {
        free(*warnings);
        *warnings = NULL;
    }
    return err;
}
