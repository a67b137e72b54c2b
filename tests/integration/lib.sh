# Sourced by every integration test: the local clouds' environment, a
# private work directory, and helpers to mount and check. A test exits 0
# (pass), 1 (fail) or 77 (skip).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLOUDFS=$TOP/cloudfs
: "${CLOUDS_ENV:?run through make check, or set CLOUDS_ENV=DIR/env of tests/clouds/up DIR}"
# shellcheck disable=SC1090
. "$CLOUDS_ENV"
# A test mounts the clouds it names: the vCD ones through config= (vcd.lib),
# not through the env's CLOUDFS_CONFIG, which is there for a user's plain mount.
unset CLOUDFS_CONFIG

PY=/usr/bin/python3      # Debian's: another python3 may come first on PATH
WORK=$(mktemp -d /tmp/cfs-test.XXXXXX)
MNT=$WORK/mnt
LOG=$WORK/cloudfs.log
CFS_OUT=$WORK/cloudfs.out   # cloudfs's own stdout and stderr
# A cache_dir per test: the block cache of one test must not serve the
# reads of the next (tests count requests).
export CLOUDFS_CACHE_DIR=$WORK/cache
CFS_PID=
PRIVATE_CLOUDS=()
BG_PIDS=()               # background helpers of a test, killed by cleanup
PROXY_USED=0             # set by use_proxy: cleanup clears the shared proxy's rules

fail() {
    echo "FAIL: $*"
    if [ -s "$CFS_OUT" ]; then
        echo "--- cloudfs stdout/stderr"
        tail -n 20 "$CFS_OUT"
    fi
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
    "$CLOUDFS" "$MNT" -f -o "log=$LOG" "$@" >>"$CFS_OUT" 2>&1 &
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
    for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    [ "$PROXY_USED" = 0 ] || proxy_ctl clear
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

# ---------------------------------------------------------------- more helpers

# now_ms: wall-clock milliseconds, for durations.
now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((10#$t / 1000))
}

# timed LIMIT CMD...: runs CMD (killed after LIMIT seconds), sets RC to its
# exit status and MS to how long it took.
timed() {
    local limit=$1 t0
    shift
    t0=$(now_ms)
    timeout -k 2 "$limit" "$@"
    RC=$?
    MS=$(($(now_ms) - t0))
    return 0
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds; false
# if it did not within SECONDS.
wait_until() {
    local end=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# sha256_of FILE: the sha256 of FILE's bytes; fails if reading fails.
sha256_of() {
    local out
    out=$(sha256sum <"$1") || return 1
    echo "${out%% *}"
}

# json_get KEY...: reads JSON on stdin, prints the value at that path (list
# indexes are numbers); objects and lists are printed as JSON.
json_get() {
    "$PY" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$@"
}

# log_count REGEX: how many lines of the cloudfs log match (grep -E).
log_count() {
    grep -cE -- "$1" "$LOG" 2>/dev/null || true
}

# sample_file CLOUD NAME: the mounted by-id path of a sample image.
sample_file() {
    echo "$MNT/$1/images/by-id/$(manifest "$1" "$2" id).$(manifest "$1" "$2" disk_format)"
}

# glance_image ID [TOKEN]: the image's record from the Glance API (JSON).
glance_image() {
    local tok=${2:-$(os_token)}
    curl -sf -H "X-Auth-Token: $tok" "$CLOUDS_GLANCE_URL/v2/images/$1"
}

# glance_upload NAME FILE [DISK_FORMAT]: a new image of project demo in the
# instance CLOUDS_* describe, FILE uploaded, active; prints its id.
glance_upload() {
    local name=$1 file=$2 fmt=${3:-raw} tok id st
    tok=$(os_token)
    [ -n "$tok" ] || return 1
    id=$(curl -sf -X POST "$CLOUDS_GLANCE_URL/v2/images" -H "X-Auth-Token: $tok" \
        -H 'Content-Type: application/json' \
        -d "{\"name\":\"$name\",\"disk_format\":\"$fmt\",\"container_format\":\"bare\"}" |
        json_get id) || return 1
    curl -sf -T "$file" -H "X-Auth-Token: $tok" -H 'Content-Type: application/octet-stream' \
        "$CLOUDS_GLANCE_URL/v2/images/$id/file" >/dev/null || return 1
    for _ in $(seq 300); do
        st=$(glance_image "$id" "$tok" | json_get status)
        [ "$st" = active ] && { echo "$id"; return 0; }
        sleep 0.1
    done
    return 1
}

# use_private_clouds: from now on CLOUDS_* (and os_token, glance_*, proxy_ctl)
# describe the instance of start_private_clouds.
use_private_clouds() {
    # shellcheck disable=SC1090
    . "$PRIVATE_ENV"
}

# use_proxy [EXTRA]: clears the fault proxy (rules and counters) and points
# OS_CLIENT_CONFIG_FILE at a clouds.yaml whose cloud "t" reaches Glance
# through it (EXTRA: more clouds.yaml lines of cloud t, indented by 4).
use_proxy() {
    PROXY_USED=1
    proxy_ctl clear stats=1 || fail "the fault proxy at $CLOUDS_FAULTPROXY_URL does not answer"
    { echo "    image_endpoint_override: $CLOUDS_FAULTPROXY_URL"; [ $# -eq 0 ] || echo "$1"; } |
        clouds_yaml "$WORK/clouds.yaml"
    export OS_CLIENT_CONFIG_FILE=$WORK/clouds.yaml
}

# proxy_recent: the requests the proxy saw since it was cleared, one a line:
# METHOD TARGET RANGE STATUS BYTES NOTE ("-" for empty fields).
proxy_recent() {
    proxy_ctl stats | "$PY" -c '
import json, sys
for e in json.load(sys.stdin)["recent"]:
    print(" ".join("-" if e.get(k) in (None, "") else str(e[k]).replace(" ", "_")
                   for k in ("method", "path", "range", "status", "bytes", "note")))'
}

# proxy_applied: how many requests the proxy's current rules have hit.
proxy_applied() {
    proxy_ctl stats | "$PY" -c '
import json, sys
print(sum(r["applied"] for r in json.load(sys.stdin)["rules"]))'
}

# proxy_hit N: true once the proxy's current rules have hit N requests
# (for wait_until).
proxy_hit() {
    [ "$(proxy_applied)" -ge "$1" ]
}

# kill_private_service NAME [SIGNAL]: signals a service of the private
# instance (glance, keystone, nginx, faultproxy) by the PID tests/clouds/up
# recorded, if that process still runs (its start time is checked).
kill_private_service() {
    local rec=$WORK/clouds/run/$1.pid pid st now
    read -r pid st <"$rec" || return 1
    now=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f20)  # field 22
    [ "$now" = "$st" ] || return 1
    kill -"${2:-KILL}" "$pid"
}
