/* Which Glance images a cloud of clouds.yaml sees, as a string
 * (cfs_cloud.scope): two clouds of one mount that name the same Keystone
 * project (by id, or by name and domain) at the same auth_url and reach
 * the same image endpoint (override, or region and interface) see the
 * same images, so one sweep at mount serves both instead of two racing
 * over the same leftovers. From the configuration only: no network.
 * Fields are joined by \x1f, which no name of them holds in practice. */
#define _GNU_SOURCE
#include "openstack.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *str(const struct cfs_cloud_config *c, const char *k)
{
    const char *v = cfs_cloud_str(c, k);
    return v && *v ? v : NULL;
}

/* "http://h:5000/v3/" and "http://h:5000" are one Keystone. */
static char *auth_url_key(const char *url)
{
    char *s = cfs_url_trim(url);
    if (s && (cfs_ends_with(s, "/v3") || cfs_ends_with(s, "/v2.0"))) {
        *strrchr(s, '/') = '\0';
        char *t = cfs_url_trim(s);
        free(s);
        s = t;
    }
    return s;
}

/* The project as Keystone resolves the scope (keystone.c): an id, or a
 * name in the project's domain (id, name, default_domain, else "default").
 * An application credential carries its project: its id stands for it.
 * NULL: no project known from the configuration alone. */
static char *project_key(const struct cfs_cloud_config *c)
{
    const char *v, *ac = str(c, "auth.application_credential_id");
    const char *type = str(c, "auth_type");

    if (ac ||
        (type && (strstr(type, "applicationcredential") || strstr(type, "application_credential"))))
        return ac ? cfs_printf("appcred-id=%s", ac) : NULL;
    if ((v = str(c, "auth.project_id")))
        return cfs_printf("project-id=%s", v);
    if (!(v = str(c, "auth.project_name")))
        return NULL;
    const char *did = str(c, "auth.project_domain_id"), *dname = str(c, "auth.project_domain_name");
    if (!did && !dname && !(did = str(c, "auth.default_domain")) &&
        !(did = str(c, "default_domain")))
        did = "default";
    return did ? cfs_printf("project=%s\x1f"
                            "domain-id=%s",
                            v, did)
               : cfs_printf("project=%s\x1f"
                            "domain=%s",
                            v, dname);
}

char *openstack_scope(const struct cfs_cloud_config *c)
{
    const char *url = str(c, "auth.auth_url"), *override = str(c, "image_endpoint_override");
    char *auth = url ? auth_url_key(url) : NULL, *project = project_key(c), *out = NULL;

    if (auth && project) {
        if (override) {
            char *o = cfs_url_trim(override);
            out = o ? cfs_printf("openstack\x1f%s\x1f%s\x1fimage=%s", auth, project, o) : NULL;
            free(o);
        } else {
            const char *itf = str(c, "image_interface");
            if (!itf && !(itf = str(c, "interface")))
                itf = "public";
            const char *region = str(c, "region_name");
            out = cfs_printf("openstack\x1f%s\x1f%s\x1fregion=%s\x1finterface=%s", auth, project,
                             region ? region : "", itf);
        }
    }
    free(auth);
    free(project);
    return out;
}
