/* Reading a vApp template (ref/vcd-api.md §6): enableDownload (a task
 * that exports the template, slow), the descriptor at download:default,
 * then each referenced file next to it, whole and in order: the transfer
 * service does not do Range, so files go to the cache directory and are
 * read from there (memory stays bounded whatever the disk size). One
 * export per template and mount, shared by every thread that opens one
 * of its files; the files are removed at unmount, or earlier when the
 * exports kept exceed cache_size (the least recently opened go first, and
 * are exported again by their next open).
 *
 * vCD gives no digest of an export, so each file is checked as it
 * arrives: its length against the descriptor's ovf:size, and a disk as a
 * streamOptimized VMDK, every grain inflated against its Adler-32
 * (vmdk_check.c). Nor may an export eat into cache_reserve: checked from
 * the ovf:size values before the first byte, and while writing. A file
 * that fails makes the open fail (EIO, ENOSPC), and the export is
 * forgotten and its files removed, so the next open fetches it again.
 *
 * The descriptor cloudfs shows is vCD's, with the file references
 * renamed to the names the template's files have in the mount
 * (<name>.vmdk, <name>-diskN.vmdk), so that .ovf + .vmdk copied out form
 * a package; .ova is that descriptor and the files in a tar. */
#define _GNU_SOURCE
#include "format.h"
#include "log.h"
#include "util.h"
#include "vcloud.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define OVF_NS       "http://schemas.dmtf.org/ovf/envelope/1"
#define MAX_BASE_LEN 80         /* "<base>-diskNN.vmdk" stays within a tar name */
#define SPACE_EVERY  (4u << 20) /* bytes written between two looks at the free space */

struct export
{
    struct export *next;
    char *href; /* the template's, the key */
    bool ready;
    char *dir;  /* local directory of the files */
    char *base; /* name of the files in the package */
    char *ovf;  /* the renamed descriptor */
    size_t ovf_len;
    size_t n_files;
    char *paths[OVF_MAX_ITEMS]; /* local file per reference */
    char *names[OVF_MAX_ITEMS]; /* its name in the package */
    size_t disk[OVF_MAX_ITEMS]; /* file index of disk N + 1 */
    size_t n_disks;
    uint64_t bytes;  /* of all its files */
    unsigned users;  /* opens using it now: it is freed only without them */
    bool dropped;    /* out of the list: freed by the last user */
    uint64_t opened; /* when last opened, in opens of the cloud */
};

struct vcd_downloads {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct export *head;
    uint64_t opens;
};

static void export_free(struct export *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_files; i++) {
        if (e->paths[i])
            unlink(e->paths[i]);
        free(e->paths[i]);
        free(e->names[i]);
    }
    if (e->dir)
        rmdir(e->dir);
    free(e->dir);
    free(e->base);
    free(e->ovf);
    free(e->href);
    free(e);
}

void vcd_downloads_free(struct vcd_cloud *c)
{
    struct vcd_downloads *d = c->downloads;
    if (!d)
        return;
    while (d->head) {
        struct export *e = d->head;
        d->head = e->next;
        export_free(e);
    }
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    free(d);
    c->downloads = NULL;
}

/* A name for the package's files: the template's, '/' and control
 * characters replaced, short enough for a tar member. */
static char *base_name(const char *name)
{
    size_t n = strlen(name);
    if (n > MAX_BASE_LEN) {
        n = MAX_BASE_LEN;
        while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
            n--; /* never cut a UTF-8 character in two */
    }
    char *b = strndup(name, n);
    for (char *p = b; p && *p; p++)
        if (*p == '/' || *p == '\\' || (unsigned char)*p < ' ')
            *p = '_';
    if (b && (!*b || strcmp(b, ".") == 0 || strcmp(b, "..") == 0)) {
        free(b);
        b = strdup("template");
    }
    return b;
}

/* ---- the export ---- */

static int template_doc(struct vcd_cloud *c, const char *href, const char *what, xmlDocPtr *doc,
                        char **link)
{
    int err = vcd_get_xml(c, href, what, doc);
    if (err)
        return err;
    xmlNodePtr t = xmlDocGetRootElement(*doc);
    char *status = cfs_xml_attr(t, "status");
    if (status && strcmp(status, "8") != 0) {
        cfs_log_error("vcloud: %s: %s: the template is not ready (status %s)", c->base.name, what,
                      status);
        free(status);
        xmlFreeDoc(*doc);
        *doc = NULL;
        return -EIO;
    }
    free(status);
    *link = vcd_xml_link(t, "download:default", "text/xml");
    return 0;
}

static int enable_download(struct vcd_cloud *c, xmlDocPtr doc, const char *what)
{
    char *enable = vcd_xml_link(xmlDocGetRootElement(doc), "enable", NULL), *task = NULL;
    struct cfs_http_resp resp;
    int err;

    if (!enable) {
        cfs_log_error("vcloud: %s: %s: no right to download the template (no enable link)",
                      c->base.name, what);
        return -EACCES;
    }
    err = vcd_api(c, "POST", enable, NULL, NULL, 0, &resp);
    free(enable);
    if (err)
        return err;
    if (resp.status < 200 || resp.status >= 300) {
        err = vcd_api_error(c, what, &resp);
        cfs_http_resp_free(&resp);
        return err;
    }
    xmlDocPtr t = NULL;
    if (resp.body_len && vcd_xml_parse(resp.body, resp.body_len, &t) == 0)
        task = cfs_xml_attr(xmlDocGetRootElement(t), "href");
    if (!task)
        task = cfs_http_header(&resp, "Location");
    xmlFreeDoc(t);
    cfs_http_resp_free(&resp);
    if (task)
        err = vcd_wait_task(c, task, 0, what);
    free(task);
    return err;
}

struct sink {
    int fd;
    uint64_t limit;           /* bytes the descriptor's ovf:size still allows */
    uint64_t reserve;         /* free space to leave (cache_reserve) */
    uint64_t unlooked;        /* bytes written since the last look at the free space */
    struct vmdk_check *check; /* a disk's, or NULL */
    const char *why;          /* the cause of a sink error, for fetch's log line */
};

static int to_file(void *ctx, const char *data, size_t len)
{
    struct sink *s = ctx;
    if (s->limit < len) {
        s->why = "more bytes than the descriptor's ovf:size";
        return -EIO; /* no use going on */
    }
    s->limit -= len;
    if (s->check) {
        int err = vmdk_check_feed(s->check, data, len);
        if (err) {
            s->why = ""; /* the check logged it */
            return err;
        }
    }
    if (s->unlooked == 0 || s->unlooked + len > SPACE_EVERY) {
        struct statvfs v;
        if (fstatvfs(s->fd, &v) != 0)
            return -errno;
        uint64_t avail = (uint64_t)v.f_bavail * (v.f_frsize ? v.f_frsize : v.f_bsize);
        if (avail < s->reserve || avail - s->reserve < SPACE_EVERY) {
            s->why = "the cache directory's free space is down to cache_reserve";
            return -ENOSPC;
        }
        s->unlooked = 0;
    }
    s->unlooked += len;
    return cfs_write_all(s->fd, data, len);
}

static char *file_url(const char *desc_url, const char *href)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *slash = strrchr(desc_url, '/');
    size_t dir = (size_t)(slash - desc_url) + 1;
    char *u = malloc(dir + 3 * strlen(href) + 1), *o;
    if (!u)
        return NULL;
    memcpy(u, desc_url, dir);
    o = u + dir;
    for (const unsigned char *p = (const unsigned char *)href; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return u;
}

/* A disk once it is whole: it ended with its end-of-stream marker, and
 * its grain tables agree with the records the stream carried. */
static int check_whole(struct vmdk_check *k, const char *path)
{
    struct cfs_source *file;
    int err = vmdk_check_end(k);
    if (!err)
        err = cfs_file_source_open(path, &file);
    if (!err) {
        err = vmdk_check_tables(k, file);
        cfs_source_close(file);
    }
    return err;
}

/* GETs one file whole into path; a broken transfer starts again from
 * its first byte (no Range on /transfer). A disk is checked as it comes
 * (vmdk_check.c); a bad one is not fetched again here: the open fails
 * and the next one exports the template again. */
static int fetch(struct vcd_cloud *c, const char *url, const char *path, uint64_t size,
                 bool is_disk, const char *what, uint64_t *got)
{
    const struct cfs_http_settings *hs = cfs_http_settings();
    char *hdr[2];
    int err = vcd_transfer_headers(c, hdr);
    if (err)
        return err;
    for (unsigned attempt = 0;; attempt++) {
        struct cfs_http_resp resp;
        struct sink s = { .fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600),
                          .limit = size ? size : UINT64_MAX,
                          .reserve = c->base.cache_reserve_bytes };
        if (s.fd < 0) {
            err = -errno;
            cfs_log_error("vcloud: %s: %s: cannot write %s: %s", c->base.name, what, path,
                          strerror(errno));
            break;
        }
        if (is_disk) {
            char label[700];
            snprintf(label, sizeof label, "vcloud: %s: %s", c->base.name, what);
            if ((err = vmdk_check_new(label, size, &s.check)) != 0) {
                close(s.fd);
                break;
            }
        }
        const char *hdrs[] = { hdr[0], NULL };
        struct cfs_http_req req = { .method = "GET",
                                    .url = url,
                                    .headers = hdrs,
                                    .tls = &c->tls,
                                    .sink = to_file,
                                    .sink_ctx = &s,
                                    .only_2xx_to_sink = true };
        err = cfs_http_do(&req, &resp);
        if (close(s.fd) != 0 && !err)
            err = -errno;
        if (!s.why && cfs_http_retryable(err, err ? 0 : resp.status) && attempt < hs->retries) {
            cfs_log_info("vcloud: %s: %s failed (%s), starting it again (%u of %u)", c->base.name,
                         what, err ? cfs_http_last_error() : "server error", attempt + 1,
                         hs->retries);
            cfs_http_resp_free(&resp);
            vmdk_check_free(s.check);
            cfs_sleep(cfs_http_backoff(attempt + 1));
            continue;
        }
        if (err && s.why) {
            if (err == -ENOSPC)
                cfs_log_error("vcloud: %s: %s: %s (%" PRIu64 " MiB) in %s: the export is "
                              "discarded",
                              c->base.name, what, s.why, c->base.cache_reserve_bytes >> 20,
                              c->base.cache_dir ? c->base.cache_dir : "/var/tmp");
            else if (*s.why)
                cfs_log_error("vcloud: %s: %s: %s (%" PRIu64 "): the export is discarded",
                              c->base.name, what, s.why, size);
        } else if (err) {
            cfs_log_error("vcloud: %s: %s failed: %s", c->base.name, what,
                          cfs_http_last_error()[0] ? cfs_http_last_error() : strerror(-err));
        } else if (resp.status != 200) {
            err = vcd_api_error(c, what, &resp);
        } else if (size && resp.received != size) {
            cfs_log_error("vcloud: %s: %s: download incomplete: %" PRIu64 " of %" PRIu64
                          " bytes (the descriptor's ovf:size)",
                          c->base.name, what, resp.received, size);
            err = -EIO;
        } else if (s.check) {
            err = check_whole(s.check, path);
        }
        *got = resp.received;
        cfs_http_resp_free(&resp);
        vmdk_check_free(s.check);
        break;
    }
    vcd_headers_free(hdr);
    return err;
}

/* The ovf:size values of an export must fit in the cache directory's
 * free space less cache_reserve before its first byte is written. */
static int check_space(struct vcd_cloud *c, const char *dir, const struct ovf_info *info,
                       const char *what)
{
    uint64_t need = 0, reserve = c->base.cache_reserve_bytes;
    struct statvfs v;
    for (size_t i = 0; i < info->n_files; i++)
        if (__builtin_add_overflow(need, info->files[i].size, &need))
            need = UINT64_MAX;
    if (statvfs(dir, &v) != 0)
        return 0; /* mkdtemp will say why */
    uint64_t avail = (uint64_t)v.f_bavail * (v.f_frsize ? v.f_frsize : v.f_bsize);
    if (avail >= reserve && avail - reserve >= need)
        return 0;
    cfs_log_error("vcloud: %s: %s: %.1f MiB would leave less than cache_reserve (%" PRIu64
                  " MiB) free in %s (%.1f MiB free)",
                  c->base.name, what, need / 1048576.0, reserve >> 20, dir, avail / 1048576.0);
    return -ENOSPC;
}

static int get_descriptor(struct vcd_cloud *c, const char *url, const char *what, char **body,
                          size_t *len)
{
    char *hdr[2];
    struct cfs_http_resp resp;
    int err = vcd_transfer_headers(c, hdr);
    if (err)
        return err;
    const char *hdrs[] = { hdr[0], NULL };
    struct cfs_http_req req = { .method = "GET", .url = url, .headers = hdrs };
    err = vcd_http(c, what, &req, &resp, true);
    vcd_headers_free(hdr);
    if (!err && resp.status != 200)
        err = vcd_api_error(c, what, &resp);
    if (!err) {
        *body = resp.body;
        *len = resp.body_len;
        resp.body = NULL;
    }
    cfs_http_resp_free(&resp);
    return err;
}

/* Names in the package: disk 1 <base>.vmdk, disk N <base>-diskN.vmdk,
 * anything else <base>-fileN. */
static int name_files(struct export *e, const struct ovf_info *info)
{
    e->n_disks = vcd_ovf_disk_files(info, e->disk);
    for (size_t i = 0; i < info->n_files; i++) {
        size_t d = 0;
        while (d < e->n_disks && e->disk[d] != i)
            d++;
        if (d == 0 && e->n_disks)
            e->names[i] = cfs_printf("%s.vmdk", e->base);
        else if (d < e->n_disks)
            e->names[i] = cfs_printf("%s-disk%zu.vmdk", e->base, d + 1);
        else
            e->names[i] = cfs_printf("%s-file%zu", e->base, i + 1);
        if (!e->names[i])
            return -ENOMEM;
    }
    return 0;
}

int vcd_ovf_rename(const char *xml, size_t len, const struct ovf_info *info, char *const names[],
                   const uint64_t sizes[], char **out, size_t *out_len)
{
    xmlDocPtr doc;
    int err = vcd_xml_parse(xml, len, &doc);
    if (err)
        return -EINVAL;
    xmlNodePtr refs = cfs_xml_child(xmlDocGetRootElement(doc), OVF_NS, "References");
    for (xmlNodePtr f = cfs_xml_child(refs, OVF_NS, "File"); f;
         f = cfs_xml_next(f, OVF_NS, "File")) {
        xmlAttrPtr id = xmlHasNsProp(f, (const xmlChar *)"id", (const xmlChar *)OVF_NS);
        xmlChar *idv = id ? xmlNodeGetContent((xmlNodePtr)id) : NULL;
        size_t i = 0;
        while (idv && i < info->n_files && strcmp(info->files[i].id, (const char *)idv) != 0)
            i++;
        xmlFree(idv);
        if (!id || i == info->n_files) {
            err = -EINVAL;
            break;
        }
        char size[24];
        snprintf(size, sizeof size, "%" PRIu64, sizes[i]);
        if (!xmlSetNsProp(f, id->ns, (const xmlChar *)"href", (const xmlChar *)names[i]) ||
            !xmlSetNsProp(f, id->ns, (const xmlChar *)"size", (const xmlChar *)size)) {
            err = -ENOMEM;
            break;
        }
    }
    if (!err) {
        xmlChar *mem = NULL;
        int n = 0;
        xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
        *out = mem ? strndup((const char *)mem, (size_t)n) : NULL;
        *out_len = (size_t)n;
        xmlFree(mem);
        err = *out ? 0 : -ENOMEM;
    }
    xmlFreeDoc(doc);
    return err;
}

static int export_template(struct vcd_cloud *c, struct export *e, const char *tname)
{
    double t0 = cfs_now();
    char what[400], label[400], *link = NULL, *desc_url = NULL, *desc = NULL;
    uint64_t sizes[OVF_MAX_ITEMS] = { 0 }, total = 0;
    struct ovf_info info = { 0 };
    xmlDocPtr doc = NULL;
    size_t desc_len = 0;
    int err;

    snprintf(what, sizeof what, "export of template %s", tname);
    err = template_doc(c, e->href, what, &doc, &link);
    if (!err && !link) {
        err = enable_download(c, doc, what);
        xmlFreeDoc(doc);
        doc = NULL;
        if (!err)
            err = template_doc(c, e->href, what, &doc, &link);
        if (!err && !link) {
            cfs_log_error("vcloud: %s: %s: no download link after enableDownload", c->base.name,
                          what);
            err = -EIO;
        }
    }
    xmlFreeDoc(doc);
    if (!err && !(desc_url = vcd_url(c, link)))
        err = -EPROTO;
    if (!err)
        err = get_descriptor(c, desc_url, what, &desc, &desc_len);
    snprintf(label, sizeof label, "vcloud: %s: template %s", c->base.name, tname);
    if (!err && ovf_parse(desc, desc_len, label, &info) != 0)
        err = -EIO;
    const char *cache = c->base.cache_dir ? c->base.cache_dir : "/var/tmp";
    if (!err)
        err = check_space(c, cache, &info, what);
    if (!err && !(e->dir = cfs_printf("%s/vcloud-XXXXXX", cache)))
        err = -ENOMEM;
    if (!err && !mkdtemp(e->dir)) {
        err = -errno;
        cfs_log_error("vcloud: %s: %s: cannot create a directory in %s: %s", c->base.name, what,
                      cache, strerror(errno));
        free(e->dir);
        e->dir = NULL;
    }
    if (!err)
        err = name_files(e, &info);
    e->n_files = info.n_files;
    for (size_t i = 0; i < info.n_files && !err; i++) {
        char *url = file_url(desc_url, info.files[i].href);
        char fwhat[600];
        e->paths[i] = cfs_printf("%s/%zu", e->dir, i);
        if (!url || !e->paths[i]) {
            free(url);
            err = -ENOMEM;
            break;
        }
        bool is_disk = false;
        for (size_t d = 0; d < e->n_disks; d++)
            is_disk |= e->disk[d] == i;
        snprintf(fwhat, sizeof fwhat, "%s: GET %s", what, info.files[i].href);
        err = fetch(c, url, e->paths[i], info.files[i].size, is_disk, fwhat, &sizes[i]);
        total += sizes[i];
        free(url);
    }
    e->bytes = total;
    if (!err)
        err = vcd_ovf_rename(desc, desc_len, &info, e->names, sizes, &e->ovf, &e->ovf_len);
    if (err == -EINVAL)
        err = -EIO; /* a descriptor we cannot use is the server's fault */
    if (!err)
        cfs_log_info("vcloud: %s: exported template %s: %zu file(s), %.1f MiB in %.1f s",
                     c->base.name, tname, info.n_files, total / 1048576.0, cfs_now() - t0);
    ovf_info_free(&info);
    free(link);
    free(desc_url);
    free(desc);
    return err;
}

/* ---- single flight ---- */

static struct vcd_downloads *downloads(struct vcd_cloud *c)
{
    pthread_mutex_lock(&c->lock);
    if (!c->downloads) {
        struct vcd_downloads *d = calloc(1, sizeof *d);
        if (d) {
            pthread_mutex_init(&d->lock, NULL);
            pthread_cond_init(&d->cond, NULL);
        }
        c->downloads = d;
    }
    pthread_mutex_unlock(&c->lock);
    return c->downloads;
}

static void unlist(struct vcd_downloads *d, struct export *e)
{
    struct export **p = &d->head;
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
}

/* Called with d->lock: the exports kept exceed cache_size, so the least
 * recently opened (but never keep, the one being opened) leave the list.
 * An export still in use is freed by its last user; the files of a
 * closed one go at once (a source open on them keeps reading). */
static void keep_bounded(struct vcd_cloud *c, struct vcd_downloads *d, struct export *keep)
{
    for (;;) {
        uint64_t kept = 0;
        struct export *old = NULL;
        for (struct export *e = d->head; e; e = e->next) {
            if (!e->ready)
                continue;
            kept += e->bytes;
            if (e != keep && (!old || e->opened < old->opened))
                old = e;
        }
        if (kept <= c->base.cache_keep_bytes || !old)
            return;
        cfs_log_info("vcloud: %s: dropping the export of %s (%.1f MiB): the exports kept exceed "
                     "cache_size (%.1f MiB)",
                     c->base.name, old->base, old->bytes / 1048576.0,
                     c->base.cache_keep_bytes / 1048576.0);
        unlist(d, old);
        if (old->users)
            old->dropped = true;
        else
            export_free(old);
    }
}

/* The export of a template, made if needed; the caller holds it until
 * release(). */
static int exported(struct vcd_cloud *c, const char *href, const char *tname, struct export **out)
{
    struct vcd_downloads *d = downloads(c);
    struct export *e;
    if (!d)
        return -ENOMEM;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        for (e = d->head; e && strcmp(e->href, href) != 0; e = e->next)
            ;
        if (!e || e->ready)
            break;
        pthread_cond_wait(&d->cond, &d->lock); /* another thread exports it */
    }
    if (e) {
        e->users++;
        e->opened = ++d->opens;
        pthread_mutex_unlock(&d->lock);
        *out = e;
        return 0;
    }
    e = calloc(1, sizeof *e);
    if (!e || !(e->href = strdup(href)) || !(e->base = base_name(tname))) {
        pthread_mutex_unlock(&d->lock);
        export_free(e);
        return -ENOMEM;
    }
    e->next = d->head;
    d->head = e;
    pthread_mutex_unlock(&d->lock);

    int err = export_template(c, e, tname);

    pthread_mutex_lock(&d->lock);
    if (err) {
        /* Forgotten, its files removed, so that a later open tries again. */
        unlist(d, e);
        export_free(e);
    } else {
        e->ready = true;
        e->users++;
        e->opened = ++d->opens;
        keep_bounded(c, d, e);
        *out = e;
    }
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    return err;
}

static void release(struct vcd_cloud *c, struct export *e)
{
    struct vcd_downloads *d = c->downloads;
    pthread_mutex_lock(&d->lock);
    bool gone = --e->users == 0 && e->dropped;
    pthread_mutex_unlock(&d->lock);
    if (gone)
        export_free(e);
}

/* Disk N of an object: its id ends in "-diskN" for N >= 2. */
static size_t disk_number(const struct cfs_object *obj)
{
    const char *p = strstr(obj->id, "-disk");
    unsigned long n = p ? strtoul(p + 5, NULL, 10) : 1;
    return n >= 1 && n <= OVF_MAX_ITEMS ? n : 0;
}

/* The source of obj over the files of its template's export e. */
static int open_files(struct export *e, const struct cfs_object *obj, struct cfs_source **out)
{
    int err;
    if (strcmp(obj->ext, "vmdk") == 0) {
        size_t n = disk_number(obj);
        if (n == 0 || n > e->n_disks)
            return -ENOENT;
        return cfs_file_source_open(e->paths[e->disk[n - 1]], out);
    }
    char *ovf = malloc(e->ovf_len + 1);
    struct cfs_source *ovf_src;
    if (!ovf)
        return -ENOMEM;
    memcpy(ovf, e->ovf, e->ovf_len + 1);
    err = cfs_mem_source_new(ovf, e->ovf_len, &ovf_src);
    if (err) {
        free(ovf);
        return err;
    }
    if (strcmp(obj->ext, "ovf") == 0) {
        *out = ovf_src;
        return 0;
    }
    if (strcmp(obj->ext, "ova") != 0) {
        cfs_source_close(ovf_src);
        return -ENOENT;
    }
    struct ova_member m[OVF_MAX_ITEMS + 1];
    char *ovf_name = cfs_printf("%s.ovf", e->base);
    size_t n = 0;
    m[n++] = (struct ova_member){ .name = ovf_name ? ovf_name : "", .source = ovf_src };
    for (size_t i = 0; i < e->n_files && !err; i++) {
        m[n].name = e->names[i];
        err = cfs_file_source_open(e->paths[i], &m[n].source);
        if (!err)
            n++;
    }
    if (err || !ovf_name) {
        for (size_t i = 0; i < n; i++)
            cfs_source_close(m[i].source);
        free(ovf_name);
        return err ? err : -ENOMEM;
    }
    err = ova_open(m, n, (uint64_t)(obj->mtime.tv_sec > 0 ? obj->mtime.tv_sec : 0), out);
    free(ovf_name);
    return err;
}

int vcd_download_open(struct vcd_cloud *c, const struct cfs_object *obj, struct cfs_source **out)
{
    const char *href = cfs_object_xattr(obj, "user.vcloud.href");
    const char *tname = cfs_object_xattr(obj, "user.vcloud.name");
    struct export *e;

    if (!href)
        return -ENOENT;
    int err = exported(c, href, tname ? tname : obj->name, &e);
    if (err)
        return err;
    err = open_files(e, obj, out);
    release(c, e);
    return err;
}
