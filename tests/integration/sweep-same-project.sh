#!/bin/bash
# Two clouds of one mount that name the same project (clouds a and b, the
# demo project by name and domain; c is demo2): the crash clean-up at mount
# runs once for a and b, so a leftover image of a killed upload is removed
# once and no sweep races another to log an error for it (fs/sweep.c,
# core/cloud/openstack/scope.c); c is swept on its own.
. "$(dirname "$0")/lib.sh"
tok=$(os_token)
[ -n "$tok" ] || fail "no Keystone token"
IMAGES=()
finish() {
    for id in "${IMAGES[@]}"; do
        curl -s -X DELETE -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images/$id" >/dev/null
    done
    cleanup
}
trap finish EXIT

cloud() { # NAME USER PASSWORD PROJECT
    cat <<YAML
  $1:
    auth:
      auth_url: $CLOUDS_KEYSTONE_URL
      username: $2
      password: $3
      project_name: $4
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
YAML
}
{
    echo "clouds:"
    cloud a "$CLOUDS_USER" "$CLOUDS_PASSWORD" "$CLOUDS_PROJECT"
    cloud b "$CLOUDS_USER" "$CLOUDS_PASSWORD" "$CLOUDS_PROJECT"
    cloud c "$CLOUDS_USER2" "$CLOUDS_PASSWORD2" "$CLOUDS_PROJECT2"
} >"$WORK/clouds.yaml"
chmod 600 "$WORK/clouds.yaml"
export OS_CLIENT_CONFIG_FILE=$WORK/clouds.yaml

# A leftover as crash-sweep.sh makes it: the marker of a process of this
# host that has exited.
dead=$(sh -c 'echo $$')
id=$(curl -sf -X POST "$CLOUDS_GLANCE_URL/v2/images" -H "X-Auth-Token: $tok" \
    -H 'Content-Type: application/json' \
    -d "{\"name\":\"half-$$\",\"disk_format\":\"raw\",\"container_format\":\"bare\",\"cloudfs_upload\":\"cloudfs-upload:v1:$(hostname):$dead:12345:$(date +%s)\",\"tags\":[\"cloudfs-upload\"]}" |
    json_get id) || fail "cannot create an image with a marker"
[ -n "$id" ] || fail "cannot create an image with a marker"
IMAGES+=("$id")

mount_cloudfs -o clouds=a:b:c,log_level=debug
image_gone() { ! glance_image "$id" "$tok" >/dev/null; }
wait_until 15 image_gone || fail "the mount did not remove the half-made image"
swept() { [ "$(log_count 'sweep for half-made uploads done')" -ge 2 ]; }
wait_until 15 swept || fail "the sweeps did not end: $(grep -i sweep "$LOG")"
# Unmounted, cloudfs has waited for every sweep still running.
fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
gone() { ! kill -0 "$CFS_PID" 2>/dev/null; }
wait_until 20 gone || fail "cloudfs still runs after fusermount3 -u"
wait "$CFS_PID"
CFS_PID=

sweeps=$(grep 'sweep for half-made uploads done' "$LOG" | sed 's/.*cloud \([a-z]*\): sweep.*/\1/' | sort | tr '\n' ' ')
case "$sweeps" in
"a c ") ;;
*) fail "not one sweep for a and b and one for c: clouds swept: $sweeps" ;;
esac
[ "$(log_count "removed half-made image half-$$ \\($id\\)")" = 1 ] ||
    fail "not one removal line: $(grep half-made "$LOG")"
errors=$(grep -E 'cloudfs (error|warn):' "$LOG" | grep -v 'unencrypted (http://)')
[ -z "$errors" ] || fail "the sweep logged errors: $errors"
echo "one sweep for the two clouds of project demo (and one for demo2): the leftover removed once, no error"
