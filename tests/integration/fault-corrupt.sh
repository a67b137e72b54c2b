#!/bin/bash
# One corrupted byte in a download (through the shared fault proxy) is never
# silent: the complete sequential read fails with EIO (cp exits non-zero),
# the log names the digest mismatch, and reading the image again afterwards
# (the proxy now clean) gives the right bytes or an error, never the
# corrupted ones.
. "$(dirname "$0")/lib.sh"
use_proxy
mount_cloudfs -o clouds=t
ls "$MNT/t/images" >/dev/null || fail "listing failed"

id=$(manifest openstack ext4 id)
f=$MNT/t/images/by-id/$id.qcow2
want=$(manifest openstack ext4 sha256)
proxy_ctl add mode=corrupt "match=$id/file" count=1 after=$((5 << 20)) || fail "proxy rule"
timed 30 cp "$f" "$WORK/copy" 2>"$WORK/err"
[ $RC = 124 ] && fail "cp hangs"
[ "$(proxy_applied)" = 1 ] || fail "the proxy corrupted nothing"
[ $RC != 0 ] || fail "cp of a corrupted download succeeded (sha256 $(sha256_of "$WORK/copy"))"
grep -q 'Input/output error' "$WORK/err" || fail "cp failed, but not with EIO: $(cat "$WORK/err")"
[ "$(log_count "does not match the cloud's")" -ge 1 ] || fail "the log does not name the digest mismatch"
proxy_ctl clear

for how in sha256sum cp; do
    if [ $how = cp ]; then timed 30 cp "$f" "$WORK/again"; else timed 30 sha256sum "$f" >"$WORK/sum"; fi
    [ $RC = 124 ] && fail "reading again ($how) hangs"
    [ $RC = 0 ] || { echo "reading again ($how): error $RC"; continue; }
    got=$([ $how = cp ] && sha256_of "$WORK/again" || cut -d' ' -f1 "$WORK/sum")
    [ "$got" = "$want" ] || fail "reading again after the mismatch ($how) succeeded with wrong bytes: sha256 $got, expected $want"
    echo "reading again ($how): right bytes"
done
exit 0
