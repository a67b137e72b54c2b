/* The mount option table and its help text; fs/cloudfs.1 documents the
 * same list (tests/integration/options-documented.sh keeps them equal). */
#include "options.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT(t, p)                             \
    {                                         \
        t, offsetof(struct cfs_options, p), 1 \
    }

const struct fuse_opt cfs_option_spec[] = { OPT("config=%s", config),
                                            OPT("clouds_yaml=%s", clouds_yaml),
                                            OPT("clouds=%s", clouds),
                                            OPT("log=%s", log),
                                            OPT("log_level=%s", log_level),
                                            OPT("list_ttl=%u", list_ttl),
                                            OPT("timeout=%u", timeout),
                                            OPT("connect_timeout=%u", connect_timeout),
                                            OPT("retries=%u", retries),
                                            OPT("read_ahead=%u", read_ahead_kb),
                                            OPT("prefetch_memory=%u", prefetch_mib),
                                            OPT("views=%s", views),
                                            OPT("ovf_cpus=%u", ovf_cpus),
                                            OPT("ovf_memory=%u", ovf_memory),
                                            OPT("ovf_hw_version=%u", ovf_hw_version),
                                            OPT("ovf_controller=%s", ovf_controller),
                                            OPT("ovf_nic=%s", ovf_nic),
                                            OPT("vhd=%s", vhd),
                                            OPT("vhd_azure", vhd_azure),
                                            OPT("cache_dir=%s", cache_dir),
                                            OPT("cache_reserve=%u", cache_reserve),
                                            OPT("cache_size=%s", cache_size),
                                            OPT("allow_delete", allow_delete),
                                            OPT("unmount_timeout=%u", unmount_timeout),
                                            OPT("stale_upload_age=%u", stale_upload_age),
                                            OPT("snapshot_timeout=%u", snap_timeout),
                                            OPT("snapshot_reuse=%u", snap_reuse),
                                            OPT("vmdk_compress=%s", vmdk_compress),
                                            OPT("verify=%s", verify),
                                            FUSE_OPT_KEY("umask=", CFS_KEY_UMASK),
                                            FUSE_OPT_KEY("allow_other", CFS_KEY_ALLOW_OTHER),
                                            FUSE_OPT_KEY("max_read=", CFS_KEY_MAX_READ),
                                            FUSE_OPT_KEY("-f", CFS_KEY_FOREGROUND),
                                            FUSE_OPT_KEY("-d", CFS_KEY_FOREGROUND),
                                            FUSE_OPT_KEY("debug", CFS_KEY_FOREGROUND),
                                            OPT("-h", show_help),
                                            OPT("--help", show_help),
                                            OPT("-V", show_version),
                                            OPT("--version", show_version),
                                            FUSE_OPT_END };

void cfs_options_defaults(struct cfs_options *o)
{
    o->list_ttl = 60;
    o->timeout = 30;
    o->connect_timeout = 10;
    o->retries = 4;
    o->read_ahead_kb = 1024;
    o->prefetch_mib = 48;
    o->ovf_cpus = 1;
    o->ovf_memory = 1024;
    o->ovf_hw_version = 13;
    o->cache_reserve = 1024;
    o->unmount_timeout = 600;
    o->snap_timeout = 600;
    o->snap_reuse = 300;
    o->umask = CFS_UMASK_DEFAULT;
}

int cfs_options_umask(const char *octal, unsigned *out)
{
    size_t n = strlen(octal);
    if (n == 0 || n > 4 || strspn(octal, "01234567") != n)
        return -EINVAL;
    unsigned long v = strtoul(octal, NULL, 8);
    if (v > 0777)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

void cfs_options_usage(const char *prog)
{
    printf(
        "usage: %s [SOURCE] MOUNTPOINT [-f] [-d] [-o opt,...]\n"
        "\n"
        "Mounts the clouds of clouds.yaml, the OS_* variables and cloudfs.yaml\n"
        "as directories. Unmount with: fusermount3 -u MOUNTPOINT (or umount as root).\n"
        "SOURCE, which mount -t fuse.cloudfs and fstab give, is ignored.\n"
        "\n"
        "cloudfs options:\n"
        "    -o config=FILE         cloudfs.yaml to read (default: $CLOUDFS_CONFIG,\n"
        "                           ~/.config/cloudfs/cloudfs.yaml, /etc/cloudfs/cloudfs.yaml)\n"
        "    -o clouds_yaml=FILE    clouds.yaml to read (default: $OS_CLIENT_CONFIG_FILE, else\n"
        "                           the first clouds.yaml of ./, ~/.config/openstack/,\n"
        "                           /etc/xdg/openstack/, /etc/openstack/)\n"
        "    -o clouds=A:B          mount only these clouds\n"
        "    -o log=FILE            log to FILE (default: stderr with -f, else syslog)\n"
        "    -o log_level=LEVEL     error, warn, info (default) or debug\n"
        "    -o list_ttl=SECONDS    reuse directory listings this long (default 60)\n"
        "    -o timeout=SECONDS     a request without progress this long fails (default 30)\n"
        "    -o connect_timeout=SECONDS  connection set-up bound (default 10)\n"
        "    -o retries=N           retries of failed requests, with backoff (default 4)\n"
        "    -o read_ahead=KIB      kernel read-ahead of the mount, 0 = leave it (default 1024;\n"
        "                           needs root)\n"
        "    -o prefetch_memory=MIB read-ahead buffers of all downloads together; past it,\n"
        "                           reads are range requests of their own (default 48)\n"
        "    -o views=A:B           views of each decodable image: raw, vmdk, ovf, ova, all,\n"
        "                           none (default vmdk:ovf:ova)\n"
        "    -o ovf_cpus=N          vCPUs in an OVF when the image says nothing (default 1)\n"
        "    -o ovf_memory=MIB      memory in an OVF when the image has no min_ram (default 1024)\n"
        "    -o ovf_hw_version=N    virtual hardware version vmx-N of an OVF (default 13)\n"
        "    -o ovf_controller=C    disk controller without hw_disk_bus/hw_scsi_model:\n"
        "                           pvscsi (default), lsilogicsas, lsilogic, buslogic\n"
        "    -o ovf_nic=N           NIC without hw_vif_model: vmxnet3 (default), e1000, e1000e,\n"
        "                           pcnet\n"
        "    -o vhd=KIND            .vhd views: fixed (default) or dynamic\n"
        "    -o vhd_azure           .vhd views sized to a whole MiB, as Azure wants (fixed)\n"
        "    -o cache_dir=DIR       where files written into the mount wait for their upload\n"
        "                           (default: $CLOUDFS_CACHE_DIR, $XDG_CACHE_HOME/cloudfs,\n"
        "                           ~/.cache/cloudfs, /var/tmp/cloudfs-UID)\n"
        "    -o cache_reserve=MIB   a write that would leave less free in cache_dir fails with\n"
        "                           ENOSPC and drops its file (default 1024)\n"
        "    -o cache_size=MIB      on-disk cache of downloaded image chunks in cache_dir/blocks,\n"
        "                           0 = none (default: 10 %% of the free space at mount)\n"
        "                           (it bounds the vCD exports kept in cache_dir too)\n"
        "    -o umask=OCTAL         bits cleared from the modes 0444 (files), 0555 (directories)\n"
        "                           and 0777 (directories files can be created in) (default\n"
        "                           077: the mounting user's only; 022 lets others read)\n"
        "    -o allow_delete        rm of a cloud object deletes it (without it EACCES)\n"
        "    -o unmount_timeout=SECONDS  on SIGTERM/SIGINT, wait this long for uploads in\n"
        "                           progress, then cancel them (default 600; a second signal\n"
        "                           cancels at once)\n"
        "    -o stale_upload_age=SECONDS  at mount, also remove what other hosts' uploads left\n"
        "                           half-made this long ago (default 0: only this host's)\n"
        "    -o snapshot_timeout=SECONDS  a server's snapshot (opening a file of servers/)\n"
        "                           must be active by then, else ETIMEDOUT (default 600)\n"
        "    -o snapshot_reuse=SECONDS  opens of a server's files reuse a snapshot this young\n"
        "                           (default 300; 0: a new one per open)\n"
        "    -o vmdk_compress=MODE  disks converted to VMDK for a vCD upload: none (default:\n"
        "                           stored grains), fast (DEFLATE level 1: fewer bytes, more\n"
        "                           CPU), auto (fast while uploads run below 128 MiB/s)\n"
        "    -o verify=MODE         all (default): what is read of an image is checked against\n"
        "                           its cloud's digest; none: not checked, and not cached\n"
        "\n",
        prog);
}
