#!/usr/bin/env bash
# Every public header compiles on its own, warning-free with
# -Wall -Wextra -Wpedantic, in C++17 and C++20, with g++ and clang++
# (doc/reference.md). One case a header, compiler and standard; and one
# that no detail header includes a public one (the layers point down).
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
for header in include/rthread/*.hpp; do
    name=${header#include/}
    printf '#include <%s>\n' "$name" >"$tmp/tu.cpp"
    for compiler in g++ clang++; do
        for std in c++17 c++20; do
            if "$compiler" -std="$std" -Wall -Wextra -Wpedantic -Werror -Iinclude \
                -fsyntax-only "$tmp/tu.cpp" 2>"$tmp/err"; then
                passed=$((passed + 1))
            else
                echo "FAILED: $name with $compiler -std=$std"
                head -n 20 "$tmp/err"
                failed=$((failed + 1))
            fi
        done
    done
done
# The layers point down: no detail header includes a public one.
upward=$(grep -lE '^#include <rthread/[a-z_]+\.hpp>' include/rthread/detail/*.hpp || true)
if [ -z "$upward" ]; then
    echo "PASS: no header under include/rthread/detail includes a public header"
    passed=$((passed + 1))
else
    echo "FAILED: detail headers that include a public header: $upward"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
