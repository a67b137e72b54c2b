/* Markers on objects being made (DESIGN.md §5): who is uploading, so that a
 * later mount can remove what a killed one left half-made, and never what
 * another live mount is still making. A marker is one printable string:
 *   cloudfs-upload:v1:HOST:PID:PIDSTART:MOUNTSTART
 * (PIDSTART: the process's start time in clock ticks since boot, from
 * /proc/PID/stat, so a recycled PID is not taken for the uploader;
 * MOUNTSTART: the mount's start, seconds since the epoch). */
#ifndef CFS_MARKER_H
#define CFS_MARKER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define CFS_MARKER_MAX 320

/* This mount, as markers name it. */
struct cfs_marker_self {
    char host[256];
    long pid;
    unsigned long long pid_start;
    time_t mount_start;
    double stale_after_s; /* markers of other hosts older than this are stale (0: never) */
};

/* Fills self for the calling process; mount_start is now. 0 or -errno. */
int cfs_marker_self_init(struct cfs_marker_self *self, double stale_after_s);

/* The marker of this mount's uploads. */
void cfs_marker_format(const struct cfs_marker_self *self, char out[CFS_MARKER_MAX]);

/* True if marker (as read back from an object; any bytes) names an upload
 * that can no longer finish: this host's, not this mount's, and its process
 * is gone (or another process now has its PID); or another host's and
 * older than stale_after_s. False for anything unparsable. */
bool cfs_marker_stale(const char *marker, const struct cfs_marker_self *self, time_t now);

/* The host and PID a marker names (for log lines). 0, or -EINVAL for
 * anything that is not a marker. */
int cfs_marker_who(const char *marker, char host[256], long *pid);

#endif
