#!/bin/bash
# No secret reaches the log or cloudfs's output, even at log_level=debug,
# after listing and reading with password auth, with an application
# credential, and after a refused password: no password, no application-
# credential secret, no token (Fernet tokens start with gAAAA).
. "$(dirname "$0")/lib.sh"
bad_pw=wrong-pw-$RANDOM$RANDOM
cat >"$WORK/clouds.yaml" <<YAML
clouds:
  t:
    auth:
      auth_url: $CLOUDS_KEYSTONE_URL
      username: $CLOUDS_USER
      password: $CLOUDS_PASSWORD
      project_name: $CLOUDS_PROJECT
      user_domain_name: Default
      project_domain_name: Default
  ac:
    auth_type: v3applicationcredential
    auth:
      auth_url: $CLOUDS_KEYSTONE_URL
      application_credential_id: $CLOUDS_APPCRED_ID
      application_credential_secret: $CLOUDS_APPCRED_SECRET
  bad:
    auth:
      auth_url: $CLOUDS_KEYSTONE_URL
      username: $CLOUDS_USER
      password: $bad_pw
      project_name: $CLOUDS_PROJECT
      user_domain_name: Default
      project_domain_name: Default
YAML
chmod 600 "$WORK/clouds.yaml"
export OS_CLIENT_CONFIG_FILE=$WORK/clouds.yaml
mount_cloudfs -o log_level=debug

for c in t ac; do
    ls -l "$MNT/$c/images" >/dev/null || fail "$c: listing failed"
    got=$(sha256_of "$MNT/$c/images/ext4-compressed.qcow2") || fail "$c: reading failed"
    [ "$got" = "$(manifest openstack ext4-compressed sha256)" ] || fail "$c: sha256 wrong"
    head -c 4096 "$MNT/$c/images/ext4.qcow2" >/dev/null || fail "$c: partial read failed"
done
ls "$MNT/bad/images" >/dev/null 2>&1 && fail "a wrong password was accepted"
unmount_cloudfs   # everything flushed

grep -q 'debug' "$LOG" || fail "the log has no debug lines: log_level=debug not honoured?"
for f in "$LOG" "$CFS_OUT"; do
    [ -f "$f" ] || continue
    for secret in "$CLOUDS_PASSWORD" "$CLOUDS_APPCRED_SECRET" "$bad_pw" gAAAA; do
        if grep -qF -- "$secret" "$f"; then
            fail "$(basename "$f") holds a secret: $(grep -F -m1 -- "$secret" "$f" | cut -c1-160)"
        fi
    done
    grep -qiE 'x-auth-token: *[^ *<(]' "$f" && fail "$(basename "$f") holds an X-Auth-Token value"
done
echo "$(wc -l <"$LOG") log lines, no secret in them"
exit 0
