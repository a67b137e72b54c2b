/* vmdk_compress=: whether a disk converted to VMDK for a vCD upload sends
 * stored or DEFLATE-compressed grains (README "Compressed uploads"). */
#ifndef CFS_VMDK_COMPRESS_H
#define CFS_VMDK_COMPRESS_H

struct cfs_mount;

/* "none" (or NULL) -> 0, "fast" -> 1, "auto" -> VMDK_COMPRESS_AUTO; -1 else. */
int cfs_vmdk_compress_parse(const char *s, int *out);

/* The DEFLATE level for the upload starting now (struct cfs_put.vmdk_zip). */
int cfs_vmdk_zip(const struct cfs_mount *m);

#endif
