#!/bin/bash
# A shell glob batch of every sample image, Glance to Glance: one cp of
# MNT/openstack/images/*.qcow2 and *.raw (odd names, twins and the >2 GiB
# sparse raw among them) into openstack2/images/ makes one active image per
# file in the second project, each with the source's bytes (sha256 of the
# copy read back through the mount, equal to the sample's), a disk_format
# sniffed from the content, and no spool file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer.lib"
mkdir -p "$WORK/cache"
mount_cloudfs -o "cache_dir=$WORK/cache"
src=$MNT/openstack/images
dst=$MNT/openstack2/images

shopt -s nullglob
files=("$src"/*.qcow2 "$src"/*.raw)
want=$(awk -F'\t' '$1 == "openstack" && /^[^#]/' "$CLOUDS_MANIFEST" | grep -c .)
[ ${#files[@]} = "$want" ] || fail "the glob matched ${#files[@]} files, the manifest has $want openstack images"
for f in "${files[@]}"; do
    [ ! -e "$dst/$(basename "$f")" ] || fail "openstack2 already has $(basename "$f")"
done

timed 600 cp "${files[@]}" "$dst/"
[ "$RC" = 0 ] || fail "cp of ${#files[@]} images into openstack2 exited $RC"

# expected_sha FILE: the manifest's sha256 for a file name of images/
# (NAME.EXT, NAME~ID8.EXT for a twin, ／ for a / in the name).
expected_sha() {
    local b=${1%.*}
    if [[ $b == *~* ]]; then
        awk -F'\t' -v p="${b##*~}" '$1 == "openstack" && index($3, p) == 1 { print $7 }' "$CLOUDS_MANIFEST"
    else
        manifest openstack "${b//／//}" sha256
    fi
}

# Glance's own record: one new image per file, all active, none left queued
# or saving.
glance_list "$TOK2" | sort -t $'\t' -k1,1 | join -t $'\t' -v 1 - "$WORK/images-before.2" >"$WORK/new"
[ "$(grep -c . "$WORK/new")" = ${#files[@]} ] ||
    fail "$(grep -c . "$WORK/new") new images in openstack2 for ${#files[@]} files: $(cut -f4 "$WORK/new" | tr '\n' ' ')"
bad=$(awk -F'\t' '$2 != "active"' "$WORK/new")
[ -z "$bad" ] || fail "images not active: $bad"

for f in "${files[@]}"; do
    b=$(basename "$f")
    [ -f "$dst/$b" ] || fail "$b is not listed in openstack2/images: $(ls "$dst" | tr '\n' ' ')"
    # named after the file without its extension (／ may be stored as /),
    # disk_format as the source's
    name=${b%.*}
    awk -F'\t' -v n="$name" -v m="${name//／//}" -v f="${b##*.}" '($4 == n || $4 == m) && $3 == f { ok = 1 }
        END { exit !ok }' "$WORK/new" || fail "$b: no new ${b##*.} image named $name: $(cut -f3,4 "$WORK/new" | tr '\n' ' ')"
    exp=$(expected_sha "$b")
    [ -n "$exp" ] || fail "$b: no sha256 in the manifest"
    got=$(sha256_of "$dst/$b") || fail "$b: reading the copy failed"
    [ "$got" = "$exp" ] || fail "$b: sha256 of the copy $got, the sample's $exp"
done
no_spool=$(find "$WORK/cache" -type f -not -path '*/blocks/*' | head -3)
[ -z "$no_spool" ] || fail "files left in the cache directory: $no_spool"
echo "${#files[@]} images copied in one cp"
exit 0
