#!/bin/bash
# The migration: cp of each sample image's .vmdk view from the openstack
# cloud into vcloud/catalogs/migrated/ makes a template (status 8) whose
# stored disk is a streamOptimized VMDK equal to the source image, with a
# descriptor that validates; the template is listed in the catalog at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd
n=0
while IFS=$'\t' read -r cloud name id fmt cfmt size sha path; do
    [ "$cloud" = openstack ] || continue
    src=$MNT/openstack/images/by-id/$id.vmdk
    [ -f "$src" ] || continue # not decodable (no .vmdk view)
    t=cv-${id:0:8}
    timed 300 cp "$src" "$MIGRATED/$t.vmdk"
    [ "$RC" = 0 ] || fail "cp $name ($fmt) into migrated/ exited $RC"
    check_imported migrated "$t" "$path" "$fmt"
    ls "$MIGRATED" | grep -qx "$t.vmdk" || fail "$t.vmdk is not listed in migrated/ after the cp"
    vcd_remove migrated "$t"
    n=$((n + 1))
done < <(grep -v '^#' "$CLOUDS_MANIFEST")
[ $n -ge 5 ] || fail "only $n images migrated"
echo "$n images migrated and compared"
