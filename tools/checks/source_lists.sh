#!/usr/bin/env bash
# The CMake build compiles exactly what the b2 build compiles.
#
# CMakeLists.txt reads its lists from the Jamfiles (the globs of
# `lib rthread`, the dependencies, the test glob), so they cannot drift by
# hand; this check asks both build tools what they actually compile and
# compares: the library's sources, the test suites, and that every C++
# source under libs/rthread/src that git tracks is in the library (a file in
# a directory neither glob reaches would otherwise be silently left out).
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
work=$(mktemp -d "${TMPDIR:-/tmp}/rthread-source-lists.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
compare() { # name, file-a, label-a, file-b, label-b
    if diff -u --label "$3" "$2" --label "$5" "$4"; then
        echo "PASS: $1 ($(wc -l <"$2") files)"
        passed=$((passed + 1))
    else
        echo "FAIL: $1"
        failed=$((failed + 1))
    fi
}

# b2: a dry run (-n -a) prints every compile command; the source is the last
# quoted word of each.
b2 -n -a --build-dir="$work/b2" libs/rthread//rthread 2>&1 |
    grep -oE '"[^"]+\.cpp"$' | tr -d '"' | sort -u >"$work/b2-lib"
b2 -n -a --build-dir="$work/b2" test 2>&1 |
    grep -oE '"[^"]+_test\.cpp"$' | tr -d '"' | sort -u >"$work/b2-tests"

# CMake: the compile database, by target directory (rthread.dir for the
# library, <suite>.dir for each test).
cmake -S . -B "$work/cmake" -DBUILD_TESTING=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; echo "0 passed, 1 failed"; exit 1; }
python3 - "$work/cmake/compile_commands.json" "$(pwd)" "$work" <<'EOF_PY'
import json, os, sys
db, root, work = sys.argv[1:4]
lib, tests = set(), set()
for entry in json.load(open(db)):
    source = os.path.relpath(entry["file"], root)
    command = entry.get("command") or " ".join(entry.get("arguments", []))
    (lib if "/rthread.dir/" in command else tests).add(source)
open(os.path.join(work, "cmake-lib"), "w").write("".join(s + "\n" for s in sorted(lib)))
open(os.path.join(work, "cmake-tests"), "w").write("".join(s + "\n" for s in sorted(tests)))
EOF_PY

git ls-files 'libs/rthread/src/*.cpp' | sort -u >"$work/git-lib"
# The other OS backends (libs/rthread/Jamfile's sys-backend rule): what b2
# compiles for Windows and with the generic POSIX backend forced.
for other in target-os=windows rthread-sys=posix; do
    b2 -n -a --build-dir="$work/b2-other" "$other" libs/rthread//rthread 2>&1 |
        grep -oE '"[^"]+\.cpp"$' | tr -d '"'
done | sort -u - "$work/b2-lib" >"$work/b2-all"

compare "library sources: b2 and CMake compile the same files" \
    "$work/b2-lib" "b2 (libs/rthread/Jamfile)" "$work/cmake-lib" "CMake (CMakeLists.txt)"
compare "test suites: b2 and CMake build the same suites" \
    "$work/b2-tests" "b2 (test/Jamfile)" "$work/cmake-tests" "CMake/CTest (CMakeLists.txt)"
# Tracked but not compiled (an untracked new file compiled by both is fine).
comm -23 "$work/git-lib" "$work/b2-all" >"$work/left-out"
if [ -s "$work/left-out" ]; then
    echo "FAIL: tracked sources that neither build compiles (extend the Jamfile's globs):"
    cat "$work/left-out"
    failed=$((failed + 1))
else
    echo "PASS: every tracked source under libs/rthread/src is in the library"
    passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
