#!/usr/bin/env bash
# The heavy load variants (test/load_test.cpp at full size, RTHREAD_LOAD=full)
# in a release build, once; prints the load figures of this machine:
#   100,000 sequential spawn+join cycles (and boost::thread's, the baseline),
#   2,000 and 10,000 parked threads alive at once with 64 KiB stacks,
#   1,000,000 park/unpark ping-pong round trips,
#   concurrent unparkers and the saturating token at full size,
#   the ping-pong and unpark cases again under ThreadSanitizer (100,000),
# and the system calls a spawn+join cycle makes beside boost::thread's (by
# strace -f -c), which shows what the stack-overflow guard costs a thread.
# Each Boost.Test case counts as one check, each syscall verdict as one.
# Prints "N passed, N failed" last; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/../.."

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"
# shellcheck source=lib/boost_test.sh
source "tools/checks/lib/boost_test.sh"

mkdir -p bin/stress

# build NAME PROPERTIES...: builds load_test (b2 also runs its quick cases)
# and sets `binary`.
build() {
    local name=$1
    shift
    local dir=bin/stress/$name
    binary=""
    b2 -j"$(nproc)" --build-dir="$dir" "$@" test//load_test >"$dir.log" 2>&1
    binary=$(find "$dir" -type f -name load_test -perm -u+x -printf '%T@ %p\n' 2>/dev/null |
        sort -n | tail -n 1 | cut -d' ' -f2)
    if [ -z "$binary" ]; then
        tail -n 30 "$dir.log"
        bad "load_test did not build ($name: $*)"
        return 1
    fi
}

# run LABEL ARGS...: runs the built load_test at full size; counts its
# cases from Boost.Test's XML report and prints its figures.
run() {
    local label=$1
    shift
    local report
    report=$(mktemp)
    local log
    log=$(mktemp)
    RTHREAD_LOAD=full "$binary" --log_level=message --report_level=detailed \
        --report_format=XML --report_sink="$report" --catch_system_errors=no "$@" >"$log" 2>&1
    local rc=$?
    grep "load:" "$log" | sed 's/\x1b\[[0-9;]*m//g; s/^/    /'
    local p f
    p=$(cases_passed "$report")
    f=$(cases_failed "$report")
    # A crash or a sanitizer report with no failed case counts as one.
    if [ "$f" = 0 ] && { [ "$rc" != 0 ] || [ "$p" = 0 ]; }; then
        f=1
    fi
    if [ "$f" != 0 ]; then
        sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -v "load:" | tail -n 20 | sed 's/^/    /'
        echo "FAILED: $label: $p cases passed, $f failed (exit $rc)"
    else
        echo "ok: $label: $p cases passed"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    rm -f "$report" "$log"
}

echo "=== release build (b2 variant=release)"
if build release variant=release; then
    run "release, full size"
    release_binary=$binary
fi

echo "=== ThreadSanitizer, release build: ping-pong and unparkers at full size"
if build tsan-release variant=release thread-sanitizer=norecover; then
    TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1} run "thread-sanitizer, full size" \
        --run_test='park_unpark_ping_pong_loses_no_wake_up,token_saturates_at_one_under_concurrent_unparks,many_threads_unparking_one_parked_thread_lose_no_wake_up,one_thread_unparking_many_parked_threads_loses_no_wake_up'
fi

echo "=== system calls per spawn+join cycle (strace -f -c, 2,000 cycles)"
if [ -z "${release_binary:-}" ]; then
    bad "no release build to trace"
elif ! command -v strace >/dev/null 2>&1; then
    bad "strace is not installed (tools/packages.txt lists it)"
else
    cycles=2000
    # count CASE: "syscall calls" lines of strace's summary for one case.
    count() {
        local out
        out=$(mktemp)
        RTHREAD_LOAD=full RTHREAD_LOAD_CYCLES=$cycles strace -f -qq -c -o "$out" \
            "$release_binary" --run_test="$1" --log_level=error >/dev/null 2>&1
        awk '$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$out"
        rm -f "$out"
    }
    rthread_calls=$(count sequential_spawn_join_cycles_leave_registry_and_memory_at_baseline)
    boost_calls=$(count baseline_boost_thread_spawn_join_cycles)
    # Both runs make 200 warm-up cycles too; per cycle, over all of them.
    table=$(LC_ALL=C join -a1 -a2 -e 0 -o 0,1.2,2.2 <(echo "$rthread_calls" | LC_ALL=C sort) \
        <(echo "$boost_calls" | LC_ALL=C sort) |
        awk -v n=$((cycles + 200)) '{ r = $2 / n; b = $3 / n;
            if (r >= 0.05 || b >= 0.05) printf "%-18s %8.2f %8.2f %+8.2f\n", $1, r, b, r - b }')
    printf '    %-18s %8s %8s %8s\n' "syscall" "rthread" "boost" "extra"
    echo "$table" | sed 's/^/    /'
    per() { echo "$table" | awk -v s="$1" '$1 == s { print $4 }'; }
    extra_total=$(echo "$table" | awk '{ t += $4 } END { printf "%.2f", t }')
    echo "    rthread makes $extra_total system calls a cycle beyond boost::thread"
    # The guard's budget: one sigaltstack and the one sched_getaffinity of
    # pthread_getattr_np a thread, and no mapping at all.
    for s in sigaltstack sched_getaffinity; do
        v=$(per "$s")
        if awk -v v="${v:-0}" 'BEGIN { exit !(v <= 1.05) }'; then
            ok "the guard makes at most one $s a thread (${v:-0})"
        else
            bad "$s: ${v:-0} a thread beyond boost::thread (budget: 1)"
        fi
    done
    for s in mmap munmap mprotect; do
        v=$(per "$s")
        if awk -v v="${v:-0}" 'BEGIN { exit !(v <= 0.05 && v >= -0.05) }'; then
            ok "no $s a thread beyond boost::thread (${v:-0})"
        else
            bad "$s: ${v:-0} a thread beyond boost::thread (budget: 0)"
        fi
    done
fi

finish
