/* cloudfs [SOURCE] MOUNTPOINT [-f] [-d] [-o opt,...]: reads the configuration,
 * creates one provider instance per cloud (no network yet) and hands
 * the mount to libfuse's multithreaded loop. */
#include "cache.h"
#include "cachedir.h"
#include "http.h"
#include "http_source.h"
#include "util.h"
#include "log.h"
#include "marker.h"
#include "mount.h"
#include "opensize.h"
#include "ops.h"
#include "pending.h"
#include "shutdown.h"
#include "status_cli.h"
#include "subdirs.h"
#include "sweep.h"
#include "transfers.h"
#include "version.h"
#include "verified.h"
#include "viewinfo.h"
#include "views.h"
#include "vmdk_compress.h"

#include <libxml/parser.h>

#include <errno.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    struct cfs_mount *m = data;
    (void)outargs;
    if (key == CFS_KEY_FOREGROUND) {
        m->opts.foreground = 1;
        return 1;
    }
    /* libfuse takes max_read= too (kept), but fails the mount unless
     * init() asks for the same value. */
    if (key == CFS_KEY_MAX_READ) {
        sscanf(arg + strlen("max_read="), "%u", &m->opts.max_read);
        return 1;
    }
    if (key == CFS_KEY_ALLOW_OTHER) {
        m->opts.allow_other = 1;
        return 1;
    }
    /* Ours, not libfuse's: its umask= would replace every mode by
     * 0777 & ~umask. A bad value is reported in main. */
    if (key == CFS_KEY_UMASK) {
        m->opts.umask_set = 1;
        if (cfs_options_umask(arg + strlen("umask="), &m->opts.umask) != 0)
            m->opts.umask_set = -1;
        return 0;
    }
    /* [SOURCE] MOUNTPOINT: kept from libfuse, which takes one operand
     * where mount(8) (fstab, mount -t fuse.cloudfs) gives two;
     * take_operands hands it the mount point. */
    if (key == FUSE_OPT_KEY_NONOPT) {
        if (m->opts.n_operands < 2)
            m->opts.operand[m->opts.n_operands] = strdup(arg);
        m->opts.n_operands++;
        return 0;
    }
    return 1;
}

/* The mount point is the last operand; a source before it (fstab's first
 * field) is ignored: the clouds come from the configuration. libfuse gets
 * the mount point back as the only operand. */
static int take_operands(struct cfs_mount *m, struct fuse_args *args)
{
    const char *mnt;

    if (m->opts.n_operands > 2) {
        fprintf(stderr, "cloudfs: too many operands: [SOURCE] MOUNTPOINT (see cloudfs --help)\n");
        return -1;
    }
    if (m->opts.n_operands == 0)
        return 0;
    mnt = m->opts.operand[m->opts.n_operands - 1];
    if (!mnt || fuse_opt_add_arg(args, mnt) != 0)
        return -1;
    m->mountpoint = realpath(mnt, NULL);
    if (!m->mountpoint)
        m->mountpoint = strdup(mnt);
    return m->mountpoint ? 0 : -1;
}

static bool wanted(const char *list, const char *name)
{
    size_t n = strlen(name);
    if (!list)
        return true;
    for (const char *p = list; *p;) {
        /* ':' separates, since ',' already separates -o options; an
         * escaped "\\," reaches us as ',' and works too. */
        size_t len = strcspn(p, ",:");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len;
        if (*p == ',' || *p == ':')
            p++;
    }
    return false;
}

static int cmp_cloud(const void *a, const void *b)
{
    return strcmp(((const struct cfs_mcloud *)a)->cloud->name,
                  ((const struct cfs_mcloud *)b)->cloud->name);
}

/* A cloud preparing an object (a server's snapshot) shows the wait in
 * the transfer registry. */
static void *prepare_begin(const char *path)
{
    return cfs_transfer_begin(path, NULL, CFS_XFER_SNAPSHOT, 0);
}

static void prepare_progress(void *t, uint64_t done)
{
    cfs_transfer_progress(t, done);
}

static void prepare_end(void *t, int err)
{
    cfs_transfer_end(t, err);
}

static int create_clouds(struct cfs_mount *m, const struct cfs_config *cfg)
{
    m->prepare = (struct cfs_prepare){
        .timeout_s = m->opts.snap_timeout,
        .reuse_s = m->opts.snap_reuse,
        .begin = prepare_begin,
        .progress = prepare_progress,
        .end = prepare_end,
    };
    m->clouds = calloc(cfg->n ? cfg->n : 1, sizeof *m->clouds);
    if (!m->clouds)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->n; i++) {
        const struct cfs_cloud_config *c = &cfg->clouds[i];
        const struct cfs_provider *p;
        struct cfs_mcloud *mc = &m->clouds[m->n_clouds];

        if (!wanted(m->opts.clouds, c->name))
            continue;
        p = cfs_provider_find(c->type);
        if (!p) {
            cfs_log_error("cloud %s (%s): unknown type '%s', skipped", c->name, c->origin, c->type);
            continue;
        }
        if (p->create(c, &mc->cloud) != 0) {
            cfs_log_error("cloud %s (%s): configuration not usable, skipped", c->name, c->origin);
            continue;
        }
        mc->cloud->provider = p;
        mc->cloud->cache_dir = m->cache_dir;
        mc->cloud->cache_reserve_bytes = m->cache_reserve_bytes;
        mc->cloud->cache_keep_bytes = m->cache_size_bytes;
        mc->cloud->block_cache = m->block_cache;
        mc->cloud->prepare = &m->prepare;
        while (p->dirs[mc->n_dirs])
            mc->n_dirs++;
        mc->dirs = calloc(mc->n_dirs, sizeof *mc->dirs);
        for (size_t d = 0; mc->dirs && d < mc->n_dirs; d++)
            mc->dirs[d] =
                cfs_dircache_new(mc->cloud, p->dirs[d], m->opts.list_ttl,
                                 m->opts.views || !p->default_views ? m->views : p->default_views);
        m->n_clouds++;
    }
    qsort(m->clouds, m->n_clouds, sizeof *m->clouds, cmp_cloud);
    return 0;
}

/* Subdirectory caches; the mount's own parts. */
#define SUBDIRS_MAX  256
#define OPENSIZE_MAX 1024
/* How long a file that was written but never uploaded (a staged
 * dot-file, a file created and closed unwritten) waits for its rename or
 * next open once closed. */
#define PENDING_LINGER_S 600

static void destroy_clouds(struct cfs_mount *m)
{
    /* Streams of files still open (a lazy unmount) keep using their cloud:
     * give them a moment to stop, else leave the clouds to the exit. */
    for (int i = 0; i < 30 && cfs_http_source_threads() + cfs_viewinfo_busy(m->viewinfo) > 0; i++)
        cfs_sleep(0.1);
    /* So do sweeps still running (a cloud that does not answer). */
    for (int i = 0; i < 30 && cfs_sweep_busy(); i++)
        cfs_sleep(0.1);
    if (cfs_http_source_threads() + cfs_viewinfo_busy(m->viewinfo) > 0 || cfs_sweep_busy())
        return;
    cfs_pending_table_free(m->pending);
    cfs_subdirs_free(m->subdirs);
    cfs_opensize_free(m->opensize);
    for (size_t i = 0; i < m->n_clouds; i++) {
        struct cfs_mcloud *mc = &m->clouds[i];
        for (size_t d = 0; mc->dirs && d < mc->n_dirs; d++)
            cfs_dircache_put(mc->dirs[d]);
        free(mc->dirs);
        mc->cloud->provider->destroy(mc->cloud);
    }
    free(m->clouds);
}

/* libfuse's loop run by hand, as its example/ does, so that the exit
 * status is ours: an unmount or a SIGTERM is a normal end. */
static int run_fuse(struct fuse_args *args, struct cfs_mount *m)
{
    struct fuse_cmdline_opts fo;
    struct fuse_loop_config *lc = NULL;
    struct cfs_shutdown *stop = NULL;
    struct fuse_session *se;
    struct fuse *fuse;
    int res = -1;

    if (fuse_parse_cmdline(args, &fo) != 0)
        return 1;
    fuse = fuse_new(args, &cfs_ops, sizeof cfs_ops, m);
    if (!fuse)
        goto out_free;
    if (fuse_mount(fuse, fo.mountpoint) != 0)
        goto out_destroy;
    if (fuse_daemonize(fo.foreground) != 0)
        goto out_unmount;
    /* After daemonizing: markers name the process that uploads. */
    cfs_marker_self_init(&m->marker_self, m->opts.stale_upload_age);
    cfs_marker_format(&m->marker_self, m->marker);
    se = fuse_get_session(fuse);
    /* Before any other thread: SIGTERM/SIGINT/SIGHUP go to its thread
     * only (libfuse's handlers, installed next, then never run). */
    if (cfs_shutdown_start(se, fo.mountpoint, m->opts.unmount_timeout, &stop) != 0)
        goto out_unmount;
    if (fuse_set_signal_handlers(se) != 0)
        goto out_unmount;
    cfs_sweep_start(m);
    if (fo.singlethread) {
        res = fuse_loop(fuse);
    } else {
        lc = fuse_loop_cfg_create();
        if (!lc)
            goto out_signals;
        fuse_loop_cfg_set_clone_fd(lc, (unsigned)fo.clone_fd);
        fuse_loop_cfg_set_max_threads(lc, fo.max_threads);
        if (fo.max_idle_threads != UINT_MAX)
            fuse_loop_cfg_set_idle_threads(lc, fo.max_idle_threads);
        res = fuse_loop_mt(fuse, lc);
        fuse_loop_cfg_destroy(lc);
    }
out_signals:
    fuse_remove_signal_handlers(se);
out_unmount:
    cfs_shutdown_finish(stop);
    fuse_unmount(fuse);
    cfs_shutdown_detach(fo.mountpoint);
out_destroy:
    fuse_destroy(fuse);
out_free:
    free(fo.mountpoint);
    /* The loop returns the signal that ended it (libfuse's handlers; ours
     * end it with 0). */
    return res == 0 || res == SIGTERM || res == SIGINT || res == SIGHUP ? 0 : 1;
}

static void print_help(const char *prog, struct fuse_args *args)
{
    cfs_options_usage(prog);
    printf("%s status MOUNTPOINT [--once]: the mount's transfers, with progress bars\n\n", prog);
    printf("FUSE options:\n");
    fuse_cmdline_help();
    fuse_lib_help(args);
}

/* cache_dir/blocks, capped at cache_size= MiB or, by default, a tenth of
 * the space free there now: a cache that could fill the disk would starve
 * the spool files of writes. */
static int open_block_cache(struct cfs_mount *m)
{
    uint64_t cap;
    if (m->opts.cache_size) {
        char *end;
        errno = 0;
        unsigned long long mib = strtoull(m->opts.cache_size, &end, 10);
        if (errno || end == m->opts.cache_size || *end || mib > (UINT64_MAX >> 20)) {
            fprintf(stderr, "cloudfs: cache_size=%s is not a number of MiB\n", m->opts.cache_size);
            return -1;
        }
        cap = (uint64_t)mib << 20;
    } else {
        struct statvfs v;
        cap = statvfs(m->cache_dir, &v) == 0 ? (uint64_t)v.f_bavail * v.f_frsize / 10 : 0;
    }
    m->cache_size_bytes = cap;
    if (cap == 0)
        return 0;
    char *dir = cfs_printf("%s/blocks", m->cache_dir);
    int err = dir ? cfs_cache_open(dir, cap, &m->block_cache) : -ENOMEM;
    if (err)
        cfs_log_warn("block cache %s: %s: reads go to the clouds only", dir ? dir : "?",
                     strerror(-err));
    free(dir);
    return 0;
}

/* libfuse allocates a buffer for every read it answers (up to 1 MiB) and
 * frees it after the reply. glibc would serve each from a fresh mmap, or
 * trim the arena after each free, so every read paid for page faults on
 * 256 new pages: a third of a cached read's time. Keep such buffers in
 * the arenas, and the arenas few, so the memory stays bounded. */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 2 << 20);
    mallopt(M_ARENA_MAX, 2);
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct cfs_mount m = { 0 };
    struct cfs_config cfg = { 0 };
    enum cfs_log_level level = CFS_LOG_INFO;
    int ret = 1, err;

    /* A subcommand, before FUSE sees the arguments (a mount point named
     * "status" is ./status). */
    if (argc >= 2 && strcmp(argv[1], "status") == 0)
        return cfs_status_main(argc - 1, argv + 1);
    /* The process holds passwords and tokens: no core dump, and no
     * ptrace or /proc/PID/mem (environ, maps...) for other processes of
     * the same user. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        fprintf(stderr, "cloudfs: cannot make the process undumpable: %s\n", strerror(errno));
    tune_malloc();
    cfs_options_defaults(&m.opts);
    /* Threads wait on the network for their own image only; 16 keep a few
     * stalled readers from starving the rest. A user's -o comes later and
     * wins. */
    if (fuse_opt_parse(&args, &m, cfs_option_spec, opt_proc) == -1 ||
        fuse_opt_insert_arg(&args, 1, "-omax_threads=16") != 0)
        return 1;
    if (m.opts.show_help) {
        print_help(argv[0], &args);
        fuse_opt_free_args(&args);
        return 0;
    }
    if (m.opts.show_version) {
        printf("cloudfs %s\nFUSE library version %s\n", CFS_VERSION, fuse_pkgversion());
        fuse_lowlevel_version();
        fuse_opt_free_args(&args);
        return 0;
    }
    if (take_operands(&m, &args) != 0)
        goto out;
    if (!m.mountpoint) {
        fprintf(stderr, "cloudfs: no mount point given (see cloudfs --help)\n");
        goto out;
    }
    if (m.opts.log_level && cfs_log_level_parse(m.opts.log_level, &level) != 0) {
        fprintf(stderr, "cloudfs: log_level must be error, warn, info or debug\n");
        goto out;
    }
    if ((err = cfs_log_open(m.opts.log, level)) != 0) {
        fprintf(stderr, "cloudfs: cannot open log %s: %s\n", m.opts.log,
                err == -ELOOP ? "it is a symbolic link (not followed)" : strerror(-err));
        goto out;
    }
    if (m.opts.umask_set < 0) {
        fprintf(stderr, "cloudfs: umask= takes an octal number up to 0777, such as 022\n");
        goto out;
    }
    if (m.opts.allow_other && !m.opts.umask_set)
        cfs_log_warn("allow_other without umask=: the modes stay the mounting user's only "
                     "(0400, 0500, 0700), other users are refused; umask=022 lets them read");
    m.umask = (mode_t)m.opts.umask;
    m.views = CFS_VIEWS_DEFAULT;
    if (m.opts.views && cfs_view_parse_list(m.opts.views, &m.views) != 0) {
        fprintf(stderr, "cloudfs: views= takes raw, vmdk, ovf, ova, all or none, joined by ':'\n");
        goto out;
    }
    m.ovf = (struct ovf_defaults){ m.opts.ovf_cpus, m.opts.ovf_memory, m.opts.ovf_hw_version,
                                   m.opts.ovf_controller ? m.opts.ovf_controller : "pvscsi",
                                   m.opts.ovf_nic ? m.opts.ovf_nic : "vmxnet3" };
    if (!m.ovf.cpus || !m.ovf.memory_mb || m.ovf.hw_version < 4) {
        fprintf(stderr, "cloudfs: ovf_cpus and ovf_memory must be at least 1, "
                        "ovf_hw_version at least 4\n");
        goto out;
    }
    m.vhd = VHD_FIXED;
    if (m.opts.vhd && strcmp(m.opts.vhd, "dynamic") == 0) {
        m.vhd = VHD_DYNAMIC;
    } else if (m.opts.vhd && strcmp(m.opts.vhd, "fixed") != 0) {
        fprintf(stderr, "cloudfs: vhd= takes fixed or dynamic\n");
        goto out;
    }
    if (cfs_vmdk_compress_parse(m.opts.vmdk_compress, &m.vmdk_compress) != 0) {
        fprintf(stderr, "cloudfs: vmdk_compress= takes none, fast or auto\n");
        goto out;
    }
    m.verify = !m.opts.verify || strcmp(m.opts.verify, "all") == 0;
    if (m.opts.verify && !m.verify && strcmp(m.opts.verify, "none") != 0) {
        fprintf(stderr, "cloudfs: verify= takes all or none\n");
        goto out;
    }
    if (!m.verify)
        cfs_log_warn("verify=none: what is read of images is not checked against their clouds' "
                     "digests, and nothing read is stored in the block cache");
    if (m.opts.vhd_azure && m.vhd == VHD_DYNAMIC) {
        fprintf(stderr, "cloudfs: vhd_azure wants fixed .vhd views (Azure takes no other)\n");
        goto out;
    }
    if (!cfs_ovf_defaults_valid(&m.ovf)) {
        fprintf(stderr, "cloudfs: ovf_controller or ovf_nic is not one cloudfs knows "
                        "(see cloudfs --help)\n");
        goto out;
    }
    xmlInitParser(); /* once, before threads */
    m.viewinfo = cfs_viewinfo_new();
    m.verified = cfs_verified_new();
    m.subdirs = cfs_subdirs_new(SUBDIRS_MAX, m.opts.list_ttl, m.views);
    m.pending = cfs_pending_table_new(PENDING_LINGER_S);
    m.opensize = cfs_opensize_new(OPENSIZE_MAX);
    m.cache_dir = cfs_cache_dir_choose(m.opts.cache_dir);
    m.cache_reserve_bytes = (uint64_t)m.opts.cache_reserve << 20;
    if (!m.viewinfo || !m.verified || !m.subdirs || !m.pending || !m.opensize || !m.cache_dir)
        goto out;
    if (cfs_cache_dir_make(m.cache_dir) != 0)
        goto out;
    if (open_block_cache(&m) != 0)
        goto out;
    if (m.opts.timeout == 0 || m.opts.connect_timeout == 0) {
        fprintf(stderr, "cloudfs: timeout and connect_timeout must be at least 1 second\n");
        goto out;
    }
    struct cfs_http_settings hs = { m.opts.connect_timeout, m.opts.timeout, m.opts.retries,
                                    (uint64_t)m.opts.prefetch_mib << 20 };
    if (m.opts.prefetch_mib < 4) {
        fprintf(stderr, "cloudfs: prefetch_memory must be at least 4 (MiB)\n");
        goto out;
    }
    if (cfs_http_init(&hs) != 0) {
        fprintf(stderr, "cloudfs: cannot initialise libcurl\n");
        goto out;
    }
    if ((err = cfs_config_load(m.opts.config, m.opts.clouds_yaml, &cfg)) != 0) {
        /* The log says which file and why; it may not be this terminal. */
        if (m.opts.log)
            fprintf(stderr, "cloudfs: the configuration cannot be used (%s): see %s\n",
                    strerror(-err), m.opts.log);
        goto out;
    }
    if (create_clouds(&m, &cfg) != 0)
        goto out;
    if (m.n_clouds == 0) {
        fprintf(stderr,
                "cloudfs: no usable cloud: put clouds in clouds.yaml "
                "(or name one with -o clouds_yaml= or OS_CLIENT_CONFIG_FILE, or set the OS_* "
                "variables)%s\n",
                m.opts.clouds ? ", and check -o clouds=" : "");
        goto out;
    }
    m.uid = getuid();
    m.gid = getgid();
    clock_gettime(CLOCK_REALTIME, &m.started);
    /* The kernel checks our permission bits (with allow_other, other
     * users' access too): files of clouds 0444, directories 0555, 0777
     * where files can be created, less umask=. */
    fuse_opt_add_arg(&args, "-odefault_permissions,fsname=cloudfs,subtype=cloudfs");
    ret = run_fuse(&args, &m);
out:
    destroy_clouds(&m);
    if (!cfs_viewinfo_busy(m.viewinfo))
        cfs_viewinfo_free(m.viewinfo);
    cfs_verified_free(m.verified);
    cfs_config_free(&cfg);
    fuse_opt_free_args(&args);
    free(m.mountpoint);
    free(m.opts.operand[0]);
    free(m.opts.operand[1]);
    cfs_cache_close(m.block_cache);
    free(m.cache_dir);
    return ret;
}
