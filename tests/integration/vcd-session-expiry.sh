#!/bin/bash
# The API session idles out while a slow disk transfer runs (transfer PUTs
# do not count as activity): cloudfs logs in again and the upload completes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vcd.lib"
[ -n "${CLOUDS_VCD_FAULTPROXY_URL:-}" ] || skip "no fault proxy in front of the emulator"
curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/clear?stats=1" >/dev/null || fail "the vCD fault proxy does not answer"
trap 'curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/clear" >/dev/null; vcd_knobs_reset; cleanup' EXIT
# ~4 s of transfer at 1 MiB/s, a 1 s idle timeout.
curl -sf -X POST "$CLOUDS_VCD_FAULTPROXY_URL/__fault/add?mode=slow&on=request&method=PUT&match=/transfer/&rate=1048576&count=-1" >/dev/null ||
    fail "cannot slow the proxy down"
vcd_knobs '{"session_idle_timeout": 1}'
mount_vcd -o clouds=vcloud-proxy:openstack
t=expiry-$$
timed 300 cp "$MNT/openstack/images/ext4-compressed.vmdk" "$MNT/vcloud-proxy/catalogs/migrated/$t.vmdk"
[ "$RC" = 0 ] || fail "cp exited $RC when the session expired during the transfer"
[ "$(vcd_template migrated "$t" status)" = 8 ] || fail "template $t is not complete"
[ "$(log_count 'log(ged)? ?in|login')" -ge 2 ] || fail "cloudfs did not log in again: $(grep -i login "$LOG")"
vcd_remove migrated "$t"
echo "session expired during the transfer; upload completed"
