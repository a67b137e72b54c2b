#!/bin/bash
# Writing into a vCD catalog through the mount (the vCD emulator): catalogs
# are directories (0700 where this user may upload, 0500 where not), cp of
# a Glance qcow2 into one makes a template whose exported .vmdk qemu-img
# finds identical to the source; a second cp of the same name fails at
# close (EEXIST); rsync's staged file is uploaded at its rename; a
# read-only catalog refuses creates; no spool file is left.
. "$(dirname "$0")/lib.sh"
[ -n "${CLOUDS_VCD_URL:-}" ] || skip "no vCD emulator in this instance"
"$CLOUDFS" --help | grep -q . || fail "cloudfs --help"
mount_cloudfs -o "config=$CLOUDS_DIR/cloudfs.yaml,clouds=vcloud:openstack,cache_dir=$WORK/cache"
cats=$MNT/vcloud/catalogs
[ -d "$cats" ] || skip "this cloudfs has no vcloud provider"
mig=$cats/migrated
[ "$(stat -c %a "$mig")" = 700 ] || fail "catalogs/migrated is $(stat -c %a "$mig"), want 700"
[ "$(stat -c %a "$cats/readonly")" = 500 ] || fail "catalogs/readonly is $(stat -c %a "$cats/readonly"), want 500"
[ ! -e "$cats/by-id" ] || fail "catalogs/ has a by-id/"

src=$MNT/openstack/images/ext4.qcow2
name=t$$
timed 300 cp "$src" "$mig/$name.qcow2"
[ "$RC" = 0 ] || fail "cp into the catalog: exit $RC"
ls "$mig" | grep -qx "$name.vmdk" || fail "no $name.vmdk after the upload: $(ls "$mig" | tr '\n' ' ')"
[ "$(stat -c %s "$mig/$name.vmdk")" = 0 ] || fail "an unexported template's size is not 0"
qemu-img compare -q "$mig/$name.vmdk" "$src" || fail "the template's disk differs from the source"
[ "$(stat -c %s "$mig/$name.vmdk")" -gt 0 ] || fail "the size is still 0 after the export"
[ "$(log_count "upload of /vcloud/catalogs/migrated/$name.qcow2: done")" = 1 ] || fail "no log line of the upload"

# The same name again: close() fails with EEXIST; nothing stays listed.
out=$(cp "$src" "$mig/$name.qcow2" 2>&1) && fail "a second cp of $name succeeded"
echo "$out" | grep -q "File exists" || fail "second cp: '$out', want EEXIST"
[ ! -e "$mig/$name.qcow2" ] || fail "$name.qcow2 is still listed after the failed upload"

# rsync: a dot-file written and closed, uploaded when renamed.
cp "$src" "$WORK/r$$.qcow2"
rsync "$WORK/r$$.qcow2" "$mig/" || fail "rsync into the catalog"
ls "$mig" | grep -qx "r$$.vmdk" || fail "no r$$.vmdk after rsync"

touch "$cats/readonly/x.ova" 2>/dev/null && fail "create in a read-only catalog succeeded"
ls "$WORK/cache" | grep -q '^spool-' && fail "spool files left: $(ls "$WORK/cache")"
exit 0
