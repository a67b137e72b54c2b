#!/bin/bash
# vCenter sessions end (they idle out after 30 minutes, an admin ends
# them): the next call is refused as NotAuthenticated, cloudfs logs in
# again once and the listing works; at unmount cloudfs logs out, so that
# mounts do not pile up sessions on the vCenter (it limits them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
name=vse$$
vs_raw "$WORK/d.raw" 4
vs_vm "$name" "$WORK/d.raw"
"$PY" "$VM_PY" end-sessions >/dev/null || fail "vm.py end-sessions failed"
mount_vs -o list_ttl=0
ls "$VMS" | grep -qxF "$name.raw" || fail "first listing: no $name.raw"
[ "$(log_count "vsphere: vsphere: logged in as")" = 1 ] || fail "not one login"
ended=$("$PY" "$VM_PY" end-sessions) || fail "vm.py end-sessions failed"
[ "$ended" = 1 ] || fail "$ended sessions besides vm.py's, want cloudfs's 1"
ls "$VMS" | grep -qxF "$name.raw" || fail "the listing after the session ended failed: $(tail -3 "$LOG")"
[ "$(log_count "vsphere: vsphere: logged in again")" = 1 ] || fail "no log line of the second login"
cmp "$VMS/$name.raw" "$WORK/d.raw" || fail "reading after the new login differs"
unmount_cloudfs
ended=$("$PY" "$VM_PY" end-sessions) || fail "vm.py end-sessions failed"
[ "$ended" = 0 ] || fail "$ended sessions left after unmount: cloudfs did not log out"
exit 0
