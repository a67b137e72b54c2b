#!/bin/bash
# Batch migration with a shell glob: cp .../openstack/images/*.vmdk into a
# catalog makes one complete template per image, named after the file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd
shopt -s nullglob
files=("$MNT"/openstack/images/*.vmdk)
[ ${#files[@]} -ge 10 ] || fail "only ${#files[@]} .vmdk views to copy"
timed 600 cp "${files[@]}" "$MIGRATED/"
[ "$RC" = 0 ] || fail "cp of ${#files[@]} views exited $RC"
for f in "${files[@]}"; do
    name=$(basename "$f" .vmdk)
    ls "$MIGRATED" | grep -qxF "$name.vmdk" || fail "$name.vmdk not listed in migrated/"
done
ok=$(curl -sf "$CLOUDS_VCD_CONTROL/state" | "$PY" -c '
import json, sys
print(sum(1 for t in json.load(sys.stdin)["templates"] if t["catalog"] == "migrated" and t["status"] == 8))')
[ "$ok" -ge ${#files[@]} ] || fail "$ok complete templates for ${#files[@]} files"
# One of them, compared with its source.
id=$(manifest openstack ext4 id)
check_imported migrated ext4 "$(manifest openstack ext4 path)" "$(manifest openstack ext4 disk_format)"
for f in "${files[@]}"; do vcd_remove migrated "$(basename "$f" .vmdk)"; done
echo "${#files[@]} images migrated in one cp"
