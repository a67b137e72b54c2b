#!/bin/bash
# The OS_* variables alone (no clouds.yaml anywhere: OS_CLIENT_CONFIG_FILE
# unset, HOME and the working directory empty) describe a cloud named
# `envvars` that lists project demo's images and reads them right.
. "$(dirname "$0")/lib.sh"
[ ! -e /etc/openstack/clouds.yaml ] || skip "/etc/openstack/clouds.yaml exists and would be read too"
unset OS_CLIENT_CONFIG_FILE OS_CLIENT_SECURE_FILE OS_CLOUD CLOUDFS_CONFIG
mkdir -p "$WORK/home" "$WORK/cwd"
export HOME=$WORK/home
cd "$WORK/cwd" || fail "cd"
export OS_AUTH_URL=$CLOUDS_KEYSTONE_URL OS_USERNAME=$CLOUDS_USER OS_PASSWORD=$CLOUDS_PASSWORD \
    OS_PROJECT_NAME=$CLOUDS_PROJECT OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default \
    OS_REGION_NAME=RegionOne OS_INTERFACE=public OS_IDENTITY_API_VERSION=3
mount_cloudfs -o views=none # the stored files only

[ "$(ls "$MNT")" = envvars ] || fail "the mount shows '$(ls "$MNT" | tr '\n' ' ')', expected only envvars"
ls "$MNT/envvars/images/by-id" | sort >"$WORK/ls" || fail "listing failed"
awk -F'\t' '$1 == "openstack" { print $3 "." $4 }' "$CLOUDS_MANIFEST" | sort >"$WORK/want"
diff "$WORK/want" "$WORK/ls" >"$WORK/diff" || fail "envvars lists other images than project demo's: $(cat "$WORK/diff")"
got=$(sha256_of "$MNT/envvars/images/a／b.raw") || fail "reading failed"
[ "$got" = "$(manifest openstack a/b sha256)" ] || fail "sha256 $got is wrong"
exit 0
