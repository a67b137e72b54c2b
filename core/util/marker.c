/* Upload markers (include/marker.h): who is making an object, judged stale
 * only when that uploader can no longer finish it. */
#include "marker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PREFIX "cloudfs-upload:v1:"

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot), or 0
 * when the process does not exist. The command name (field 2) may hold
 * spaces and parentheses: fields are counted from its last ')'. */
static unsigned long long proc_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    for (int field = 3; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

int cfs_marker_self_init(struct cfs_marker_self *self, double stale_after_s)
{
    memset(self, 0, sizeof *self);
    if (gethostname(self->host, sizeof self->host - 1) != 0)
        return -errno;
    /* ':' separates the fields: a host name never holds one, but be sure. */
    for (char *c = self->host; *c; c++)
        if (*c == ':' || *c < 0x21 || *c > 0x7e)
            *c = '_';
    self->pid = (long)getpid();
    self->pid_start = proc_start(self->pid);
    self->mount_start = time(NULL);
    self->stale_after_s = stale_after_s;
    return 0;
}

void cfs_marker_format(const struct cfs_marker_self *self, char out[CFS_MARKER_MAX])
{
    snprintf(out, CFS_MARKER_MAX, PREFIX "%s:%ld:%llu:%lld", self->host, self->pid, self->pid_start,
             (long long)self->mount_start);
}

/* The fields of a marker: 0, or -EINVAL for anything else. */
static int parse(const char *marker, char host[256], long *pid, unsigned long long *pid_start,
                 long long *started)
{
    int used = 0;
    if (!marker || strncmp(marker, PREFIX, strlen(PREFIX)) != 0)
        return -EINVAL;
    marker += strlen(PREFIX);
    if (sscanf(marker, "%255[^:]:%ld:%llu:%lld%n", host, pid, pid_start, started, &used) != 4 ||
        marker[used] != '\0' || *pid <= 0)
        return -EINVAL;
    return 0;
}

int cfs_marker_who(const char *marker, char host[256], long *pid)
{
    unsigned long long pid_start;
    long long started;
    return parse(marker, host, pid, &pid_start, &started);
}

bool cfs_marker_stale(const char *marker, const struct cfs_marker_self *self, time_t now)
{
    char host[256];
    long pid;
    unsigned long long pid_start;
    long long started;

    if (parse(marker, host, &pid, &pid_start, &started) != 0)
        return false;
    if (strcmp(host, self->host) != 0)
        return self->stale_after_s > 0 && (double)(now - started) > self->stale_after_s;
    if (pid == self->pid && pid_start == self->pid_start)
        return false; /* this mount's own upload */
    /* Another mount of this host: stale once its process is gone (or the
     * PID now belongs to a process that started at another time). */
    return proc_start(pid) != pid_start;
}
