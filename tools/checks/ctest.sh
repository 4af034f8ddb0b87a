#!/usr/bin/env bash
# The CMake build builds every test suite and CTest runs them (one CTest test
# a suite), warnings as errors, in CMake's Debug build. The suites are the
# ones test/Jamfile globs (tools/checks/source_lists.sh checks that).
# Last line: "N passed, N failed" (suites).
set -u
cd "$(dirname "$0")/../.."
jobs=${RTHREAD_JOBS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/rthread-ctest.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! cmake -S . -B "$work" -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON \
    -DRTHREAD_WARNINGS_AS_ERRORS=ON >"$work/configure.log" 2>&1; then
    cat "$work/configure.log"
    echo "0 passed, 1 failed"
    exit 1
fi
# Build what builds; a suite that fails to build shows up below as failed.
cmake --build "$work" -j"$jobs" -- -k >"$work/build.log" 2>&1 ||
    grep -E 'error|Error' "$work/build.log" | head -n 30
(cd "$work" && ctest -j"$jobs" --output-on-failure --timeout 300) | tee "$work/ctest.log"
passed=$(grep -cE 'Test +#[0-9]+: .* Passed' "$work/ctest.log")
failed=$(grep -cE 'Test +#[0-9]+: .* (\*\*\*|Failed|Not Run|Exception|Timeout)' "$work/ctest.log")
total=$(cd "$work" && ctest -N | sed -n 's/^Total Tests: //p')
if [ "${total:-0}" = 0 ]; then
    echo "CTest found no tests"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
