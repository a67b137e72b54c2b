#!/bin/bash
# Writing into a full spool disk: with the cache dir on a 64 MiB tmpfs (no
# reserve), cp of a 200 MiB file of real data from local disk into images/
# fails with ENOSPC ("No space left on device"), leaves no image of that
# name in Glance, nothing listed, and nothing in the tmpfs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer.lib"
cache=$WORK/cache
mkdir -p "$cache"
mount -t tmpfs -o size=64m,mode=0700 tmpfs "$cache" 2>/dev/null || skip "cannot mount a tmpfs here"
# The tmpfs goes before lib.sh's cleanup removes $WORK.
trap 'xfer_cleanup; unmount_cloudfs; umount "$cache"; cleanup' EXIT

n=x$$
head -c $((200 << 20)) /dev/urandom >"$WORK/$n.raw"
mount_cloudfs -o "cache_dir=$cache,cache_reserve=0"

timed 120 cp "$WORK/$n.raw" "$MNT/openstack/images/" 2>"$WORK/err"
[ "$RC" = 124 ] && fail "cp into a full spool hangs"
[ "$RC" != 0 ] || fail "cp of 200 MiB through a 64 MiB spool succeeded"
grep -q 'No space left on device' "$WORK/err" || fail "cp failed, but not with ENOSPC: $(cat "$WORK/err")"

left=$(glance_named "$TOK1" "$n")
[ -z "$left" ] || fail "Glance has an image of the failed upload: $left"
[ ! -e "$MNT/openstack/images/$n.raw" ] || fail "$n.raw is listed after the failed upload"
left=$(find "$cache" -type f | head -3)
[ -z "$left" ] || fail "files left in the spool tmpfs: $left ($(df -h "$cache" | tail -1))"
[ "$(df --output=used -B1M "$cache" | tail -1 | tr -d ' ')" -le 1 ] ||
    fail "the spool tmpfs still holds data: $(df -h "$cache" | tail -1)"
exit 0
