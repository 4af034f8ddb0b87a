#!/usr/bin/env bash
# What including rthread costs a user's translation unit (doc/performance.md,
# "Header cost"), measured in preprocessed lines (g++ -E -P | wc -l): unlike
# compile time they do not depend on the machine's load.
#
# - <rthread/rthread.hpp> costs at most 1.2x <boost/system/result.hpp>, which
#   the API requires (every fallible call returns a boost::system::result),
#   in C++17; the C++20 figures are printed, not held to it. Every public
#   header's cost is printed beside it, and on a failure what each outside
#   header ours include adds.
# - No OS or threading header comes with ours: std::thread is not declared
#   (<thread> is not pulled in), no public or detail header names <thread>,
#   <pthread.h>, <sched.h>, <unistd.h>, <windows.h>, <sys/...>, <linux/...>
#   or Boost.Thread, and the headers rthread.hpp reaches beyond those
#   boost/system/result.hpp itself reaches (libstdc++'s <ostream> already
#   brings <pthread.h>) include none of them either.
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
# shellcheck source=tools/checks/lib/tally.sh
. tools/checks/lib/tally.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cxx=${CXX:-g++}
limit_tenths=12 # 1.2x

# lines STD HEADER: the preprocessed lines of a TU that includes HEADER.
lines() {
    printf '#include <%s>\n' "$2" | "$cxx" -std="$1" -Iinclude -x c++ -E -P - | wc -l
}
# ratio N BASE: N/BASE with two decimals.
ratio() { awk -v n="$1" -v b="$2" 'BEGIN { printf "%.2f", n / b }'; }

for std in c++17 c++20; do
    base=$(lines "$std" boost/system/result.hpp)
    echo "$cxx -std=$std: boost/system/result.hpp: $base lines"
    for header in include/rthread/*.hpp; do
        name=${header#include/}
        n=$(lines "$std" "$name")
        echo "    $name: $n lines ($(ratio "$n" "$base")x)"
    done
    n=$(lines "$std" rthread/rthread.hpp)
    what="rthread/rthread.hpp ($cxx -std=$std): $n preprocessed lines, $(ratio "$n" "$base")x boost/system/result.hpp's $base (limit ${limit_tenths%?}.${limit_tenths#?}x)"
    if [ "$std" != c++17 ]; then
        # Reported, not held to the limit: C++20's <chrono> (calendars,
        # time zones) alone adds 3,700 lines that result.hpp does not have.
        echo "info: $what"
    elif [ $((n * 10)) -le $((base * limit_tenths)) ]; then
        ok "$what"
    else
        bad "$what"
        # What each outside header that a header rthread.hpp reaches
        # includes adds to result.hpp alone, heaviest first.
        printf '#include <rthread/rthread.hpp>\n' |
            "$cxx" -std="$std" -Iinclude -x c++ -E -H - 2>&1 >/dev/null |
            grep -oE '^\.+ include/rthread/.*' | sed 's/^\.* //' | sort -u |
            xargs grep -hoE '^#include <[^>]+>' | sed 's/#include <\(.*\)>/\1/' |
            grep -v '^rthread/' | sort -u | while read -r dep; do
            added=$(printf '#include <boost/system/result.hpp>\n#include <%s>\n' "$dep" |
                "$cxx" -std="$std" -Iinclude -x c++ -E -P - | wc -l)
            echo "$((added - base)) $dep"
        done | sort -rn | awk '$1 > 0 { print "    <" $2 "> adds " $1 " lines to result.hpp" }'
    fi
done

# std::thread undeclared: a TU that names it after including ours must not
# compile, for that reason (the control: with <thread> too it compiles, so
# rthread.hpp itself does).
for compiler in g++ clang++; do
    for std in c++17 c++20; do
        for with in "" thread; do
            {
                echo '#include <rthread/rthread.hpp>'
                [ -n "$with" ] && echo "#include <$with>"
                echo 'using probe = std::thread;'
            } >"$tmp/probe.cpp"
            if "$compiler" -std="$std" -Iinclude -fsyntax-only "$tmp/probe.cpp" 2>"$tmp/err"; then
                got=declared
            elif grep -qE "thread.{0,4} in namespace .{0,4}std" "$tmp/err"; then
                got=undeclared
            else
                got="refused for another reason: $(head -n 3 "$tmp/err")"
            fi
            if [ -n "$with" ]; then
                expect=declared label="with <thread> too (control)"
            else
                expect=undeclared label="alone"
            fi
            if [ "$got" = "$expect" ]; then
                ok "std::thread after rthread.hpp $label ($compiler -std=$std): $got"
            else
                bad "std::thread after rthread.hpp $label ($compiler -std=$std): $got, expected $expect"
            fi
        done
    done
done

# No header of ours names an OS or threading header.
os_headers='<(thread|pthread\.h|sched\.h|unistd\.h|windows\.h|sys/[^>]*|linux/[^>]*|boost/thread[^>]*)>'
named=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*$os_headers" include/rthread || true)
if [ -z "$named" ]; then
    ok "no header under include/rthread includes an OS or threading header"
else
    bad "headers under include/rthread include an OS or threading header:"
    echo "$named"
fi

# Nor does anything rthread.hpp reaches beyond what result.hpp reaches.
printf '#include <rthread/rthread.hpp>\n' | "$cxx" -std=c++17 -Iinclude -x c++ -E -H - 2>&1 \
    >/dev/null | grep -E '^\.+ /' | sed 's/^\.* //' | sort -u >"$tmp/ours"
printf '#include <boost/system/result.hpp>\n' | "$cxx" -std=c++17 -x c++ -E -H - 2>&1 \
    >/dev/null | grep -E '^\.+ /' | sed 's/^\.* //' | sort -u >"$tmp/theirs"
extra=$(comm -23 "$tmp/ours" "$tmp/theirs" |
    grep -E '/(c\+\+/[^/]+/thread|bits/std_thread\.h|pthread\.h|sched\.h|unistd\.h|windows\.h|sys/[^/]+\.h|linux/[^/]+\.h|boost/thread/.*)$' ||
    true)
if [ -z "$extra" ]; then
    ok "rthread.hpp reaches no OS or threading header that boost/system/result.hpp does not"
else
    bad "rthread.hpp reaches OS or threading headers that boost/system/result.hpp does not:"
    echo "$extra"
fi

finish
