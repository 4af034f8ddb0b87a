#!/usr/bin/env bash
# Checks, by tracing (strace -f), that the calls which must never enter the
# kernel do not: unpark with nobody parked (of oneself, of an ended thread),
# unpark of oneself then park, park_timeout(0), park_until of an expired
# deadline, current() and current_id() once the thread is known.
#
# tools/bench/syscall_probe.cpp runs each case 10,000 times between two
# marker system calls (write(-1, "begin <case>") ... "end <case>"); a case
# passes when no system call at all is traced between its markers. A control
# case (yield_now, a system call) must show calls, or the tracing is broken.
# Prints "N passed, N failed" last; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/../.."

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"
# shellcheck source=lib/boost_test.sh
source "tools/checks/lib/boost_test.sh"

if ! command -v strace >/dev/null 2>&1; then
    echo "strace is not installed (tools/packages.txt lists it)"
    failed=1
    finish
fi

# The gcc-debug build of the test matrix already holds the library: reuse it.
build=bin/matrix/gcc-debug
mkdir -p "$build"
# shellcheck disable=SC2086
if ! b2 -j"$(nproc)" --build-dir="$build" ${matrix_props[gcc-debug]} tools/bench//syscall_probe \
    >bin/syscall-probe-build.log 2>&1; then
    tail -n 30 bin/syscall-probe-build.log
    echo "the probe did not build"
    failed=1
    finish
fi
probe=$(find "$build" -path "*/tools/bench/*" -type f -name syscall_probe -perm -u+x -printf '%T@ %p\n' |
    sort -n | tail -n 1 | cut -d' ' -f2)

trace=$(mktemp)
trap 'rm -f "$trace"' EXIT
if ! strace -f -qq -o "$trace" "$probe" >/dev/null; then
    echo "the probe failed under strace"
    failed=1
    finish
fi

cases="unpark_no_waiter unpark_ended_thread unpark_self_then_park park_timeout_zero
park_until_expired current current_id"
# Every traced line between a case's markers, the markers excluded.
traced_in() {
    awk -v begin="\"begin $1\"" -v end="\"end $1\"" '
        index($0, begin) { inside = 1; seen = 1; next }
        index($0, end) { inside = 0; next }
        inside { print }
        END { if (!seen) print "MARKER-NOT-FOUND" }' "$trace"
}

yields=$(traced_in control_yield_now | grep -c sched_yield)
if [ "$yields" -ge 100 ]; then
    echo "ok: the tracer sees the control case's $yields sched_yield calls"
    passed=$((passed + 1))
else
    echo "FAILED: the tracer saw $yields of the control case's 100 sched_yield calls"
    failed=$((failed + 1))
fi

for c in $cases; do
    calls=$(traced_in "$c")
    if [ -z "$calls" ]; then
        echo "ok: $c makes no system call (10000 rounds)"
        passed=$((passed + 1))
    else
        echo "FAILED: $c made system calls:"
        echo "$calls" | head -n 10 | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done
finish
