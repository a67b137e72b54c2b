#!/bin/bash
# A URL's "user:password@" never reaches the log, at log_level=debug
# either: a Keystone that cannot be reached is named without it, in the
# error line and in the HTTP layer's debug line alike.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/config.lib"
config_isolate
url_secret=urlsecret-$RANDOM$RANDOM
# Port 1: nothing listens there, the connection is refused at once.
clouds_yaml clouds.yaml "http://someone:$url_secret@127.0.0.1:1/v3" </dev/null
start_or_exit -o log_level=debug,retries=0 && fail "cloudfs did not mount: $(grep -m1 error "$LOG")"
ls "$MNT/t/images" >/dev/null 2>&1 && fail "a cloud with an unreachable Keystone lists"
unmount_cloudfs
for f in "$LOG" "$CFS_OUT"; do
    grep -qF "$url_secret" "$f" && fail "$(basename "$f") holds the URL's password: $(grep -m1 -F "$url_secret" "$f")"
done
grep -q 'debug: http: POST http://127.0.0.1:1/v3/auth/tokens' "$LOG" ||
    fail "no debug line of the failed request (was it logged differently?)"
grep -q 'cannot reach http://127.0.0.1:1/v3' "$LOG" || fail "no error line naming the Keystone"
echo "no URL credentials in the log"
