#!/bin/bash
# A configuration file that group or others can write is refused, whoever
# owns it: cloudfs names it, says why and exits non-zero without mounting
# (clouds.yaml, secure.yaml, cloudfs.yaml alike). Not writable by them,
# the same file is taken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/config.lib"
config_isolate
clouds_yaml clouds.yaml </dev/null

# refused MODE FILE [cloudfs args...]: FILE at MODE is refused, by name.
refused() {
    local mode=$1 file=$2
    shift 2
    chmod "$mode" "$file"
    if ! start_or_exit "$@"; then
        fail "mounted with $file at mode $mode"
    fi
    [ "$EXIT_STATUS" != 0 ] || fail "cloudfs exited 0 on $file at mode $mode"
    grep -qF "$file refused: other users can write it (mode $mode)" "$LOG" ||
        fail "the log does not say $file at mode $mode was refused"
    chmod 600 "$file"
}

refused 664 ./clouds.yaml
refused 602 ./clouds.yaml
printf 'clouds:\n  t:\n    auth:\n      password: %s\n' "$CLOUDS_PASSWORD" >secure.yaml
refused 620 ./secure.yaml
printf 'clouds:\n  v:\n    type: vcloud\n    url: %s\n' "$CLOUDS_VCD_URL" >"$WORK/cloudfs.yaml"
refused 666 "$WORK/cloudfs.yaml" -o "config=$WORK/cloudfs.yaml"
grep -qF "see $LOG" "$CFS_OUT" || fail "nothing on cloudfs's stderr points at the log"

# Not writable by group or others (readable is only a warning): taken.
chmod 644 clouds.yaml
start_or_exit && fail "a clouds.yaml at mode 644 was refused: $(grep -m1 error "$LOG")"
ls "$MNT/t/images" >/dev/null || fail "cloud t does not list"
echo "group- and world-writable configuration files refused"
