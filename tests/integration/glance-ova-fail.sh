#!/bin/bash
# A multi-disk OVA whose upload fails leaves no half-made images: its first
# disk's image is made and active, the second disk cannot be converted (a
# qcow2 marked encrypted, under a name that asks for raw), so close() fails
# with that errno (ENOTSUP), the first image is deleted again, no image of
# either name stays, and the cause is one error line naming the disk.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ova.lib"
P=gova-$$-$RANDOM
trap 'glance_delete_named "$P" "$P-disk2"; cleanup' EXIT
make_ova "$P" crypt
mount_cloudfs
dir=$MNT/openstack/images

timed 180 cp "$OVA" "$dir/$P.raw" 2>"$WORK/err"
[ $RC = 124 ] && fail "cp hangs"
[ $RC != 0 ] || fail "cp of an OVA with a broken second disk succeeded"
grep -q "Operation not supported" "$WORK/err" || fail "not ENOTSUP: $(cat "$WORK/err")"
[ "$(log_count "uploading .*$P.raw \(disk 1 of 2, d1.vmdk\) as image $P ")" = 1 ] ||
    fail "the first disk's image was not made first"
first=$(grep -oE "as image $P \([0-9a-f-]+" "$LOG" | head -1 | sed 's/.*(//')
[ -n "$first" ] || fail "no id of the first image in the log"
[ "$(log_count "clean-up: deleted image $first")" = 1 ] || fail "the first image was not deleted"
[ -z "$(glance_ids "$P")" ] && [ -z "$(glance_ids "$P-disk2")" ] ||
    fail "images stayed: $(glance_ids "$P") $(glance_ids "$P-disk2")"
curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOK" "$CLOUDS_GLANCE_URL/v2/images/$first" |
    grep -q 404 || fail "image $first still exists"
[ "$(log_count "error: .*$P.raw \(disk 2 of 2, d2.qcow2\)")" = 1 ] ||
    fail "not one error line naming the second disk: $(grep -E "error: .*$P" "$LOG")"
ls "$dir" | grep -q "^$P" && fail "the failed file is still listed: $(ls "$dir" | grep "^$P")"
exit 0
