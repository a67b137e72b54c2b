#!/bin/bash
# Writing into a cloud that cannot take uploads (OpenStack, until its
# put() lands): create answers EROFS or EACCES, nothing is spooled, the
# cache directory stays empty, Glance gets nothing; mkdir, rm and rename
# of images are refused (rm: ENOTSUP with allow_delete); the mount is no
# longer read-only; the default cache directory is created with mode 0700;
# one log line says why.
. "$(dirname "$0")/lib.sh"
export CLOUDFS_CACHE_DIR=$WORK/cache/cloudfs
mount_cloudfs
cache=$CLOUDFS_CACHE_DIR
images=$MNT/openstack/images

[ "$(stat -c %a "$cache")" = 700 ] || fail "cache directory mode $(stat -c %a "$cache"), want 700"
grep -q " $MNT .*\brw\b" /proc/mounts || fail "the mount is not read-write: $(grep " $MNT " /proc/mounts)"
[ "$(stat -c %a "$images")" = 555 ] || fail "images/ is $(stat -c %a "$images"), want 555 (no put)"

# errno_of OP PATH [PATH2]: the errno name an operation fails with, or OK.
errno_of() {
    "$PY" - "$@" <<'PY'
import errno, os, sys
op, path = sys.argv[1], sys.argv[2]
try:
    if op == "create":
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644))
    elif op == "mkdir":
        os.mkdir(path)
    elif op == "unlink":
        os.unlink(path)
    elif op == "rename":
        os.rename(path, sys.argv[3])
    elif op == "write":
        os.close(os.open(path, os.O_WRONLY))
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}

for name in new.raw .rsync-tmp.XXXXXX new.qcow2; do
    e=$(errno_of create "$images/$name")
    case $e in EROFS | EACCES) ;; *) fail "create of $name: $e, want EROFS or EACCES" ;; esac
    [ ! -e "$images/$name" ] || fail "$name shows after a refused create"
done
echo data >"$WORK/src.raw"
cp "$WORK/src.raw" "$images/" 2>/dev/null && fail "cp into images/ succeeded"
[ -z "$(ls -A "$cache")" ] || fail "the cache directory is not empty: $(ls -A "$cache")"

e=$(errno_of mkdir "$images/dir")
[ "$e" = EPERM ] || fail "mkdir: $e, want EPERM"
img=$images/$(manifest openstack ext4 name).qcow2
[ -f "$img" ] || fail "no $img"
e=$(errno_of unlink "$img")
[ "$e" = EACCES ] || fail "rm of an image: $e, want EACCES"
e=$(errno_of rename "$img" "$images/other.qcow2")
[ "$e" = EPERM ] || fail "rename of an image: $e, want EPERM"
e=$(errno_of write "$img")
[ "$e" = EEXIST ] || fail "open of an image for writing: $e, want EEXIST"
chmod 600 "$img" || fail "chmod of an image should succeed without effect"
[ "$(stat -c %a "$img")" = 444 ] || fail "an image's mode changed"

# Glance got nothing.
tok=$(os_token)
n=$(curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images?name=new" | json_get images | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 0 ] || fail "Glance has $n images named new"

[ "$(log_count 'files cannot be created in openstack/images')" = 1 ] ||
    fail "want one log line for the refusals, got $(log_count 'files cannot be created')"
unmount_cloudfs
[ -z "$(ls -A "$cache")" ] || fail "the cache directory is not empty after unmount"

# allow_delete: deleting is not implemented yet, and says so.
mount_cloudfs -o allow_delete
e=$(errno_of unlink "$img")
[ "$e" = ENOTSUP ] || fail "rm of an image with allow_delete: $e, want ENOTSUP"
[ -f "$img" ] || fail "$img is gone"
exit 0
