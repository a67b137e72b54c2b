/* libFuzzer target: whatever a user copies into a vCD catalog, made into
 * a package (sniffing, an OVA unpacked and its descriptor rewritten, a
 * disk converted), then a few bytes of each file read. */
#include "fuzz_disk.h"
#include "package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ovf_defaults hw = { 1, 1024, 13, "lsilogic", "vmxnet3" };
    struct cfs_source *content;
    struct cfs_package pkg;
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (cfs_mem_source_new(copy, size, &content) != 0) {
        free(copy);
        return 0;
    }
    if (cfs_package_make(content, NULL, "fuzz", &hw, NULL, 0, 0, "fuzz", &pkg) == 0) {
        if (pkg.ovf_len != strlen(pkg.ovf))
            abort();
        for (size_t i = 0; i < pkg.n_files; i++) {
            uint64_t s = pkg.files[i].src->size;
            fuzz_read_at(pkg.files[i].src, 0, 4096);
            fuzz_read_at(pkg.files[i].src, s > 70000 ? s - 70000 : 0, 70000);
        }
        cfs_package_free(&pkg);
    }
    cfs_source_close(content);
    return 0;
}
