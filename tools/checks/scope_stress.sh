#!/usr/bin/env bash
# Stress of rthread::scope (tools/stress/scope_stress.cpp): thousands of
# scopes with random mixes of joined, dropped and outliving handles, panics,
# nested spawns and handles returned as results, each checked for lost
# threads, results that outlive the scope, lost or misordered panics and
# stray parking tokens. Runs in a release build (many rounds), then shorter
# under ThreadSanitizer and AddressSanitizer+UBSan (reusing the matrix's
# builds of the library). RTHREAD_STRESS_SEED fixes the seed to replay a
# failure. Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
jobs=${RTHREAD_JOBS:-2}
seed=${RTHREAD_STRESS_SEED:-}

export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# shellcheck source=lib/boost_test.sh
source "tools/checks/lib/boost_test.sh"

passed=0
failed=0

# run <label> <build dir> <rounds> <b2 properties...>
run() {
    local label=$1 build=$2 rounds=$3
    shift 3
    mkdir -p "$build"
    local log="$build/scope_stress-build.log"
    if ! b2 -j"$jobs" --build-dir="$build" "$@" tools/stress//scope_stress >"$log" 2>&1; then
        grep -E 'error|failed' "$log" | head -n 30
        echo "FAIL: $label: scope_stress did not build"
        failed=$((failed + 1))
        return
    fi
    local program
    program=$(find "$build" -path "*/tools/stress/*" -type f -name scope_stress -perm -u+x \
        -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)
    local out
    # shellcheck disable=SC2086
    if out=$(timeout 600 "$program" "$rounds" $seed 2>&1); then
        echo "$out" | tail -n 3
        echo "PASS: $label ($rounds rounds)"
        passed=$((passed + 1))
    else
        echo "$out" | tail -n 40
        echo "FAIL: $label"
        failed=$((failed + 1))
    fi
}

run release bin/checks/b2 20000 toolset=gcc variant=release
# tools/tsan.supp: a false report inside uninstrumented Boost.Thread.
# shellcheck disable=SC2086
TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$(pwd)/tools/tsan.supp" \
    run tsan bin/matrix/gcc-tsan 2000 ${matrix_props[gcc-tsan]}
# shellcheck disable=SC2086
run asan-ubsan bin/matrix/gcc-asan-ubsan 1000 ${matrix_props[gcc-asan-ubsan]}

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
