/* The table of providers: adding a kind of cloud is one entry here. */
#include "provider.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

extern const struct cfs_provider openstack_provider;

static const struct cfs_provider *const providers[] = {
    &openstack_provider,
};

const struct cfs_provider *cfs_provider_find(const char *type)
{
    for (size_t i = 0; i < CFS_ARRAY_SIZE(providers); i++)
        if (strcmp(providers[i]->type, type) == 0)
            return providers[i];
    return NULL;
}

void cfs_object_list_free(struct cfs_object_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        struct cfs_object *o = &list->v[i];
        free(o->id);
        free(o->name);
        free(o->ext);
        free(o->digest_algo);
        free(o->digest_hex);
    }
    free(list->v);
    list->v = NULL;
    list->n = 0;
}
