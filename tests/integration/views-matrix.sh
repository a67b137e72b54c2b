#!/bin/bash
# Every view of every qcow2 of a generated matrix (cluster sizes 512 B to
# 2 MiB, extended L2, zlib and zstd compression, compat 0.10 and 1.1, a size
# that is not a multiple of 64 KiB, empty, fully allocated, 2 GiB and more)
# and of the qcow2 files of the shared corpus, made from local files by the
# same code as the mount (build/viewcat) and judged by other readers:
# qemu-img compare (view = source), qemu-img check and vmdkinfo (.vmdk), the
# OVF schema (.ovf), tar (.ova = .ovf + .vmdk), and bytes read = view size.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip "qemu-utils missing"
viewcat=$TOP/build/viewcat
[ -x "$viewcat" ] || make -C "$TOP" -s build/viewcat >/dev/null || fail "cannot build viewcat"
validate=$TOP/../shared/schemas/validate
[ -x "$validate" ] || validate=/work/shared/schemas/validate
corpus=$TOP/../shared/corpus
[ -d "$corpus" ] || corpus=/work/shared/corpus
out=$(mktemp -d /dev/shm/cfs-matrix.XXXXXX)
trap 'rm -rf "$out"; cleanup' EXIT

# make NAME SIZE CREATE-OPTIONS [convert -c zlib|zstd]: a qcow2 with writes.
make_image() {
    local name=$1 size=$2 opts=$3 comp=${4:-} f=$WORK/$1.qcow2
    qemu-img create -q -f qcow2 -o "$opts" "$f" "$size" || fail "$name: create"
    local bytes
    bytes=$(qemu-img info --output=json "$f" | $PY -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
    if [ "$bytes" -gt 0 ]; then
        qemu-io -f qcow2 -c "write -P 0x11 0 4k" -c "write -P 0x22 $((bytes / 3)) 200k" \
            -c "write -z $((bytes / 2)) 128k" -c "write -P 0x33 $((bytes - 4096)) 4k" "$f" >/dev/null ||
            fail "$name: write"
    fi
    if [ -n "$comp" ]; then
        qemu-img convert -c -O qcow2 -o "$opts,compression_type=$comp" "$f" "$f.c" && mv "$f.c" "$f" ||
            fail "$name: compress"
    fi
    echo "$f"
}

check_views() { # NAME FILE
    local name=$1 f=$2 v
    for v in vmdk raw ovf ova; do
        "$viewcat" "$f" qcow2 "$v" >"$out/image.$v" || fail "$name: viewcat $v"
    done
    qemu-img compare -q -f qcow2 -F vmdk "$f" "$out/image.vmdk" || fail "$name: .vmdk differs"
    qemu-img compare -q -f qcow2 -F raw "$f" "$out/image.raw" || fail "$name: .raw differs"
    qemu-img check -q -f vmdk "$out/image.vmdk" || fail "$name: qemu-img check refuses the .vmdk"
    if command -v vmdkinfo >/dev/null; then
        vmdkinfo "$out/image.vmdk" >/dev/null 2>&1 || fail "$name: vmdkinfo refuses the .vmdk"
    fi
    if [ -x "$validate" ]; then
        "$validate" ovf "$out/image.ovf" 2>/dev/null || fail "$name: the .ovf does not validate"
    fi
    mkdir -p "$out/x"
    (cd "$out/x" && tar -xf "$out/image.ova") || fail "$name: tar"
    cmp -s "$out/x/image.ovf" "$out/image.ovf" && cmp -s "$out/x/image.vmdk" "$out/image.vmdk" ||
        fail "$name: the .ova's members differ from the views"
    # The size the view states is what it gives: the OVF's File size is the
    # .vmdk's, and a tar holds its members' exact sizes.
    grep -q "ovf:size=\"$(stat -c %s "$out/image.vmdk")\"" "$out/image.ovf" ||
        fail "$name: the OVF's ovf:size is not the .vmdk's size"
    rm -rf "$out/x" "$out"/image.*
}

n=0
for spec in \
    "c512 8M cluster_size=512" \
    "c4k 8M cluster_size=4096" \
    "c64k 8M cluster_size=65536" \
    "c2m 16M cluster_size=2097152" \
    "ext64k 8M cluster_size=65536,extended_l2=on" \
    "ext2m 16M cluster_size=2097152,extended_l2=on" \
    "compat010 8M compat=0.10" \
    "odd 5000k cluster_size=65536" \
    "empty 0 cluster_size=65536" \
    "zlib 8M cluster_size=65536 zlib" \
    "zstd 8M cluster_size=65536 zstd" \
    "zstd-ext 8M cluster_size=65536,extended_l2=on zstd" \
    "big 2148532224 cluster_size=65536"; do
    set -- $spec
    f=$(make_image "$1" "$2" "$3" "${4:-}") || exit 1
    check_views "$1" "$f"
    n=$((n + 1))
done
# Fully allocated.
qemu-img create -q -f qcow2 -o preallocation=full "$WORK/full.qcow2" 4M || fail "full"
qemu-io -f qcow2 -c "write -P 0x5a 0 4M" "$WORK/full.qcow2" >/dev/null || fail "full: write"
check_views full "$WORK/full.qcow2"
n=$((n + 1))
for c in ext2.qcow2 windows_volume.qcow2; do
    if [ -f "$corpus/$c" ]; then
        check_views "corpus/$c" "$corpus/$c"
        n=$((n + 1))
    fi
done
echo "$n images, 4 views each, judged by qemu-img, vmdkinfo, the OVF schema and tar"
exit 0
