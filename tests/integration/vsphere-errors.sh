#!/bin/bash
# A vSphere cloud that cannot be used says why, within the timeouts:
# a wrong password (EACCES, "refused user"), a datacenter that does not
# exist (ENXIO, naming the ones there are), a vCenter that is down
# (connection refused) and one that accepts and never answers (bounded by
# timeout= and retries=). The other clouds of the mount are not held up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsphere.lib"
silent_port=$WORK/silent.port
"$PY" -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept())' >"$silent_port" &
BG_PIDS+=($!)
wait_until 5 test -s "$silent_port" || fail "the silent server did not start"
dead=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cfg=$WORK/cloudfs.yaml
(umask 077; cat >"$cfg" <<YAML
clouds:
  vs-good:
    type: vsphere
    url: $CLOUDS_VSPHERE_URL
    user: $CLOUDS_VSPHERE_USER
    password: "$CLOUDS_VSPHERE_PASSWORD"
    cacert: $CLOUDS_CACERT
  vs-badpw:
    type: vsphere
    url: $CLOUDS_VSPHERE_URL
    user: $CLOUDS_VSPHERE_USER
    password: not-the-password
    cacert: $CLOUDS_CACERT
  vs-nodc:
    type: vsphere
    url: $CLOUDS_VSPHERE_URL/sdk
    user: $CLOUDS_VSPHERE_USER
    password: "$CLOUDS_VSPHERE_PASSWORD"
    datacenter: NoSuchDC
    cacert: $CLOUDS_CACERT
  vs-dead:
    type: vsphere
    url: https://127.0.0.1:$dead
    user: u
    password: p
  vs-silent:
    type: vsphere
    url: https://127.0.0.1:$(cat "$silent_port")
    user: u
    password: p
YAML
)
mount_cloudfs -o "config=$cfg,timeout=3,retries=1"

try() {  # CLOUD ERRNO-TEXT LOG-TEXT MAX-MS
    timed 60 ls "$MNT/$1/vms" >/dev/null 2>"$WORK/err"
    [ $RC != 0 ] || fail "$1: ls vms/ succeeded"
    [ $RC != 124 ] && [ $RC != 137 ] || fail "$1: ls vms/ still hangs after 60 s"
    grep -q "$2" "$WORK/err" || fail "$1: ls failed with '$(cat "$WORK/err")', want '$2'"
    grep -q "vsphere: $1: .*$3" "$LOG" || fail "$1: no log line saying '$3'"
    [ "$MS" -lt "$4" ] || fail "$1: the error took $MS ms (bound $4)"
}
try vs-badpw "Permission denied" "refused user $CLOUDS_VSPHERE_USER" 5000
try vs-nodc "No such device" "no datacenter named NoSuchDC (there is: DC0)" 5000
try vs-dead "Connection refused\|Input/output" "127.0.0.1:$dead" 5000
# While the silent one stalls, the working cloud of the same mount lists.
ls "$MNT/vs-silent/vms" >/dev/null 2>&1 &
BG_PIDS+=($!)
sleep 0.5
timed 20 ls "$MNT/vs-good/vms" >/dev/null
[ $RC = 0 ] || fail "the working vsphere cloud failed to list (exit $RC) while another stalled"
[ "$MS" -lt 2000 ] || fail "the working vsphere cloud took $MS ms while another stalled"
wait "${BG_PIDS[-1]}" 2>/dev/null
# The first request (the version, not retried) stalls for timeout=3 s; the
# background ls above failed at the same, and the failure is held a few s.
sleep 3.5
try vs-silent "timed out\|Input/output" "no data for 3 s" 8000
for secret in "not-the-password" "$CLOUDS_VSPHERE_PASSWORD" vmware_soap_session; do
    grep -qF -- "$secret" "$LOG" && fail "the log holds a secret: $(grep -F -- "$secret" "$LOG" | head -2)"
done
exit 0
