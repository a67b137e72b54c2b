/* The upload's parts without network: what a template being uploaded
 * says (ref/vcd-api.md §4.2, §4.4, A.3, A.4), the body that creates it
 * (§4.1), ranges and where to resume (§4.5). */
#define _GNU_SOURCE
#include "log.h"
#include "upload.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A decimal attribute; absent gives dflt. -EPROTO for anything else
 * than a whole number (the server's numbers are checked before use). */
static int attr_i64(xmlNodePtr n, const char *name, int64_t dflt, int64_t *out)
{
    char *v = cfs_xml_attr(n, name), *end;
    int err = 0;

    if (!v) {
        *out = dflt;
        return 0;
    }
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        err = -EPROTO;
    *out = x;
    free(v);
    return err;
}

/* Server text for a log line: no control characters. */
static void printable(char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f)
            *s = ' ';
}

static int parse_task(xmlNodePtr task, struct vcd_tmpl *t)
{
    t->task_href = cfs_xml_attr(task, "href");
    t->cancel_href = vcd_xml_link(task, "task:cancel", NULL);
    t->task_status = cfs_xml_attr(task, "status");
    xmlNodePtr e = cfs_xml_child(task, VCD_NS, "Error");
    if (e) {
        char *minor = cfs_xml_attr(e, "minorErrorCode");
        char *msg = cfs_xml_attr(e, "message");
        t->task_error =
            cfs_printf("%s%s%s", minor ? minor : "", minor ? ": " : "", msg ? msg : "(no message)");
        printable(t->task_error);
        free(minor);
        free(msg);
        if (!t->task_error)
            return -ENOMEM;
    }
    return 0;
}

static int parse_file(xmlNodePtr n, struct vcd_tmpl_file *f)
{
    f->name = cfs_xml_attr(n, "name");
    f->upload = vcd_xml_link(n, "upload:default", NULL);
    if (!f->name)
        return -EPROTO;
    if (attr_i64(n, "size", -1, &f->size) || attr_i64(n, "bytesTransferred", 0, &f->transferred))
        return -EPROTO;
    if (f->size < -1 || f->transferred < 0)
        return -EPROTO;
    return 0;
}

int vcd_tmpl_parse(xmlDocPtr doc, struct vcd_tmpl *t)
{
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    int64_t status;
    int err;

    memset(t, 0, sizeof *t);
    if (!root || strcmp((const char *)root->name, "VAppTemplate") != 0)
        return -EPROTO;
    if (attr_i64(root, "status", INT64_MIN, &status) || status < -1 || status > 100)
        return -EPROTO;
    t->status = (int)status;
    char *up = cfs_xml_attr(root, "ovfDescriptorUploaded");
    t->descriptor_uploaded = up && strcmp(up, "true") == 0;
    free(up);

    xmlNodePtr files = cfs_xml_child(root, VCD_NS, "Files");
    for (xmlNodePtr f = cfs_xml_child(files, VCD_NS, "File"); f;
         f = cfs_xml_next(f, VCD_NS, "File")) {
        if (t->n_files == VCD_MAX_FILES) {
            err = -EPROTO;
            goto fail;
        }
        err = parse_file(f, &t->files[t->n_files++]);
        if (err)
            goto fail;
    }
    xmlNodePtr task = cfs_xml_child(cfs_xml_child(root, VCD_NS, "Tasks"), VCD_NS, "Task");
    if (task && (err = parse_task(task, t)))
        goto fail;
    return 0;
fail:
    vcd_tmpl_free(t);
    return err;
}

void vcd_tmpl_free(struct vcd_tmpl *t)
{
    for (size_t i = 0; i < t->n_files; i++) {
        free(t->files[i].name);
        free(t->files[i].upload);
    }
    free(t->task_href);
    free(t->cancel_href);
    free(t->task_status);
    free(t->task_error);
    memset(t, 0, sizeof *t);
}

struct vcd_tmpl_file *vcd_tmpl_file(struct vcd_tmpl *t, const char *name)
{
    for (size_t i = 0; i < t->n_files; i++)
        if (strcmp(t->files[i].name, name) == 0)
            return &t->files[i];
    return NULL;
}

bool vcd_tmpl_failed(const struct vcd_tmpl *t)
{
    const char *s = t->task_status;
    return t->status == -1 || (s && (strcmp(s, "error") == 0 || strcmp(s, "canceled") == 0 ||
                                     strcmp(s, "aborted") == 0));
}

char *vcd_upload_params(const char *name, const char *description)
{
    return vcd_xml_named("UploadVAppTemplateParams", "manifestRequired=\"false\"", name,
                         description);
}

int vcd_content_range(char *buf, size_t n, uint64_t off, uint64_t len, uint64_t total)
{
    if (len == 0 || off + len < off || off + len > total)
        return -EINVAL;
    int w = snprintf(buf, n, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
                     off + len - 1, total);
    return w < 0 || (size_t)w >= n ? -EINVAL : 0;
}

int vcd_resume_point(const struct vcd_tmpl_file *f, uint64_t total, uint64_t *off)
{
    /* size -1: the descriptor had no ovf:size; our total is the truth. */
    if (f->size != -1 && (uint64_t)f->size != total)
        return -EIO;
    if (f->transferred < 0 || (uint64_t)f->transferred > total)
        return -EIO;
    *off = (uint64_t)f->transferred;
    return 0;
}
