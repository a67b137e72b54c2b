#!/bin/bash
# make install DESTDIR=D PREFIX=P stages the binary, the man page and the
# mount helper under D, the helper running P/bin's cloudfs; make uninstall
# with the same variables removes those files and nothing else.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/install.lib"
dest=$WORK/dest
prefix=/opt/cloudfs-test
mkdir -p "$dest$prefix/bin"
echo keep >"$dest$prefix/bin/other"     # not ours: uninstall must leave it
make_in install DESTDIR="$dest" PREFIX="$prefix"

expected=$(printf '%s\n' "$prefix/bin/cloudfs" "$prefix/bin/other" \
    "$prefix/share/man/man1/cloudfs.1" /sbin/mount.fuse.cloudfs | sort)
got=$(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort)
[ "$got" = "$expected" ] || fail "installed files: $(echo $got), expected: $(echo $expected)"
[ "$(stat -c %a "$dest$prefix/bin/cloudfs")" = 755 ] || fail "cloudfs not mode 755"
[ "$(stat -c %a "$dest/sbin/mount.fuse.cloudfs")" = 755 ] || fail "the helper is not mode 755"
[ "$(stat -c %a "$dest$prefix/share/man/man1/cloudfs.1")" = 644 ] || fail "the man page is not mode 644"
cmp -s "$CLOUDFS" "$dest$prefix/bin/cloudfs" || fail "the installed cloudfs is not the one built"
"$dest$prefix/bin/cloudfs" --version | grep -q '^cloudfs [0-9]' || fail "the installed cloudfs does not run"
# The helper names where cloudfs will be (PREFIX), not where it was staged.
grep -q "^PATH='$prefix/bin':" "$dest/sbin/mount.fuse.cloudfs" || fail "the helper does not put $prefix/bin first: $(grep PATH= "$dest/sbin/mount.fuse.cloudfs")"
grep -q "$dest" "$dest/sbin/mount.fuse.cloudfs" && fail "the helper names DESTDIR"
sh -n "$dest/sbin/mount.fuse.cloudfs" || fail "the helper is not a valid sh script"
if command -v man >/dev/null; then
    MANWIDTH=200 man -l "$dest$prefix/share/man/man1/cloudfs.1" 2>/dev/null | grep -q 'clouds_yaml=FILE' ||
        fail "the installed man page does not render clouds_yaml=FILE"
fi

make_in uninstall DESTDIR="$dest" PREFIX="$prefix"
got=$(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort)
[ "$got" = "$prefix/bin/other" ] || fail "after uninstall: $(echo $got) (expected only $prefix/bin/other)"
echo "installed and uninstalled under DESTDIR: $(echo $expected | sed "s|$prefix/bin/other ||")"
exit 0
