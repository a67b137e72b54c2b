#!/bin/bash
# Images whose names or properties jansson and ls would choke on hide
# nothing: an image named "\u0000nul" (a NUL, as Glance stores it), one
# with U+202E (RIGHT-TO-LEFT OVERRIDE) in its name and one with a property
# key "k\u0000" are listed, with U+FFFD for the NUL and the U+202E, next
# to every other image; the crash sweep at mount reads past them and still
# removes a half-made image whose name holds a NUL.
. "$(dirname "$0")/lib.sh"
tok=$(os_token)
[ -n "$tok" ] || fail "no Keystone token"
# The ids go to a file as soon as Glance gives them (odd_image runs in a
# subshell): every image made here is removed, whatever fails.
touch "$WORK/ids"
trap 'while read -r i; do curl -s -X DELETE -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images/$i" >/dev/null; done <"$WORK/ids"; cleanup' EXIT

# odd_image FIELDS [FILE]: an image from the JSON fields FIELDS (raw, bare),
# FILE uploaded and active if given; prints its id.
odd_image() {
    local id st
    id=$(curl -sf -X POST "$CLOUDS_GLANCE_URL/v2/images" -H "X-Auth-Token: $tok" \
        -H 'Content-Type: application/json' \
        -d "{\"disk_format\":\"raw\",\"container_format\":\"bare\",$1}" | json_get id) || return 1
    echo "$id" >>"$WORK/ids"
    [ $# -lt 2 ] && { echo "$id"; return 0; }
    curl -sf -T "$2" -H "X-Auth-Token: $tok" -H 'Content-Type: application/octet-stream' \
        "$CLOUDS_GLANCE_URL/v2/images/$id/file" >/dev/null || return 1
    for _ in $(seq 300); do
        st=$(glance_image "$id" "$tok" | json_get status)
        [ "$st" = active ] && { echo "$id"; return 0; }
        sleep 0.1
    done
    return 1
}

head -c 65536 /dev/urandom >"$WORK/data"
FFFD=$'\xef\xbf\xbd'
nul=$(odd_image "\"name\":\"\\u0000nul-$$\"" "$WORK/data") || fail "cannot make the image named \\u0000nul-$$"
rlo=$(odd_image "\"name\":\"x-$$\\u202egpj.exe\"" "$WORK/data") || fail "cannot make the image with U+202E"
prop=$(odd_image "\"name\":\"propnul-$$\",\"k\\u0000\":\"v\",\"tags\":[\"cloudfs-upload\"]" "$WORK/data") ||
    fail "cannot make the image with a NUL in a property key"
glance_image "$nul" "$tok" | grep -qF '"\u0000nul' || fail "Glance did not keep the NUL of the name"
# Half-made, as a killed upload of a process that has exited leaves it.
dead=$(sh -c 'echo $$')
half=$(odd_image "\"name\":\"\\u0000half-$$\",\"cloudfs_upload\":\"cloudfs-upload:v1:$(hostname):$dead:12345:$(date +%s)\",\"tags\":[\"cloudfs-upload\"]") ||
    fail "cannot make a half-made image"

mount_cloudfs -o clouds=openstack,views=none
dir=$MNT/openstack/images
ls "$dir" >"$WORK/ls" || fail "ls images/ failed"
grep -qxF "${FFFD}nul-$$.raw" "$WORK/ls" || fail "the NUL image is not listed as U+FFFD nul-$$.raw: $(grep -a "nul-$$" "$WORK/ls")"
grep -qxF "x-$$${FFFD}gpj.exe.raw" "$WORK/ls" || fail "the U+202E image is not listed with U+FFFD: $(grep -a "x-$$" "$WORK/ls")"
grep -qxF "propnul-$$.raw" "$WORK/ls" || fail "the image with a NUL in a property key is not listed"
grep -qa $'\xe2\x80\xae' "$WORK/ls" && fail "a listed name holds U+202E"
cmp -s "$WORK/data" "$dir/${FFFD}nul-$$.raw" || fail "the NUL image's bytes differ"
cmp -s "$WORK/data" "$dir/by-id/$nul.raw" || fail "by-id/$nul.raw differs"
if command -v getfattr >/dev/null; then
    v=$(getfattr --only-values -n user.glance.name "$dir/by-id/$nul.raw" 2>/dev/null)
    [ "$v" = "${FFFD}nul-$$" ] || fail "user.glance.name of the NUL image is '$v'"
fi
# Every other image is still there.
while IFS=$'\t' read -r c name id fmt _; do
    [ "$c" = openstack ] || continue
    [ -e "$dir/by-id/$id.$fmt" ] || fail "$name ($id) is no longer listed"
done < <(grep -v '^#' "$CLOUDS_MANIFEST")
grep -qxF ext4.qcow2 "$WORK/ls" || fail "ext4.qcow2 is not listed"

# The sweep read its listing and removed the half-made image.
image_gone() { ! glance_image "$half" "$tok" >/dev/null; }
wait_until 30 image_gone || fail "the sweep did not remove the half-made image $half"
wait_until 10 grep -q "removed half-made image ${FFFD}half-$$ ($half)" "$LOG" ||
    fail "the log does not say the half-made image was removed"
[ "$(log_count 'sweep for half-made uploads failed|not a JSON list')" = 0 ] ||
    fail "a listing failed: $(grep -E 'sweep for half-made|not a JSON list' "$LOG")"
glance_image "$prop" "$tok" >/dev/null || fail "the sweep removed an image that has no marker"
exit 0
