#!/bin/bash
# Application-credential auth (auth_type v3applicationcredential, id and
# secret, no user name or project): the cloud lists project demo's images
# and an image reads right.
. "$(dirname "$0")/lib.sh"
[ -n "${CLOUDS_APPCRED_ID:-}" ] || skip "the local clouds have no application credential"
cat >"$WORK/clouds.yaml" <<YAML
clouds:
  ac:
    auth_type: v3applicationcredential
    auth:
      auth_url: $CLOUDS_KEYSTONE_URL
      application_credential_id: $CLOUDS_APPCRED_ID
      application_credential_secret: $CLOUDS_APPCRED_SECRET
    region_name: RegionOne
YAML
chmod 600 "$WORK/clouds.yaml"
export OS_CLIENT_CONFIG_FILE=$WORK/clouds.yaml
mount_cloudfs -o clouds=ac,views=none # the stored files only

ls "$MNT/ac/images/by-id" | sort >"$WORK/ls" || fail "listing failed"
awk -F'\t' '$1 == "openstack" { print $3 "." $4 }' "$CLOUDS_MANIFEST" | sort >"$WORK/want"
diff "$WORK/want" "$WORK/ls" >"$WORK/diff" || fail "ac lists other images than project demo's: $(cat "$WORK/diff")"
got=$(sha256_of "$MNT/ac/images/ext4-compressed.qcow2") || fail "reading failed"
[ "$got" = "$(manifest openstack ext4-compressed sha256)" ] || fail "sha256 $got is wrong"
[ "$(log_count 'keystone: cloud ac: authenticated')" -ge 1 ] || fail "the log shows no authentication of cloud ac"
exit 0
