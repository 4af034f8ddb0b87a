#!/usr/bin/env bash
# Builds the benchmarks in release mode, runs them pinned to one CPU
# (taskset -c 0: the graded run) and then unpinned, and prints one table:
# operation, rthread, each baseline, the ratios, and the targets of issue 7.
# The Rust program (tools/bench/rust/bench.rs) is built and run too when
# rustc is on the PATH.
#
#   bash tools/bench/run.sh
#
# Environment: RTHREAD_BENCH_REPS (repetitions, default 5; medians are
# reported), RTHREAD_BENCH_MIN_TIME (seconds a repetition lasts at least,
# default 0.05), RTHREAD_BENCH_FILTER (a Google Benchmark regex; the Rust
# program and the scale runs are skipped when it is set, except that
# "mpsc" runs the Rust program's channel cases too),
# RTHREAD_BENCH_MODES ("pinned unpinned" by default),
# RTHREAD_BENCH_TARGET=windows (the benchmarks cross-built with mingw-w64,
# tools/windows/b2.sh, and run under Wine: figures of behaviour under Wine,
# not of Windows' speed; no Rust program there).
# Raw results stay in bin/bench-results/ (bin/bench-results-windows/).
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${RTHREAD_BENCH_TARGET:-linux}

reps=${RTHREAD_BENCH_REPS:-5}
min_time=${RTHREAD_BENCH_MIN_TIME:-0.05}
filter=${RTHREAD_BENCH_FILTER:-}
modes=${RTHREAD_BENCH_MODES:-"pinned unpinned"}
exe=""
wine=()
if [ "$target" = windows ]; then
    out=bin/bench-results-windows
    builds=bin/windows-bench
    # b2's --build-dir puts the project's id first.
    bench_root=$builds/rthread/bin/tools/bench
    exe=.exe
    build=(bash tools/windows/b2.sh --build-dir="$builds")
    RTHREAD_MINGW=$(bash tools/windows/toolchain.sh benchmark | tail -n 1)
    export RTHREAD_MINGW
    # shellcheck source=tools/windows/env.sh
    source tools/windows/env.sh
    # As rthread_wine, by name: taskset runs it.
    wine=(timeout --kill-after=10 1800 /usr/lib/wine/wine64)
else
    out=bin/bench-results
    bench_root=bin/tools/bench
    build=(b2 toolset=gcc)
fi
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.jsonl

echo "building (b2 variant=release tools/bench, $target)..." >&2
if ! "${build[@]}" -j"$(nproc)" variant=release tools/bench >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    exit 1
fi
bench_dir=$(dirname "$(find "$bench_root" -path '*/gcc-*/release/*' -type f \
    -name "spawn_bench$exe" -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)")

rust_bench=""
rust_args=()
if [ "$filter" = mpsc ]; then
    # The channels only, Rust's too: their ratios in one run.
    rust_args=(--only mpsc)
fi
if command -v rustc >/dev/null 2>&1 && { [ -z "$filter" ] || [ "$filter" = mpsc ]; } &&
    [ "$target" = linux ]; then
    echo "building the Rust program ($(rustc --version))..." >&2
    rustc -C opt-level=3 --edition 2021 -o "$out/rust_bench" tools/bench/rust/bench.rs
    rust_bench="$out/rust_bench"
fi

gbench_args=(--benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true
    --benchmark_min_time="$min_time" --benchmark_format=json)
if [ -n "$filter" ]; then
    gbench_args+=(--benchmark_filter="$filter")
fi

for mode in $modes; do
    if [ "$mode" = pinned ]; then
        run=(taskset -c 0)
    else
        run=()
    fi
    for b in spawn_bench park_bench current_bench local_bench mpsc_bench; do
        [ -x "$bench_dir/$b$exe" ] || continue
        echo "running $b ($mode)..." >&2
        "${run[@]}" "${wine[@]}" "$bench_dir/$b$exe" "${gbench_args[@]}" >"$out/$mode-$b.json"
    done
    if [ -n "$rust_bench" ]; then
        echo "running the Rust program ($mode)..." >&2
        "${run[@]}" "$rust_bench" --min-time "$min_time" --reps "$reps" "${rust_args[@]}" \
            >"$out/$mode-rust.jsonl"
    fi
    if [ -z "$filter" ]; then
        echo "running the scale benchmark ($mode)..." >&2
        for n in 1000 4000; do
            for impl in rthread pthread boost_thread; do
                "${run[@]}" "${wine[@]}" "$bench_dir/scale_bench$exe" "$impl" "$n" \
                    >>"$out/$mode-scale.jsonl"
            done
            if [ -n "$rust_bench" ]; then
                "${run[@]}" "$rust_bench" scale "$n" >>"$out/$mode-scale.jsonl"
            fi
        done
    fi
done

if [ -z "$filter" ]; then
    echo "counting heap per thread..." >&2
    "${wine[@]}" "$bench_dir/heap_bench$exe" --benchmark_format=json \
        --benchmark_min_time="$min_time" >"$out/heap.json"
    if [ -n "$rust_bench" ]; then
        "$rust_bench" heap >"$out/heap-rust.jsonl"
    fi
fi

if [ "$target" = windows ]; then
    timeout 60 "$WINESERVER" -w || true
fi

echo
echo "rthread benchmarks${exe:+ (Windows .exe's under Wine: behaviour, not Windows' speed)}, $(date -u +%Y-%m-%d), $(nproc) CPUs:" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
python3 tools/bench/table.py "$out"
