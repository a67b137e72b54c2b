/* VHD on-disk constants shared by the decoder (vhd.c) and the view
 * (vhd_view.c): ref/formats.md §4.1-4.2. */
#ifndef CFS_VHD_H
#define CFS_VHD_H

#include <stddef.h>
#include <stdint.h>

#define VHD_SECTOR        512u
#define VHD_FOOTER_BYTES  512u
#define VHD_HEADER_BYTES  1024u
#define VHD_COOKIE        "conectix"
#define VHD_SPARSE_COOKIE "cxsparse"
#define VHD_TYPE_FIXED    2u
#define VHD_TYPE_DYNAMIC  3u
#define VHD_TYPE_DIFF     4u
#define VHD_BAT_UNUSED    0xffffffffu
/* The spec's and qemu's limit (VHD_MAX_SECTORS 0xff000000): 2040 GiB. */
#define VHD_MAX_SIZE (0xff000000ull * VHD_SECTOR)

/* Footer (§4.1) and dynamic header (§4.2) field offsets. */
#define VHD_F_DATA_OFFSET  16
#define VHD_F_CURRENT_SIZE 48
#define VHD_F_GEOMETRY     56
#define VHD_F_DISK_TYPE    60
#define VHD_F_CHECKSUM     64
#define VHD_H_TABLE_OFFSET 16
#define VHD_H_MAX_ENTRIES  28
#define VHD_H_BLOCK_SIZE   32
#define VHD_H_CHECKSUM     36

/* One's complement of the byte sum, the checksum field counted as zero. */
static inline uint32_t vhd_checksum(const unsigned char *p, size_t len, size_t field)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < field || i >= field + 4)
            sum += p[i];
    return ~sum;
}

#endif
