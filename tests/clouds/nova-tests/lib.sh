# Sourced by every test of the Nova emulator's own suite (one script per rule of the issue 8
# contract), run by ./run DIR (or tests/run.sh) against a running `tests/clouds/up DIR`.  A test
# exits 0 (pass), 1 (fail, with one line "FAIL: what: expected X, got Y") or 77 (skip).
#
# It gets CLOUDS_DIR, resets the emulator's knobs (again at exit, with the Glance images it
# made deleted and the servers' task states back to null), and shortens snapshot_delay.
set -u
: "${CLOUDS_DIR:?set CLOUDS_DIR to the DIR of a running tests/clouds/up DIR}"
# shellcheck disable=SC1091
. "$CLOUDS_DIR/env"
[ -n "${CLOUDS_NOVA_URL:-}" ] || { echo "SKIP: no Nova emulator in $CLOUDS_DIR/env"; exit 77; }
W=$(mktemp -d /tmp/novat.XXXXXX)
NAME_PREFIX=nt-$$-$RANDOM
IMAGES=()               # Glance image ids this test made, deleted at exit
FAST='{"snapshot_delay":0.3}'

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
expect() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; }
expect_match() { [[ $3 =~ $2 ]] || fail "$1: expected /$2/, got '$3'"; }

ctl() { # ctl METHOD PATH [JSON]: the emulator's control API, body on stdout
    if [ $# -ge 3 ]; then
        curl -sf -X "$1" -H 'Content-Type: application/json' -d "$3" "$CLOUDS_NOVA_CONTROL/$2"
    else
        curl -sf -X "$1" "$CLOUDS_NOVA_CONTROL/$2"
    fi
}
knobs() { ctl POST knobs "$1" >/dev/null || fail "the control API refused knobs $1"; }
knobs_reset() { ctl DELETE knobs >/dev/null; }

# token USER PASSWORD PROJECT: a project-scoped Keystone token on stdout
token() {
    curl -sS -D - -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$1\",\"domain\":{\"id\":\"default\"},\"password\":\"$2\"}}},\"scope\":{\"project\":{\"name\":\"$3\",\"domain\":{\"id\":\"default\"}}}}}" \
        "$CLOUDS_KEYSTONE_URL/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'
}
TOKEN=$(token "$CLOUDS_USER" "$CLOUDS_PASSWORD" "$CLOUDS_PROJECT")
[ -n "$TOKEN" ] || fail "no Keystone token for $CLOUDS_USER"

# req METHOD URL [curl args...]: CODE; body in $W/body, headers in $W/hdr
req() {
    local m=$1 u=$2
    shift 2
    CODE=$(curl -s -g -X "$m" -o "$W/body" -D "$W/hdr" -w '%{http_code}' "$@" "$u")
}
# nova METHOD PATH|URL [curl args...]: an authenticated compute request (microversion: $MV if set)
nova() {
    local m=$1 u=$2
    shift 2
    case $u in http*) ;; *) u=$CLOUDS_NOVA_URL$u ;; esac
    if [ -n "${MV:-}" ]; then
        req "$m" "$u" -H "X-Auth-Token: ${TOK:-$TOKEN}" -H "OpenStack-API-Version: compute $MV" "$@"
    else
        req "$m" "$u" -H "X-Auth-Token: ${TOK:-$TOKEN}" "$@"
    fi
}
glance() { # glance METHOD PATH [curl args...]
    local m=$1 p=$2
    shift 2
    req "$m" "$CLOUDS_GLANCE_URL$p" -H "X-Auth-Token: $TOKEN" "$@"
}
hdr() { grep -ai "^$1:" "$W/hdr" | tail -1 | cut -d: -f2- | sed 's/^ *//' | tr -d '\r'; }
j() { jq -r "$1" "$W/body"; }     # j FILTER: a value of the last body

# sid NAME: the id of fixture server NAME (servers.tsv)
sid() { awk -F'\t' -v n="$1" '$2 == n { print $3 }' "$CLOUDS_SERVERS"; }
disk() { awk -F'\t' -v n="$1" '$2 == n { print $8 }' "$CLOUDS_SERVERS"; }

# snapshot SERVER-ID NAME [METADATA-JSON]: createImage at the current $MV, expects 202;
# IMAGE = the new image's id (Location before 2.45, body from 2.45)
snapshot() {
    local body md=${3:-}
    [ -n "$md" ] || md='{}'
    body=$(jq -cn --arg n "$2" --argjson md "$md" '{createImage: {name: $n, metadata: $md}}')
    nova POST "/servers/$1/action" -H 'Content-Type: application/json' -d "$body"
    [ "$CODE" = 202 ] || fail "createImage $2: expected 202, got $CODE $(head -c 300 "$W/body")"
    IMAGE=$(j '.image_id // empty' 2>/dev/null)
    [ -n "$IMAGE" ] || IMAGE=$(hdr Location | sed 's|.*/images/||')
    [ -n "$IMAGE" ] || fail "createImage $2: no image id (no body image_id, no Location)"
    IMAGES+=("$IMAGE")
}
# image_field ID FIELD: a field of the Glance image ("404" when the image is gone)
image_field() {
    glance GET "/v2/images/$1"
    if [ "$CODE" = 404 ]; then echo 404; else j ".$2"; fi
}
# wait_image ID STATUS [SECONDS]: polls Glance until the image has STATUS (404 = gone)
wait_image() {
    local n=$((${3:-10} * 10)) i s=
    for ((i = 0; i < n; i++)); do
        s=$(image_field "$1" status)
        [ "$s" = "$2" ] && return 0
        sleep 0.1
    done
    fail "image $1 never became $2 (last: $s)"
}
task_state() { # task_state SERVER-ID: OS-EXT-STS:task_state as the API shows it
    nova GET "/servers/$1"
    j '.server["OS-EXT-STS:task_state"]'
}

cleanup() {
    local id i
    knobs_reset
    for id in "${IMAGES[@]}"; do
        curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$CLOUDS_GLANCE_URL/v2/images/$id"
    done
    # the emulator lets go of a snapshot whose image is gone within 0.5 s
    for i in $(seq 50); do
        [ "$(ctl GET state | jq '[.servers[] | select(.task_state != null)] | length')" = 0 ] && break
        sleep 0.1
    done
    rm -rf "$W"
}
trap cleanup EXIT

knobs_reset || fail "the emulator's control API does not answer at $CLOUDS_NOVA_CONTROL"
knobs "$FAST"
