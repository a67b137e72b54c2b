#!/bin/bash
# Every /v2.1 request needs a valid Keystone token: without one or with a bad one 401 (as
# keystonemiddleware answers: {"error": {"code": 401, ...}} and WWW-Authenticate naming Keystone);
# the version documents need none; an application-credential token works like a password one;
# a revoked token is refused once the emulator's validation cache is flushed.
. "$(dirname "$0")/lib.sh"
web1=$(sid web1)
for p in /servers /servers/detail "/servers/$web1" /flavors/detail; do
    req GET "$CLOUDS_NOVA_URL$p"
    expect "GET $p without a token" 401 "$CODE"
    expect "GET $p without a token: error code" 401 "$(j .error.code)"
    expect_match "WWW-Authenticate" "^Keystone uri=\"$CLOUDS_KEYSTONE_URL\"" "$(hdr WWW-Authenticate)"
    req GET "$CLOUDS_NOVA_URL$p" -H "X-Auth-Token: gAAAAABnot-a-token"
    expect "GET $p with a bad token" 401 "$CODE"
done
req POST "$CLOUDS_NOVA_URL/servers/$web1/action" -H 'Content-Type: application/json' -d '{"createImage":{"name":"x"}}'
expect "createImage without a token" 401 "$CODE"
# a token from Keystone with one character in the middle changed (the last one may only
# carry padding bits), so its signature fails
c=${TOKEN:40:1}
[ "$c" = A ] && r=B || r=A
bad=${TOKEN:0:40}$r${TOKEN:41}
req GET "$CLOUDS_NOVA_URL/servers" -H "X-Auth-Token: $bad"
expect "a tampered token" 401 "$CODE"
nova GET /servers
expect "with the token" 200 "$CODE"
req GET "$CLOUDS_NOVA_URL"
expect "GET /v2.1 (version document) without a token" 200 "$CODE"
expect "version document id" v2.1 "$(j .version.id)"
expect "max microversion" 2.96 "$(j .version.version)"
# an application credential's token (project demo)
at=$(curl -sS -D - -o /dev/null -H 'Content-Type: application/json' -d "{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],\"application_credential\":{\"id\":\"$CLOUDS_APPCRED_ID\",\"secret\":\"$CLOUDS_APPCRED_SECRET\"}}}}" \
    "$CLOUDS_KEYSTONE_URL/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
TOK=$at nova GET "/servers/$web1"
expect "GET web1 with an application credential's token" 200 "$CODE"
rt=$(token "$CLOUDS_USER" "$CLOUDS_PASSWORD" "$CLOUDS_PROJECT")
TOK=$rt nova GET /servers
expect "a fresh token" 200 "$CODE"
curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" -H "X-Subject-Token: $rt" "$CLOUDS_KEYSTONE_URL/auth/tokens"
ctl POST flush-tokens >/dev/null || fail "POST flush-tokens"
TOK=$rt nova GET /servers
expect "the token after its revocation" 401 "$CODE"
exit 0
