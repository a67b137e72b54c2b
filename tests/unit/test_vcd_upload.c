/* The pure parts of the vCD upload: the create body, Content-Range, the
 * resume decision, and reading templates shaped like ref/vcd-api.md A.3,
 * A.4 and a failed import (§7). */
#include "unit.h"
#include "upload.h"

#include <errno.h>
#include <stdlib.h>

#define T_HEAD                                                   \
    "<VAppTemplate xmlns=\"http://www.vmware.com/vcloud/v1.5\" " \
    "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\" "
#define T_TASK(status, inner)                                                                  \
    "<Tasks><Task status=\"" status "\" name=\"task\" "                                        \
    "href=\"https://vcd.example.com/api/task/91bd\">"                                          \
    "<Link rel=\"task:cancel\" href=\"https://vcd.example.com/api/task/91bd/action/cancel\"/>" \
    "<Owner href=\"https://vcd.example.com/api/vAppTemplate/vappTemplate-984d\" "              \
    "name=\"t\"/>" inner "</Task></Tasks>"
#define T_FILE(size, bt, name)                                                               \
    "<File size=\"" size "\" bytesTransferred=\"" bt "\" name=\"" name "\">"                 \
    "<Link rel=\"upload:default\" href=\"https://vcd.example.com/transfer/2246/" name "\"/>" \
    "</File>"

static const char A3[] = T_HEAD "ovfDescriptorUploaded=\"false\" status=\"0\" name=\"t\">" T_TASK(
    "running",
    "<Progress>1</Progress>") "<Files>" T_FILE("-1", "0",
                                               "descriptor.ovf") "</Files></VAppTemplate>";

static const char A4[] = T_HEAD "ovfDescriptorUploaded=\"true\" status=\"0\" name=\"t\">" T_TASK(
    "running", "") "<Files>" T_FILE("4096", "4096", "descriptor.ovf")
    T_FILE("120903732", "67108864", "disk1.vmdk") "</Files></VAppTemplate>";

static const char FAILED[] =
    T_HEAD "ovfDescriptorUploaded=\"true\" status=\"-1\" name=\"t\">" T_TASK(
        "error", "<Error majorErrorCode=\"400\" minorErrorCode=\"BAD_REQUEST\" "
                 "message=\"not a\nstreamOptimized disk\"/>") "</VAppTemplate>";

static int parse(const char *xml, struct vcd_tmpl *t)
{
    xmlDocPtr doc;
    int err = vcd_xml_parse(xml, strlen(xml), &doc);
    if (err)
        return err;
    err = vcd_tmpl_parse(doc, t);
    xmlFreeDoc(doc);
    return err;
}

static void test_params(void)
{
    const char *name = "a&b <c> \"d\" 'e' é";
    char *body = vcd_upload_params(name, "cloudfs upload from h pid 1 started x");
    xmlDocPtr doc;

    CHECK(body != NULL);
    CHECK(body && vcd_xml_parse(body, strlen(body), &doc) == 0);
    if (!body)
        return;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    char *n = cfs_xml_attr(root, "name"), *m = cfs_xml_attr(root, "manifestRequired");
    char *d = cfs_xml_text(cfs_xml_child(root, VCD_NS, "Description"));
    CHECK_STR((const char *)root->name, "UploadVAppTemplateParams");
    CHECK_STR(n, name);
    CHECK_STR(m, "false");
    CHECK_STR(d, "cloudfs upload from h pid 1 started x");
    free(n);
    free(m);
    free(d);
    xmlFreeDoc(doc);
    free(body);
    CHECK(vcd_upload_params("bad\nname", "x") == NULL);
}

static void test_range(void)
{
    char b[96];
    CHECK(vcd_content_range(b, sizeof b, 0, 10, 10) == 0);
    CHECK_STR(b, "Content-Range: bytes 0-9/10");
    CHECK(vcd_content_range(b, sizeof b, 500000000, 1450489088, 1950489088) == 0);
    CHECK_STR(b, "Content-Range: bytes 500000000-1950489087/1950489088");
    CHECK(vcd_content_range(b, sizeof b, 5, 6, 10) == -EINVAL); /* past the end */
    CHECK(vcd_content_range(b, sizeof b, 5, 0, 10) == -EINVAL);
    CHECK(vcd_content_range(b, sizeof b, UINT64_MAX, 2, UINT64_MAX) == -EINVAL);
    CHECK(vcd_content_range(b, 10, 0, 10, 10) == -EINVAL); /* does not fit */
}

static void test_resume(void)
{
    struct vcd_tmpl_file f = { .size = 100, .transferred = 40 };
    uint64_t off = 7;
    CHECK(vcd_resume_point(&f, 100, &off) == 0 && off == 40);
    f.size = -1; /* no ovf:size: our length is the total */
    CHECK(vcd_resume_point(&f, 100, &off) == 0 && off == 40);
    f.transferred = 100;
    CHECK(vcd_resume_point(&f, 100, &off) == 0 && off == 100);
    f.transferred = 101;
    CHECK(vcd_resume_point(&f, 100, &off) == -EIO);
    f.size = 99, f.transferred = 0;
    CHECK(vcd_resume_point(&f, 100, &off) == -EIO);
}

static void test_templates(void)
{
    struct vcd_tmpl t;

    /* A.3: right after the POST. */
    CHECK(parse(A3, &t) == 0);
    CHECK(t.status == 0 && !t.descriptor_uploaded && t.n_files == 1);
    CHECK_STR(t.files[0].name, "descriptor.ovf");
    CHECK_STR(t.files[0].upload, "https://vcd.example.com/transfer/2246/descriptor.ovf");
    CHECK(t.files[0].size == -1 && t.files[0].transferred == 0);
    CHECK_STR(t.task_href, "https://vcd.example.com/api/task/91bd");
    CHECK_STR(t.cancel_href, "https://vcd.example.com/api/task/91bd/action/cancel");
    CHECK(!vcd_tmpl_failed(&t) && t.task_error == NULL);
    vcd_tmpl_free(&t);

    /* A.4: the descriptor processed, the disk half sent. */
    CHECK(parse(A4, &t) == 0);
    CHECK(t.descriptor_uploaded && t.n_files == 2);
    struct vcd_tmpl_file *f = vcd_tmpl_file(&t, "disk1.vmdk");
    CHECK(f && f->size == 120903732 && f->transferred == 67108864);
    CHECK(vcd_tmpl_file(&t, "disk2.vmdk") == NULL);
    vcd_tmpl_free(&t);

    /* A failed import: status -1, the task's Error. */
    CHECK(parse(FAILED, &t) == 0);
    CHECK(vcd_tmpl_failed(&t) && t.status == -1);
    CHECK_STR(t.task_error, "BAD_REQUEST: not a streamOptimized disk");
    vcd_tmpl_free(&t);

    /* Ready: no Files, no Tasks. */
    CHECK(parse(T_HEAD "ovfDescriptorUploaded=\"true\" status=\"8\" name=\"t\"/>", &t) == 0);
    CHECK(t.status == 8 && t.n_files == 0 && !t.task_href && !vcd_tmpl_failed(&t));
    vcd_tmpl_free(&t);

    /* Hostile numbers and documents. */
    CHECK(parse(T_HEAD "status=\"0\"><Files>" T_FILE("12x", "0", "d") "</Files></VAppTemplate>",
                &t) == -EPROTO);
    CHECK(parse(T_HEAD "status=\"0\"><Files>" T_FILE("10", "-5", "d") "</Files></VAppTemplate>",
                &t) == -EPROTO);
    CHECK(parse(T_HEAD "status=\"0\"><Files>" T_FILE("99999999999999999999", "0",
                                                     "d") "</Files></VAppTemplate>",
                &t) == -EPROTO);
    CHECK(parse(T_HEAD "name=\"t\"/>", &t) == -EPROTO); /* no status */
    CHECK(parse("<CatalogItem xmlns=\"http://www.vmware.com/vcloud/v1.5\" status=\"0\"/>", &t) ==
          -EPROTO);
    char many[8192] = T_HEAD "status=\"0\"><Files>";
    for (int i = 0; i < VCD_MAX_FILES + 1; i++)
        strcat(many, T_FILE("1", "0", "x"));
    strcat(many, "</Files></VAppTemplate>");
    CHECK(parse(many, &t) == -EPROTO);
}

int main(void)
{
    test_params();
    test_range();
    test_resume();
    test_templates();
    return UNIT_RESULT();
}
