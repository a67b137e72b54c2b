#!/bin/bash
# make demo / make demo-stop: start the local clouds (real Keystone and
# Glance, the vCD emulator, vcsim; tests/clouds/up), mount them at ./mnt, list
# them, copy an image out (checked against the uploaded original), and
# migrate it from OpenStack to vCloud Director with one cp.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
state=$top/.demo
clouds=$state/clouds
mnt=$top/mnt

stop() {
    if mountpoint -q "$mnt" 2>/dev/null; then
        fusermount3 -u "$mnt" && echo "demo: unmounted $mnt"
    fi
    if [ -d "$clouds" ]; then
        tests/clouds/down "$clouds" >/dev/null && echo "demo: local clouds stopped"
    fi
}

start() {
    mkdir -p "$state"
    if [ ! -f "$clouds/env" ] ||
        ! (. "$clouds/env" && curl -sf "$CLOUDS_GLANCE_URL/healthcheck" >/dev/null &&
            curl -sf "${CLOUDS_VCD_CONTROL:-http://0/}/knobs" >/dev/null); then
        tests/clouds/down "$clouds" >/dev/null 2>&1 || true
        rm -rf "$clouds"
        echo "demo: starting the local clouds (Keystone + Glance from Debian, the vCD emulator, vcsim) in $clouds ..."
        tests/clouds/up "$clouds" >"$state/clouds-up.log" 2>&1 ||
            { tail -20 "$state/clouds-up.log"; exit 1; }
    fi
    # shellcheck disable=SC1091
    . "$clouds/env"
    mkdir -p "$mnt"
    mountpoint -q "$mnt" && fusermount3 -u "$mnt"
    ./cloudfs "$mnt" -o "log=$state/cloudfs.log,config=$CLOUDS_CLOUDFS_YAML,cache_dir=$state/cache"
    echo
    echo "\$ ls $mnt"
    ls "$mnt"
    echo
    echo "\$ ls -l $mnt/openstack/images | head"
    ls -l "$mnt/openstack/images" | head -12
    echo
    local src=$mnt/openstack/images/ext4.qcow2
    echo "\$ cp $src $state/"
    cp "$src" "$state/"
    echo "\$ sha256sum $state/ext4.qcow2"
    local got want
    got=$(sha256sum "$state/ext4.qcow2" | cut -d' ' -f1)
    want=$(awk -F'\t' '$1 == "openstack" && $2 == "ext4" { print $7 }' "$CLOUDS_MANIFEST")
    echo "$got"
    [ "$got" = "$want" ] || { echo "demo: the copy differs from the uploaded image!"; exit 1; }
    echo "(equal to the file uploaded to Glance)"
    if command -v qemu-img >/dev/null; then
        echo "\$ qemu-img info $state/ext4.qcow2"
        qemu-img info "$state/ext4.qcow2" | head -4
    fi
    echo
    echo "The same image as VMware imports it, converted on the fly:"
    echo "\$ cp $mnt/openstack/images/ext4.vmdk $mnt/openstack/images/ext4.ovf $state/"
    cp "$mnt/openstack/images/ext4.vmdk" "$mnt/openstack/images/ext4.ovf" "$state/"
    echo "\$ qemu-img compare $state/ext4.qcow2 $state/ext4.vmdk"
    qemu-img compare "$state/ext4.qcow2" "$state/ext4.vmdk"
    qemu-img info "$state/ext4.vmdk" | grep -E "create type|virtual size"
    echo "\$ grep -o 'vmw:osType=\"[^\"]*\"\|ovf:href=\"[^\"]*\"' $state/ext4.ovf"
    grep -o 'vmw:osType="[^"]*"\|ovf:href="[^"]*"' "$state/ext4.ovf"
    echo
    echo "The migration: OpenStack (qcow2 in Glance) to VMware Cloud Director (a vApp template):"
    local name=ext4-$(date +%H%M%S)
    echo "\$ ls $mnt/vcloud/catalogs"
    ls "$mnt/vcloud/catalogs"
    echo "\$ time cp $mnt/openstack/images/ext4.vmdk $mnt/vcloud/catalogs/migrated/$name.vmdk"
    time cp "$mnt/openstack/images/ext4.vmdk" "$mnt/vcloud/catalogs/migrated/$name.vmdk"
    echo "\$ ls -l $mnt/vcloud/catalogs/migrated/"
    ls -l "$mnt/vcloud/catalogs/migrated/"
    local st disk
    st=$(curl -sf "$CLOUDS_VCD_CONTROL/state" | /usr/bin/python3 -c '
import json, sys
t = [t for t in json.load(sys.stdin)["templates"] if t["catalog"] == "migrated" and t["name"] == sys.argv[1]][0]
print(t["status"], [f["path"] for f in t["files"]][0])' "$name")
    disk=${st#* }
    echo "vCD template $name: status ${st%% *} (8 = ready); its disk, as vCD stored it:"
    qemu-img info "$disk" | grep -E "create type|virtual size"
    echo "\$ qemu-img compare $state/ext4.qcow2 <the template's disk>"
    qemu-img compare "$state/ext4.qcow2" "$disk"
    [ "${st%% *}" = 8 ] || { echo "demo: the template is not ready!"; exit 1; }
    echo
    echo "vSphere to OpenStack: a VM in the vCenter simulator (vcsim), its disk put on the"
    echo "datastore as a vSphere user does, copied into Glance as qcow2 with its hardware:"
    local vm=web-$(date +%H%M%S)
    qemu-img convert -O vmdk -o subformat=monolithicFlat "$state/ext4.qcow2" "$state/$vm.vmdk"
    /usr/bin/python3 tests/clouds/vcsim/vm.py create "$vm" >/dev/null
    /usr/bin/python3 tests/clouds/vcsim/vm.py disk "$vm" "$state/$vm.vmdk" "$state/$vm-flat.vmdk" \
        --controller pvscsi --nic vmxnet3 --cpus 2 --memory 1024 --guest debian10_64Guest >/dev/null
    rm -f "$state/$vm.vmdk" "$state/$vm-flat.vmdk"
    echo "\$ ls -l $mnt/vsphere/vms/ | grep $vm"
    ls -l "$mnt/vsphere/vms/" | grep "$vm"
    echo "\$ time cp $mnt/vsphere/vms/$vm.qcow2 $mnt/openstack/images/"
    time cp "$mnt/vsphere/vms/$vm.qcow2" "$mnt/openstack/images/"
    echo "\$ getfattr -d $mnt/openstack/images/$vm.qcow2 | grep -E 'hw_|min_ram|os_(type|distro|version)'"
    getfattr --absolute-names -d "$mnt/openstack/images/$vm.qcow2" | grep -E 'hw_|min_ram|os_(type|distro|version)='
    echo "\$ qemu-img compare $state/ext4.qcow2 $mnt/openstack/images/$vm.qcow2"
    qemu-img compare "$state/ext4.qcow2" "$mnt/openstack/images/$vm.qcow2" ||
        { echo "demo: the image in Glance differs from the VM's disk!"; exit 1; }
    echo
    echo "demo: the clouds are mounted at $mnt (log: $state/cloudfs.log)."
    echo "      Try: ls -l mnt/openstack/images mnt/vsphere/vms; cp mnt/openstack/images/*.vmdk mnt/vcloud/catalogs/migrated/"
    echo "      Stop with: make demo-stop"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
