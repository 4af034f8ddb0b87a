#!/usr/bin/env bash
# The examples of the docs are real programs: each doc/examples/*.cpp is
# built with b2 against /rthread//rthread (warnings as errors), run, and its
# stdout compared with doc/examples/<name>.out (every example has one). The
# panics example also runs with RTHREAD_BACKTRACE=1 and must print a
# backtrace that starts in its own source. Every code block the docs quote
# from an example (marked `<!-- quote: examples/NAME.cpp -->`) must be a
# verbatim excerpt of that file, every output shown
# (`<!-- output: examples/NAME.out -->`) that file, and the guide quotes
# every example.
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
jobs=${RTHREAD_JOBS:-2}
# Shared with the other b2-based checks, so the library is built once.
build=bin/checks/b2
work=$(mktemp -d "${TMPDIR:-/tmp}/rthread-examples.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"

if ! b2 -j"$jobs" --build-dir="$build" -sEXAMPLES_DIR="$work/bin" doc/examples//examples \
    >"$work/build.log" 2>&1; then
    grep -E 'error|failed' "$work/build.log" | head -n 30
fi

for source in doc/examples/*.cpp; do
    name=$(basename "$source" .cpp)
    exe="$work/bin/$name"
    if [ ! -x "$exe" ]; then
        bad "$name: did not build"
        continue
    fi
    if ! timeout 120 "$exe" >"$work/$name.stdout" 2>"$work/$name.stderr"; then
        cat "$work/$name.stderr"
        bad "$name: exited with an error"
    elif [ ! -f "doc/examples/$name.out" ]; then
        bad "$name: no doc/examples/$name.out with its expected output"
    elif ! diff -u --label "doc/examples/$name.out" "doc/examples/$name.out" \
        --label "$name's stdout" "$work/$name.stdout"; then
        bad "$name: stdout differs from doc/examples/$name.out"
    else
        ok "$name runs and prints doc/examples/$name.out"
    fi
done

# RTHREAD_BACKTRACE=1 on a real program: the trace starts at the panic
# (RTHREAD_PANIC reports at its site, so the first frames are the macro's
# own, in include/rthread/; the first frame outside them is the panicking
# line).
if [ -x "$work/bin/panics" ]; then
    RTHREAD_BACKTRACE=1 timeout 120 "$work/bin/panics" >/dev/null 2>"$work/bt.stderr"
    first=$(sed -n '/^stack backtrace:$/,$p' "$work/bt.stderr" | grep -E '^ +at ' |
        grep -v 'include/rthread/' | head -n 1)
    if grep -q '^stack backtrace:$' "$work/bt.stderr" &&
        [[ "$first" == *"at doc/examples/panics.cpp:"* ]]; then
        ok "panics with RTHREAD_BACKTRACE=1 prints a backtrace from the panicking line"
    else
        cat "$work/bt.stderr"
        bad "panics with RTHREAD_BACKTRACE=1"
    fi
fi

# Quotes in the docs.
QUOTE_COUNTS="$work/quotes" python3 - doc <<'EOF_PY'
import glob, os, re, sys
doc = sys.argv[1]
marker = re.compile(r"<!-- quote: (examples/[\w.-]+\.cpp) -->\s*\n```cpp\n(.*?)\n```", re.S)
quoted = set()
ok = bad = 0
for md in sorted(glob.glob(os.path.join(doc, "*.md"))):
    text = open(md).read()
    for m in marker.finditer(text):
        path = os.path.join(doc, m.group(1))
        line = text[: m.start()].count("\n") + 1
        where = f"{md}:{line} quotes {m.group(1)}"
        if not os.path.exists(path):
            print(f"FAIL: {where}, which does not exist"); bad += 1; continue
        source = open(path).read()
        block = m.group(2) + "\n"
        if ("\n" + block) in ("\n" + source):
            print(f"PASS: {where} verbatim"); ok += 1
            if md.endswith("guide.md"):
                quoted.add(os.path.basename(path))
        else:
            print(f"FAIL: {where}, but the block is not a verbatim run of its lines"); bad += 1
    outputs = re.compile(r"<!-- output: (examples/[\w.-]+\.out) -->\s*\n```text\n(.*?)\n```", re.S)
    for m in outputs.finditer(text):
        path = os.path.join(doc, m.group(1))
        line = text[: m.start()].count("\n") + 1
        where = f"{md}:{line} shows the output {m.group(1)}"
        if os.path.exists(path) and open(path).read().rstrip("\n") == m.group(2):
            print(f"PASS: {where} as it is"); ok += 1
        else:
            print(f"FAIL: {where}, but it differs from the file"); bad += 1
examples = {os.path.basename(p) for p in glob.glob(os.path.join(doc, "examples", "*.cpp"))}
for name in sorted(examples - quoted):
    print(f"FAIL: doc/guide.md quotes nothing of examples/{name}"); bad += 1
if examples and examples <= quoted:
    print("PASS: doc/guide.md quotes every example"); ok += 1
open(os.environ.get("QUOTE_COUNTS", "/dev/null"), "w").write(f"{ok} {bad}\n")
EOF_PY
read -r qp qf <"$work/quotes" || { qp=0; qf=1; }
passed=$((passed + qp))
failed=$((failed + qf))

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
