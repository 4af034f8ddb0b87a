#!/usr/bin/env python3
"""Prints the benchmark table from the JSON files tools/bench/run.sh wrote.

    table.py RESULTS_DIR

RESULTS_DIR holds, for each mode (pinned, unpinned): <mode>-<binary>.json
(Google Benchmark's JSON, medians of repetitions), <mode>-rust.jsonl and
<mode>-scale.jsonl (one JSON object a line), and heap.json / heap-rust.jsonl.

Each row group is one operation: rthread's implementations first, then every
baseline with the ratio rthread / baseline (below 1.00x rthread is faster)
and, where the issue sets one, the target and whether this run met it.
Targets are graded on the pinned run only; the unpinned run shows behaviour.

Two medians are shown: the CPU time of the whole process (every thread) and
the wall time. Pinned, the two are the same on a quiet machine (one of the
threads is always running on the one CPU), but only the CPU time stays put
when other processes share that CPU, so the pinned ratios use it. Unpinned,
the ratios use wall time: there a wake-up's cost is mostly time a CPU idles,
which CPU time does not see, and spinning costs CPU time it does not save.
"""

import json
import os
import sys

# (operation, [(rthread name, label)], [baselines])
# A baseline is (name, label, pinned target, unpinned target, rthread name it
# is compared with, or None for the group's first rthread row).
GROUPS = [
    ("spawn + join of an empty function",
     [("spawn_join/rthread_spawn", "rthread::spawn"),
      ("spawn_join/rthread_builder_named", "rthread::builder + name"),
      ("spawn_join/rthread_scope", "rthread::scope, one thread")],
     [("spawn_join/pthread", "pthread_create + join", None, None, None),
      ("spawn_join/std_thread", "std::thread", None, None, None),
      ("spawn_join/boost_thread", "boost::thread", 1.10, None, None),
      ("spawn_join/std_async", "std::async + get", None, None, None),
      ("spawn_join/rust", "Rust thread::spawn", 1.00, None, None),
      ("spawn_join/rust_builder_named", "Rust Builder + name", None, None,
       "spawn_join/rthread_builder_named"),
      ("spawn_join/rust_scope", "Rust thread::scope", None, None, "spawn_join/rthread_scope")]),
    ("a thread that panics, joined",
     [("panic_join/rthread", "rthread::spawn + RTHREAD_PANIC")],
     [("panic_join/std_thread_exception_ptr", "std::thread + exception_ptr", None, None, None),
      ("panic_join/std_async", "std::async + exception", None, None, None),
      ("panic_join/rust", "Rust spawn + panic!", 1.00, None, None)]),
    ("park/unpark ping-pong round trip",
     [("ping_pong/rthread", "rthread park/unpark"),
      ("ping_pong/rthread_parker", "rthread::parker / unparker")],
     [("ping_pong/raw_futex", "raw futex (the floor)", 1.10, None, None),
      ("ping_pong/std_atomic_wait", "std::atomic::wait/notify_one", None, 1.00, None),
      ("ping_pong/std_binary_semaphore", "std::binary_semaphore", None, None, None),
      ("ping_pong/std_mutex_condvar", "std::mutex + condition_variable", None, None, None),
      ("ping_pong/boost_mutex_condvar", "boost::mutex + condition_variable", None, None, None),
      ("ping_pong/rust", "Rust park/unpark", None, None, None)]),
    ("unpark with no waiter",
     [("unpark_no_waiter/rthread", "thread::unpark"),
      ("unpark_no_waiter/rthread_parker", "unparker::unpark")],
     [("unpark_no_waiter/atomic_exchange", "one atomic exchange", 2.00, None, None),
      ("unpark_no_waiter/rust", "Rust Thread::unpark", None, None, None)]),
    ("unpark of oneself, then park",
     [("unpark_self_park/rthread", "unpark + park"),
      ("unpark_self_park/rthread_parker", "unparker::unpark + parker::park")],
     [("unpark_self_park/rust", "Rust unpark + park", 1.00, None, None)]),
    ("park_timeout(0)",
     [("park_timeout_zero/rthread", "park_timeout(0ns)")],
     [("park_timeout_zero/rust", "Rust park_timeout(ZERO)", None, None, None)]),
    ("park_until(an expired deadline)",
     [("park_until_expired/rthread", "park_until(now - 1s)")],
     [("park_timeout_zero/rust", "Rust park_timeout(ZERO)", None, None, None)]),
    ("current()",
     [("current/rthread", "rthread::current()")],
     [("current/std_this_thread_get_id", "std::this_thread::get_id()", None, None, None),
      ("current/pthread_self", "pthread_self()", None, None, None),
      ("current/rust", "Rust thread::current()", 1.00, None, None)]),
    ("current() on a spawned thread",
     [("current_spawned/rthread", "rthread::current()")],
     [("current_spawned/rust", "Rust thread::current()", 1.00, None, None)]),
    ("current_id()",
     [("current_id/rthread", "rthread::current_id()")],
     [("current_id/native_thread_local", "native thread_local read", 1.20, None, None),
      ("current/std_this_thread_get_id", "std::this_thread::get_id()", None, None, None),
      ("current_id/rust", "Rust thread::current().id()", None, None, None)]),
    ("thread::name() of a held handle",
     [("thread_name/rthread", "thread::name()")],
     [("thread_name/rust", "Rust Thread::name()", None, None, None)]),
    ("local_key::with, trivial value",
     [("local_with_trivial/rthread", "local_key<std::uint64_t>::with"),
      ("local_with_trivial/rthread_opaque_key", "the same, key behind a reference")],
     [("local_with_trivial/native_thread_local", "native thread_local", 1.30, None, None),
      ("local_with_trivial/native_thread_local_lazy", "native thread_local, lazy init", None,
       None, None),
      ("local_with_trivial/pthread_getspecific", "pthread_getspecific", None, None, None),
      ("local_with_trivial/boost_thread_specific_ptr", "boost::thread_specific_ptr", None, None,
       None),
      ("local_with_trivial/rust", "Rust thread_local! const Cell<u64>", None, None, None),
      ("local_with_trivial/rust_lazy", "Rust thread_local! lazy Cell<u64>", None, None, None)]),
    ("local_key::with, value with a destructor",
     [("local_with_destructor/rthread", "local_key<std::string>::with")],
     [("local_with_destructor/native_thread_local", "native thread_local", 1.30, None, None),
      ("local_with_destructor/boost_thread_specific_ptr", "boost::thread_specific_ptr", None,
       None, None),
      ("local_with_destructor/rust", "Rust thread_local! RefCell<String>", None, None, None)]),
    ("local_key::state()",
     [("local_state/rthread", "local_key::state()")],
     [("local_with_trivial/native_thread_local", "native thread_local", None, None, None)]),
    ("mpsc unbounded, 1 producer: one message",
     [("mpsc_unbounded_1p/rthread", "rthread::mpsc::channel")],
     [("mpsc_unbounded_1p/rust", "Rust mpsc::channel", 1.00, None, None),
      ("mpsc_unbounded_1p/std_mutex_condvar_deque", "std::mutex + condvar + deque", 1.00, 1.00,
       None)]),
    ("mpsc unbounded, 4 producers: one message",
     [("mpsc_unbounded_4p/rthread", "rthread::mpsc::channel")],
     [("mpsc_unbounded_4p/rust", "Rust mpsc::channel", 1.00, None, None),
      ("mpsc_unbounded_4p/std_mutex_condvar_deque", "std::mutex + condvar + deque", 1.00, 1.00,
       None)]),
    ("mpsc bounded (1024), 1 producer: one message",
     [("mpsc_bounded_1p/rthread", "rthread::mpsc::sync_channel")],
     [("mpsc_bounded_1p/rust", "Rust mpsc::sync_channel", 1.00, None, None),
      ("mpsc_bounded_1p/std_mutex_condvar_deque", "std::mutex + condvar + deque", 1.00, 1.00,
       None)]),
    ("mpsc bounded (1024), 4 producers: one message",
     [("mpsc_bounded_4p/rthread", "rthread::mpsc::sync_channel")],
     [("mpsc_bounded_4p/rust", "Rust mpsc::sync_channel", 1.00, None, None),
      ("mpsc_bounded_4p/std_mutex_condvar_deque", "std::mutex + condvar + deque", 1.00, 1.00,
       None)]),
    ("mpsc ping-pong round trip",
     [("mpsc_ping_pong/rthread", "rthread::mpsc::channel")],
     [("mpsc_ping_pong/rust", "Rust mpsc::channel", 1.00, None, None),
      ("mpsc_ping_pong/std_mutex_condvar_deque", "std::mutex + condvar + deque", 1.00, 1.00,
       None)]),
    ("yield_now",
     [("yield/rthread", "rthread::yield_now()")],
     [("yield/std_this_thread_yield", "std::this_thread::yield()", None, None, None),
      ("yield/rust", "Rust yield_now()", None, None, None)]),
]

# Absolute bounds, graded on the pinned run: name -> nanoseconds.
ABSOLUTE = {
    "park_timeout_zero/rthread": 100.0,
    "park_until_expired/rthread": 100.0,
}

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def strip_suffixes(name):
    """The benchmark's own name, without what Google Benchmark appends for
    MeasureProcessCPUTime() or UseRealTime()."""
    for suffix in ("/process_time", "/real_time"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def load_mode(directory, mode):
    """name -> (median CPU ns, median wall ns), from every file of one mode."""
    medians = {}
    for entry in sorted(os.listdir(directory)):
        path = os.path.join(directory, entry)
        if not entry.startswith(mode + "-"):
            continue
        if entry.endswith(".json"):
            with open(path) as f:
                try:
                    data = json.load(f)
                except json.JSONDecodeError:
                    continue
            for b in data.get("benchmarks", []):
                if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                    continue
                name = strip_suffixes(b.get("run_name", b["name"]))
                unit = UNIT_NS[b.get("time_unit", "ns")]
                medians[name] = (b["cpu_time"] * unit, b["real_time"] * unit)
        elif entry.endswith("-rust.jsonl"):
            for line in open(path):
                line = line.strip()
                if line.startswith("{"):
                    row = json.loads(line)
                    if "median_ns" in row:
                        medians[row["name"]] = (row["median_cpu_ns"], row["median_ns"])
    return medians


def load_lines(path):
    rows = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                row = json.loads(line)
                rows[row["name"]] = row
    return rows


def fmt_time(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} us"
    if ns >= 10:
        return f"{ns:.1f} ns"
    return f"{ns:.2f} ns"


def print_mode(both, mode, verdicts):
    graded = mode == "pinned"
    # The graded metric: process CPU time pinned, wall time unpinned.
    medians = {name: (cpu if graded else wall) for name, (cpu, wall) in both.items()}
    walls = {name: wall for name, (_, wall) in both.items()}
    print(f"== {mode} "
          + ("(taskset -c 0; ratios of process CPU time: graded)" if graded
             else "(both CPUs; ratios of wall time: behaviour, not grades)"))
    header = (f"{'operation / implementation':<44} {'cpu' if graded else 'wall':>10}"
              f" {'(wall)' if graded else '':>10} {'rthread/this':>12}  target")
    print(header)
    print("-" * (len(header) + 14))
    for title, mine, baselines in GROUPS:
        if not any(name in medians for name, _ in mine):
            if not any(b[0] in medians for b in baselines):
                continue
        print(title)
        primary = next((name for name, _ in mine if name in medians), mine[0][0])
        for name, label in mine:
            value = medians.get(name)
            other = f"({fmt_time(walls.get(name))})" if graded else ""
            line = f"  {label:<42} {fmt_time(value):>10} {other:>10} {'':>12}"
            bound = ABSOLUTE.get(name)
            if bound is not None and graded:
                if value is None:
                    verdict = "not measured"
                else:
                    verdict = "met" if value <= bound else "MISSED"
                line += f"  <= {fmt_time(bound)}: {verdict}"
                verdicts.append((f"{label} <= {fmt_time(bound)}", verdict))
            print(line)
        for name, label, pinned_target, unpinned_target, against in baselines:
            value = medians.get(name)
            ours = medians.get(against or primary)
            ratio = ours / value if (ours is not None and value) else None
            ratio_text = f"{ratio:.2f}x" if ratio is not None else "-"
            other = f"({fmt_time(walls.get(name))})" if graded else ""
            line = f"  {label:<42} {fmt_time(value):>10} {other:>10} {ratio_text:>12}"
            target = pinned_target if graded else unpinned_target
            if target is not None:
                verdict = ("not measured" if ratio is None else
                           "met" if ratio <= target else "MISSED")
                line += f"  <= {target:.2f}x: {verdict}"
                verdicts.append((f"{title}: rthread <= {target:.2f}x {label} ({mode})", verdict))
            print(line)
    print()


def print_heap(directory, verdicts):
    rows = {}
    path = os.path.join(directory, "heap.json")
    if os.path.exists(path):
        with open(path) as f:
            for b in json.load(f).get("benchmarks", []):
                if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                    continue
                rows[strip_suffixes(b.get("run_name", b["name"]))] = b
    rows.update(load_lines(os.path.join(directory, "heap-rust.jsonl")))
    if not rows:
        return
    print("== heap allocated per spawned thread (operator new / Rust's global allocator)")
    for name, label in [("heap_per_thread/rthread_spawn", "rthread::spawn"),
                        ("heap_per_thread/boost_thread", "boost::thread"),
                        ("heap_per_thread/std_thread", "std::thread"),
                        ("heap_per_thread/rust", "Rust thread::spawn")]:
        row = rows.get(name)
        if row is None:
            continue
        print(f"  {label:<42} {row['heap_bytes']:>8.0f} B in {row['heap_allocs']:.0f} allocations")
    mine = rows.get("heap_per_thread/rthread_spawn")
    boost = rows.get("heap_per_thread/boost_thread")
    if mine and boost:
        extra = mine["heap_bytes"] - boost["heap_bytes"]
        verdict = "met" if extra <= 512 else "MISSED"
        print(f"  rthread beyond boost::thread: {extra:.0f} B  <= 512 B: {verdict}")
        verdicts.append(("library heap per thread <= 512 B beyond boost::thread", verdict))
    print()


def print_scale(directory, mode):
    rows = load_lines(os.path.join(directory, f"{mode}-scale.jsonl"))
    if not rows:
        return
    print(f"== scale, {mode}: threads alive at once (64 KiB stacks), parked, unparked, joined")
    print(f"  {'threads / implementation':<42} {'wall':>10} {'cpu':>10} {'peak RSS':>10}"
          f" {'per thread':>11} {'rthread/this':>13}")
    for n in (1000, 4000):
        ours = rows.get(f"scale_{n}/rthread")
        for impl, label in [("rthread", "rthread"), ("pthread", "pthread + futex"),
                            ("boost_thread", "boost::thread + futex"), ("rust", "Rust")]:
            row = rows.get(f"scale_{n}/{impl}")
            if row is None:
                continue
            # The ratio uses the graded metric: CPU time pinned, wall time unpinned.
            metric = "cpu_ms" if mode == "pinned" else "wall_ms"
            ratio = ""
            if ours is not None and impl != "rthread" and row[metric]:
                ratio = f"{ours[metric] / row[metric]:.2f}x"
            print(f"  {str(n) + ' ' + label:<42} {row['wall_ms']:>7.1f} ms {row['cpu_ms']:>7.1f} ms"
                  f" {row['peak_rss_kib'] / 1024:>6.1f} MiB {row['rss_per_thread_kib']:>7.1f} KiB"
                  f" {ratio:>13}")
    print()


def main():
    directory = sys.argv[1]
    verdicts = []
    for mode in ("pinned", "unpinned"):
        medians = load_mode(directory, mode)
        if medians:
            print_mode(medians, mode, verdicts)
        print_scale(directory, mode)
    print_heap(directory, verdicts)
    if verdicts:
        print("== targets (pinned medians; ping-pong vs std::atomic::wait unpinned)")
        for what, verdict in verdicts:
            print(f"  {verdict:<12} {what}")
        met = sum(1 for _, v in verdicts if v == "met")
        print(f"{met} of {len(verdicts)} targets met")


if __name__ == "__main__":
    main()
