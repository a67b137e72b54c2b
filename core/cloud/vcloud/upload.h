/* Internals of the vCD upload (upload*.c; ref/vcd-api.md §4): what one
 * GET of an uploading template says, the request pieces, the state one
 * upload carries between its steps. Pure parts are unit-tested. */
#ifndef CFS_VCD_UPLOAD_H
#define CFS_VCD_UPLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "vcloud.h"

#define VCD_UPLOAD_PARAMS_TYPE "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml"
/* Range PUT size: few requests (each also costs a keep-alive GET), and a
 * broken connection loses at most this much work. */
#define VCD_PIECE_BYTES (64ull << 20)
/* Files a template may list: the descriptor and the package's. */
#define VCD_MAX_FILES (OVF_MAX_ITEMS + 1)

struct vcd_tmpl_file {
    char *name;   /* the descriptor's ovf:href, or vCD's "descriptor.ovf" */
    char *upload; /* its upload:default href */
    int64_t size; /* -1: unknown (no ovf:size) */
    int64_t transferred;
};

/* One GET of a template being uploaded. */
struct vcd_tmpl {
    int status; /* 0 uploading, 8 ready, -1 failed */
    bool descriptor_uploaded;
    struct vcd_tmpl_file files[VCD_MAX_FILES];
    size_t n_files;
    char *task_href, *cancel_href; /* the upload task, while it is listed */
    char *task_status;             /* running, success, error, ... */
    char *task_error;              /* its Error: "MINOR: message", or NULL */
};

/* Reads a VAppTemplate document. 0, -EPROTO (not a template, more Files
 * than a package has, bad numbers) or -ENOMEM. */
int vcd_tmpl_parse(xmlDocPtr doc, struct vcd_tmpl *out);
void vcd_tmpl_free(struct vcd_tmpl *t);
struct vcd_tmpl_file *vcd_tmpl_file(struct vcd_tmpl *t, const char *name);
/* True when the task says the upload failed (error, canceled, aborted). */
bool vcd_tmpl_failed(const struct vcd_tmpl *t);

/* The UploadVAppTemplateParams body, name and description escaped;
 * NULL for a name with control characters or on ENOMEM. */
char *vcd_upload_params(const char *name, const char *description);

/* "Content-Range: bytes A-B/TOTAL" for len (> 0) bytes at off. */
int vcd_content_range(char *buf, size_t n, uint64_t off, uint64_t len, uint64_t total);

/* Where the next PUT of a file of total bytes starts, from vCD's view of
 * it: 0 with *off (== total: nothing left), or -EIO when vCD expects
 * another size or claims more bytes than the file has. */
int vcd_resume_point(const struct vcd_tmpl_file *f, uint64_t total, uint64_t *off);

/* One upload between its steps. */
struct vcd_upload {
    struct vcd_cloud *c;
    const char *label; /* what the user copied, for log lines */
    char *tmpl_href;   /* the template (Entity of the new catalog item) */
    char *item_href;   /* the catalog item */
    char *task_href, *cancel_href;
    bool task_over; /* the task ended: nothing to cancel */
    /* The user's cancellation (struct cfs_put), polled between steps and
     * during transfers; NULL: never. */
    bool (*cancelled)(void *ctx);
    void *cancel_ctx;
    /* struct cfs_put's confirm, once every file is sent; NULL: none. */
    int (*confirm)(void *ctx);
    void *confirm_ctx;
    bool cancel_logged;
    bool quiet; /* clean-up steps at debug level: the sweep logs one line */
};

/* -ECANCELED (logged once) when the upload was cancelled, else 0. */
int vcd_upload_check_cancel(struct vcd_upload *u);

/* GET the template into *t. 0 or the request's -errno (logged). */
int vcd_upload_get(struct vcd_upload *u, struct vcd_tmpl *t);

/* PUT the descriptor to href (upload_transfer.c). */
int vcd_upload_descriptor(struct vcd_upload *u, const char *href, const char *ovf, size_t len);
/* Sends file name from src (total bytes) in sequential ranges, resuming
 * from vCD's bytesTransferred after a failure. */
int vcd_upload_file(struct vcd_upload *u, const char *name, struct cfs_source *src);

/* After a failure: cancel the task, then make sure the template is gone
 * (upload_cleanup.c). Logs each step. 0 once the template is gone, else
 * -EIO, -EBUSY or the request's -errno (logged). */
int vcd_upload_cleanup(struct vcd_upload *u);

#endif
