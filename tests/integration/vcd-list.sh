#!/bin/bash
# vCD catalogs as directories: every catalog is listed, each template shows
# as <name>.ova/.ovf/.vmdk, a catalog of more items than one query page
# (140 > 128) is listed whole, and a template's size is 0 until it is opened.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
mount_vcd

got=$(ls "$MNT/vcloud/catalogs" | tr '\n' ' ')
for c in archive golden migrated readonly; do
    [[ " $got" == *" $c "* ]] || fail "catalogs/ lists '$got', no $c"
done
[ -d "$MNT/vcloud/catalogs/golden" ] || fail "golden is not a directory"
n=$(ls "$MNT/vcloud/catalogs/golden" | grep -c '\.vmdk$')
[ "$n" = 3 ] || fail "golden shows $n .vmdk files, expected 3: $(ls "$MNT/vcloud/catalogs/golden")"
for f in "$MNT"/vcloud/catalogs/golden/*.vmdk; do
    b=${f%.vmdk}
    [ -f "$b.ovf" ] && [ -f "$b.ova" ] || fail "$(basename "$b"): no .ovf/.ova next to the .vmdk"
done
n=$(ls "$MNT/vcloud/catalogs/archive" | grep -c '\.ova$')
[ "$n" = 140 ] || fail "archive shows $n templates, expected all 140 (more than one query page)"
f=$(ls "$MNT"/vcloud/catalogs/golden/*.vmdk | head -1)
[ "$(stat -c %s "$f")" = 0 ] || fail "a template's size before its export is $(stat -c %s "$f"), expected 0"
getfattr -n user.cloudfs.id --only-values "$f" 2>/dev/null | grep -Eq '^[0-9a-f-]{36}' ||
    fail "no user.cloudfs.id on $f"
echo "catalogs and templates listed"
