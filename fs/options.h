/* Mount options: one table (fs/options.c), documented in fs/cloudfs.1. */
#ifndef CFS_OPTIONS_H
#define CFS_OPTIONS_H

#include <fuse_opt.h>

struct cfs_options {
    char *config;             /* cloudfs.yaml */
    char *clouds_yaml;        /* clouds.yaml, instead of $OS_CLIENT_CONFIG_FILE and the search */
    char *clouds;             /* comma-separated subset of clouds to mount */
    char *log;                /* log file */
    char *log_level;          /* error, warn, info, debug */
    unsigned list_ttl;        /* seconds a directory listing is reused */
    unsigned timeout;         /* seconds without progress before a request fails */
    unsigned connect_timeout; /* seconds to connect (TCP + TLS) */
    unsigned retries;         /* retries of failed requests */
    unsigned read_ahead_kb;   /* kernel read-ahead of the mount */
    unsigned prefetch_mib;    /* read-ahead buffers of all downloads together */
    unsigned max_read;        /* libfuse's max_read=, which init() must repeat */
    char *views;              /* views= list */
    unsigned ovf_cpus;        /* OVF defaults when the image says nothing */
    unsigned ovf_memory;      /* MiB */
    unsigned ovf_hw_version;  /* vmx-NN */
    char *ovf_controller;     /* lsilogic, lsilogicsas, pvscsi, ide */
    char *ovf_nic;            /* vmxnet3, e1000, e1000e */
    char *vhd;                /* .vhd views: fixed or dynamic */
    int vhd_azure;            /* .vhd views: whole MiB sizes (Azure) */
    char *cache_dir;          /* spool files of writes */
    unsigned cache_reserve;   /* MiB writes leave free on the cache's file system */
    char *cache_size;         /* block cache cap in MiB; NULL: 10 % of free space */
    int allow_delete;         /* rm of cloud objects */
    unsigned unmount_timeout; /* seconds SIGTERM/SIGINT wait for uploads before cancelling */
    /* Other hosts' upload markers older than this are stale (0: never). */
    unsigned stale_upload_age;
    unsigned snap_timeout; /* snapshot_timeout=: seconds a server's snapshot may take */
    char *vmdk_compress;   /* vmdk_compress=: none, fast or auto */
    char *verify;          /* verify=: all (default) or none */
    unsigned snap_reuse;   /* snapshot_reuse=: seconds a snapshot serves later opens */
    /* umask=: bits cleared from the modes of the mount's files and
     * directories (0444, 0555, 0777 where files can be created). */
    unsigned umask;
    int umask_set;   /* umask= was given */
    int allow_other; /* libfuse's allow_other was given */
    int foreground;
    /* The operands, [SOURCE] MOUNTPOINT: mount(8) gives a source first,
     * which cloudfs ignores; n_operands counts past 2 to refuse more. */
    char *operand[2];
    unsigned n_operands;
    int show_help;
    int show_version;
};

/* Options cloudfs notes and still passes on to libfuse (allow_other), or
 * parses itself and keeps from libfuse, whose own umask= would make files
 * writable and executable (umask). */
enum { CFS_KEY_FOREGROUND = 1, CFS_KEY_MAX_READ, CFS_KEY_ALLOW_OTHER, CFS_KEY_UMASK };

/* Default umask=: the mounting user's only, as private images should be. */
#define CFS_UMASK_DEFAULT 0077

extern const struct fuse_opt cfs_option_spec[];

void cfs_options_defaults(struct cfs_options *o);
void cfs_options_usage(const char *prog);
/* Parses the OCTAL of umask=OCTAL (at most 0777). 0 or -EINVAL. */
int cfs_options_umask(const char *octal, unsigned *out);

#endif
