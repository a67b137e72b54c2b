#!/bin/bash
# Region and interface pick the image endpoint from the catalog: in region
# RegionTwo the public endpoint is the fault proxy (its request count grows
# with the listing and the read), the internal one is Glance itself (the
# count stays); RegionOne public is Glance itself. Each lists and reads right.
. "$(dirname "$0")/lib.sh"
PROXY_USED=1
proxy_ctl clear stats=1 || fail "the fault proxy does not answer"

id=$(manifest openstack filler-06 id)
want=$(manifest openstack filler-06 sha256)
for case in "RegionTwo public proxy" "RegionTwo internal direct" "RegionOne public direct"; do
    read -r region itf via <<<"$case"
    printf '    region_name: %s\n    interface: %s\n' "$region" "$itf" |
        clouds_yaml "$WORK/clouds-$region-$itf.yaml"
    export OS_CLIENT_CONFIG_FILE=$WORK/clouds-$region-$itf.yaml
    LOG=$WORK/$region-$itf.log
    mount_cloudfs -o clouds=t
    n0=$(proxy_ctl stats | json_get requests)
    ls "$MNT/t/images" | grep -qxF filler-06.raw || fail "$region/$itf: filler-06.raw not listed"
    got=$(sha256_of "$MNT/t/images/by-id/$id.raw") || fail "$region/$itf: reading failed"
    [ "$got" = "$want" ] || fail "$region/$itf: sha256 $got, expected $want"
    n1=$(proxy_ctl stats | json_get requests)
    if [ $via = proxy ]; then
        [ $((n1 - n0)) -ge 2 ] || fail "$region/$itf: $((n1 - n0)) requests through the proxy, expected the listing and the read"
        proxy_recent | grep -q "$id/file" || fail "$region/$itf: the read did not go through the proxy"
    else
        [ "$n1" = "$n0" ] || fail "$region/$itf: $((n1 - n0)) requests went through the proxy (RegionTwo's public endpoint)"
    fi
    unmount_cloudfs
done
exit 0
