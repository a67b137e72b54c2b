#!/bin/bash
# A wrong or missing password: listing and copying fail with EACCES, the log
# says the login was refused, and the password never appears in the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
cat >"$WORK/cloudfs.yaml" <<YAML
clouds:
  vcloud:
    type: vcloud
    url: $CLOUDS_VCD_URL
    org: $CLOUDS_VCD_ORG
    user: $CLOUDS_VCD_USER
    password: wrong-secret-$$
    cacert: $CLOUDS_CACERT
  nopw:
    type: vcloud
    url: $CLOUDS_VCD_URL
    org: $CLOUDS_VCD_ORG
    user: $CLOUDS_VCD_USER
    cacert: $CLOUDS_CACERT
YAML
chmod 600 "$WORK/cloudfs.yaml"
mkdir -p "$WORK/cache"
mount_cloudfs -o "config=$WORK/cloudfs.yaml,cache_dir=$WORK/cache"
ls "$MNT/vcloud/catalogs" 2>"$WORK/err" && fail "listing with a wrong password succeeded"
grep -q 'Permission denied' "$WORK/err" || fail "ls says: $(cat "$WORK/err") (expected Permission denied)"
timed 60 cp "$MNT/openstack/images/ext4.vmdk" "$MNT/vcloud/catalogs/migrated/x.vmdk" 2>"$WORK/err"
[ "$RC" != 0 ] || fail "cp with a wrong password succeeded"
grep -Eqi 'refused|denied|401' "$LOG" || fail "the log does not say the login was refused"
grep -q "wrong-secret-$$" "$LOG" "$CFS_OUT" && fail "the password is in the log"
if ls "$MNT/nopw" >/dev/null 2>&1; then
    ls "$MNT/nopw/catalogs" 2>"$WORK/err" && fail "listing without a password succeeded"
fi
grep -q 'nopw' "$LOG" "$CFS_OUT" || fail "nothing says cloud nopw has no password"
no_spool_left
echo "wrong and missing passwords refused"
