# Shared shell helpers for tests/clouds/up and tests/clouds/down (sourced, not run).
#
# Process records: every long-running process that `up` starts gets DIR/run/NAME.pid
# holding "PID STARTTIME" (STARTTIME = field 22 of /proc/PID/stat).  Stopping checks
# the start time again before signalling, so a recycled PID is never hit, and no
# process is ever looked up by name.

CLOUDS_MARKER=.cloudfs-clouds     # file that says "this DIR was made by tests/clouds/up"
PY=/usr/bin/python3               # Debian's interpreter: another python3 may be first on PATH

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# proc_starttime PID -> prints the start time (clock ticks since boot), fails if gone.
proc_starttime() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }                    # comm may hold spaces and ')': cut after the last ') '
    set -- $stat                         # $1 = state (field 3), starttime = field 22 -> $20
    [ "$1" != Z ] || return 1            # a zombie has finished; only its parent's wait is missing
    printf '%s\n' "${20}"
}

# proc_record DIR NAME PID: remember PID and its start time in DIR/run/NAME.pid.
proc_record() {
    local st
    st=$(proc_starttime "$3") || return 1
    mkdir -p "$1/run"
    printf '%s %s\n' "$3" "$st" > "$1/run/$2.pid"
}

# proc_alive PIDFILE: true if the recorded process still runs (same PID, same start time).
proc_alive() {
    local pid st now
    read -r pid st < "$1" 2>/dev/null || return 1
    [ -n "$pid" ] && [ -n "$st" ] || return 1
    now=$(proc_starttime "$pid") || return 1
    [ "$now" = "$st" ]
}

# procs_running DIR: prints the names of recorded processes that still run.
procs_running() {
    local f
    for f in "$1"/run/*.pid; do
        [ -e "$f" ] || continue
        if proc_alive "$f"; then basename "$f" .pid; fi
    done
}

# procs_stop DIR: SIGTERM every recorded process (start time checked), wait up to
# 10 s, then SIGKILL the process group of whatever is left (uwsgi/nginx workers live
# in the leader's group because every service was started with setsid).
procs_stop() {
    local dir=$1 f pid st left i
    for f in "$dir"/run/*.pid; do
        [ -e "$f" ] || continue
        if proc_alive "$f"; then
            read -r pid st < "$f"
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for i in $(seq 1 100); do
        left=$(procs_running "$dir")
        [ -n "$left" ] || break
        sleep 0.1
    done
    for f in "$dir"/run/*.pid; do
        [ -e "$f" ] || continue
        read -r pid st < "$f" 2>/dev/null || continue
        if proc_alive "$f"; then
            log "$(basename "$f" .pid) (pid $pid) ignored SIGTERM: SIGKILL to its process group"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        else
            # The leader is gone; children left in its group (e.g. uwsgi workers) are
            # still ours only if the group id is unused by anyone else, which holds
            # while no process with that PID exists: kill the group if it is non-empty.
            if [ ! -e "/proc/$pid" ]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
        fi
    done
    for i in $(seq 1 50); do
        left=$(procs_running "$dir")
        [ -n "$left" ] || break
        sleep 0.1
    done
    [ -z "$left" ] || { log "still running: $left"; return 1; }
    return 0
}

# Debian packages the local clouds need (the last two build vcsim, tests/clouds/vcsim).  python3-glance ships no commands and no
# config (we run `python3 -m glance.cmd.*` and write the config); the daemon packages
# keystone/glance-api are deliberately not used (they bind 0.0.0.0 and start services).
CLOUDS_PACKAGES="python3-keystone python3-glance uwsgi-core uwsgi-plugin-python3 curl
nginx-light openssl qemu-utils e2fsprogs golang-go golang-github-vmware-govmomi-dev"

# ensure_packages: install what is missing, non-interactively, with a temporary
# policy-rc.d (exit 101) so that no package script starts a daemon.
ensure_packages() {
    local missing="" p st made_policy=0 rc=0
    for p in $CLOUDS_PACKAGES; do
        st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || st=""
        [ "$st" = installed ] || missing="$missing $p"
    done
    [ -n "$missing" ] || return 0
    [ "$(id -u)" = 0 ] || die "missing Debian packages:$missing (run as root to install them)"
    log "installing Debian packages:$missing"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\n# temporary, from tests/clouds/up: start no services\nexit 101\n' \
            > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q --no-install-recommends \
          -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing; } \
        >&2 || rc=$?
    [ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || die "apt-get failed (exit $rc) installing:$missing"
}
