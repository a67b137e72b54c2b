/* Spool files and the table of files being written (fs/spool.c,
 * fs/pending.c): sparse writes, holes as zeros, truncation, the free-space
 * reserve, the table's names, lifetimes and attributes. */
#include "pending.h"
#include "spool.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static char dir[] = "/tmp/cfs-pending-XXXXXX";

static int count_files(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 0", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static void test_spool(void)
{
    char buf[8192], zero[8192] = { 0 };
    struct stat st;
    int fd;

    CHECK(cfs_spool_create(dir, &fd) == 0);
    CHECK(count_files() == 0); /* nameless from the start */
    /* A forward seek leaves a hole that reads as zeros and costs nothing. */
    CHECK(cfs_spool_write(fd, "head", 4, 0, 0) == 4);
    CHECK(cfs_spool_write(fd, "tail", 4, 64 << 20, 0) == 4);
    CHECK(fstat(fd, &st) == 0 && st.st_size == (64 << 20) + 4);
    CHECK(st.st_blocks * 512 < (1 << 20));
    CHECK(cfs_spool_read(fd, buf, sizeof buf, 1 << 20) == (ssize_t)sizeof buf);
    CHECK(memcmp(buf, zero, sizeof buf) == 0);
    /* Backward writes replace. */
    CHECK(cfs_spool_write(fd, "HE", 2, 0, 0) == 2);
    CHECK(cfs_spool_read(fd, buf, 4, 0) == 4 && memcmp(buf, "HEad", 4) == 0);
    /* Short only at the end. */
    CHECK(cfs_spool_read(fd, buf, sizeof buf, (64 << 20) + 2) == 2);
    /* cp's final ftruncate after a sparse copy: grows with a hole. */
    CHECK(cfs_spool_truncate(fd, 100 << 20) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 100 << 20);
    CHECK(cfs_spool_truncate(fd, 2) == 0);
    CHECK(cfs_spool_read(fd, buf, sizeof buf, 0) == 2);
    /* The reserve: refused before a byte is written. */
    CHECK(cfs_spool_write(fd, "x", 1, 10, UINT64_MAX) == -ENOSPC);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 2);
    CHECK(cfs_spool_write(fd, "x", 1, UINT64_MAX - 1, 0) == -EFBIG);
    /* The provider's view of it: the same bytes. */
    struct cfs_source *src;
    CHECK(cfs_spool_write(fd, "abcdef", 6, 0, 0) == 6);
    CHECK(cfs_spool_source(fd, &src) == 0);
    CHECK(src->size == 6);
    CHECK(cfs_source_pread(src, buf, 6, 0) == 6 && memcmp(buf, "abcdef", 6) == 0);
    cfs_source_close(src);
    close(fd);
}

static void collect(void *ctx, struct cfs_pending *p)
{
    char *names = ctx;
    strcat(names, p->fname);
    strcat(names, ";");
}

static int new_spool(void)
{
    int fd = -1;
    CHECK(cfs_spool_create(dir, &fd) == 0);
    return fd;
}

static void test_table(struct cfs_dircache *dc)
{
    struct cfs_pending_table *t = cfs_pending_table_new(3600);
    struct cfs_pending *a, *b, *x;
    char names[256] = "";

    CHECK(cfs_pending_add(t, "/c/images/a.raw", dc, new_spool(), &a) == 0);
    CHECK(cfs_pending_add(t, "/c/images/a.raw", dc, new_spool(), &x) == -EBUSY);
    CHECK(cfs_pending_add(t, "/c/catalogs/k/b.ova", dc, new_spool(), &b) == 0);
    CHECK(strcmp(a->fname, "a.raw") == 0);
    x = cfs_pending_find(t, "/c/images/a.raw");
    CHECK(x == a);
    cfs_pending_put(x);
    CHECK(cfs_pending_find(t, "/c/images/b.ova") == NULL);

    /* Only the direct children of a directory. */
    cfs_pending_each(t, "/c/images", collect, names);
    CHECK_STR(names, "a.raw;");
    names[0] = '\0';
    cfs_pending_each(t, "/c/catalogs", collect, names);
    CHECK_STR(names, "");

    /* Attributes: user.* only, text, create/replace flags. */
    char v[64];
    CHECK(cfs_pending_setxattr(a, "security.x", "1", 1, 0) == -ENOTSUP);
    CHECK(cfs_pending_setxattr(a, "user.glance.os_distro", "centos", 6, 0) == 0);
    CHECK(cfs_pending_setxattr(a, "user.k", "1", 1, 0) == 0);
    CHECK(cfs_pending_setxattr(a, "user.k", "2", 1, XATTR_CREATE) == -EEXIST);
    CHECK(cfs_pending_setxattr(a, "user.new", "2", 1, XATTR_REPLACE) == -ENODATA);
    CHECK(cfs_pending_setxattr(a, "user.k", "22", 2, XATTR_REPLACE) == 0);
    CHECK(cfs_pending_setxattr(a, "user.bin", "a\0b", 3, 0) == -EINVAL);
    CHECK(cfs_pending_getxattr(a, "user.k", v, 0) == 2);
    CHECK(cfs_pending_getxattr(a, "user.k", v, 1) == -ERANGE);
    CHECK(cfs_pending_getxattr(a, "user.k", v, sizeof v) == 2 && memcmp(v, "22", 2) == 0);
    CHECK(cfs_pending_listxattr(a, v, sizeof v) == 29);
    CHECK(memcmp(v, "user.glance.os_distro\0user.k\0", 29) == 0);
    char *copy;
    size_t len;
    CHECK(cfs_pending_xattrs_copy(a, &copy, &len) == 0);
    CHECK(len == 29 + 7 + 3 && memcmp(copy,
                                      "user.glance.os_distro\0centos\0user.k\0"
                                      "22",
                                      38) == 0);
    free(copy);
    CHECK(cfs_pending_removexattr(a, "user.glance.os_distro") == 0);
    CHECK(cfs_pending_removexattr(a, "user.glance.os_distro") == -ENODATA);
    CHECK(cfs_pending_listxattr(a, v, sizeof v) == 7);

    /* Uploads: one at a time; afterwards the entry is gone, not writable. */
    CHECK(cfs_pending_state(a) == 0);
    CHECK(cfs_pending_begin_upload(a));
    CHECK(!cfs_pending_begin_upload(a));
    CHECK(cfs_pending_state(a) == -EBUSY);
    cfs_pending_end_upload(a, 0);
    CHECK(cfs_pending_state(a) == -EROFS);
    CHECK(cfs_pending_find(t, "/c/images/a.raw") == NULL);
    CHECK(!cfs_pending_begin_upload(a));
    cfs_pending_put(a);
    /* A failed upload sticks, and the name is free again. */
    CHECK(cfs_pending_begin_upload(b));
    cfs_pending_end_upload(b, -EEXIST);
    CHECK(cfs_pending_state(b) == -EEXIST);
    CHECK(cfs_pending_find(t, "/c/catalogs/k/b.ova") == NULL);
    cfs_pending_put(b);
    /* Unlinked while open: writable, never uploaded. */
    CHECK(cfs_pending_add(t, "/c/images/u", dc, new_spool(), &a) == 0);
    cfs_pending_drop(a);
    CHECK(cfs_pending_state(a) == -ENOENT);
    cfs_pending_put(a);
    cfs_pending_table_free(t);

    /* Lingering: a closed staged file lives until the linger time. */
    t = cfs_pending_table_new(0.2);
    CHECK(cfs_pending_add(t, "/c/images/.s.XXXX", dc, new_spool(), &a) == 0);
    cfs_pending_opened(a);
    usleep(300000);
    x = cfs_pending_find(t, "/c/images/.s.XXXX"); /* open: stays */
    CHECK(x == a);
    cfs_pending_put(x);
    cfs_pending_closed(a);
    cfs_pending_put(a);
    x = cfs_pending_find(t, "/c/images/.s.XXXX");
    CHECK(x == a);
    cfs_pending_put(x);
    usleep(300000);
    CHECK(cfs_pending_find(t, "/c/images/.s.XXXX") == NULL);
    cfs_pending_table_free(t);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_spool();
    /* A directory cache is only held here, never listed. */
    struct cfs_cloud cloud = { .name = "c" };
    struct cfs_dircache *dc = cfs_dircache_new(&cloud, "images", 60, 0);
    test_table(dc);
    cfs_dircache_put(dc);
    CHECK(count_files() == 0);
    rmdir(dir);
    return UNIT_RESULT();
}
