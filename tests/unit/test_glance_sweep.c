/* The Glance sweep's page parser: which images a mount removes (a stale
 * marker of any status but deleted), which it leaves (no marker, its own,
 * another live mount's, unusable ids), and paging. */
#include "marker.h"
#include "openstack.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    struct cfs_marker_self self;
    char mine[CFS_MARKER_MAX], dead[CFS_MARKER_MAX], live[CFS_MARKER_MAX], body[8192];
    time_t now = time(NULL);

    CHECK(cfs_marker_self_init(&self, 0) == 0);
    cfs_marker_format(&self, mine);
    /* A process of this host that exited. */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    snprintf(dead, sizeof dead, "cloudfs-upload:v1:%s:%ld:777:%lld", self.host, (long)child,
             (long long)now - 60);
    /* Another host's: live as far as this mount can tell (no stale age). */
    snprintf(live, sizeof live, "cloudfs-upload:v1:elsewhere:%ld:777:%lld", (long)child,
             (long long)now - 60);

    snprintf(body, sizeof body,
             "{\"images\": ["
             "{\"id\": \"a1\", \"name\": \"half\", \"status\": \"saving\", \"cloudfs_upload\": "
             "\"%s\"},"
             "{\"id\": \"a2\", \"name\": \"queued\", \"status\": \"queued\", \"cloudfs_upload\": "
             "\"%s\"},"
             "{\"id\": \"a3\", \"name\": \"mine\", \"status\": \"saving\", \"cloudfs_upload\": "
             "\"%s\"},"
             "{\"id\": \"a4\", \"name\": \"other host\", \"status\": \"saving\", "
             "\"cloudfs_upload\": \"%s\"},"
             "{\"id\": \"a5\", \"name\": \"plain\", \"status\": \"active\"},"
             "{\"id\": \"a6\", \"name\": \"gone\", \"status\": \"deleted\", \"cloudfs_upload\": "
             "\"%s\"},"
             "{\"id\": \"../x\", \"name\": \"evil\", \"status\": \"saving\", \"cloudfs_upload\": "
             "\"%s\"},"
             "{\"id\": \"a7\", \"status\": \"active\", \"cloudfs_upload\": \"%s\"},"
             "{\"id\": \"a8\", \"name\": \"junk\", \"status\": \"queued\", \"cloudfs_upload\": 5},"
             "7, null"
             "], \"next\": \"http://elsewhere/v2/images?limit=2&marker=a8\"}",
             dead, dead, mine, live, dead, dead, dead);

    struct glance_stale *v = NULL;
    size_t n = 0;
    char *next = NULL;
    CHECK(glance_stale_page(body, strlen(body), &self, now, &v, &n, &next) == 0);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(strcmp(v[0].id, "a1") == 0 && strcmp(v[0].name, "half") == 0);
        CHECK(strcmp(v[0].marker, dead) == 0);
        CHECK(strcmp(v[1].id, "a2") == 0);
        /* An active image whose upload never confirmed it: removed too. */
        CHECK(strcmp(v[2].id, "a7") == 0 && strcmp(v[2].name, "") == 0);
    }
    CHECK(next && strcmp(next, "?limit=2&marker=a8") == 0);
    free(next);

    /* Another host's marker past stale_upload_age. */
    self.stale_after_s = 30;
    CHECK(glance_stale_page(body, strlen(body), &self, now, &v, &n, &next) == 0);
    CHECK(n == 7); /* appended: a1 a2 a4 a7 again, plus a4 */
    free(next);
    glance_stale_free(v, n);

    /* A NUL in a name or a property key does not hide the page. */
    snprintf(body, sizeof body,
             "{\"images\": ["
             "{\"id\": \"b1\", \"name\": \"\\u0000nul\", \"status\": \"saving\", "
             "\"cloudfs_upload\": \"%s\"},"
             "{\"id\": \"b2\", \"name\": \"k\", \"k\\u0000\": \"\", \"status\": \"queued\", "
             "\"cloudfs_upload\": \"%s\"}"
             "]}",
             dead, dead);
    v = NULL, n = 0;
    CHECK(glance_stale_page(body, strlen(body), &self, now, &v, &n, &next) == 0);
    CHECK(n == 2 && strcmp(v[0].name, "\xef\xbf\xbdnul") == 0 && strcmp(v[1].id, "b2") == 0);
    free(next);
    glance_stale_free(v, n);

    /* An empty page ends the listing; junk is -EPROTO. */
    v = NULL, n = 0;
    CHECK(glance_stale_page("{\"images\": [], \"next\": \"/v2/images?x\"}", 38, &self, now, &v, &n,
                            &next) == 0);
    CHECK(n == 0 && next == NULL);
    CHECK(glance_stale_page("[1,2]", 5, &self, now, &v, &n, &next) == -EPROTO);
    CHECK(glance_stale_page(NULL, 0, &self, now, &v, &n, &next) == -EPROTO);
    glance_stale_free(v, n);
    return UNIT_RESULT();
}
