/* Keystone v3 authentication for one cloud: password, application
 * credential or token auth, project scope, the service catalog. */
#ifndef CFS_KEYSTONE_H
#define CFS_KEYSTONE_H

#include <stddef.h>

#include "config.h"
#include "http.h"

struct keystone;

/* Reads auth settings from cfg; no network. 0 or -EINVAL (logged). */
int keystone_create(const struct cfs_cloud_config *cfg, const struct cfs_tls *tls,
                    struct keystone **out);
void keystone_destroy(struct keystone *ks);

/* Writes "X-Auth-Token: <token>" into out. A token is reused until near
 * its expiry; stale is a header a server refused with 401: if it is still
 * the current one, the cloud authenticates again. 0 or -errno. */
int keystone_auth_header(struct keystone *ks, const char *stale, char *out, size_t n);

/* The URL of a service from the catalog (interface and region of the
 * cloud's settings), malloc'd. Authenticates if needed. 0 or -errno. */
int keystone_endpoint(struct keystone *ks, const char *service_type, char **url);

#endif
