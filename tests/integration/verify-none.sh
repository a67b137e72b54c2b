#!/bin/bash
# -o verify=none turns the digest check off, says so in the log, and keeps
# what it read unchecked out of the block cache: a download with one byte
# corrupted (the shared fault proxy) is copied without error under
# verify=none, and a later mount with the checks on, sharing the block
# cache, still reads the right bytes (or fails), never the corrupted ones.
. "$(dirname "$0")/lib.sh"
use_proxy
id=$(manifest openstack ext4 id)
want=$(manifest openstack ext4 sha256)

mount_cloudfs -o clouds=t,verify=none
f=$MNT/t/images/by-id/$id.qcow2
[ "$(log_count "verify=none: what is read of images is not checked")" = 1 ] ||
    fail "the log does not say that verification is off"
proxy_ctl add mode=corrupt "match=$id/file" count=1 after=$((5 << 20)) || fail "proxy rule"
timed 60 cp "$f" "$WORK/copy"
[ $RC = 124 ] && fail "cp hangs"
[ "$(proxy_applied)" = 1 ] || fail "the proxy corrupted nothing"
[ $RC = 0 ] || fail "cp under verify=none failed ($RC)"
[ "$(sha256_of "$WORK/copy")" != "$want" ] || fail "the copy is right: the corrupted byte never reached it"
[ "$(log_count "does not match the cloud's")" = 0 ] || fail "verify=none still checked: $(grep "does not match" "$LOG")"
proxy_ctl clear
unmount_cloudfs

mount_cloudfs -o clouds=t
timed 60 cp "$MNT/t/images/by-id/$id.qcow2" "$WORK/again"
[ $RC = 124 ] && fail "reading with the checks on hangs"
[ $RC = 0 ] || fail "reading with the checks on failed ($RC)"
[ "$(sha256_of "$WORK/again")" = "$want" ] || fail "the checked mount read wrong bytes: the unchecked ones were cached"

timed 10 "$CLOUDFS" "$WORK/m2" -f -o verify=maybe 2>"$WORK/err"
grep -q "verify= takes all or none" "$WORK/err" || fail "verify=maybe: no clear error: $(cat "$WORK/err")"
[ $RC != 0 ] || fail "verify=maybe was accepted"
exit 0
