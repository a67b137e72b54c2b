#!/bin/bash
# Credentials sent over plain http:// are warned about: one line per cloud
# (Keystone and vCD alike), naming the cloud and the URL without any
# "user:password@" in it, however many logins follow; https clouds get no
# such line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/config.lib"
[ -n "${CLOUDS_KEYSTONE_TLS_URL:-}" ] || skip "no TLS front"
config_isolate
url_secret=urlsecret-$RANDOM$RANDOM
with_user=${CLOUDS_KEYSTONE_URL/http:\/\//http://someone:$url_secret@}
clouds_yaml clouds.yaml </dev/null
{
    cat clouds.yaml
    sed -n '/^  t:/,$p' clouds.yaml | sed "s/^  t:/  tls:/; s|auth_url: .*|auth_url: $CLOUDS_KEYSTONE_TLS_URL|"
    echo "    cacert: $CLOUDS_CACERT"
    sed -n '/^  t:/,$p' clouds.yaml | sed "s/^  t:/  u:/; s|auth_url: .*|auth_url: $with_user|"
} >"$WORK/all.yaml"
mv "$WORK/all.yaml" clouds.yaml
chmod 600 clouds.yaml
cat >"$WORK/cloudfs.yaml" <<YAML
clouds:
  vplain:
    type: vcloud
    url: $CLOUDS_VCD_HTTP_URL
    org: $CLOUDS_VCD_ORG
    user: $CLOUDS_VCD_USER
    password: $CLOUDS_VCD_PASSWORD
  vtls:
    type: vcloud
    url: $CLOUDS_VCD_URL
    org: $CLOUDS_VCD_ORG
    user: $CLOUDS_VCD_USER
    password: $CLOUDS_VCD_PASSWORD
    cacert: $CLOUDS_CACERT
YAML
chmod 600 "$WORK/cloudfs.yaml"
start_or_exit -o "config=$WORK/cloudfs.yaml" && fail "cloudfs did not mount: $(grep -m1 error "$LOG")"
for c in t tls vplain vtls; do
    ls "$MNT/$c/"* >/dev/null || fail "cloud $c does not list"
done
ls "$MNT/u/images" >/dev/null 2>&1 # whether Keystone takes the URL's user does not matter
ls "$MNT/t/images" "$MNT/vplain/catalogs" >/dev/null

# warned CLOUD URL: exactly one warning for CLOUD, naming URL.
warned() {
    local n
    n=$(log_count "warn: (keystone: cloud|vcloud:) $1: credentials go to .* unencrypted")
    [ "$n" = 1 ] || fail "$n warnings about plain http for cloud $1, expected 1"
    grep -qF "$1: credentials go to $2 unencrypted" "$LOG" ||
        fail "the warning for $1 does not name $2: $(grep -m1 "$1: credentials" "$LOG")"
}
warned t "$CLOUDS_KEYSTONE_URL"
warned u "$CLOUDS_KEYSTONE_URL"
warned vplain "$CLOUDS_VCD_HTTP_URL"
[ "$(log_count 'tls: credentials go to')" = 0 ] || fail "a warning for https cloud tls"
[ "$(log_count 'vtls: credentials go to')" = 0 ] || fail "a warning for https cloud vtls"
grep -qF "$url_secret" "$LOG" "$CFS_OUT" && fail "the URL's password is in the log"
echo "plain-http credentials warned about once per cloud"
