#!/bin/bash
# The warning about secrets readable by other users judges each file by
# what it holds itself: secure.yaml for its password (clouds.yaml, without
# one, is not blamed), a file holding only an auth.token, and a vCD
# password_file readable by its group.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/config.lib"
config_isolate
cat >clouds.yaml <<YAML
clouds:
  t:
    auth:
      auth_url: $CLOUDS_KEYSTONE_URL
      username: $CLOUDS_USER
      project_name: $CLOUDS_PROJECT
      user_domain_name: Default
      project_domain_name: Default
YAML
chmod 644 clouds.yaml
printf 'clouds:\n  t:\n    auth:\n      password: %s\n' "$CLOUDS_PASSWORD" >secure.yaml
chmod 640 secure.yaml
printf '%s\n' "$CLOUDS_VCD_PASSWORD" >"$WORK/vcd-password"
chmod 640 "$WORK/vcd-password"
cat >"$WORK/cloudfs.yaml" <<YAML
clouds:
  tok:
    type: openstack
    auth:
      auth_url: $CLOUDS_KEYSTONE_URL
      token: not-a-real-token
  vcloud:
    type: vcloud
    url: $CLOUDS_VCD_URL
    org: $CLOUDS_VCD_ORG
    user: $CLOUDS_VCD_USER
    password_file: $WORK/vcd-password
    cacert: $CLOUDS_CACERT
YAML
chmod 644 "$WORK/cloudfs.yaml"
start_or_exit -o "config=$WORK/cloudfs.yaml" && fail "cloudfs did not mount: $(grep -m1 error "$LOG")"
ls "$MNT/t/images" >/dev/null || fail "cloud t (password from secure.yaml) does not list"

grep -q 'secure\.yaml holds .*readable by other users (mode 640)' "$LOG" ||
    fail "no warning that ./secure.yaml, mode 640, exposes its password"
[ "$(log_count 'clouds\.yaml (holds|.*readable)')" = 0 ] ||
    fail "clouds.yaml, without a secret, is blamed: $(grep -m1 'clouds\.yaml.*readable' "$LOG")"
grep -q "$WORK/cloudfs\.yaml holds secrets.*readable by other users (mode 644)" "$LOG" ||
    fail "no warning that cloudfs.yaml exposes its auth.token"
grep -q "password_file $WORK/vcd-password is readable by other users (mode 640)" "$LOG" ||
    fail "no warning that the password_file is readable by its group"
echo "each file warned about on its own"
