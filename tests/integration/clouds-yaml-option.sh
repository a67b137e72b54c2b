#!/bin/bash
# -o clouds_yaml=FILE names clouds.yaml where the environment names none
# (env -i): its clouds are mounted; it wins over $OS_CLIENT_CONFIG_FILE, as
# config= wins over $CLOUDFS_CONFIG; a FILE that does not exist fails the
# mount, and the log names it.
. "$(dirname "$0")/lib.sh"
mkdir -p "$MNT"
cd "$WORK" || fail "no $WORK"   # no ./clouds.yaml in the search
base=log=$LOG,cache_dir=$WORK/cache

# start_env ENV...: cloudfs -f with only ENV, as a service or fstab has it.
start_env() {
    env -i "$@" "$CLOUDFS" "$MNT" -f -o "$OPTS" >>"$CFS_OUT" 2>&1 &
    CFS_PID=$!
    wait_until 10 mountpoint -q "$MNT" || fail "cloudfs -o $OPTS did not mount"
}

OPTS=$base,clouds_yaml=$CLOUDS_DIR/clouds.yaml
start_env
for c in openstack openstack2; do
    [ -d "$MNT/$c" ] || fail "no $c with clouds_yaml= and no environment: $(ls "$MNT" | tr '\n' ' ')"
done
ls "$MNT/openstack/images" | grep -q '^ext4\.qcow2$' || fail "openstack/images lists no ext4.qcow2"
unmount_cloudfs

clouds_yaml "$WORK/other.yaml" </dev/null   # one cloud, "t"
start_env OS_CLIENT_CONFIG_FILE="$WORK/other.yaml"
[ -d "$MNT/openstack" ] && [ ! -e "$MNT/t" ] ||
    fail "clouds_yaml= should win over OS_CLIENT_CONFIG_FILE: $(ls "$MNT" | tr '\n' ' ')"
unmount_cloudfs

OPTS=$base,clouds_yaml=$WORK/missing.yaml
env -i "$CLOUDFS" "$MNT" -f -o "$OPTS" >>"$CFS_OUT" 2>&1 && fail "a missing clouds_yaml= file should fail the mount"
mountpoint -q "$MNT" && fail "mounted with a missing clouds_yaml= file"
grep -q "missing.yaml: No such file or directory" "$LOG" || fail "the log does not name the missing file"
echo "clouds_yaml= mounts its clouds without environment, wins over OS_CLIENT_CONFIG_FILE, must exist"
exit 0
