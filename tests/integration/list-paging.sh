#!/bin/bash
# Listing: every active image of the project, across pages (Glance here caps
# a page at 10), and nothing that is not active.
. "$(dirname "$0")/lib.sh"
mount_cloudfs -o views=none # the stored files only

listed=$(ls "$MNT/openstack/images" | grep -vc '^by-id$')
expected=$(awk -F'\t' '$1 == "openstack"' "$CLOUDS_MANIFEST" | wc -l)
[ "$expected" -gt 10 ] || fail "the manifest should hold more images than one page"
[ "$listed" -eq "$expected" ] || fail "listed $listed images, the project has $expected active ones"
ls "$MNT/openstack/images" | grep -q '^never-uploaded' && fail "a queued image is listed"
ids=$(ls "$MNT/openstack/images/by-id" | wc -l)
[ "$ids" -eq "$expected" ] || fail "by-id lists $ids, expected $expected"
exit 0
