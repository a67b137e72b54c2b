/* vmdk_compress=auto decides per upload from the last transfer's rate.
 *
 * Compressing pays when the link is slower than what the CPU saves:
 * sending S bytes stored takes S/B; compressed, the plan takes S/T and the
 * send S/(rB) (the read-ahead keeps compression off the send's path), so
 * it pays while B < T (1 - 1/r), T the plan's throughput on all cores and
 * r the ratio. Measured on the 2-core build machine (tests/bench/views.sh,
 * an ext4 of /usr/lib, 1 GiB of data, libdeflate level 1): T = 462 MiB/s,
 * r = 3.02, so compression pays below 309 MiB/s. The link's B is the
 * rate of the last upload or copy of this mount; before the first there is
 * none, and the upload is compressed: auto is chosen for slow links. */
#include "vmdk_compress.h"
#include "mount.h"
#include "transfers.h"

#include <string.h>

/* Bytes/s under which compression pays: guests compress less than /usr/lib
 * (r = 2: T / 2 = 231 MiB/s) and the cores are shared with other uploads,
 * so about half that; a stored upload costs no CPU and wins ties. */
#define AUTO_BELOW (128.0 * 1024 * 1024)

int cfs_vmdk_compress_parse(const char *s, int *out)
{
    if (!s || strcmp(s, "none") == 0)
        *out = 0;
    else if (strcmp(s, "fast") == 0)
        *out = 1;
    else if (strcmp(s, "auto") == 0)
        *out = VMDK_COMPRESS_AUTO;
    else
        return -1;
    return 0;
}

int cfs_vmdk_zip(const struct cfs_mount *m)
{
    if (m->vmdk_compress != VMDK_COMPRESS_AUTO)
        return m->vmdk_compress;
    double rate = cfs_transfers_last_rate();
    return rate == 0 || rate < AUTO_BELOW ? 1 : 0;
}
