#!/usr/bin/env bash
# What must not compile, and what must (a control for each): the format
# string of RTHREAD_PANIC is checked at compile time in C++17 and C++20 and
# must be a literal; [[nodiscard]] makes `h.join();` alone an error under
# -Werror=unused-result, while spawn()'s handle and park_timeout's result
# may be dropped. g++ and clang++, C++17 and C++20; -fsyntax-only, so the
# whole check takes seconds.
set -u
cd "$(dirname "$0")/../.."
# shellcheck source=tools/checks/lib/tally.sh
. tools/checks/lib/tally.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# case NAME EXPECT(compiles|refused) BODY: BODY is the body of a function
# f() in a translation unit that includes <rthread/rthread.hpp>.
case_() {
    local name=$1 expect=$2 body=$3
    {
        echo '#include <rthread/rthread.hpp>'
        echo '#include <string>'
        echo 'void f() {'
        echo "$body"
        echo '}'
    } >"$tmp/tu.cpp"
    for compiler in g++ clang++; do
        for std in c++17 c++20; do
            if "$compiler" -std="$std" -Wall -Wextra -Wpedantic -Werror=unused-result -Iinclude \
                -fsyntax-only "$tmp/tu.cpp" 2>"$tmp/err"; then
                got=compiles
            else
                got=refused
            fi
            if [ "$got" = "$expect" ]; then
                ok "$name ($compiler -std=$std): $got"
            else
                bad "$name ($compiler -std=$std): $got, expected $expect"
                head -n 15 "$tmp/err"
            fi
        done
    done
}

# RTHREAD_PANIC's format string.
case_ "RTHREAD_PANIC with matching arguments" compiles \
    'if (false) { RTHREAD_PANIC("x={} y={}", 1, 2); }'
case_ "RTHREAD_PANIC without arguments" compiles 'if (false) { RTHREAD_PANIC("plain"); }'
case_ "RTHREAD_PANIC with a runtime string as an argument" compiles \
    'std::string text = "t"; if (false) { RTHREAD_PANIC("{}", text); }'
case_ "RTHREAD_PANIC with too few arguments" refused 'RTHREAD_PANIC("x={} y={}", 1);'
case_ "RTHREAD_PANIC with too many arguments" refused 'RTHREAD_PANIC("x={}", 1, 2);'
case_ "RTHREAD_PANIC with a bad format spec" refused 'RTHREAD_PANIC("{:d}", "text");'
case_ "RTHREAD_PANIC with a non-literal format" refused \
    'const char* format = "{}"; RTHREAD_PANIC(format, 1);'
case_ "RTHREAD_PANIC with a std::string format" refused \
    'std::string format = "{}"; RTHREAD_PANIC(format, 1);'

# [[nodiscard]]: Rust's #[must_use] on Result.
case_ "join() dropped" refused 'auto h = rthread::spawn([] {}); h.join();'
case_ "join() kept" compiles 'auto h = rthread::spawn([] {}); (void)h.join();'
case_ "try_join_for() dropped" refused \
    'auto h = rthread::spawn([] {}); h.try_join_for(std::chrono::seconds(1));'
case_ "try_join_until() dropped" refused \
    'auto h = rthread::spawn([] {}); h.try_join_until(std::chrono::steady_clock::now());'
case_ "builder::spawn() dropped" refused 'rthread::builder{}.spawn([] {});'
case_ "builder::spawn_scoped() dropped" refused \
    'rthread::scope([](rthread::scope_handle& s) { rthread::builder{}.spawn_scoped(s, [] {}); });'
case_ "scoped_join_handle::join() dropped" refused \
    'rthread::scope([](rthread::scope_handle& s) { auto h = s.spawn([] {}); h.join(); });'
case_ "catch_unwind() dropped" refused 'rthread::catch_unwind([] { return 1; });'
case_ "local_key::try_with() dropped" refused \
    'static const rthread::local_key<int> key{[] { return 1; }}; key.try_with([](int&) {});'
case_ "available_parallelism() dropped" refused 'rthread::available_parallelism();'
case_ "spawn() dropped (detaches, on purpose)" compiles 'rthread::spawn([] {});'
case_ "park_timeout() dropped" compiles 'rthread::park_timeout(std::chrono::milliseconds(0));'
case_ "park_until() dropped" compiles 'rthread::park_until(std::chrono::steady_clock::now());'

finish
