#!/bin/bash
# Names that are not plain file names survive a migration. A Glance image
# named ".dot" shows as ．dot.raw (U+FF0E), so ls and globs see it (a
# batch `cp images/*.vmdk` does not skip it); one named "sl/x" as sl／x.raw.
# Copied Glance -> vCD -> Glance (and written from a local file) they come
# back under their own names: the escapes map back when a name is written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
. "$(dirname "$0")/cfr.lib"
FS=$'\xef\xbc\x8e' SL=$'\xef\xbc\x8f' # U+FF0E, U+FF0F
dot=.dot$$ sl=sl$$/x loc=.loc$$
trap 'for n in $dot ${sl//\//%2F}; do os_delete_image openstack "$n"; done
      for n in $dot $sl; do vcd_remove migrated "$n"; done
      for n in $dot ${sl//\//%2F} $loc; do os_delete_image openstack2 "$n"; done
      vcd_knobs_reset; cleanup' EXIT

qemu-img create -q -f raw "$WORK/disk.raw" 4M || fail "qemu-img create failed"
printf 'round trip' | dd of="$WORK/disk.raw" conv=notrunc status=none
glance_upload "$dot" "$WORK/disk.raw" >/dev/null || fail "cannot create image $dot"
glance_upload "$sl" "$WORK/disk.raw" >/dev/null || fail "cannot create image $sl"
mount_cfr
[ -d "$MIGRATED" ] || skip "this cloudfs has no vcloud provider"
img=$MNT/openstack/images

ls "$img" >"$WORK/ls" || fail "listing failed"
grep -qxF "$FS${dot#.}.raw" "$WORK/ls" || fail "$dot is not listed as $FS${dot#.}.raw"
grep -qxF "sl$$${SL}x.raw" "$WORK/ls" || fail "$sl is not listed as sl$$${SL}x.raw"
grep -q "^\.dot$$" "$WORK/ls" && fail "$dot is listed as a dot-file"
# shellcheck disable=SC2012
(cd "$img" && ls -d -- *.vmdk) | grep -qxF "$FS${dot#.}.vmdk" || fail "the glob *.vmdk misses $FS${dot#.}.vmdk"

# Glance -> vCD: the templates keep the names.
cp "$img/$FS${dot#.}.vmdk" "$img/sl$$${SL}x.vmdk" "$MIGRATED/" || fail "cp into the catalog failed"
[ "$(vcd_count migrated "$dot")" = 1 ] || fail "vCD has no template named $dot"
[ "$(vcd_count migrated "$sl")" = 1 ] || fail "vCD has no template named $sl"
ls "$MIGRATED" | grep -qxF "$FS${dot#.}.vmdk" || fail "the catalog does not list $FS${dot#.}.vmdk: $(ls "$MIGRATED" | tr '\n' ' ')"

# vCD -> Glance, and a local file: the images have the original names.
cp "$MIGRATED/$FS${dot#.}.vmdk" "$MIGRATED/sl$$${SL}x.vmdk" "$MNT/openstack2/images/" ||
    fail "cp from the catalog into openstack2 failed"
cp "$WORK/disk.raw" "$MNT/openstack2/images/$FS${loc#.}.raw" || fail "cp of a local file failed"
tok=$(os_token "$CLOUDS_USER2" "$CLOUDS_PASSWORD2" "$CLOUDS_PROJECT2")
for n in "$dot" "${sl//\//%2F}" "$loc"; do
    got=$(curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images?name=$n" | json_get images 0 name) ||
        fail "openstack2 has no image named $n: $(curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images" | head -c 600)"
    [ "$got" = "${n//%2F//}" ] || fail "image named $got, want ${n//%2F//}"
done
exit 0
