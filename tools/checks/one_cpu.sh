#!/usr/bin/env bash
# The channel suite again on one CPU (taskset -c 0), plain, under
# AddressSanitizer+UBSan and under ThreadSanitizer: there a bounded
# channel's receiver frees its slots with a plain store and a sender about
# to block makes the process-wide barrier (membarrier) for both sides, where
# on more CPUs both make their own fences (doc/design.md, "Channels"), so the
# matrix's runs on every CPU test only the second way. One more verdict:
# the plain run made membarrier calls (strace), or the first way was not
# the one tested. Reuses the matrix's builds (tools/run_tests.sh, with its
# properties: lib/boost_test.sh).
# Each Boost.Test case counts as one check. Prints "N passed, N failed" last.
set -u
cd "$(dirname "$0")/../.."

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"
# shellcheck source=lib/boost_test.sh
source "tools/checks/lib/boost_test.sh"


for v in gcc-debug gcc-asan-ubsan gcc-tsan; do
    build=bin/matrix/$v
    mkdir -p "$build"
    # shellcheck disable=SC2086
    if ! b2 -j"$(nproc)" --build-dir="$build" warnings-as-errors=on ${matrix_props[$v]} test//mpsc_test \
        >"bin/one-cpu-$v.log" 2>&1; then
        tail -n 20 "bin/one-cpu-$v.log"
        bad "mpsc_test did not build ($v)"
        continue
    fi
    binary=$(find "$build" -type f -name mpsc_test -perm -u+x -printf '%T@ %p\n' |
        sort -n | tail -n 1 | cut -d' ' -f2)
    report="bin/one-cpu-$v.xml"
    taskset -c 0 "$binary" --report_level=detailed --report_format=XML --log_level=error \
        --catch_system_errors=no 2>"$report" >/dev/null
    status=$?
    p=$(cases_passed "$report")
    f=$(cases_failed "$report")
    passed=$((passed + p))
    failed=$((failed + f))
    echo "$v on one CPU: $p passed, $f failed (exit status $status)"
    if [ "$p" = 0 ] || { [ "$status" != 0 ] && [ "$f" = 0 ]; }; then
        bad "$v on one CPU: exit status $status with no failed case (crash or sanitizer report)"
        tail -n 20 "$report"
    fi
done

trace=bin/one-cpu-membarrier.txt
binary=$(find bin/matrix/gcc-debug -type f -name mpsc_test -perm -u+x | head -n 1)
if [ -n "$binary" ] &&
    taskset -c 0 strace -f -qq -e trace=membarrier -o "$trace" "$binary" \
        --run_test=stress_8_producers_on_a_bound_of_1 >/dev/null 2>&1 &&
    grep -q '^[0-9]* *membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED,' "$trace"; then
    ok "on one CPU a blocking bounded send makes the barrier ($(grep -c 'CMD_PRIVATE_EXPEDITED,' "$trace") calls)"
else
    bad "on one CPU no membarrier call was traced ($trace)"
fi

finish
