#!/usr/bin/env bash
# clang-tidy (Debian's clang-tidy-14) over every C++ source of the tree, with
# the checks of .clang-tidy (test/.clang-tidy relaxes a few for test code)
# and every warning an error: one case a file, files in parallel.
#
# Sources: libs/rthread/src/*.cpp and this OS's backend under src/sys/ (on
# Linux linux.cpp, posix.cpp, posix_common.cpp, posix_stack_overflow.cpp),
# test/*.cpp, tools/tour.cpp, tools/bench/*.cpp, doc/examples/*.cpp, and
# the headers they include from the library, the public ones
# (include/rthread/) and the private ones (libs/rthread/src/, sys/ included):
# .clang-tidy's HeaderFilterRegex. Not tidied:
# src/sys/windows*.cpp, which need the mingw-w64 (Windows) headers that a
# Linux clang-tidy does not have; the Windows build (tools/windows/) compiles
# them with warnings as errors.
#
# The flags are the build's (Jamfiles): C++17 (the benchmarks but
# syscall_probe are C++20), -Iinclude -Ilibs/rthread/src, for the tests
# -Itest -DBOOST_TEST_DYN_LINK, for posix.cpp -DRTHREAD_SYS_POSIX.
# Cost: a file takes 5 to 20 CPU-seconds (most of it matching in Boost's
# headers, Boost.Test's above all); the check prints its wall and CPU time.
# Arguments: only those files (e.g. tools/checks/tidy.sh test/park_test.cpp).
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
tidy=${CLANG_TIDY:-clang-tidy-14}
work=$(mktemp -d "${TMPDIR:-/tmp}/rthread-tidy.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"

if ! command -v "$tidy" >/dev/null; then
    bad "$tidy not found (apt-get install clang-tidy)"
    finish
fi

if [ $# != 0 ]; then
    sources=("$@") # only these (paths from the tree's root)
else
    sources=(libs/rthread/src/*.cpp libs/rthread/src/sys/posix.cpp
        libs/rthread/src/sys/posix_common.cpp libs/rthread/src/sys/posix_stack_overflow.cpp
        test/*.cpp tools/tour.cpp tools/bench/*.cpp
        doc/examples/*.cpp)
    [ "$(uname -s)" != Linux ] || sources+=(libs/rthread/src/sys/linux.cpp)
fi

# One file: its flags by directory; the verdict and output in $work.
tidy_one() {
    local file=$1 std=c++17 extra=()
    case "$file" in
        test/*) extra=(-Itest -DBOOST_TEST_DYN_LINK) ;;
        tools/bench/syscall_probe.cpp) ;;
        tools/bench/*) std=c++20 ;;
        libs/rthread/src/sys/posix.cpp) extra=(-DRTHREAD_SYS_POSIX) ;;
    esac
    local log
    log="$work/$(echo "$file" | tr / _).log"
    if "$tidy" --quiet --warnings-as-errors='*' "$file" -- -std="$std" -Iinclude \
        -Ilibs/rthread/src "${extra[@]}" >"$log" 2>&1; then
        echo ok >"$log.verdict"
    else
        echo bad >"$log.verdict"
    fi
}
export -f tidy_one
export tidy work

started=$(date +%s)
# shellcheck disable=SC2016 # $1 is tidy_one's argument, in the child bash
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} bash -c 'tidy_one "$1"' _ {}

for file in "${sources[@]}"; do
    log="$work/$(echo "$file" | tr / _).log"
    if [ "$(cat "$log.verdict" 2>/dev/null)" = ok ]; then
        ok "$file"
    else
        grep -E 'error:|warning:' "$log" | grep -v 'warnings generated' | head -n 20
        bad "$file"
    fi
done
# The children's CPU time: the second line of this shell's times (a
# command substitution's subshell would count its own children).
times >"$work/times"
cpu=$(tail -n 1 "$work/times")
echo "(wall time $(($(date +%s) - started)) s on $(nproc) cores; CPU time, user and system: $cpu)"
finish
