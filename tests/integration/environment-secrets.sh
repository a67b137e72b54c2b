#!/bin/bash
# OS_PASSWORD, OS_TOKEN and OS_APPLICATION_CREDENTIAL_SECRET leave
# cloudfs's environment once read: /proc/PID/environ no longer shows
# their values, and fusermount3, which cloudfs runs to unmount at
# SIGTERM, does not inherit them. The cloud they describe still works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/config.lib"
[ -n "${CLOUDS_APPCRED_ID:-}" ] || skip "the local clouds have no application credential"
config_isolate
pw=env-password-$RANDOM$RANDOM
tok=env-token-$RANDOM$RANDOM
# fusermount3 as cloudfs runs it (from PATH): its environment is kept.
real=$(command -v fusermount3) || skip "no fusermount3"
mkdir -p "$WORK/bin"
cat >"$WORK/bin/fusermount3" <<SH
#!/bin/sh
env >"$WORK/child-env.\$PPID"
exec "$real" "\$@"
SH
chmod 755 "$WORK/bin/fusermount3"
export PATH=$WORK/bin:$PATH
# Application-credential auth: the password and token are there too, unused.
export OS_AUTH_URL=$CLOUDS_KEYSTONE_URL OS_AUTH_TYPE=v3applicationcredential \
    OS_APPLICATION_CREDENTIAL_ID=$CLOUDS_APPCRED_ID \
    OS_APPLICATION_CREDENTIAL_SECRET=$CLOUDS_APPCRED_SECRET \
    OS_PASSWORD=$pw OS_TOKEN=$tok OS_REGION_NAME=RegionOne
export -n CLOUDS_APPCRED_SECRET # the same value, in a variable cloudfs does not read
mount_cloudfs -o views=none
ls "$MNT/envvars/images" >/dev/null || fail "cloud envvars does not list"

tr '\0' '\n' <"/proc/$CFS_PID/environ" >"$WORK/environ" 2>/dev/null ||
    skip "cannot read /proc/$CFS_PID/environ (no CAP_SYS_PTRACE?)"
grep -q "^OS_AUTH_URL=$CLOUDS_KEYSTONE_URL" "$WORK/environ" ||
    fail "/proc/PID/environ does not show OS_AUTH_URL: is this cloudfs's?"
for s in "$pw" "$tok" "$CLOUDS_APPCRED_SECRET"; do
    grep -qF -- "$s" "$WORK/environ" && fail "/proc/PID/environ still holds $(grep -F -m1 -- "$s" "$WORK/environ" | cut -d= -f1)"
done

pid=$CFS_PID
kill -TERM "$pid"
wait_until 30 test -s "$WORK/child-env.$pid" || fail "cloudfs ran no fusermount3 at SIGTERM"
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_until 30 gone "$pid" || fail "cloudfs did not exit after SIGTERM"
CFS_PID=
grep -q '^OS_AUTH_URL=' "$WORK/child-env.$pid" || fail "fusermount3's environment lacks OS_AUTH_URL"
for v in OS_PASSWORD OS_TOKEN OS_APPLICATION_CREDENTIAL_SECRET; do
    grep -q "^$v=" "$WORK/child-env.$pid" && fail "fusermount3 inherited $v"
done
for s in "$pw" "$tok" "$CLOUDS_APPCRED_SECRET"; do
    grep -qF -- "$s" "$WORK/child-env.$pid" && fail "fusermount3 inherited a secret"
done
echo "secret OS_* variables dropped from the environment"
