/* Stored modification times as text (include/mtime.h). Values come from
 * the cloud, so the parser bounds every field. */
#include "mtime.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

void cfs_mtime_format(const struct timespec *t, char out[CFS_MTIME_MAX])
{
    snprintf(out, CFS_MTIME_MAX, "%lld.%09ld", (long long)t->tv_sec, (long)t->tv_nsec);
}

int cfs_mtime_parse(const char *s, struct timespec *out)
{
    long long sec = 0;
    long nsec = 0;
    int digits = 0;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        /* time_t may be 64 bits; stop well before either overflows. */
        if (sec > (INT64_MAX - 9) / 10)
            return -EINVAL;
        sec = sec * 10 + (*s - '0');
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
            if (digits == 9)
                return -EINVAL;
            nsec = nsec * 10 + (*s - '0');
        }
        if (digits == 0)
            return -EINVAL;
        for (; digits < 9; digits++)
            nsec *= 10;
    }
    if (*s || (time_t)sec != sec)
        return -EINVAL;
    out->tv_sec = (time_t)sec;
    out->tv_nsec = nsec;
    return 0;
}
