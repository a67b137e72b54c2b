#!/bin/bash
# Every source format × every view (issue 4): qcow2, raw, VMDK
# (monolithicSparse and streamOptimized) and VHD (fixed and dynamic) images
# made by qemu-img, each shown as .raw .vmdk .vhd .qcow2 .ova (minus its own
# format) by the same code as the mount (build/viewcat), each view equal to
# its source under qemu-img compare (-F vpc for VHD) and accepted by its
# format's checker; and the shared corpus: three images decoded with all
# their views, three VHDs refused with nothing served.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip "qemu-utils missing"
viewcat=$TOP/build/viewcat
[ -x "$viewcat" ] || make -C "$TOP" -s build/viewcat >/dev/null || fail "cannot build viewcat"
corpus=$TOP/../shared/corpus
[ -d "$corpus" ] || corpus=/work/shared/corpus
out=$(mktemp -d /dev/shm/cfs-formats.XXXXXX)
trap 'rm -rf "$out"; cleanup' EXIT

qfmt() { case $1 in vhd) echo vpc ;; *) echo "$1" ;; esac; }

# check NAME FILE FORMAT: every view of FILE (stored as FORMAT) equals it.
check() {
    local name=$1 f=$2 fmt=$3 v
    for v in raw vmdk vhd qcow2 ova; do
        [ "$v" = "$fmt" ] && continue
        "$viewcat" "$f" "$fmt" "$v" >"$out/view.$v" 2>"$out/err" || { cat "$out/err"; fail "$name: viewcat $v"; }
        [ "$v" = ova ] && continue
        qemu-img compare -q -f "$(qfmt "$fmt")" -F "$(qfmt "$v")" "$f" "$out/view.$v" ||
            fail "$name ($fmt): the .$v view differs"
    done
    [ "$fmt" = vmdk ] || qemu-img check -q -f vmdk "$out/view.vmdk" || fail "$name: qemu-img check refuses the .vmdk"
    [ "$fmt" = qcow2 ] || qemu-img check -q -f qcow2 "$out/view.qcow2" || fail "$name: qemu-img check refuses the .qcow2"
    if [ "$fmt" != qcow2 ] && command -v qcowinfo >/dev/null; then
        qcowinfo "$out/view.qcow2" >/dev/null 2>&1 || fail "$name: qcowinfo refuses the .qcow2"
    fi
    if [ "$fmt" != vmdk ] && command -v vmdkinfo >/dev/null; then
        vmdkinfo "$out/view.vmdk" >/dev/null 2>&1 || fail "$name: vmdkinfo refuses the .vmdk"
    fi
    VIEWCAT_VHD=dynamic "$viewcat" "$f" "$fmt" vhd >"$out/dyn.vhd" 2>/dev/null || [ "$fmt" = vhd ] ||
        fail "$name: dynamic .vhd"
    if [ "$fmt" != vhd ]; then
        qemu-img compare -q -f "$(qfmt "$fmt")" -F vpc "$f" "$out/dyn.vhd" || fail "$name: the dynamic .vhd differs"
    fi
    rm -f "$out"/view.* "$out/dyn.vhd"
}

# A guest with data in a few places, then the same guest in every format.
qemu-img create -q -f qcow2 "$WORK/g.qcow2" 70M
qemu-io -f qcow2 -c "write -P 0x11 0 64k" -c "write -P 0x22 10M 300k" -c "write -P 0x33 69M 1M" \
    "$WORK/g.qcow2" >/dev/null || fail "qemu-io"
qemu-img convert -O raw "$WORK/g.qcow2" "$WORK/g.raw"
qemu-img convert -O vmdk "$WORK/g.qcow2" "$WORK/mono.vmdk"
qemu-img convert -O vmdk -o subformat=streamOptimized "$WORK/g.qcow2" "$WORK/stream.vmdk"
qemu-img convert -O vpc -o subformat=fixed,force_size=on "$WORK/g.qcow2" "$WORK/fixed.vhd"
qemu-img convert -O vpc -o subformat=dynamic,force_size=on "$WORK/g.qcow2" "$WORK/dynamic.vhd"
check qcow2 "$WORK/g.qcow2" qcow2
check raw "$WORK/g.raw" raw
check monolithicSparse "$WORK/mono.vmdk" vmdk
check streamOptimized "$WORK/stream.vmdk" vmdk
check fixed-vhd "$WORK/fixed.vhd" vhd
check dynamic-vhd "$WORK/dynamic.vhd" vhd

# The corpus: what its README says.
[ -d "$corpus" ] || skip "no corpus"
check corpus/ext2.qcow2 "$corpus/ext2.qcow2" qcow2
check corpus/ext2.vmdk "$corpus/ext2.vmdk" vmdk
check corpus/ext2.vhd "$corpus/ext2.vhd" vhd
check corpus/iso9660.raw "$corpus/iso9660.raw" raw
for bad in fat-differential.vhd image.vhd image-differential.vhd; do
    "$viewcat" "$corpus/$bad" vhd raw >"$out/bad" 2>"$out/err" && fail "$bad was not refused"
    [ -s "$out/bad" ] && fail "$bad: bytes were served"
    grep -q "$bad" "$out/err" || fail "$bad: the error does not name the image: $(cat "$out/err")"
done
echo "6 generated sources and 4 corpus images × every view; 3 corpus VHDs refused"
exit 0
