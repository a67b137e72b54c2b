/* The table of providers: adding a kind of cloud is one entry here. */
#include "provider.h"
#include "util.h"

#include <string.h>

extern const struct cfs_provider openstack_provider;
extern const struct cfs_provider vcloud_provider;
extern const struct cfs_provider vsphere_provider;

static const struct cfs_provider *const providers[] = {
    &openstack_provider,
    &vcloud_provider,
    &vsphere_provider,
};

const struct cfs_provider *cfs_provider_find(const char *type)
{
    for (size_t i = 0; i < CFS_ARRAY_SIZE(providers); i++)
        if (strcmp(providers[i]->type, type) == 0)
            return providers[i];
    return NULL;
}
