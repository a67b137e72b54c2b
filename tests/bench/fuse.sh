#!/bin/bash
# make bench: the FUSE settings that matter (issue 9 item 4), each against
# cloudfs's defaults on the same 1 GiB image, same run: a read served by the
# block cache after a remount, page cache dropped (FUSE's own cost shows most
# there; a first read is bound by SHA-512, see read.sh):
#   defaults        reads of up to 1 MiB (max_write 1 MiB gives max_pages 256,
#                   max_read unset), 16 threads, read_ahead=1024 (KiB)
#   max_read=131072 reads of 128 KiB
#   -s              one thread
#   read_ahead=128  the kernel's default read-ahead; read_ahead=4096 more
#   page cache      a second cat on the same mount: a verified image's pages
#                   are kept (keep_cache), the kernel serves them
# Splice (FUSE_CAP_SPLICE_WRITE/MOVE) is not a mount option: measured once by
# hand it halved the cached read (libfuse splices a memory buffer through a
# pipe, one more copy), so cloudfs leaves it off.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
mnt=$state/mnt-fuse
cache=$res/cache

can_drop || skip "cannot drop the page cache (needs root)"
clouds_up
token=$(keystone_token 1)
size=$(bytes_of_gib "$gib")
data=$(random_file "$size")
glance_upload "$token" bench-small raw "$data" >/dev/null
img=$mnt/openstack/images/bench-small.raw
opts="cache_dir=$cache,cache_size=$(((2 * size >> 20) + 1))"

# Fill the block cache once: one whole read, then wait for its manifest.
cfs_mount "$mnt" "$opts"
cat "$img" >/dev/null
wait_verified "$cache"
cfs_umount "$mnt"

read_it() { cat "$img"; }
# setting LABEL OPTIONS [ARGS]: a remount with them, the cached read timed.
setting() {
    # shellcheck disable=SC2086 # ARGS: separate arguments (-s)
    cfs_mount "$mnt" "$opts${2:+,$2}" ${3:-}
    drop
    secs read_it >>"$res/$1"
    if [ "$1" = defaults ]; then
        secs read_it >>"$res/pagecache"
    fi
    cfs_umount "$mnt"
    echo "$cfs_rss" >>"$res/$1.rss"
}
s_defaults() { setting defaults ""; }
s_maxread() { setting maxread "max_read=131072"; }
s_single() { setting single "" -s; }
s_ra128() { setting ra128 "read_ahead=128"; }
s_ra4096() { setting ra4096 "read_ahead=4096"; }
for r in $(seq "$rounds"); do
    in_turn "$r" s_defaults s_maxread s_single s_ra128 s_ra4096
    say "round $r of $rounds done"
done

mibs() { calc "$size / 1048576 / $(median "$res/$1")"; }
d=$(mibs defaults)
row() { # ID LABEL FILE NOTE
    bench_row id="fuse-$1" label="FUSE: $2" value="$(mibs "$3")" unit=MiB/s \
        anchor="cloudfs's defaults" anchor_value="$d" rss="$(sort -g "$res/$3.rss" 2>/dev/null | tail -1)" \
        cpu="$res/$3.cpu" anchor_cpu="$res/defaults.cpu" bytes="$size" \
        note="second read of a ${gib} GiB image from the block cache after a remount, page cache dropped; $4"
}
row maxread "max_read=131072" maxread "reads of 128 KiB instead of 1 MiB"
row single "-s (one thread)" single "instead of up to 16 threads"
row ra128 "read_ahead=128" ra128 "the kernel's default read-ahead instead of 1024 KiB"
row ra4096 "read_ahead=4096" ra4096 "4 MiB of read-ahead instead of 1 MiB"
bench_row id=fuse-pagecache label="FUSE: kept page cache" value="$(mibs pagecache)" unit=MiB/s \
    anchor="cloudfs's defaults" anchor_value="$d" rss="$(sort -g "$res/defaults.rss" | tail -1)" \
    cpu="$res/pagecache.cpu" anchor_cpu="$res/defaults.cpu" bytes="$size" \
    note="a second cat on the same mount: the verified image's pages stay (keep_cache); the defaults' row is the first cat after the remount"
