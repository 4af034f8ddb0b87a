#!/usr/bin/env bash
# Debuggers see the names rthread gives threads: gdb -batch runs
# doc/examples/named_threads (three named workers, parked), stops it in
# rthread::threads() once every worker has started, and `info threads` must
# list each name as the OS keeps it (15 bytes on Linux).
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
jobs=${RTHREAD_JOBS:-2}
build=bin/checks/b2 # shared with the other b2-based checks
work=$(mktemp -d "${TMPDIR:-/tmp}/rthread-gdb.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"

if ! b2 -j"$jobs" --build-dir="$build" -sEXAMPLES_DIR="$work/bin" doc/examples//examples \
    >"$work/build.log" 2>&1 || [ ! -x "$work/bin/named_threads" ]; then
    grep -E 'error|failed' "$work/build.log" | head -n 30
    bad "doc/examples/named_threads did not build"
    echo "$passed passed, $failed failed"
    exit 1
fi

timeout 120 gdb -batch -nx \
    -ex 'set pagination off' \
    -ex 'set debuginfod enabled off' \
    -ex 'break rthread::threads' \
    -ex 'run' \
    -ex 'info threads' \
    -ex 'kill' \
    "$work/bin/named_threads" >"$work/gdb.log" 2>&1
cat "$work/gdb.log"

if grep -q 'hit Breakpoint 1, rthread::threads' "$work/gdb.log"; then
    ok "gdb stopped the program once its named threads were running"
else
    bad "gdb did not stop in rthread::threads (is ptrace allowed here?)"
fi
# gdb prints each thread as: <n> Thread 0x... (LWP <tid>) "<name>" <frame>
for name in io-reader io-writer a-thread-with-a; do
    if grep -qE "Thread 0x[0-9a-f]+ \(LWP [0-9]+\) \"$name\"" "$work/gdb.log"; then
        ok "info threads shows \"$name\""
    else
        bad "info threads does not show \"$name\""
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
