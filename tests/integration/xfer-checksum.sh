#!/bin/bash
# A checksum mismatch on upload: Glance uploads go through the fault proxy,
# which flips one byte of the PUT body. Glance stores what it got and goes
# active; cloudfs must notice (its checksum of what it sent differs from
# Glance's), delete the image and fail close(): cp exits non-zero with EIO,
# the log names the mismatch, and no image of that name remains. Both ways
# in: write() from a local file (spool) and cp within the mount
# (copy_file_range).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer.lib"
use_proxy
mkdir -p "$WORK/cache"
mount_cloudfs -o "clouds=t,cache_dir=$WORK/cache"
ls "$MNT/t/images" >/dev/null || fail "listing failed"

# corrupted_upload LABEL SRC NAME: cp SRC to images/NAME.qcow2 with one
# byte of the upload flipped; checks the failure and what is left.
corrupted_upload() {
    local label=$1 src=$2 name=$3 before left
    before=$(log_count '(checksum|hash).*(mismatch|does not match|differ)|mismatch.*(checksum|hash)')
    proxy_ctl clear stats=1
    proxy_ctl add mode=corrupt on=request method=PUT match=/file after=$((1 << 20)) count=1 ||
        fail "proxy rule"
    timed 120 cp "$src" "$MNT/t/images/$name.qcow2" 2>"$WORK/err.$label"
    [ "$RC" = 124 ] && fail "$label: cp hangs"
    [ "$(proxy_applied)" = 1 ] || fail "$label: the proxy corrupted no upload: $(proxy_recent | tr '\n' ';')"
    [ "$RC" != 0 ] || fail "$label: cp of a corrupted upload succeeded"
    grep -q 'Input/output error' "$WORK/err.$label" ||
        fail "$label: cp failed, but not with EIO: $(cat "$WORK/err.$label")"
    [ "$(log_count '(checksum|hash).*(mismatch|does not match|differ)|mismatch.*(checksum|hash)')" -gt "$before" ] ||
        fail "$label: the log does not name the checksum mismatch"
    left=$(glance_named "$TOK1" "$name")
    [ -z "$left" ] || fail "$label: Glance still has the corrupted image: $left"
    [ ! -e "$MNT/t/images/$name.qcow2" ] || fail "$label: $name.qcow2 is still listed"
    left=$(find "$WORK/cache" -type f -not -path '*/blocks/*' | head -3)
    [ -z "$left" ] || fail "$label: files left in the cache directory: $left"
}

n=x$$
corrupted_upload write "$(manifest openstack ext4 path)" "$n-w"
corrupted_upload copy "$MNT/t/images/ext4.qcow2" "$n-c"

# The proxy clean again: the same upload goes through.
proxy_ctl clear
timed 120 cp "$(manifest openstack ext4 path)" "$MNT/t/images/$n-ok.qcow2"
[ "$RC" = 0 ] || fail "cp through the clean proxy exited $RC"
[ "$(glance_named "$TOK1" "$n-ok" | cut -f2)" = active ] || fail "no active image after a clean upload"
exit 0
