#!/bin/bash
# TLS: Keystone and Glance reached over https (the instance's own CA).
# Without the CA, verification fails: the listing fails and the log says
# why (the certificate); with `cacert:` it works and an image reads right;
# with `verify: false` it works too.
. "$(dirname "$0")/lib.sh"
[ -n "${CLOUDS_KEYSTONE_TLS_URL:-}" ] && [ -n "${CLOUDS_GLANCE_TLS_URL:-}" ] || skip "no TLS front"

id=$(manifest openstack ext4-compressed id)
want=$(manifest openstack ext4-compressed sha256)
for mode in none cacert noverify; do
    LOG=$WORK/$mode.log
    case $mode in
    none) extra="" ;;
    cacert) extra="    cacert: $CLOUDS_CACERT" ;;
    noverify) extra="    verify: false" ;;
    esac
    { echo "    image_endpoint_override: $CLOUDS_GLANCE_TLS_URL"; [ -z "$extra" ] || echo "$extra"; } |
        clouds_yaml "$WORK/clouds-$mode.yaml" "$CLOUDS_KEYSTONE_TLS_URL"
    export OS_CLIENT_CONFIG_FILE=$WORK/clouds-$mode.yaml
    mount_cloudfs -o clouds=t,timeout=5,retries=1
    timed 30 ls "$MNT/t/images" >"$WORK/ls" 2>"$WORK/err"
    [ $RC = 124 ] && fail "$mode: ls hangs"
    if [ $mode = none ]; then
        [ $RC != 0 ] || fail "without the CA the listing succeeded: certificates are not verified"
        grep -qi 'certificate' "$LOG" || fail "without the CA: the log does not mention the certificate"
        echo "without the CA: $(grep -i -m1 certificate "$LOG")"
    else
        [ $RC = 0 ] || fail "$mode: listing failed: $(cat "$WORK/err")"
        grep -qxF ext4-compressed.qcow2 "$WORK/ls" || fail "$mode: ext4-compressed.qcow2 not listed"
        got=$(sha256_of "$MNT/t/images/by-id/$id.qcow2") || fail "$mode: reading failed"
        [ "$got" = "$want" ] || fail "$mode: sha256 $got, expected $want"
    fi
    unmount_cloudfs
done
exit 0
