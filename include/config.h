/* Cloud configuration: every cloud of OpenStack's clouds.yaml (searched as
 * the openstack CLI searches it, merged with secure.yaml), the cloud the
 * OS_* variables describe ("envvars"), and the clouds of cloudfs.yaml
 * (DESIGN.md §7). Values are read through accessors by dotted path, so
 * that each provider takes the keys it knows. */
#ifndef CFS_CONFIG_H
#define CFS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct json_t;

struct cfs_cloud_config {
    char *name;
    char *type;          /* provider type: "openstack", ... */
    char *origin;        /* file it came from, or "environment" */
    struct json_t *tree; /* the cloud's mapping */
};

struct cfs_config {
    struct cfs_cloud_config *clouds;
    size_t n;
};

/* cloudfs_yaml: the -o config= file, or NULL for the default search;
 * clouds_yaml: the -o clouds_yaml= file, which must exist, or NULL for
 * $OS_CLIENT_CONFIG_FILE and the search.
 * Problems with single clouds are logged and the cloud skipped; an
 * unreadable or malformed file is an error (-EINVAL, -EACCES ...), and so
 * is one that another user owns or that group or others can write
 * (-EPERM). OS_PASSWORD, OS_TOKEN and OS_APPLICATION_CREDENTIAL_SECRET
 * are removed from the environment once read. */
int cfs_config_load(const char *cloudfs_yaml, const char *clouds_yaml, struct cfs_config *out);
void cfs_config_free(struct cfs_config *cfg);

/* "auth.auth_url" -> string value, or NULL when absent or not a scalar. */
const char *cfs_cloud_str(const struct cfs_cloud_config *c, const char *path);
/* true/false/yes/no/on/off/1/0; dflt when absent; -EINVAL stays dflt and logs. */
bool cfs_cloud_bool(const struct cfs_cloud_config *c, const char *path, bool dflt);

/* The password in the file at path (an absolute path; trailing newlines
 * dropped), malloc'd into *out; a file others can read is warned about.
 * who prefixes log lines ("vcloud"). 0, -EINVAL or the open's -errno,
 * one log line naming the cloud. */
int cfs_cloud_password_file(const struct cfs_cloud_config *cfg, const char *who, const char *path,
                            char **out);

/* The url, verify and cacert keys of a cloud that logs in with a user and
 * a password (vcloud, vsphere): url must be https:// (http:// draws a
 * warning: the credentials would travel in clear), its trailing '/' and
 * the API's path suffix ("/api", or NULL) dropped; verify defaults to
 * true (false draws a warning). 0, -EINVAL (logged, who prefixing the
 * line) or -ENOMEM. */
struct cfs_endpoint {
    char *url;    /* https://host[:port], no trailing '/' */
    char *cacert; /* CA bundle file, or NULL */
    bool verify;
};
int cfs_cloud_endpoint(const struct cfs_cloud_config *cfg, const char *who, const char *suffix,
                       struct cfs_endpoint *out);
void cfs_endpoint_free(struct cfs_endpoint *e);

/* Parses a YAML document (no aliases to unknown anchors, scalars as
 * strings) into a jansson tree. err receives a message on failure. */
int cfs_yaml_parse(const char *text, size_t len, struct json_t **out, char *err, size_t n);
int cfs_yaml_load_file(const char *path, struct json_t **out, char *err, size_t n);
/* The same from an open file (read to its end, not closed). */
int cfs_yaml_load_fd(int fd, struct json_t **out, char *err, size_t n);

#endif
