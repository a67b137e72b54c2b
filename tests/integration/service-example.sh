#!/bin/bash
# examples/cloudfs.service, its paths made the local clouds' and a temporary
# PREFIX's install, passes systemd-analyze verify; its ExecStart, run as
# systemd runs a service (no environment: no HOME, no OS_* variables), mounts
# every local cloud and logs to stderr (the journal); SIGTERM, what
# systemctl stop sends, unmounts it and cloudfs exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/install.lib"
unit=$WORK/cloudfs.service
sed -e "s|/usr/local/bin/cloudfs|$PREFIX/bin/cloudfs|g" -e "s|/mnt/clouds|$MNT|g" \
    -e "s|/etc/cloudfs/cloudfs.yaml|$CLOUDS_DIR/cloudfs.yaml|g" \
    -e "s|/etc/openstack/clouds.yaml|$CLOUDS_DIR/clouds.yaml|g" \
    -e "s|/var/cache/cloudfs|$WORK/cache|g" "$TOP/examples/cloudfs.service" >"$unit"
for s in "$PREFIX/bin/cloudfs" "$MNT " "$CLOUDS_DIR/cloudfs.yaml" "$CLOUDS_DIR/clouds.yaml" "$WORK/cache"; do
    grep '^ExecStart=' "$unit" | grep -qF -- "$s" || fail "examples/cloudfs.service's ExecStart lacks what became $s"
done
# The service needs no mount helper: the binary and the man page only.
make_in install PREFIX="$PREFIX" MOUNT_HELPER_DIR=
if command -v systemd-analyze >/dev/null; then
    MANPATH=$PREFIX/share/man: systemd-analyze verify "$unit" >"$WORK/verify.log" 2>&1 ||
        fail "systemd-analyze verify: $(cat "$WORK/verify.log")"
fi
read -r -a pre <<<"$(sed -n 's/^ExecStartPre=//p' "$unit")"
read -r -a cmd <<<"$(sed -n 's/^ExecStart=//p' "$unit")"
(cd / && env -i "${pre[@]}") || fail "ExecStartPre failed: ${pre[*]}"
(cd / && exec env -i "${cmd[@]}") >>"$CFS_OUT" 2>&1 &
CFS_PID=$!
wait_until 20 mountpoint -q "$MNT" || fail "ExecStart did not mount within 20 s: ${cmd[*]}"
check_listing
grep -q 'mounted [0-9]* clouds' "$CFS_OUT" || fail "no log line on stderr (the journal)"
kill -TERM "$CFS_PID"
wait_until 30 sh -c "! kill -0 $CFS_PID 2>/dev/null" || fail "cloudfs still runs 30 s after SIGTERM"
wait "$CFS_PID"
rc=$?
CFS_PID=
[ "$rc" = 0 ] || fail "cloudfs exited $rc after SIGTERM"
mountpoint -q "$MNT" && fail "$MNT still mounted after SIGTERM"
make_in uninstall PREFIX="$PREFIX" MOUNT_HELPER_DIR=
echo "examples/cloudfs.service: verified, mounted $ALL_CLOUDS without environment, stopped with exit 0"
exit 0
