#!/usr/bin/env bash
# Runs the whole test matrix and prints, as its last line,
# "N passed, N failed", summed over every Boost.Test case of every suite in
# every build variant, plus every check script under tools/checks/.
#
# Variants (each its own build directory under bin/matrix/):
#   gcc-debug, gcc-asan-ubsan, gcc-tsan, clang-debug (the Linux backend),
#   and gcc-cxx20-posix (C++20, with the generic POSIX backend forced:
#   rthread-sys=posix). The two dimensions of that last one are
#   independent (C++20 is a matter of compiling our headers, the backend one
#   of running), so one build covers both and the whole run stays within
#   CI's hour on two cores; gcc-cxx20 and gcc-posix-backend alone can be
#   asked for. windows-wine cross-builds every suite with mingw-w64 and runs
#   them as .exe's under Wine (tools/windows/b2.sh, which builds its
#   toolchain first when the cache is empty). It compiles with -Og
#   (optimization=debug, inlining on): mingw-w64's g++ takes three times
#   native g++'s time on a suite at -O0 and half that at -Og, which keeps
#   the whole run within the hour; running the suites takes seconds.
# A case a platform compiles out (test/platform.hpp) is reported by
# Boost.Test as skipped; each suite's line shows that count, never hidden.
# A suite whose binary failed to build, crashed, or exited non-zero while its
# report counts no failure (a sanitizer report, say) counts as one failed case.
#
# Environment: RTHREAD_VARIANTS="gcc-debug clang-debug" runs only those;
# RTHREAD_CHECKS=0 skips tools/checks/.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=checks/lib/boost_test.sh
source "tools/checks/lib/boost_test.sh"
variants=${RTHREAD_VARIANTS:-"gcc-debug gcc-asan-ubsan gcc-tsan clang-debug gcc-cxx20-posix windows-wine"}
# The b2 of a variant: Windows' builds its toolchain first and runs Wine.
b2_for() {
    if [ "$1" = windows-wine ]; then
        echo "bash tools/windows/b2.sh"
    else
        echo b2
    fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# tools/tsan.supp: false reports from uninstrumented Boost.Thread, explained.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp}

passed=0
failed=0
suites=$(cd test && ls ./*_test.cpp | sed 's|^\./||; s|\.cpp$||')

for v in $variants; do
    echo "=== $v: b2 test ${matrix_props[$v]}"
    build="bin/matrix/$v"
    mkdir -p bin/matrix
    started=$(date +%s)
    # shellcheck disable=SC2086
    $(b2_for "$v") -j"$(nproc)" -l 1200 --build-dir="$build" warnings-as-errors=on ${matrix_props[$v]} test \
        >"$build.log" 2>&1 ||
        echo "    (b2 reported failures; see $build.log)"
    echo "    ($v: $(($(date +%s) - started)) s)"
    for s in $suites; do
        # The newest output: a build directory reused across settings may
        # hold older ones.
        out=$(find "$build" -path "*/$s.test/*" -name "$s.output" -printf '%T@ %p\n' 2>/dev/null |
            sort -n | tail -n 1 | cut -d' ' -f2-)
        if [ -z "$out" ]; then
            echo "    $s: no result (build failed?)"
            failed=$((failed + 1))
            continue
        fi
        disabled=$(grep -c 'RTHREAD_TEST_ONLY_IF(' "test/$s.cpp")
        if [ "$disabled" != 0 ] && grep -q '^Test setup error: test tree is empty' "$out"; then
            # Every case of the suite is disabled on this platform.
            echo "    $s: 0 passed, 0 failed (all $disabled not on this platform)"
            continue
        fi
        p=$(cases_passed "$out")
        f=$(cases_failed "$out")
        # Cases compiled out on this platform (test/platform.hpp).
        skipped=$(grep -o 'test_cases_skipped="[0-9]*"' "$out" | head -n 1 | tr -dc '0-9')
        status=$(sed -n 's/^EXIT STATUS: //p' "$out" | tail -n 1)
        if [ "${status:-1}" != 0 ] && [ "$f" = 0 ]; then
            f=1
            echo "    $s: exit status ${status:-?} with no failed case (crash or sanitizer report)"
        fi
        if [ "$f" != 0 ]; then
            failed_cases "$out" | sed 's/^/    /'
        fi
        if [ "${skipped:-0}" != 0 ]; then
            echo "    $s: $p passed, $f failed ($skipped not on this platform)"
        else
            echo "    $s: $p passed, $f failed"
        fi
        passed=$((passed + p))
        failed=$((failed + f))
    done
done

if [ "${RTHREAD_CHECKS:-1}" != 0 ]; then
    for check in tools/checks/*.sh; do
        [ -e "$check" ] || continue
        echo "=== check: $check"
        log="bin/checks-$(basename "$check" .sh).log"
        mkdir -p bin
        started=$(date +%s)
        bash "$check" >"$log" 2>&1
        rc=$?
        echo "    ($(basename "$check" .sh): $(($(date +%s) - started)) s)"
        last=$(tail -n 1 "$log")
        if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
            p=${BASH_REMATCH[1]}
            f=${BASH_REMATCH[2]}
            if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
        else
            p=0
            f=1
        fi
        [ "$f" = 0 ] || tail -n 30 "$log" | sed 's/^/    /'
        echo "    $p passed, $f failed"
        passed=$((passed + p))
        failed=$((failed + f))
    done
fi

cd "$root"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
