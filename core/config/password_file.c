/* password_file: a cloud's password kept out of the configuration file
 * (include/config.h), as the vcloud and vsphere clouds take it. */
#define _GNU_SOURCE
#include "config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PASSWORD_BYTES 4096

int cfs_cloud_password_file(const struct cfs_cloud_config *cfg, const char *who, const char *path,
                            char **out)
{
    struct stat st;
    char buf[MAX_PASSWORD_BYTES + 1];
    ssize_t n;

    if (path[0] != '/') {
        cfs_log_error("%s: %s: password_file must be an absolute path", who, cfg->name);
        return -EINVAL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int err = -errno;
        cfs_log_error("%s: %s: cannot read password_file %s: %s", who, cfg->name, path,
                      strerror(errno));
        if (fd >= 0)
            close(fd);
        return err;
    }
    if (st.st_mode & (S_IRGRP | S_IROTH))
        cfs_log_warn("%s: %s: password_file %s is readable by other users (mode %03o): "
                     "chmod 600 it",
                     who, cfg->name, path, (unsigned)(st.st_mode & 0777));
    n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0 || n > MAX_PASSWORD_BYTES) {
        cfs_log_error("%s: %s: password_file %s is unreadable or too long", who, cfg->name, path);
        return n < 0 ? -EIO : -EINVAL;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    *out = strdup(buf);
    explicit_bzero(buf, sizeof buf);
    return *out ? 0 : -ENOMEM;
}
