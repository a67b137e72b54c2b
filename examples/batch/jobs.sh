# shellcheck shell=bash
# The functions migrate.sh runs on each host (sourced, never run alone).
# GNU parallel sends them to every host with --env, so a host needs only
# bash, cloudfs and fusermount3: no copy of these examples. Each prints
# one line a call and returns non-zero when it failed.

# cfs_batch_mount MNT CLOUDFS [OPTIONS]: mounts MNT with the cloudfs binary
# CLOUDFS (-o OPTIONS), unless something is mounted there already, which is
# then used as it is. Prints "mounted MNT" only when it mounted.
cfs_batch_mount() {
    local mnt=$1 cloudfs=$2 opts=${3:-}
    if mountpoint -q "$mnt"; then
        echo "using the mount at $mnt"
        return 0
    fi
    mkdir -p "$mnt" || return
    # Without -f cloudfs returns once the mount is there, and runs on.
    "$cloudfs" "$mnt" ${opts:+-o "$opts"} || {
        echo "cloudfs could not mount $mnt on $(hostname)" >&2
        return 1
    }
    echo "mounted $mnt"
}

# cfs_batch_umount MNT: unmounts what cfs_batch_mount mounted; uploads end
# in close(), so no copy of this run is still going.
cfs_batch_umount() {
    fusermount3 -u "$1" && echo "unmounted $1"
}

# cfs_batch_list MNT SRC GLOB: the names of the files in MNT/SRC that GLOB
# matches, one a line, sorted (directories, such as images/by-id, left out).
cfs_batch_list() {
    local mnt=$1
    mountpoint -q "$mnt" || {
        echo "$mnt is not mounted on $(hostname)" >&2
        return 2
    }
    find "$mnt/$2/" -mindepth 1 -maxdepth 1 -not -type d -name "$3" -printf '%f\n' | LC_ALL=C sort
}

# cfs_batch_shard INDEX COUNT: of the names on stdin, those of shard INDEX
# of COUNT. A name's shard depends on the name alone (its CRC), not on what
# else is listed, so shards listed apart, at other times, never overlap.
cfs_batch_shard() {
    local name sum
    while IFS= read -r name; do
        sum=$(printf '%s' "$name" | cksum)
        [ $((${sum%% *} % $2)) = "$1" ] && printf '%s\n' "$name"
    done
    return 0
}

# cfs_batch_copy MNT SRC DST NAME: one job, MNT/SRC/NAME copied to
# MNT/DST/NAME unless that exists. cp between two paths of the mount
# streams from cloud to cloud (copy_file_range: no local disk); close()
# returns once the new object is complete, and a failed cp leaves nothing.
# Prints "copied NAME", "exists NAME" or "failed NAME: why".
cfs_batch_copy() {
    local mnt=$1 name=$4 err
    local src=$mnt/$2/$name dst=$mnt/$3/$name
    if ! mountpoint -q "$mnt"; then
        echo "failed $name: $mnt is not mounted on $(hostname)"
        return 2
    fi
    if [ -e "$dst" ]; then
        echo "exists $name"
        return 0
    fi
    if err=$(cp -- "$src" "$dst" 2>&1); then
        echo "copied $name"
        return 0
    fi
    echo "failed $name: ${err:-cp failed} (on $(hostname))"
    return 1
}
