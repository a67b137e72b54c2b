/* The virtual hardware of an OVF descriptor, mapped from an image's
 * properties (core/format/ovf_map.c); private to core/format/ovf*.c. */
#ifndef CFS_OVF_MAP_H
#define CFS_OVF_MAP_H

#include <stdbool.h>

#include "format.h"

struct ovf_hw {
    const char *guest;  /* vmw:osType */
    unsigned short cim; /* CIM_OperatingSystem OsType */
    unsigned cpus, cores_per_socket, memory_mb, version;
    int controller;   /* CIM ResourceType: 5 IDE, 6 SCSI, 20 SATA */
    const char *scsi; /* ResourceSubType of a SCSI HBA */
    const char *nic;  /* ResourceSubType of the NIC */
    bool efi, secure_boot;
};

/* Fills *hw from p's properties and defaults (NULL: built-in ones). Sets
 * *warnings to a malloc'd "; "-separated text, or NULL. 0, -EINVAL (the
 * defaults name no known controller or NIC, or are out of range), -ENOMEM. */
int ovf_map_hardware(const struct ovf_params *p, struct ovf_hw *hw, char **warnings);

#endif
