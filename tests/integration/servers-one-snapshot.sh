#!/bin/bash
# Several files of one server, one snapshot: a cp of all four files of web1
# (snapshot_reuse: later opens reuse it), and four readers of db1's files
# started together with snapshot_reuse=0 (they wait for the one being
# taken). With snapshot_reuse=0 a later open takes a new one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.lib"
trap 'nova_knobs_reset; delete_snapshots web1 db1; cleanup' EXIT
mount_servers
mkdir -p "$WORK/out"
n0=$(snapshot_count web1)
cp "$SERVERS/web1.qcow2" "$SERVERS/web1.vmdk" "$SERVERS/web1.ovf" "$SERVERS/web1.ova" "$WORK/out/" ||
    fail "cp of web1's files"
[ "$(snapshot_count web1)" = $((n0 + 1)) ] || fail "cp of 4 files took $(($(snapshot_count web1) - n0)) snapshots of web1"
[ "$(log_count 'snapshot web1-snapshot-.* requested')" = 1 ] || fail "the log shows $(log_count 'snapshot web1-snapshot-.* requested') snapshots of web1"
disk=$(server_field web1 disk_path)
qemu-img compare -q -f qcow2 -F qcow2 "$WORK/out/web1.qcow2" "$disk" || fail "web1.qcow2 differs from web1's disk"
qemu-img compare -q -f vmdk -F qcow2 "$WORK/out/web1.vmdk" "$disk" || fail "web1.vmdk differs from web1's disk"
tar -tf "$WORK/out/web1.ova" | grep -q '\.ovf$' || fail "web1.ova holds no .ovf"
grep -q 'web1.vmdk' "$WORK/out/web1.ovf" || fail "web1.ovf does not reference web1.vmdk"
unmount_cloudfs

# Together, with no reuse at all: still one.
mount_servers -o snapshot_reuse=0
n0=$(snapshot_count db1)
for e in qcow2 vmdk ovf ova; do
    cat "$SERVERS/db1.$e" >"$WORK/out/db1.$e" &
    BG_PIDS+=($!)
done
for p in "${BG_PIDS[@]}"; do wait "$p" || fail "a reader of db1's files failed"; done
BG_PIDS=()
[ "$(snapshot_count db1)" = $((n0 + 1)) ] || fail "4 concurrent opens took $(($(snapshot_count db1) - n0)) snapshots of db1"
[ "$(grep -c '"path":"/openstack/servers/db1"' "$MNT/.cloudfs/status")" = 1 ] ||
    fail "/.cloudfs/status should show one snapshot of db1: $(cat "$MNT/.cloudfs/status")"
qemu-img compare -q -f vmdk -F qcow2 "$WORK/out/db1.vmdk" "$(server_field db1 disk_path)" || fail "db1.vmdk differs from db1's disk"
grep -q '<rasd:VirtualQuantity>2</rasd:VirtualQuantity>' "$WORK/out/db1.ovf" || fail "db1.ovf lacks m1.medium's 2 vCPUs"
grep -q '<rasd:VirtualQuantity>4096</rasd:VirtualQuantity>' "$WORK/out/db1.ovf" || fail "db1.ovf lacks m1.medium's 4096 MiB"

# A later open, reuse 0: a new snapshot.
head -c 1 "$SERVERS/db1.qcow2" >/dev/null || fail "reading db1.qcow2 again"
[ "$(snapshot_count db1)" = $((n0 + 2)) ] || fail "snapshot_reuse=0: a later open should take a new snapshot"
exit 0
