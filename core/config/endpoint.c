/* The address keys of a cloud that logs in with a user and a password
 * (include/config.h): url, verify and cacert, checked one way for the
 * vcloud and vsphere clouds. */
#define _GNU_SOURCE
#include "config.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cfs_cloud_endpoint(const struct cfs_cloud_config *cfg, const char *who, const char *suffix,
                       struct cfs_endpoint *out)
{
    const char *url = cfs_cloud_str(cfg, "url"), *ca = cfs_cloud_str(cfg, "cacert");

    memset(out, 0, sizeof *out);
    if (!url || !*url) {
        cfs_log_error("%s: %s: url is needed", who, cfg->name);
        return -EINVAL;
    }
    if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0) {
        cfs_log_error("%s: %s: url must start with https:// (or http://)", who, cfg->name);
        return -EINVAL;
    }
    if (!(out->url = cfs_url_trim(url)))
        return -ENOMEM;
    /* "https://vcd.example.com/api", "https://vc.example.com/sdk": how
     * the API's own tools write it. */
    if (suffix && cfs_ends_with(out->url, suffix)) {
        out->url[strlen(out->url) - strlen(suffix)] = '\0';
        char *t = cfs_url_trim(out->url);
        free(out->url);
        if (!(out->url = t))
            return -ENOMEM;
    }
    if (cfs_url_plain_http(out->url)) {
        char shown[512];
        cfs_log_warn("%s: %s: credentials go to %s unencrypted (http://): anyone on the way can "
                     "read them; use https://",
                     who, cfg->name, cfs_url_shown(out->url, shown, sizeof shown));
    }
    out->verify = cfs_cloud_bool(cfg, "verify", true);
    if (!out->verify)
        cfs_log_warn("%s: %s: TLS certificate verification is off (verify: false)", who, cfg->name);
    if (ca && *ca && !(out->cacert = strdup(ca))) {
        cfs_endpoint_free(out);
        return -ENOMEM;
    }
    return 0;
}

void cfs_endpoint_free(struct cfs_endpoint *e)
{
    free(e->url);
    free(e->cacert);
    memset(e, 0, sizeof *e);
}
