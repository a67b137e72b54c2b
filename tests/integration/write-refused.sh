#!/bin/bash
# Writing where no cloud object can be made (a cloud's own directory,
# by-id/): create answers EROFS or EACCES, nothing is spooled, the cache
# directory stays empty, Glance gets nothing; mkdir, rm (without
# allow_delete) and renames of images to a dot-file are refused (EPERM),
# into another directory EXDEV (mv-rename-glance.sh has the renames), an image cannot be
# opened for writing; the mount is read-write; the default cache
# directory is created with mode 0700.
. "$(dirname "$0")/lib.sh"
export CLOUDFS_CACHE_DIR=$WORK/cache/cloudfs
mount_cloudfs
cache=$CLOUDFS_CACHE_DIR
images=$MNT/openstack/images

[ "$(stat -c %a "$cache")" = 700 ] || fail "cache directory mode $(stat -c %a "$cache"), want 700"
grep -q " $MNT .*\brw\b" /proc/mounts || fail "the mount is not read-write: $(grep " $MNT " /proc/mounts)"
[ "$(stat -c %a "$images")" = 700 ] || fail "images/ is $(stat -c %a "$images"), want 700 (put)"
[ "$(stat -c %a "$images/by-id")" = 500 ] || fail "by-id/ is $(stat -c %a "$images/by-id"), want 500"

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

for path in "$images/by-id/new.raw" "$images/by-id/.rsync-tmp.XXXXXX" "$MNT/openstack/new.qcow2"; do
    e=$(errno_of create "$path")
    case $e in EROFS | EACCES) ;; *) fail "create of $path: $e, want EROFS or EACCES" ;; esac
    [ ! -e "$path" ] || fail "$path shows after a refused create"
done
echo data >"$WORK/src.raw"
cp "$WORK/src.raw" "$images/by-id/" 2>/dev/null && fail "cp into by-id/ succeeded"
[ -z "$(ls -A "$cache" | grep -vx blocks)" ] || fail "the cache directory is not empty: $(ls -A "$cache")"

e=$(errno_of mkdir "$images/dir")
[ "$e" = EPERM ] || fail "mkdir: $e, want EPERM"
img=$images/$(manifest openstack ext4 name).qcow2
[ -f "$img" ] || fail "no $img"
e=$(errno_of unlink "$img")
[ "$e" = EACCES ] || fail "rm of an image: $e, want EACCES"
e=$(errno_of rename "$img" "$images/.other.qcow2")
[ "$e" = EPERM ] || fail "rename of an image to a dot-file: $e, want EPERM"
e=$(errno_of rename "$img" "$images/by-id/other.qcow2")
[ "$e" = EXDEV ] || fail "rename of an image into by-id/: $e, want EXDEV"
e=$(errno_of write "$img")
[ "$e" = EEXIST ] || fail "open of an image for writing: $e, want EEXIST"
chmod 600 "$img" || fail "chmod of an image should succeed without effect"
[ "$(stat -c %a "$img")" = 400 ] || fail "an image's mode changed"

# Glance got nothing.
tok=$(os_token)
n=$(curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images?name=new" | json_get images | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 0 ] || fail "Glance has $n images named new"
unmount_cloudfs
[ -z "$(ls -A "$cache" | grep -vx blocks)" ] || fail "the cache directory is not empty after unmount"
exit 0
