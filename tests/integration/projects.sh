#!/bin/bash
# Projects are separate: cloud openstack (project demo) lists exactly demo's
# images and openstack2 (project demo2) exactly demo2's; an image of one
# project cannot be looked up or read through the other cloud.
. "$(dirname "$0")/lib.sh"
mount_cloudfs -o views=none # the stored files only

ids_of() { awk -F'\t' -v c="$1" '$1 == c { print $3 "." $4 }' "$CLOUDS_MANIFEST" | sort; }
for cloud in openstack openstack2; do
    ls "$MNT/$cloud/images/by-id" | sort >"$WORK/$cloud.ls" || fail "$cloud: listing failed"
    ids_of $cloud >"$WORK/$cloud.want"
    [ -s "$WORK/$cloud.want" ] || fail "the manifest has no image of $cloud"
    diff "$WORK/$cloud.want" "$WORK/$cloud.ls" >"$WORK/diff" ||
        fail "$cloud lists other images than its project's: $(cat "$WORK/diff")"
done

only2=$(manifest openstack2 only-in-2 id)
[ -n "$only2" ] || fail "no only-in-2 in the manifest"
ls "$MNT/openstack/images" | grep -q '^only-in-2' && fail "only-in-2 is listed in openstack"
[ -e "$MNT/openstack/images/by-id/$only2.qcow2" ] && fail "openstack finds demo2's image by id"
cat "$MNT/openstack/images/by-id/$only2.qcow2" >/dev/null 2>&1 && fail "openstack reads demo2's image"
ext4=$(manifest openstack ext4 id)
[ -e "$MNT/openstack2/images/by-id/$ext4.qcow2" ] && fail "openstack2 finds demo's image by id"
[ -e "$MNT/openstack2/images/ext4.qcow2" ] && fail "openstack2 lists demo's ext4"

# The same twin name in both projects: each cloud reads its own project's bytes.
got=$(sha256_of "$MNT/openstack2/images/twin.qcow2") || fail "reading openstack2's twin failed"
[ "$got" = "$(manifest openstack2 twin sha256)" ] || fail "openstack2's twin.qcow2 has other bytes than demo2's twin"
exit 0
