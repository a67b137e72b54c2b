#!/bin/busybox sh
# The init of the boot-proof guests (tests/boot/build-guest puts it in each
# initramfs as /init). It loads the modules its kind carries (/etc/modules,
# in dependency order), waits up to cfs.rootwait seconds for an ext2 file
# system labelled cfsroot that holds /guest-id, mounts it, finds which
# drivers serve that disk and a NIC, and prints one line on the console:
#   BOOT-OK disk=<driver> nic=<driver> fw=<bios|uefi>
# (or BOOT-FAIL with what is missing), then powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec >/dev/console 2>&1

wait=15
for a in $(cat /proc/cmdline); do
    case $a in cfs.rootwait=*) wait=${a#cfs.rootwait=} ;; esac
done
for m in $(cat /etc/modules); do
    insmod "/lib/modules/$m" 2>/dev/null
done
fw=bios
[ -d /sys/firmware/efi ] && fw=uefi

# driver_of SYSFS_DEVICE: the first driver bound on the way up from a block
# device to the bus (skipping sd, the SCSI disk driver itself).
driver_of() {
    d=$(readlink -f "$1")
    while [ -n "$d" ] && [ "$d" != /sys/devices ] && [ "$d" != / ]; do
        if [ -e "$d/driver" ]; then
            drv=$(basename "$(readlink "$d/driver")")
            [ "$drv" != sd ] && { echo "$drv"; return; }
        fi
        d=${d%/*}
    done
    echo unknown
}

disk=none
i=0
while [ "$disk" = none ] && [ "$i" -le "$((wait * 2))" ]; do
    for p in /sys/class/block/*; do
        [ -e "$p/partition" ] || continue
        n=${p##*/}
        mount -t ext4 -o ro "/dev/$n" /mnt 2>/dev/null || mount -t ext2 -o ro "/dev/$n" /mnt 2>/dev/null || continue
        if [ -f /mnt/guest-id ]; then
            parent=$(readlink -f "$p")
            disk=$(driver_of "${parent%/*}/device")
            break
        fi
        umount /mnt
    done
    [ "$disk" = none ] && { sleep 0.5; i=$((i + 1)); }
done

nic=none
for n in /sys/class/net/*; do
    [ -e "$n/device/driver" ] || continue
    nic=$(basename "$(readlink "$n/device/driver")")
    break
done

if [ "$disk" != none ] && [ "$nic" != none ]; then
    echo "BOOT-OK disk=$disk nic=$nic fw=$fw"
else
    echo "BOOT-FAIL disk=$disk nic=$nic fw=$fw kind=$(cat /etc/kind)"
fi
sync
poweroff -f
