#!/bin/bash
# The test runner of `make check`: runs the unit-test binaries given as
# arguments, starts the local clouds once (tests/clouds/up), runs every
# tests/integration/*.sh, the vCD emulator's tests (tests/clouds/vcd-tests) and
# the Nova emulator's tests (tests/clouds/nova-tests) and the boot proof's
# cases (tests/boot/run) against them, and ends with "N passed, N failed".
# Exit codes of a test: 0 pass, 77 skip, anything else fail.
# Environment: CLOUDS_DIR (where the local clouds live), TESTS (a glob to
# run a subset, e.g. TESTS='read-*'), KEEP_CLOUDS=1 (leave them running).
set -u
cd "$(dirname "$0")/.."
top=$PWD
passed=0 failed=0 skipped=0
failures=()
results=${RESULTS_DIR:-$top/.check}
rm -rf "$results"
mkdir -p "$results"

record() { # name rc seconds
    case $2 in
    0) passed=$((passed + 1)); printf 'PASS  %-40s %4ss\n' "$1" "$3" ;;
    77) skipped=$((skipped + 1)); printf 'SKIP  %-40s %4ss\n' "$1" "$3" ;;
    *) failed=$((failed + 1)); failures+=("$1"); printf 'FAIL  %-40s %4ss (log: %s)\n' "$1" "$3" "$results/$1.log" ;;
    esac
}

for bin in "$@"; do
    name=unit/$(basename "$bin")
    start=$SECONDS
    "$bin" >"$results/${name//\//_}.log" 2>&1
    rc=$?
    record "${name//\//_}" $rc $((SECONDS - start))
done

clouds=${CLOUDS_DIR:-$top/.clouds}
tests/clouds/down "$clouds" >/dev/null 2>&1
rm -rf "$clouds"
start=$SECONDS
if tests/clouds/up "$clouds" >"$results/clouds-up.log" 2>&1; then
    record clouds-up 0 $((SECONDS - start))
    export CLOUDS_ENV=$clouds/env
    for t in tests/integration/${TESTS:-*}.sh; do
        name=$(basename "$t" .sh)
        [ -f "$t" ] && [ "$name" != lib ] || continue
        start=$SECONDS
        timeout 600 bash "$t" >"$results/$name.log" 2>&1
        rc=$?
        record "$name" $rc $((SECONDS - start))
    done
    # the vCD emulator's own tests (tests/clouds/vcd-tests), each counted as one test
    export CLOUDS_DIR=$clouds
    for t in $(tests/clouds/vcd-tests/run --list); do
        name=vcd-$(basename "$t" .sh)
        [[ $name == ${TESTS:-*} ]] || continue
        start=$SECONDS
        timeout 120 bash "$t" >"$results/$name.log" 2>&1
        rc=$?
        record "$name" $rc $((SECONDS - start))
    done
    # the Nova emulator's own tests (tests/clouds/nova-tests), each counted as one test
    for t in $(tests/clouds/nova-tests/run --list); do
        name=nova-$(basename "$t" .sh)
        [[ $name == ${TESTS:-*} ]] || continue
        start=$SECONDS
        timeout 120 bash "$t" >"$results/$name.log" 2>&1
        rc=$?
        record "$name" $rc $((SECONDS - start))
    done
    # the boot proof (tests/boot/run), each of its cases counted as one test
    # named boot-CASE (TESTS='boot-*' runs them alone)
    pat=${TESTS:-*}
    if [[ $pat == boot-* || $pat == '*' ]]; then
        start=$SECONDS
        timeout 1200 tests/boot/run "${pat#boot-}" >"$results/boot.log" 2>&1
        while read -r word name rest; do
            case $word in PASS) rc=0 ;; FAIL) rc=1 ;; SKIP) rc=77 ;; *) continue ;; esac
            secs=${rest##* }
            # the case's own log: its line and the end of its serial console
            { echo "$word $name $rest"; tail -c 3000 "${BOOT_DIR:-$top/.boot}/logs/$name.console" 2>/dev/null; } \
                >"$results/boot-$name.log"
            record "boot-$name" $rc "${secs%s}"
        done <"$results/boot.log"
        grep -q '^[0-9]* passed, ' "$results/boot.log" || record boot-run 1 $((SECONDS - start))
    fi
    [ "${KEEP_CLOUDS:-0}" = 1 ] || tests/clouds/down "$clouds" >/dev/null 2>&1
else
    record clouds-up 1 $((SECONDS - start))
    tail -20 "$results/clouds-up.log"
fi

# A failure's own words, so that a CI log that keeps only stdout still says why.
for name in "${failures[@]}"; do
    echo "--- $name: the end of $results/$name.log"
    grep -m1 '^FAIL: ' "$results/$name.log" 2>/dev/null | cut -c1-400
    tail -n 12 "$results/$name.log" 2>/dev/null | cut -c1-300
done
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
[ $skipped -gt 0 ] && echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
