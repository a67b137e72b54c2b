#!/bin/bash
# The per-cloud keys that say what an OVA written into images/ becomes
# (cloudfs(1)): upload_format: raw makes each disk a bare raw image,
# upload_format: keep a bare image in the disk's own format (the VMDK sent as
# it is), ova: keep stores the OVA itself (container_format ova, its bytes
# unchanged) for Nova's VMware driver; a name that asks for a disk format
# (NAME.raw) wins over upload_format. A value the key does not take leaves
# the cloud out, with one log line. (Cloud r takes its key from cloudfs.yaml,
# an entry without auth that adds it to clouds.yaml's cloud r.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ova.lib"
P=gova-$$-$RANDOM
trap 'glance_delete_named "$P-r" "$P-r-disk2" "$P-k" "$P-k-disk2" "$P-o" "$P-n" "$P-n-disk2"; cleanup' EXIT
make_ova "$P"

cloud() { # NAME KEY: VALUE
    cat <<YAML
  $1:
    auth:
      auth_url: $CLOUDS_KEYSTONE_URL
      username: $CLOUDS_USER
      password: $CLOUDS_PASSWORD
      project_name: $CLOUDS_PROJECT
      user_domain_name: Default
      project_domain_name: Default
    $2
YAML
}
{
    echo "clouds:"
    cloud r "region_name: RegionOne"
    cloud k "upload_format: keep"
    cloud o "ova: keep"
    cloud bad "upload_format: vdi"
} >"$WORK/clouds.yaml"
printf 'clouds:\n  r:\n    upload_format: raw\n' >"$WORK/cloudfs.yaml"
chmod 600 "$WORK/clouds.yaml" "$WORK/cloudfs.yaml"
export OS_CLIENT_CONFIG_FILE=$WORK/clouds.yaml
mount_cloudfs -o "config=$WORK/cloudfs.yaml"
[ -d "$MNT/r/images" ] && [ -d "$MNT/k/images" ] && [ -d "$MNT/o/images" ] || fail "clouds missing: $(ls "$MNT")"
[ -e "$MNT/bad" ] && fail "a cloud with upload_format: vdi was mounted"
[ "$(log_count 'cloud bad: upload_format takes qcow2, raw or keep, not "vdi"')" = 1 ] || fail "no log line for upload_format: vdi"

for c in r k o; do
    timed 180 cp "$OVA" "$MNT/$c/images/$P-$c.ova"
    [ $RC = 0 ] || fail "cp of the OVA into cloud $c failed (exit $RC)"
done
landed "$P-r" raw bare "$WORK/ova/d1.vmdk" vmdk
landed "$P-r-disk2" raw bare "$WORK/ova/d2.qcow2" qcow2
landed "$P-k" vmdk bare "$WORK/ova/d1.vmdk" vmdk
landed "$P-k-disk2" qcow2 bare "$WORK/ova/d2.qcow2" qcow2
id=$(glance_ids "$P-k")
[ "$(glance_image "$id" "$TOK" | json_get checksum)" = "$(md5sum <"$WORK/ova/d1.vmdk" | cut -d' ' -f1)" ] ||
    fail "upload_format: keep changed the VMDK's bytes"
landed "$P-o" vmdk ova
id=$(glance_ids "$P-o")
[ "$(glance_image "$id" "$TOK" | json_get checksum)" = "$(md5sum <"$OVA" | cut -d' ' -f1)" ] ||
    fail "ova: keep did not store the OVA as it is"
[ -z "$(glance_ids "$P-o-disk2")" ] || fail "ova: keep unpacked a disk"

# The name asks for raw: it wins over ova: keep.
timed 180 cp "$OVA" "$MNT/o/images/$P-n.raw"
[ $RC = 0 ] || fail "cp of the OVA as .raw failed (exit $RC)"
landed "$P-n" raw bare "$WORK/ova/d1.vmdk" vmdk
landed "$P-n-disk2" raw bare
exit 0
