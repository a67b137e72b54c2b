/* libFuzzer target: a vCenter's RetrievePropertiesEx answer about VMs
 * (core/cloud/vsphere/hardware.c), as a hostile server could send it:
 * any bytes; what parses gives bounded disks that agree with the OVF
 * hardware they are mapped from. */
#include "log.h"
#include "vsphere.h"

#include <stdlib.h>
#include <string.h>

static void walk(xmlNodePtr n)
{
    for (xmlNodePtr c = cfs_xml_child(n, NULL, NULL); c; c = cfs_xml_next(c, NULL, NULL)) {
        if (!strcmp((const char *)c->name, "objects")) {
            struct vs_vm vm;
            if (vs_vm_parse(c, &vm) == 0 &&
                (vm.n_disks > VS_MAX_DISKS || vm.info.n_disks != vm.n_disks))
                abort();
            vs_vm_free(&vm);
            struct vs_disk d[VS_MAX_DISKS];
            size_t nd = 0;
            vs_devices_disks(vs_prop(c, "config.hardware.device"), d, &nd);
            if (nd > VS_MAX_DISKS)
                abort();
            for (size_t i = 0; i < nd; i++)
                free(d[i].file);
        } else {
            walk(c);
        }
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int quiet;
    if (!quiet++)
        cfs_log_open("/dev/null", CFS_LOG_ERROR);
    xmlDocPtr doc;
    if (cfs_xml_read((const char *)data, size, "fuzz", 0, &doc, NULL) == 0) {
        walk(xmlDocGetRootElement(doc));
        xmlFreeDoc(doc);
    }
    return 0;
}
