/* Nova (compute v2.1): the directory servers/ of an OpenStack cloud.
 * A server's files are its disk, read from a snapshot taken at open. */
#ifndef CFS_NOVA_H
#define CFS_NOVA_H

#include "openstack.h"

/* Per-cloud state (flavors, snapshots); no network. NULL: out of memory. */
struct nova *nova_create(const struct cfs_cloud_config *cfg);
void nova_destroy(struct nova *nova);

/* One object per server of the project (every page of /servers/detail). */
int nova_list_servers(struct openstack *os, struct cfs_object_list *out);

/* The server's disk as qcow2: a snapshot (reused while young, shared by
 * concurrent opens) once active in Glance, then its bytes. 0, -EIO (a
 * server in ERROR, a snapshot Nova refused or failed), -ETIMEDOUT
 * (snapshot_timeout), -ENOENT, or another request's errno. */
int nova_open_server(struct openstack *os, const struct cfs_object *obj, unsigned flags,
                     struct cfs_source **out);

/* The pieces of the API that need no network (for the unit test). */

/* Appends the servers of one /servers/detail page to out (capacity *cap);
 * flavor(ctx, id, hw, name) fills in a flavor given by id (older
 * microversions). *next: the query of the next page, or NULL. 0, -EPROTO,
 * -EFBIG, -ENOMEM. */
typedef int (*nova_flavor_fn)(void *ctx, const char *id, struct cfs_vm_hw *hw, char **name);
int nova_parse_page(const char *body, size_t len, nova_flavor_fn flavor, void *ctx,
                    struct cfs_object_list *out, size_t *cap, char **next);
/* A flavor record (GET /flavors/{id}) into hw and *name. 0 or -EPROTO. */
int nova_parse_flavor(const char *body, size_t len, struct cfs_vm_hw *hw, char **name);
/* The image id of a createImage answer: the body's image_id (2.45+) or
 * the Location header's last segment; malloc'd, or NULL. */
char *nova_snapshot_id(const char *body, size_t len, const char *location);
/* "<server>-snapshot-<YYYYmmddTHHMMSSZ>" for time t (UTC), malloc'd. */
char *nova_snapshot_name(const char *server, time_t t);

#endif
