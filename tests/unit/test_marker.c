/* Upload markers: what a later mount may remove, and what it must not. */
#include "marker.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    struct cfs_marker_self self, other;
    char m[CFS_MARKER_MAX], buf[CFS_MARKER_MAX + 64];
    time_t now = time(NULL);

    CHECK(cfs_marker_self_init(&self, 3600) == 0);
    CHECK(self.pid_start > 0);
    cfs_marker_format(&self, m);
    CHECK(strncmp(m, "cloudfs-upload:v1:", 18) == 0);
    /* Our own uploads are never stale. */
    CHECK(!cfs_marker_stale(m, &self, now));

    /* Another live mount of this host (our parent stands in): not stale;
     * with another start time its PID was recycled: stale. */
    other = self;
    other.pid = (long)getppid();
    {
        char path[64], st[1024];
        snprintf(path, sizeof path, "/proc/%ld/stat", other.pid);
        FILE *f = fopen(path, "r");
        CHECK(f != NULL);
        size_t n = f ? fread(st, 1, sizeof st - 1, f) : 0;
        if (f)
            fclose(f);
        st[n] = '\0';
        char *p = strrchr(st, ')');
        if (p)
            p++;
        for (int field = 3; p && field < 22; field++)
            p = strchr(p + 1, ' ');
        other.pid_start = p ? strtoull(p + 1, NULL, 10) : 0;
    }
    cfs_marker_format(&other, m);
    CHECK(!cfs_marker_stale(m, &self, now));
    snprintf(buf, sizeof buf, "cloudfs-upload:v1:%s:%ld:%llu:%lld", self.host, (long)getppid(),
             0ULL, (long long)now);
    CHECK(cfs_marker_stale(buf, &self, now)); /* wrong start time: a recycled PID */

    /* A process that exited: stale. */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    snprintf(buf, sizeof buf, "cloudfs-upload:v1:%s:%ld:%llu:%lld", self.host, (long)child,
             12345ULL, (long long)now);
    CHECK(cfs_marker_stale(buf, &self, now));

    /* Another host's: stale only past stale_after_s. */
    snprintf(buf, sizeof buf, "cloudfs-upload:v1:elsewhere:%ld:1:%lld", (long)child,
             (long long)now - 100);
    CHECK(!cfs_marker_stale(buf, &self, now));
    snprintf(buf, sizeof buf, "cloudfs-upload:v1:elsewhere:%ld:1:%lld", (long)child,
             (long long)now - 7200);
    CHECK(cfs_marker_stale(buf, &self, now));
    self.stale_after_s = 0;
    CHECK(!cfs_marker_stale(buf, &self, now));

    /* Anything unparsable is left alone. */
    const char *bad[] = { "",
                          "cloudfs-upload:v1:",
                          "cloudfs-upload:v1:h:x:1:2",
                          "cloudfs-upload:v1:h:0:1:2",
                          "cloudfs-upload:v1:h:5:1:2:extra",
                          "other:v1:h:5:1:2",
                          "cloudfs-upload:v2:h:5:1:2" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!cfs_marker_stale(bad[i], &self, now));
    CHECK(!cfs_marker_stale(NULL, &self, now));

    /* Who left it, for the sweep's log lines. */
    char host[256];
    long pid = 0;
    CHECK(cfs_marker_who("cloudfs-upload:v1:node7:4242:99:1700000000", host, &pid) == 0);
    CHECK(strcmp(host, "node7") == 0 && pid == 4242);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(cfs_marker_who(bad[i], host, &pid) == -EINVAL);
    return UNIT_RESULT();
}
