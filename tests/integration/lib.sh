# Sourced by every integration test: the local clouds' environment, a
# private work directory, and helpers to mount and check. A test exits 0
# (pass), 1 (fail) or 77 (skip).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLOUDFS=$TOP/cloudfs
: "${CLOUDS_ENV:?run through make check, or set CLOUDS_ENV=DIR/env of tests/clouds/up DIR}"
# shellcheck disable=SC1090
. "$CLOUDS_ENV"

WORK=$(mktemp -d /tmp/cfs-test.XXXXXX)
MNT=$WORK/mnt
LOG=$WORK/cloudfs.log
CFS_PID=
PRIVATE_CLOUDS=()

fail() {
    echo "FAIL: $*"
    if [ -f "$LOG" ]; then
        echo "--- last lines of the cloudfs log"
        tail -n 40 "$LOG"
    fi
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}

# mount_cloudfs [cloudfs args...]: mounts at $MNT in the background.
mount_cloudfs() {
    mkdir -p "$MNT"
    "$CLOUDFS" "$MNT" -f -o "log=$LOG" "$@" &
    CFS_PID=$!
    for _ in $(seq 100); do
        mountpoint -q "$MNT" && return 0
        kill -0 "$CFS_PID" 2>/dev/null || fail "cloudfs exited before mounting"
        sleep 0.1
    done
    fail "cloudfs did not mount within 10 s"
}

unmount_cloudfs() {
    [ -n "$CFS_PID" ] || return 0
    fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$CFS_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$CFS_PID" 2>/dev/null
    wait "$CFS_PID" 2>/dev/null
    CFS_PID=
}

cleanup() {
    unmount_cloudfs
    for d in "${PRIVATE_CLOUDS[@]}"; do
        "$TOP/tests/clouds/down" "$d" >/dev/null 2>&1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_private_clouds [up options...]: a private instance (for tests that
# break servers); sets PRIVATE_ENV to its env file.
start_private_clouds() {
    local dir=$WORK/clouds
    PRIVATE_CLOUDS+=("$dir")
    "$TOP/tests/clouds/up" "$dir" "$@" >"$WORK/clouds-up.log" 2>&1 ||
        { tail -20 "$WORK/clouds-up.log"; fail "private clouds did not start"; }
    PRIVATE_ENV=$dir/env
}

# manifest CLOUD NAME COLUMN: a field of the sample-image manifest
# (columns: cloud name id disk_format container_format size sha256 path).
manifest() {
    awk -F'\t' -v c="$1" -v n="$2" -v col="$3" '
        BEGIN { split("cloud name id disk_format container_format size sha256 path", h, " ");
                for (i in h) idx[h[i]] = i }
        $1 == c && $2 == n { print $idx[col] }' "$CLOUDS_MANIFEST"
}

# os_token [user password project]: a Keystone token for direct API checks.
os_token() {
    local user=${1:-$CLOUDS_USER} pw=${2:-$CLOUDS_PASSWORD} project=${3:-$CLOUDS_PROJECT}
    curl -si -X POST "$CLOUDS_KEYSTONE_URL/auth/tokens" -H 'Content-Type: application/json' \
        -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$user\",\"domain\":{\"id\":\"default\"},\"password\":\"$pw\"}}},\"scope\":{\"project\":{\"name\":\"$project\",\"domain\":{\"id\":\"default\"}}}}}" |
        awk 'tolower($1) == "x-subject-token:" { print $2 }' | tr -d '\r'
}

# proxy_ctl VERB [k=v ...]: the fault proxy's control API (add, clear, stats).
proxy_ctl() {
    local verb=$1
    shift
    local q=""
    for kv in "$@"; do q="$q&$kv"; done
    if [ "$verb" = stats ]; then
        curl -sf "$CLOUDS_FAULTPROXY_URL/__fault/stats"
    else
        curl -sf -X POST "$CLOUDS_FAULTPROXY_URL/__fault/$verb?${q#&}" >/dev/null
    fi
}

# clouds_yaml FILE: writes a clouds.yaml with one cloud "t" from stdin's
# extra keys (indented by 4), password auth as the demo user.
clouds_yaml() {
    local file=$1 auth_url=${2:-$CLOUDS_KEYSTONE_URL}
    {
        echo "clouds:"
        echo "  t:"
        echo "    auth:"
        echo "      auth_url: $auth_url"
        echo "      username: $CLOUDS_USER"
        echo "      password: $CLOUDS_PASSWORD"
        echo "      project_name: $CLOUDS_PROJECT"
        echo "      user_domain_name: Default"
        echo "      project_domain_name: Default"
        cat
    } >"$file"
    chmod 600 "$file"
}
