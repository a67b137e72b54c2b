/* DEFLATE-compressed grain records for the .vmdk view (vmdk_stream.c):
 * the layout of a streamOptimized file whose grains are really compressed,
 * known before its first byte is read (ref/formats.md §3.6, §3.9).
 *
 * Planning compresses every allocated grain once, on all cores, and keeps
 * only each record's compressed length (a uint32 per grain); a read
 * compresses the grains again with the same zlib parameters, which gives
 * the same bytes, and checks the length against the plan. No local copy. */
#ifndef CFS_VMDK_ZIP_H
#define CFS_VMDK_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

struct vmdk_zip;

/* Plans the records of the n_alloc grains of ix (record k = the grain
 * cfs_alloc_select(ix, k)) at libdeflate level 1..12. disk and ix are borrowed:
 * they must outlive the plan. 0, -ENOMEM, a read's -errno. */
int vmdk_zip_plan(struct cfs_source *disk, const struct cfs_alloc_index *ix, uint64_t n_alloc,
                  int level, struct vmdk_zip **out);

/* Sectors of all records together. */
uint64_t vmdk_zip_sectors(const struct vmdk_zip *z);
/* First sector of record k, counted from the first record. */
uint64_t vmdk_zip_start(const struct vmdk_zip *z, uint64_t k);
/* Sectors of record k (1..129). */
uint32_t vmdk_zip_rec_sectors(const struct vmdk_zip *z, uint64_t k);

/* Bytes [rel, rel + len) of the records, rel counted from the first. */
int vmdk_zip_read(struct vmdk_zip *z, unsigned char *dst, uint64_t rel, size_t len);

void vmdk_zip_free(struct vmdk_zip *z);

#endif
