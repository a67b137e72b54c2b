/* Naming rules of DESIGN.md §1. */
#include "names.h"
#include "unit.h"

#include <stdlib.h>

static void assign(const struct cfs_name_in *in, size_t n, char **out)
{
    CHECK(cfs_names_assign(in, n, out) == 0);
}

static void free_all(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}

int main(void)
{
    char *out[8];

    /* Plain names, '/' as U+FF0F. */
    struct cfs_name_in a[] = {
        { "centos7", "11111111-aaaa", "qcow2", true },
        { "a/b", "22222222-bbbb", "raw", true },
    };
    assign(a, 2, out);
    CHECK_STR(out[0], "centos7.qcow2");
    CHECK_STR(out[1], "a\xef\xbc\x8f"
                      "b.raw");
    free_all(out, 2);

    /* Duplicates: both marked, whatever the order. */
    struct cfs_name_in d[] = {
        { "twin", "bbbbbbbb-2", "qcow2", true },
        { "twin", "aaaaaaaa-1", "qcow2", true },
        { "twin", "cccccccc-3", "raw", true },
    };
    assign(d, 3, out);
    CHECK_STR(out[0], "twin~bbbbbbbb.qcow2");
    CHECK_STR(out[1], "twin~aaaaaaaa.qcow2");
    CHECK_STR(out[2], "twin.raw");
    free_all(out, 3);

    /* A native file wins over a view of the same name. */
    struct cfs_name_in v[] = {
        { "x", "dddddddd-4", "vmdk", false },
        { "x", "eeeeeeee-5", "vmdk", true },
    };
    assign(v, 2, out);
    CHECK_STR(out[0], "x~dddddddd.vmdk");
    CHECK_STR(out[1], "x.vmdk");
    free_all(out, 2);

    /* Names that cannot stand alone. */
    struct cfs_name_in u[] = {
        { "", "ffffffff-6", "raw", true },
        { ".", "12345678-7", "raw", true },
        { "..", "abcdef01-8", "iso", true },
    };
    assign(u, 3, out);
    CHECK_STR(out[0], "~ffffffff.raw");
    CHECK_STR(out[1], "\xef\xbc\x8e.raw");
    CHECK_STR(out[2], "\xef\xbc\x8e..iso");
    free_all(out, 3);

    /* A leading dot is escaped (ls and globs skip dot-files), others stay;
     * a written name maps back to the cloud's. */
    struct cfs_name_in h[] = { { ".hidden", "abababab-1", "qcow2", true },
                               { "a.b.", "abababab-2", "qcow2", true } };
    assign(h, 2, out);
    CHECK_STR(out[0], "\xef\xbc\x8ehidden.qcow2");
    CHECK_STR(out[1], "a.b..qcow2");
    free_all(out, 2);
    char *back = cfs_name_to_cloud("\xef\xbc\x8ehid\xef\xbc\x8e"
                                   "den\xef\xbc\x8f\xef\xbc\x82x\xef\xbc\x82.qcow2");
    CHECK_STR(back, ".hid\xef\xbc\x8e"
                    "den/\"x\".qcow2");
    free(back);
    back = cfs_name_to_cloud("plain.vmdk");
    CHECK_STR(back, "plain.vmdk");
    free(back);

    /* Too long: cut on a UTF-8 boundary and marked, within 255 bytes. */
    char longname[400];
    memset(longname, 0, sizeof longname);
    for (int i = 0; i < 130; i++)
        memcpy(longname + 2 * i, "\xc3\xa9", 2); /* é, 260 bytes */
    struct cfs_name_in l[] = { { longname, "99999999-9", "qcow2", true } };
    assign(l, 1, out);
    CHECK(out[0] && strlen(out[0]) <= 255);
    CHECK(out[0] && strstr(out[0], "~99999999.qcow2") != NULL);
    CHECK(out[0] && ((unsigned char)out[0][strlen(out[0]) - 16] & 0xC0) != 0xC0);
    free_all(out, 1);

    /* Ids alike in 8 characters: the whole id marks them. */
    struct cfs_name_in s[] = {
        { "dup", "12345678-aaaa", "raw", true },
        { "dup", "12345678-bbbb", "raw", true },
    };
    assign(s, 2, out);
    CHECK_STR(out[0], "dup~12345678-aaaa.raw");
    CHECK_STR(out[1], "dup~12345678-bbbb.raw");
    free_all(out, 2);

    /* The same object twice is shown once. */
    struct cfs_name_in t[] = {
        { "same", "77777777-1", "raw", true },
        { "same", "77777777-1", "raw", true },
    };
    assign(t, 2, out);
    CHECK((out[0] == NULL) != (out[1] == NULL));
    free_all(out, 2);

    /* A re-marked name that meets another plain one: still unique. */
    struct cfs_name_in r[] = {
        { "x", "aaaaaaaa-1111", "qcow2", true },
        { "x", "aaaaaaaa-2222", "qcow2", true },
        { "x~aaaaaaaa-1111", "cccccccc-3333", "qcow2", true },
    };
    assign(r, 3, out);
    CHECK(out[0] && out[1] && out[2] && strcmp(out[0], out[1]) != 0 &&
          strcmp(out[0], out[2]) != 0 && strcmp(out[1], out[2]) != 0);
    free_all(out, 3);

    /* Control characters cannot break a line of ls or a log. */
    struct cfs_name_in c[] = { { "a\nb", "dddddddd-4", "raw", true } };
    assign(c, 1, out);
    CHECK_STR(out[0], "a\xef\xbf\xbd"
                      "b.raw");
    free_all(out, 1);

    /* '"' (a VMDK descriptor quotes names) and bytes that are not UTF-8. */
    struct cfs_name_in q[] = { { "my \"gold\"", "eeeeeeee-5", "vmdk", false },
                               { "bad\xff\xc3", "eeeeeeee-6", "raw", true } };
    assign(q, 2, out);
    CHECK_STR(out[0], "my \xef\xbc\x82gold\xef\xbc\x82.vmdk");
    CHECK_STR(out[1], "bad\xef\xbf\xbd\xef\xbf\xbd.raw");
    free_all(out, 2);

    /* Bidi and C1 controls are escaped like control characters: U+202E
     * would show "gpj.exe" as "exe.jpg"; other characters stay. */
    struct cfs_name_in b[] = {
        { "x\xe2\x80\xae"
          "gpj.exe",
          "ffffffff-7", "raw", true },
        { "\xe2\x80\x8e\xe2\x80\x8f\xe2\x80\xaa\xe2\x80\xad\xe2\x81\xa6\xe2\x81\xa9\xd8\x9c",
          "ffffffff-8", "raw", true },
        { "c1\xc2\x9b"
          "1m\xc2\x85",
          "ffffffff-9", "raw", true },
        { "\xe2\x80\x8d\xe2\x80\x90\xe2\x81\xaa\xc2\xa0\xd8\x9b", "fffffff0-a", "raw", true },
    };
    assign(b, 4, out);
    CHECK_STR(out[0], "x\xef\xbf\xbd"
                      "gpj.exe.raw");
    CHECK_STR(out[1], "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                      "\xef\xbf\xbd.raw");
    CHECK_STR(out[2], "c1\xef\xbf\xbd"
                      "1m\xef\xbf\xbd.raw");
    CHECK_STR(out[3], "\xe2\x80\x8d\xe2\x80\x90\xe2\x81\xaa\xc2\xa0\xd8\x9b.raw");
    free_all(out, 4);

    char *id = cfs_name_by_id("0123-abcd", "qcow2");
    CHECK_STR(id, "0123-abcd.qcow2");
    free(id);
    return UNIT_RESULT();
}
