#!/bin/bash
# A configuration file another user owns is refused: cloudfs names it and
# the reason, and exits non-zero without mounting. Someone else's
# ./clouds.yaml, its auth_url pointing at their own listener, never
# receives the password of the user's own secure.yaml (nor is secure.yaml
# merged into it); someone else's ./secure.yaml cannot redirect the
# user's own clouds.yaml either. Owned by root, the same files are taken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/config.lib"
[ "$(id -u)" = 0 ] || skip "needs root to give a file to nobody"
nobody=$(id -u nobody) || skip "no user nobody"
config_isolate
secret=stolen-$RANDOM$RANDOM
start_listener "$WORK/heard"

# Someone else's ./clouds.yaml; the user's own secure.yaml holds the password.
cat >clouds.yaml <<YAML
clouds:
  t:
    auth:
      auth_url: http://127.0.0.1:$LISTENER_PORT/v3
      username: $CLOUDS_USER
      project_name: $CLOUDS_PROJECT
YAML
chmod 644 clouds.yaml
chown nobody clouds.yaml
printf 'clouds:\n  t:\n    auth:\n      password: %s\n' "$secret" >"$HOME/.config/openstack/secure.yaml"
chmod 600 "$HOME/.config/openstack/secure.yaml"
if ! start_or_exit; then
    ls "$MNT/t/images" >/dev/null 2>&1
    fail "mounted with a clouds.yaml of uid $nobody; the listener heard: $(cut -c1-200 "$WORK/heard")"
fi
[ "$EXIT_STATUS" != 0 ] || fail "cloudfs exited 0 on a refused clouds.yaml"
grep -q "\./clouds\.yaml refused: it belongs to uid $nobody" "$LOG" ||
    fail "the log does not name ./clouds.yaml and its owner"
grep -qF "$secret" "$WORK/heard" "$LOG" "$CFS_OUT" && fail "the password went out"

# Someone else's ./secure.yaml over the user's own clouds.yaml.
chown root clouds.yaml
chmod 600 clouds.yaml
sed -i "s|127.0.0.1:$LISTENER_PORT|127.0.0.1:1|" clouds.yaml
echo "      password: $secret" >>clouds.yaml
rm "$HOME/.config/openstack/secure.yaml"
printf 'clouds:\n  t:\n    auth:\n      auth_url: http://127.0.0.1:%s/v3\n' "$LISTENER_PORT" >secure.yaml
chmod 644 secure.yaml
chown nobody secure.yaml
if ! start_or_exit; then
    ls "$MNT/t/images" >/dev/null 2>&1
    fail "mounted with a secure.yaml of uid $nobody; the listener heard: $(cut -c1-200 "$WORK/heard")"
fi
[ "$EXIT_STATUS" != 0 ] || fail "cloudfs exited 0 on a refused secure.yaml"
grep -q "\./secure\.yaml refused: it belongs to uid $nobody" "$LOG" ||
    fail "the log does not name ./secure.yaml and its owner"
grep -qF "$secret" "$WORK/heard" && fail "the password went out"

# The control: owned by root (or the user), the same files are merged and
# used, and the listener hears the password -- it would have above.
rm secure.yaml
sed -i "s|127.0.0.1:1/|127.0.0.1:$LISTENER_PORT/|; /password:/d" clouds.yaml
chmod 644 clouds.yaml
printf 'clouds:\n  t:\n    auth:\n      password: %s\n' "$secret" >"$HOME/.config/openstack/secure.yaml"
chmod 600 "$HOME/.config/openstack/secure.yaml"
start_or_exit && fail "a root-owned clouds.yaml was refused: $(grep -m1 error "$LOG")"
ls "$MNT/t/images" >/dev/null 2>&1
wait_until 20 grep -qF "$secret" "$WORK/heard" ||
    fail "the listener never heard the password of a root-owned clouds.yaml: is the test broken?"
echo "foreign clouds.yaml and secure.yaml refused, root-owned ones taken"
