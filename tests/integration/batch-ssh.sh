#!/bin/bash
# examples/batch/migrate.sh over SSH logins (-S hostA,hostB): each host
# mounts cloudfs with its own clouds.yaml and cloudfs.yaml at its own
# mountpoint, runs its share of the jobs (Glance to Glance, checked with
# Glance's API and sha256), and unmounts. No sshd is needed: GNU parallel's
# ssh ($PARALLEL_SSH) is a stand-in that runs the command as sshd would, with
# the login shell in a fresh environment whose HOME is that host's, so the
# functions and arguments really travel the way they do to a remote host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer.lib"
MIGRATE=$TOP/examples/batch/migrate.sh
[ -x "$MIGRATE" ] || fail "no $MIGRATE"
command -v parallel >/dev/null || skip "GNU parallel missing (tests/deps.sh installs it)"
hosts=(hostA hostB)
trap 'for h in "${hosts[@]}"; do fusermount3 -uz "$WORK/hosts/$h/clouds" 2>/dev/null; done; xfer_cleanup; cleanup' EXIT

mkdir -p "$WORK/bin"
cat >"$WORK/bin/ssh" <<EOF
#!/bin/bash
# ssh HOST -- COMMAND...: sshd joins COMMAND with spaces and gives it to the
# user's shell, in the home directory, with a login's environment.
host=\$1
shift
[ "\$1" = -- ] && shift
home=$WORK/hosts/\$host
[ -d "\$home" ] || { echo "ssh: \$host: no such host" >&2; exit 255; }
echo "\$host" >>$WORK/ssh-logins
cd "\$home" && exec env -i HOME="\$home" USER="\$(id -un)" LOGNAME="\$(id -un)" SHELL=/bin/bash \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin /bin/bash -c "\$*"
EOF
chmod +x "$WORK/bin/ssh"
export PARALLEL_SSH=$WORK/bin/ssh
for h in "${hosts[@]}"; do
    mkdir -p "$WORK/hosts/$h/.config/openstack" "$WORK/hosts/$h/.config/cloudfs"
    install -m 600 "$OS_CLIENT_CONFIG_FILE" "$WORK/hosts/$h/.config/openstack/clouds.yaml"
    install -m 600 "$CLOUDS_CLOUDFS_YAML" "$WORK/hosts/$h/.config/cloudfs/cloudfs.yaml"
done

n=bs$$
for i in 1 2 3 4; do
    head -c $((i * 128 * 1024)) /dev/urandom >"$WORK/$n-$i.raw"
    glance_upload "$n-$i" "$WORK/$n-$i.raw" raw >/dev/null || fail "cannot upload $n-$i to Glance"
done

# Nothing of this shell's environment reaches the hosts but what parallel
# sends: the mountpoint is relative, so each host's is in its own home.
timed 300 env -u OS_CLIENT_CONFIG_FILE -u CLOUDFS_CONFIG "$MIGRATE" -S 1/hostA,1/hostB -m clouds \
    -c "$CLOUDFS" -o "log=$LOG" -l "$WORK/joblog" openstack/images openstack2/images "$n-*.raw" \
    >"$WORK/out" 2>&1
cat "$WORK/out"
[ "$RC" = 0 ] || fail "migrate.sh exited $RC"
grep -qx 'batch: 4 copied, 0 already there, 0 failed .*' "$WORK/out" ||
    fail "the summary: $(grep '^batch: .* copied' "$WORK/out")"
for h in "${hosts[@]}"; do
    grep -qx "$h	mounted clouds" "$WORK/out" || fail "$h did not mount its cloudfs"
    grep -qx "$h	unmounted clouds" "$WORK/out" || fail "$h did not unmount its cloudfs"
    mountpoint -q "$WORK/hosts/$h/clouds" && fail "$h's mount is still there"
    [ "$(awk -F'\t' -v h="$h" 'NR > 1 && $2 == h' "$WORK/joblog" | grep -c .)" -ge 1 ] ||
        fail "no job ran on $h: $(cat "$WORK/joblog")"
    grep -qx "$h" "$WORK/ssh-logins" || fail "parallel never logged in to $h"
done
for i in 1 2 3 4; do
    lines=$(glance_named "$TOK2" "$n-$i")
    [ "$(echo "$lines" | grep -c .)" = 1 ] || fail "$n-$i: want one image in openstack2, Glance has: ${lines:-none}"
    glance_fetch "$TOK2" "$(echo "$lines" | cut -f1)" "$WORK/got" || fail "$n-$i: cannot download it"
    [ "$(sha256_of "$WORK/got")" = "$(sha256_of "$WORK/$n-$i.raw")" ] || fail "$n-$i: the copy differs"
done
exit 0
