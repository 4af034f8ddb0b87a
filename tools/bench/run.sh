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
# program and the scale runs are skipped when it is set),
# RTHREAD_BENCH_MODES ("pinned unpinned" by default).
# Raw results stay in bin/bench-results/.
set -euo pipefail
cd "$(dirname "$0")/../.."

reps=${RTHREAD_BENCH_REPS:-5}
min_time=${RTHREAD_BENCH_MIN_TIME:-0.05}
filter=${RTHREAD_BENCH_FILTER:-}
modes=${RTHREAD_BENCH_MODES:-"pinned unpinned"}
out=bin/bench-results
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.jsonl

echo "building (b2 variant=release tools/bench)..." >&2
if ! b2 -j"$(nproc)" toolset=gcc variant=release tools/bench >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    exit 1
fi
bench_dir=$(dirname "$(find bin/tools/bench -path '*/gcc-*/release/*' -type f -name spawn_bench \
    -perm -u+x -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)")

rust_bench=""
if command -v rustc >/dev/null 2>&1 && [ -z "$filter" ]; then
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
        [ -x "$bench_dir/$b" ] || continue
        echo "running $b ($mode)..." >&2
        "${run[@]}" "$bench_dir/$b" "${gbench_args[@]}" >"$out/$mode-$b.json"
    done
    if [ -n "$rust_bench" ]; then
        echo "running the Rust program ($mode)..." >&2
        "${run[@]}" "$rust_bench" --min-time "$min_time" --reps "$reps" >"$out/$mode-rust.jsonl"
    fi
    if [ -z "$filter" ]; then
        echo "running the scale benchmark ($mode)..." >&2
        for n in 1000 4000; do
            for impl in rthread pthread boost_thread; do
                "${run[@]}" "$bench_dir/scale_bench" "$impl" "$n" >>"$out/$mode-scale.jsonl"
            done
            if [ -n "$rust_bench" ]; then
                "${run[@]}" "$rust_bench" scale "$n" >>"$out/$mode-scale.jsonl"
            fi
        done
    fi
done

if [ -z "$filter" ]; then
    echo "counting heap per thread..." >&2
    "$bench_dir/heap_bench" --benchmark_format=json --benchmark_min_time="$min_time" \
        >"$out/heap.json"
    if [ -n "$rust_bench" ]; then
        "$rust_bench" heap >"$out/heap-rust.jsonl"
    fi
fi

echo
echo "rthread benchmarks, $(date -u +%Y-%m-%d), $(nproc) CPUs:" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
python3 tools/bench/table.py "$out"
