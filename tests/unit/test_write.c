/* The FUSE side of writing and of nested directories, end to end through
 * the kernel: a child process serves cloudfs's operations over a fake
 * provider whose "cloud" is a directory tree (objects are files,
 * catalogs/<name> are directories), the parent writes and reads through
 * the mount with cp, rsync and plain syscalls, and judges by the tree.
 * The fake provider lives only here. Skipped (77) without /dev/fuse. */
#define _GNU_SOURCE
#include "cachedir.h"
#include "log.h"
#include "mount.h"
#include "opensize.h"
#include "ops.h"
#include "pending.h"
#include "subdirs.h"
#include "unit.h"
#include "util.h"
#include "verified.h"
#include "viewinfo.h"
#include "views.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static char dir[] = "/tmp/cfs-write-XXXXXX";
static char root[256], mnt[256], mnt2[256], cache[256], logp[256];

/* ---- the fake provider: a directory tree ---- */

static const char *const fake_dirs[] = { "images", "catalogs", NULL };

static char *real_path(const char *d, const char *name)
{
    return cfs_printf("%s/%s%s%s", root, d, name ? "/" : "", name ? name : "");
}

static int fake_create(const struct cfs_cloud_config *cfg, struct cfs_cloud **out)
{
    (void)cfg, (void)out;
    return -ENOTSUP;
}

static void fake_destroy(struct cfs_cloud *c)
{
    (void)c;
}

static int fake_list(struct cfs_cloud *c, const char *d, struct cfs_object_list *out)
{
    char *path = real_path(d, NULL);
    DIR *dp = opendir(path);
    struct dirent *de;
    bool catalog = strncmp(d, "catalogs/", 9) == 0;

    (void)c;
    free(path);
    if (!dp)
        return -ENOENT;
    memset(out, 0, sizeof *out);
    out->v = calloc(64, sizeof *out->v);
    while ((de = readdir(dp)) && out->n < 64) {
        struct cfs_object *o = &out->v[out->n];
        struct stat st;
        if (de->d_name[0] == '.')
            continue; /* ., .., the side files of put */
        path = real_path(d, de->d_name);
        stat(path, &st);
        free(path);
        o->id = cfs_printf("i-%llu", (unsigned long long)st.st_ino);
        o->mtime = o->ctime = st.st_mtim;
        if (S_ISDIR(st.st_mode)) {
            o->is_dir = true;
            o->name = strdup(de->d_name);
        } else {
            char *dot = strrchr(de->d_name, '.');
            o->name = strndup(de->d_name, dot ? (size_t)(dot - de->d_name) : strlen(de->d_name));
            o->ext = strdup(dot ? dot + 1 : "bin");
            o->size = (uint64_t)st.st_size;
            o->immutable = true;
            /* vCD-like: templates have no views and a size once exported. */
            o->no_views = o->size_at_open = catalog;
            if (catalog)
                o->size = 0;
        }
        out->n++;
    }
    closedir(dp);
    return 0;
}

static int fake_open(struct cfs_cloud *c, const char *d, const struct cfs_object *obj,
                     unsigned flags, struct cfs_source **out)
{
    char *name = cfs_printf("%s.%s", obj->name, obj->ext);
    char *path = real_path(d, name);
    int err = cfs_file_source_open(path, out);
    (void)c, (void)flags;
    free(name);
    free(path);
    return err;
}

static int fake_can_put(struct cfs_cloud *c, const char *d)
{
    (void)c;
    if (strcmp(d, "images") == 0)
        return 0;
    if (strcmp(d, "catalogs/ro") == 0)
        return -EACCES;
    return strncmp(d, "catalogs/", 9) == 0 ? 0 : -EROFS;
}

/* Copies the content into the tree; "fail-*" is refused as content the
 * cloud cannot import; attributes go to a side file ".<fname>.xattrs";
 * each put appends "dir fname size label" to puts.log. */
static int fake_put(struct cfs_cloud *c, const struct cfs_put *req)
{
    char *path = real_path(req->dir, req->fname), buf[65536];
    int fd = -1, err = 0;
    (void)c;
    if (strncmp(req->fname, "fail-", 5) == 0) {
        cfs_log_error("fake: %s refused", req->label);
        err = -EINVAL;
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        err = -errno;
        goto out;
    }
    for (uint64_t off = 0; off < req->content->size;) {
        ssize_t n = cfs_source_pread(req->content, buf, sizeof buf, off);
        if (n <= 0 || pwrite(fd, buf, (size_t)n, (off_t)off) != n) {
            err = -EIO;
            goto out;
        }
        off += (uint64_t)n;
    }
    if (req->xattrs_len) {
        char *x = cfs_printf("%s/%s/.%s.xattrs", root, req->dir, req->fname);
        FILE *f = fopen(x, "w");
        fwrite(req->xattrs, 1, req->xattrs_len, f);
        fclose(f);
        free(x);
    }
    char *log = cfs_printf("%s/puts.log", dir);
    FILE *f = fopen(log, "a");
    fprintf(f, "%s %s %llu %s\n", req->dir, req->fname, (unsigned long long)req->content->size,
            req->label);
    fclose(f);
    free(log);
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return err;
}

static const struct cfs_provider fake_provider = {
    .type = "fake",
    .dirs = fake_dirs,
    .create = fake_create,
    .destroy = fake_destroy,
    .list = fake_list,
    .open = fake_open,
    .can_put = fake_can_put,
    .put = fake_put,
};

/* ---- the mount, served by a child ---- */

static pid_t serve(const char *at, uint64_t reserve)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    static struct cfs_cloud cloud = { .provider = &fake_provider, .name = "fake" };
    static struct cfs_mcloud mc;
    static struct cfs_mount m;
    cfs_options_defaults(&m.opts);
    m.opts.foreground = 1;
    m.opts.read_ahead_kb = 0;
    m.umask = 022; /* as -o umask=022: 0444 files, 0755 where files can be made */
    m.mountpoint = strdup(at);
    cloud.cache_dir = cache;
    mc.cloud = &cloud;
    mc.n_dirs = 2;
    mc.dirs = calloc(2, sizeof *mc.dirs);
    for (size_t i = 0; i < 2; i++)
        mc.dirs[i] = cfs_dircache_new(&cloud, fake_dirs[i], m.opts.list_ttl, CFS_VIEWS_DEFAULT);
    m.clouds = &mc;
    m.n_clouds = 1;
    m.uid = getuid();
    m.gid = getgid();
    m.views = CFS_VIEWS_DEFAULT;
    m.ovf = (struct ovf_defaults){ 1, 1024, 13, "lsilogic", "vmxnet3" };
    m.vhd = VHD_FIXED;
    m.viewinfo = cfs_viewinfo_new();
    m.verified = cfs_verified_new();
    m.subdirs = cfs_subdirs_new(4, m.opts.list_ttl, m.views);
    m.pending = cfs_pending_table_new(600);
    m.opensize = cfs_opensize_new(16);
    m.cache_dir = cache;
    m.cache_reserve_bytes = reserve;
    cfs_log_open(logp, CFS_LOG_DEBUG);
    char *argv[] = {
        "test_write", (char *)at, "-f", "-o", "default_permissions,fsname=cfstest,max_threads=16",
        NULL
    };
    _exit(fuse_main(5, argv, &cfs_ops, &m) == 0 ? 0 : 1);
}

static bool mounted(const char *at)
{
    struct stat a, b;
    char *parent = cfs_printf("%s/..", at);
    bool r = stat(at, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
    free(parent);
    return r;
}

static void unmount(const char *at, pid_t pid)
{
    char *cmd = cfs_printf("fusermount3 -u %s", at);
    int st;
    if (system(cmd) != 0)
        kill(pid, SIGTERM);
    free(cmd);
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- helpers of the checks ---- */

static const char *M(const char *rel)
{
    static char ring[8][512];
    static unsigned next;
    char *p = ring[next++ % 8];
    snprintf(p, 512, "%s/fake/%s", mnt, rel);
    return p;
}

static const char *R(const char *rel)
{
    static char ring[8][512];
    static unsigned next;
    char *p = ring[next++ % 8];
    snprintf(p, 512, "%s/%s", root, rel);
    return p;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char *cmd;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    int rc = system(cmd);
    free(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int err_of(int rc)
{
    return rc < 0 ? errno : 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_mode : 0;
}

static off_t size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static int puts_of(const char *fname)
{
    return sh("exit $(grep -c ' %s ' %s/puts.log)", fname, dir);
}

static bool cache_empty(void)
{
    return sh("test -z \"$(ls -A %s)\"", cache) == 0;
}

static void write_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "w");
    for (size_t i = 0; i < size; i++)
        fputc((int)((i * 2654435761u) >> 13), f);
    fclose(f);
}

/* ---- the checks ---- */

static void test_tree(void)
{
    char buf[8192];
    CHECK(mode_of(M("images")) == (S_IFDIR | 0755));
    CHECK(mode_of(M("catalogs")) == (S_IFDIR | 0555));
    CHECK(mode_of(M("catalogs/cat1")) == (S_IFDIR | 0755));
    CHECK(mode_of(M("catalogs/ro")) == (S_IFDIR | 0555));
    CHECK(sh("ls %s | grep -qx cat1", M("catalogs")) == 0);
    /* by-id/ where there are files, not among catalogs. */
    CHECK(mode_of(M("images/by-id")) == (S_IFDIR | 0555));
    CHECK(mode_of(M("catalogs/by-id")) == 0);
    CHECK(sh("ls %s | grep -q by-id", M("catalogs")) != 0);
    CHECK(mode_of(M("images/existing.raw")) == (S_IFREG | 0444));
    CHECK(mode_of(M("images/existing.vmdk")) != 0); /* views as before */
    /* No by-id/ and no views below the top; size 0 until opened. */
    CHECK(mode_of(M("catalogs/cat1/by-id")) == 0 && errno == ENOENT);
    CHECK(mode_of(M("catalogs/cat1/tmpl.ova")) == 0);
    CHECK(size_of(M("catalogs/cat1/tmpl.vmdk")) == 0);
    int fd = open(M("catalogs/cat1/tmpl.vmdk"), O_RDONLY);
    struct stat st;
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 5000);
    CHECK(read(fd, buf, sizeof buf) == 5000);
    close(fd);
    CHECK(size_of(M("catalogs/cat1/tmpl.vmdk")) == 5000);
    CHECK(sh("cmp -s %s %s", M("catalogs/cat1/tmpl.vmdk"), R("catalogs/cat1/tmpl.vmdk")) == 0);
}

static void test_cp(void)
{
    write_file(R("../src.raw"), 3 << 20);
    CHECK(sh("cp %s/src.raw %s", dir, M("images/new.raw")) == 0);
    CHECK(sh("cmp -s %s/src.raw %s", dir, R("images/new.raw")) == 0);
    CHECK(puts_of("new.raw") == 1);
    /* Listed at once, as the cloud's. */
    CHECK(mode_of(M("images/new.raw")) == (S_IFREG | 0444));
    CHECK(sh("cmp -s %s/src.raw %s", dir, M("images/new.raw")) == 0);
    /* Into a catalog: the provider is told "catalogs/<name>". */
    CHECK(sh("cp %s/src.raw %s", dir, M("catalogs/cat1/up.ova")) == 0);
    CHECK(sh("cmp -s %s/src.raw %s", dir, R("catalogs/cat1/up.ova")) == 0);
    CHECK(sh("grep -q '^catalogs/cat1 up.ova ' %s/puts.log", dir) == 0);
    /* A sparse source: cp seeks over holes and ftruncates at the end. */
    CHECK(sh("truncate -s 9M %s/sparse.raw && printf x >> %s/sparse.raw && "
             "truncate -s 20M %s/sparse.raw && cp --sparse=always %s/sparse.raw %s",
             dir, dir, dir, dir, M("images/sparse.raw")) == 0);
    CHECK(sh("cmp -s %s/sparse.raw %s", dir, R("images/sparse.raw")) == 0);
    CHECK(cache_empty());
}

static void test_syscalls(void)
{
    char buf[16], zero[16] = { 0 };
    struct stat st;
    int fd = open(M("images/w.raw"), O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "A", 1, 0) == 1);
    CHECK(pwrite(fd, "B", 1, 5 << 20) == 1);
    CHECK(pwrite(fd, "C", 1, 1) == 1); /* backward */
    /* Visible while written: lookups, listings, reads of the spool. */
    CHECK(stat(M("images/w.raw"), &st) == 0 && st.st_mode == (S_IFREG | 0644));
    CHECK(st.st_size == (5 << 20) + 1 && st.st_uid == getuid());
    CHECK(sh("ls %s | grep -qx w.raw", M("images")) == 0);
    int rd = open(M("images/w.raw"), O_RDONLY);
    CHECK(rd >= 0 && pread(rd, buf, 2, 0) == 2 && memcmp(buf, "AC", 2) == 0);
    CHECK(pread(rd, buf, 16, 1 << 20) == 16 && memcmp(buf, zero, 16) == 0);
    CHECK(close(rd) == 0); /* a reader's close uploads nothing */
    CHECK(puts_of("w.raw") == 0);
    CHECK(setxattr(M("images/w.raw"), "user.glance.os_distro", "centos", 6, 0) == 0);
    CHECK(getxattr(M("images/w.raw"), "user.glance.os_distro", buf, sizeof buf) == 6);
    CHECK(ftruncate(fd, 6 << 20) == 0);
    /* The same create again: busy. */
    CHECK(err_of(open(M("images/w.raw"), O_CREAT | O_EXCL | O_WRONLY, 0644)) == EEXIST);
    int dup_fd = dup(fd);
    CHECK(close(fd) == 0);
    CHECK(close(dup_fd) == 0);
    CHECK(puts_of("w.raw") == 1); /* once, not per close */
    CHECK(size_of(R("images/w.raw")) == 6 << 20);
    CHECK(sh("grep -q centos %s", R("images/.w.raw.xattrs")) == 0);

    /* Refused by the cloud: close fails with its errno, the file is gone. */
    fd = open(M("images/fail-1.raw"), O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1);
    CHECK(err_of(close(fd)) == EINVAL);
    CHECK(mode_of(M("images/fail-1.raw")) == 0);

    /* Cloud objects do not change; places without put refuse. */
    CHECK(err_of(open(M("images/existing.raw"), O_WRONLY)) == EEXIST);
    CHECK(err_of(open(M("images/existing.raw"), O_CREAT | O_EXCL | O_WRONLY, 0644)) == EEXIST);
    CHECK(err_of(open(M("catalogs/x.ova"), O_CREAT | O_WRONLY, 0644)) == EROFS);
    CHECK(err_of(open(M("catalogs/ro/x.ova"), O_CREAT | O_WRONLY, 0644)) == EACCES);
    CHECK(err_of(open(M("x.ova"), O_CREAT | O_WRONLY, 0644)) == EACCES);
    CHECK(err_of(mkdir(M("images/d"), 0755)) == EPERM);
    CHECK(err_of(unlink(M("images/existing.raw"))) == EACCES);
    CHECK(err_of(rename(M("images/existing.raw"), M("images/e2.raw"))) == EPERM);
    CHECK(chmod(M("images/existing.raw"), 0600) == 0);
    CHECK(truncate(M("images/existing.raw"), 0) < 0);
    CHECK(sh("touch -d 2020-01-01 %s", M("images/existing.raw")) == 0);

    /* rm of a file being written drops it. */
    fd = open(M("images/gone.raw"), O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1);
    CHECK(unlink(M("images/gone.raw")) == 0);
    CHECK(mode_of(M("images/gone.raw")) == 0);
    CHECK(write(fd, "y", 1) == 1 && close(fd) == 0);
    CHECK(puts_of("gone.raw") == 0);
    CHECK(cache_empty());
}

static void test_staged(void)
{
    /* rsync's pattern: a dot-file written, closed, renamed. */
    int fd = open(M("images/.s.raw.Ab12"), O_CREAT | O_EXCL | O_WRONLY, 0600);
    CHECK(fd >= 0 && write(fd, "staged", 6) == 6 && close(fd) == 0);
    CHECK(puts_of("s.raw") == 0 && size_of(R("images/.s.raw.Ab12")) < 0);
    CHECK(size_of(M("images/.s.raw.Ab12")) == 6);
    CHECK(setxattr(M("images/.s.raw.Ab12"), "user.glance.os_type", "linux", 5, 0) == 0);
    CHECK(err_of(rename(M("images/.s.raw.Ab12"), M("catalogs/cat1/s.raw"))) == EXDEV);
    CHECK(err_of(rename(M("images/.s.raw.Ab12"), M("images/existing.raw"))) == EEXIST);
    CHECK(rename(M("images/.s.raw.Ab12"), M("images/s.raw")) == 0);
    CHECK(puts_of("s.raw") == 1 && size_of(R("images/s.raw")) == 6);
    CHECK(mode_of(M("images/s.raw")) == (S_IFREG | 0444)); /* the cloud's now */
    CHECK(sh("grep -q linux %s", R("images/.s.raw.xattrs")) == 0);
    CHECK(mode_of(M("images/.s.raw.Ab12")) == 0);

    CHECK(sh("rsync -a %s/src.raw %s/", dir, M("images")) == 0);
    CHECK(sh("cmp -s %s/src.raw %s", dir, R("images/src.raw")) == 0);
    CHECK(cache_empty());
}

/* A write that would eat into the reserve: ENOSPC, the file dropped. */
static void test_reserve(void)
{
    char *path = cfs_printf("%s/fake/images/big.raw", mnt2);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(err_of((int)write(fd, "x", 1)) == ENOSPC);
    CHECK(mode_of(path) == 0);
    CHECK(close(fd) == 0);
    CHECK(size_of(R("images/big.raw")) < 0);
    free(path);
}

int main(void)
{
    if (access("/dev/fuse", R_OK | W_OK) != 0 || system("command -v fusermount3 >/dev/null")) {
        fprintf(stderr, "SKIP: no /dev/fuse or fusermount3\n");
        return 77;
    }
    if (!mkdtemp(dir))
        return 1;
    snprintf(root, sizeof root, "%s/cloud", dir);
    snprintf(mnt, sizeof mnt, "%s/mnt", dir);
    snprintf(mnt2, sizeof mnt2, "%s/mnt2", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(logp, sizeof logp, "%s/cloudfs.log", dir);
    CHECK(sh("mkdir -p %s/images %s/catalogs/cat1 %s/catalogs/ro %s %s", root, root, root, mnt,
             mnt2) == 0);
    CHECK(cfs_cache_dir_make(cache) == 0);
    write_file(R("images/existing.raw"), 1024);
    write_file(R("catalogs/cat1/tmpl.vmdk"), 5000);

    pid_t pid = serve(mnt, 0), pid2 = serve(mnt2, UINT64_MAX / 2);
    for (int i = 0; i < 100 && !(mounted(mnt) && mounted(mnt2)); i++)
        usleep(50000);
    CHECK(mounted(mnt) && mounted(mnt2));
    if (mounted(mnt) && mounted(mnt2)) {
        test_tree();
        test_cp();
        test_syscalls();
        test_staged();
        test_reserve();
    }
    unmount(mnt, pid);
    unmount(mnt2, pid2);
    if (unit_failures)
        sh("tail -n 30 %s", logp);
    else
        sh("rm -rf %s", dir);
    return UNIT_RESULT();
}
