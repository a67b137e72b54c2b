#!/bin/bash
# servers/ lists every server of the project (the emulator's pages hold 5:
# 10 servers take several), each as NAME.qcow2 and the default views, all
# of size 0; another project's server is not shown; two servers of one
# name are both marked with their id; the flavor and state are extended
# attributes. Listing, ls -l, stat and getfattr take no snapshot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.lib"
T1=aaaa1111-0000-4000-8000-000000000001 T2=bbbb2222-0000-4000-8000-000000000002
trap 'curl -sf -X DELETE "$CLOUDS_NOVA_CONTROL/servers/$T1" >/dev/null;
      curl -sf -X DELETE "$CLOUDS_NOVA_CONTROL/servers/$T2" >/dev/null; nova_knobs_reset; cleanup' EXIT
for id in $T1 $T2; do
    curl -sf -X POST -H 'Content-Type: application/json' "$CLOUDS_NOVA_CONTROL/servers" \
        -d "{\"id\": \"$id\", \"name\": \"twin\", \"project\": \"demo\", \"flavor\": \"m1.tiny\", \"disk_from\": \"app-01\"}" \
        >/dev/null || fail "the emulator did not add server $id"
done
images_before=$(glance_images | sort)
mount_servers

servers="app-01 app-02 app-03 app-04 app-05 app-06 app-07 broken db1 web1"
expected=$( {
    for s in $servers twin~aaaa1111 twin~bbbb2222; do
        for e in qcow2 vmdk ovf ova; do echo "$s.$e"; done
    done
    echo by-id
} | sort)
listed=$(ls "$SERVERS" | sort)
[ "$listed" = "$expected" ] || fail "servers/ lists: $(diff <(echo "$expected") <(echo "$listed") | grep '^[<>]' | tr '\n' ' ')"
[ -e "$SERVERS/other1.qcow2" ] && fail "demo2's server other1 is shown to demo"
for e in qcow2 vmdk ovf ova; do
    [ -f "$SERVERS/by-id/$(server_field web1 id).$e" ] || fail "by-id/ lacks web1's .$e"
done

# ls -l, stat, getfattr of everything: sizes 0, no snapshot.
ls -l "$SERVERS" "$SERVERS/by-id" >/dev/null || fail "ls -l servers/"
for f in "$SERVERS"/*.* "$SERVERS"/by-id/*; do
    [ "$(stat -c %s "$f")" = 0 ] || fail "$f stats as $(stat -c %s "$f") bytes before any open"
    getfattr -d -m - "$f" >/dev/null 2>&1 || fail "getfattr -d $f"
done

attr() { getfattr --only-values -n "$2" "$SERVERS/$1" 2>/dev/null; }
check_attr() { # FILE NAME VALUE
    local v
    v=$(attr "$1" "$2")
    [ "$v" = "$3" ] || fail "$1: $2 is '$v', expected '$3'"
}
check_attr web1.qcow2 user.nova.flavor.name m1.small
check_attr web1.vmdk user.nova.flavor.vcpus 1
check_attr web1.qcow2 user.nova.flavor.ram 2048
check_attr web1.qcow2 user.nova.flavor.disk 10
check_attr web1.qcow2 user.nova.status ACTIVE
check_attr web1.qcow2 user.nova.id "$(server_field web1 id)"
check_attr web1.qcow2 user.cloudfs.id "$(server_field web1 id)"
check_attr db1.ova user.nova.flavor.name m1.medium
check_attr db1.qcow2 user.nova.flavor.vcpus 2
check_attr db1.qcow2 user.nova.flavor.ram 4096
check_attr db1.qcow2 user.nova.status SHUTOFF
check_attr broken.qcow2 user.nova.status ERROR
check_attr twin~aaaa1111.qcow2 user.nova.id $T1
check_attr app-03.qcow2 user.nova.flavor.name m1.tiny
attr web1.qcow2 user.nova.addresses | "$PY" -c 'import json, sys; a = json.load(sys.stdin); assert isinstance(a, dict) and a' ||
    fail "user.nova.addresses of web1 is not a JSON object of networks: $(attr web1.qcow2 user.nova.addresses)"
[ -n "$(attr web1.qcow2 user.nova.image)" ] || fail "web1 has no user.nova.image"

# Nothing was snapshotted: Glance holds the same images, the log asked for none.
[ "$(glance_images | sort)" = "$images_before" ] || fail "listing changed Glance: $(diff <(echo "$images_before") <(glance_images | sort) | grep '^[<>]' | head -3)"
[ "$(log_count 'snapshot .* requested')" = 0 ] || fail "a listing took a snapshot: $(grep -m1 requested "$LOG")"
exit 0
