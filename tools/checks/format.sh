#!/usr/bin/env bash
# Every C++ file of the tree follows .clang-format: one case a file.
set -u
cd "$(dirname "$0")/../.."
passed=0
failed=0
for f in $(git ls-files '*.hpp' '*.cpp'); do
    if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        passed=$((passed + 1))
    else
        echo "not formatted: $f (run clang-format -i $f)"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
