/* openstack_scope: which clouds of clouds.yaml name one project and image
 * endpoint, so that one sweep at mount serves them (fs/sweep.c). */
#include "config.h"
#include "openstack.h"
#include "unit.h"

#include <jansson.h>
#include <stdlib.h>

/* The scope of one cloud given as a YAML mapping. */
static char *scope_of(const char *yaml)
{
    char err[256];
    struct cfs_cloud_config c = { .name = "t", .type = "openstack", .origin = "test" };
    if (cfs_yaml_parse(yaml, strlen(yaml), &c.tree, err, sizeof err) != 0) {
        CHECK(!"YAML");
        return NULL;
    }
    char *s = openstack_scope(&c);
    json_decref(c.tree);
    return s;
}

static bool same(const char *a, const char *b)
{
    char *x = scope_of(a), *y = scope_of(b);
    bool eq = x && y && strcmp(x, y) == 0;
    free(x);
    free(y);
    return eq;
}

#define DEMO "auth: {auth_url: 'http://k:5000/v3', username: u, project_name: demo, "
int main(void)
{
    const char *demo = DEMO "project_domain_name: Default}\nregion_name: R1\n";

    /* Another user, password and URL spelling: the same project. */
    CHECK(same(demo, "auth: {auth_url: 'http://k:5000/v3/', username: other, password: p, "
                     "project_name: demo, project_domain_name: Default}\nregion_name: R1\n"));
    CHECK(same(demo, "auth: {auth_url: 'http://k:5000', username: u, project_name: demo, "
                     "project_domain_name: Default}\nregion_name: R1\ninterface: public\n"));
    /* Another project, domain, Keystone, region, interface or endpoint: not. */
    CHECK(!same(demo, DEMO "project_domain_name: Other}\nregion_name: R1\n"));
    CHECK(!same(demo, "auth: {auth_url: 'http://k:5000/v3', project_name: demo2, "
                      "project_domain_name: Default}\nregion_name: R1\n"));
    CHECK(!same(demo, "auth: {auth_url: 'http://k2:5000/v3', project_name: demo, "
                      "project_domain_name: Default}\nregion_name: R1\n"));
    CHECK(!same(demo, DEMO "project_domain_name: Default}\nregion_name: R2\n"));
    CHECK(
        !same(demo, DEMO "project_domain_name: Default}\nregion_name: R1\ninterface: internal\n"));
    CHECK(!same(demo, DEMO "project_domain_name: Default}\nregion_name: R1\n"
                           "image_endpoint_override: 'http://proxy:9292'\n"));
    /* A domain id and no domain at all ("default") are one. */
    CHECK(same(DEMO "project_domain_id: default}\n", DEMO "}\n"));
    /* An id, an application credential's id. */
    CHECK(same("auth: {auth_url: 'http://k/v3', project_id: abc}\n",
               "auth: {auth_url: 'http://k/v3', project_id: abc, username: x}\n"));
    CHECK(!same("auth: {auth_url: 'http://k/v3', project_id: abc}\n",
                "auth: {auth_url: 'http://k/v3', project_id: abd}\n"));
    CHECK(same("auth: {auth_url: 'http://k/v3', application_credential_id: c1, "
               "application_credential_secret: s}\n",
               "auth_type: v3applicationcredential\nauth: {auth_url: 'http://k/v3/', "
               "application_credential_id: c1, application_credential_secret: t}\n"));
    /* No project known without the network: a scope of its own. */
    char *s = scope_of("auth: {auth_url: 'http://k/v3', username: u, password: p}\n");
    CHECK(s == NULL);
    free(s);
    s = scope_of("auth_type: v3applicationcredential\nauth: {auth_url: 'http://k/v3', "
                 "application_credential_name: n, username: u, application_credential_secret: "
                 "s}\n");
    CHECK(s == NULL);
    free(s);
    return UNIT_RESULT();
}
