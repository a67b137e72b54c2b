/* The Glance image properties of a VMware VM's hardware, as its OVF
 * descriptor gives it (core/format/ovf_glance.c): the reverse of the .ovf
 * view's mapping (ovf_map.c), for a vCD template, or an OVA, copied into
 * Glance. The table is in cloudfs(1), "VMware to OpenStack". */
#ifndef CFS_OVF_GLANCE_H
#define CFS_OVF_GLANCE_H

#include <stddef.h>

#include "format.h"

struct ovf_glance {
    /* "key\0value\0" pairs in Glance's names (min_ram, hw_disk_bus ...),
     * as cfs_put.src_props carries them; NULL when there is none. */
    char *props;
    size_t props_len;
    /* "; "-separated: hardware with no equivalent on OpenStack, what was
     * chosen instead and why; NULL when there is none. */
    char *warnings;
};

/* The properties for the image made of disk number disk (0: the first) of
 * info. Pure: no log line (the caller logs the warnings once, naming the
 * copy). 0 or -ENOMEM; out is all NULL when the descriptor says nothing. */
int ovf_glance_map(const struct ovf_info *info, size_t disk, struct ovf_glance *out);
void ovf_glance_free(struct ovf_glance *g);

/* The same for the first disk of the OVA in ova (ova_glance.c), from its
 * .ovf member; out all NULL when ova is no OVA or its descriptor cannot be
 * read (what ovf_parse and tar_list log, naming label). 0 or -ENOMEM. */
int ovf_glance_of_ova(struct cfs_source *ova, const char *label, struct ovf_glance *out);

/* Calls fn for every value other than a number that ovf_glance_map can
 * write, with its key: what tests/unit/test_ovf_glance.c checks against
 * Glance's metadata definitions and Nova's enums. */
void ovf_glance_values(void (*fn)(void *ctx, const char *key, const char *value), void *ctx);

#endif
