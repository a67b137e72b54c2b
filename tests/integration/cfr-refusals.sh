#!/bin/bash
# copy_file_range that does not describe a whole-file copy: before the
# direct copy starts the answer is EOPNOTSUPP and the kernel copies through
# read and write (a file written first); once it runs, a write(), an
# ftruncate to another size, or a close before the end fail it: the call
# says EIO, close() says EIO, and nothing is left in the cloud. Several
# calls (as cp makes for files over 4 GiB) make a whole copy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cfr.lib"
mount_cfr
dst=$MNT/openstack2/images
[ -d "$dst" ] || skip "no cloud openstack2"
src=$MNT/openstack/images/ext4.qcow2
want=$(sha256_of "$src")
p=cfrr$$
trap 'for m in chunks write-after short bad-truncate write-first; do os_delete_image openstack2 $p-$m; done; cleanup' EXIT
calls() { "$TOP/tests/integration/cfr-calls.py" "$1" "$src" "$dst/$p-$1.qcow2" 2>&1; }

out=$(calls chunks)
echo "$out" | grep -q "close 0$" || fail "chunks: $out"
[ "$(sha256_of "$dst/$p-chunks.qcow2")" = "$want" ] || fail "chunks: the copy differs"
grep -q "upload of /openstack2/images/$p-chunks.qcow2: .*copied from" "$LOG" || fail "chunks: not direct"

for m in write-after short bad-truncate; do
    out=$(calls $m)
    echo "$out" | grep -q "^close EIO$" || fail "$m: $out, want close EIO"
    case $m in
    write-after) echo "$out" | grep -q "^write EIO$" || fail "$m: $out, want write EIO" ;;
    bad-truncate) echo "$out" | grep -q "^truncate EIO$" || fail "$m: $out, want truncate EIO" ;;
    esac
    grep -q "upload of /openstack2/images/$p-$m.qcow2: .*cancelled" "$LOG" || fail "$m: no log line of the cancel"
done
sleep 1
for m in write-after short bad-truncate; do
    [ ! -e "$dst/$p-$m.qcow2" ] || fail "$m: the failed copy is listed"
    [ -z "$(curl -sf -H "X-Auth-Token: $(os_token "$CLOUDS_USER2" "$CLOUDS_PASSWORD2" "$CLOUDS_PROJECT2")" \
        "$CLOUDS_GLANCE_URL/v2/images?name=$p-$m" | json_get images 0 id 2>/dev/null)" ] ||
        fail "$m: Glance still has an image"
done

out=$(calls write-first)
echo "$out" | grep -q "close 0$" || fail "write-first: $out"
[ "$(sha256_of "$dst/$p-write-first.qcow2")" = "$want" ] || fail "write-first: the copy differs"
grep "upload of /openstack2/images/$p-write-first.qcow2: .* bytes to" "$LOG" | grep -q "copied from" &&
    fail "write-first went direct after a write()"
no_spool_files
exit 0
