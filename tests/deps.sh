#!/bin/bash
# Installs the Debian packages cloudfs needs to build and test, when missing
# (non-interactive apt). The local clouds' own packages are installed by
# tests/clouds/up, which knows what it needs.
set -euo pipefail

pkgs=(
    build-essential pkg-config clang clang-format
    libfuse3-dev fuse3 libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev
    libxml2-dev liblz4-dev libzstd-dev zlib1g-dev libdeflate-dev
    curl rsync strace qemu-utils e2fsprogs openssl procps psmisc bc attr libclang-rt-14-dev
    libvmdk-utils libqcow-utils libxml2-utils
    python3-keystone python3-glance uwsgi-core uwsgi-plugin-python3 nginx-light
    parallel # GNU parallel: examples/batch/migrate.sh and tests/integration/batch-*.sh
    bindfs # make bench: the FUSE passthrough that tests/bench/cache.sh compares with
    python3-openstackclient # make bench: the CLI that tests/bench/list.sh compares with
    glance-common python3-nova # what Glance's metadefs and Nova's enums accept (tests/unit/test_ovf_glance.c)
    # tests/boot: the guests (busybox, boot loaders, their
    # disk tools) and the machines that boot them
    qemu-system-x86 ovmf busybox-static syslinux syslinux-common syslinux-efi
    mtools dosfstools fdisk cpio kmod
)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# No package may start a daemon while we install (ref/glance-keystone.md).
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
fi
trap '[ $made_policy -eq 1 ] && $sudo rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
. "$(dirname "$0")/apt-wait.sh"
apt_wait
$sudo apt-get "${APT_LOCK_OPT[@]}" update -qq
apt_wait
$sudo apt-get "${APT_LOCK_OPT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
