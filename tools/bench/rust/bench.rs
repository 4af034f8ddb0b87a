//! The Rust side of rthread's benchmarks: the same operations on Rust's own
//! std::thread, timed the same way Google Benchmark times the C++ ones
//! (iterations grown until one run lasts --min-time seconds, then --reps runs
//! of that many iterations; the median of the runs is reported), both in
//! wall time and in the CPU time of the whole process (all its threads), as
//! the C++ binaries' MeasureProcessCPUTime() does.
//!
//! std only, no crates: built by tools/bench/run.sh with
//!   rustc -C opt-level=3 --edition 2021 bench.rs
//!
//!   bench [--min-time S] [--reps N]   every timed case, one JSON object a line
//!                                     (the channels' are in mpsc.rs)
//!     ... --only mpsc                 the channels' cases only
//!   bench scale N                     N parked threads with 64 KiB stacks
//!   bench heap                        heap bytes a spawned thread allocates
//!
//! Names match the C++ binaries' ("<operation>/rust"), so the run script puts
//! each beside rthread's.

mod mpsc;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::panic;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Counts every heap allocation, for the bytes a spawned thread costs.
struct Counting;

static ALLOCATED_BYTES: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Relaxed: plain statistics, read after the threads were joined.
        ALLOCATED_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    // From the C library std already links: no crate needed.
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}

const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;

/// CPU time of the whole process (every thread, the ended ones included).
fn process_cpu_seconds() -> f64 {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid timespec for the call to fill in.
    unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

struct Options {
    min_time: f64,
    reps: usize,
}

/// (wall seconds, process CPU seconds) of `iterations` calls.
fn time_iterations<F: FnMut()>(f: &mut F, iterations: u64) -> (f64, f64) {
    let cpu_start = process_cpu_seconds();
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let wall = start.elapsed().as_secs_f64();
    (wall, process_cpu_seconds() - cpu_start)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Google Benchmark's method: grow the iteration count until a run lasts
/// min_time, then time reps runs of that count; report the median.
fn measure<F: FnMut()>(options: &Options, name: &str, mut f: F) {
    let mut iterations: u64 = 1;
    loop {
        let (elapsed, _) = time_iterations(&mut f, iterations);
        if elapsed >= options.min_time || iterations >= 1_000_000_000 {
            break;
        }
        let factor = if elapsed <= 0.0 {
            10.0
        } else {
            (options.min_time * 1.4 / elapsed).min(10.0).max(1.5)
        };
        iterations = ((iterations as f64) * factor).ceil() as u64;
    }
    let runs: Vec<(f64, f64)> = (0..options.reps)
        .map(|_| time_iterations(&mut f, iterations))
        .collect();
    let per_iteration = |seconds: f64| seconds * 1e9 / iterations as f64;
    let wall = median(runs.iter().map(|r| per_iteration(r.0)).collect());
    let cpu = median(runs.iter().map(|r| per_iteration(r.1)).collect());
    println!(
        "{{\"name\": \"{}\", \"median_ns\": {:.3}, \"median_cpu_ns\": {:.3}, \"iterations\": {}}}",
        name, wall, cpu, iterations
    );
}

thread_local! {
    static TRIVIAL: Cell<u64> = const { Cell::new(42) };
    // Lazily initialised, as every local_key is: its state is checked on
    // each access.
    static TRIVIAL_LAZY: Cell<u64> = Cell::new(black_box(42));
    static WITH_DESTRUCTOR: RefCell<String> = RefCell::new(String::from("forty-two"));
}

fn ping_pong(options: &Options) {
    let ping = Arc::new(AtomicBool::new(false));
    let pong = Arc::new(AtomicBool::new(false));
    let stopping = Arc::new(AtomicBool::new(false));
    let me = thread::current();
    let partner = {
        let (ping, pong, stopping) = (ping.clone(), pong.clone(), stopping.clone());
        thread::spawn(move || loop {
            while !ping.load(Ordering::Acquire) {
                thread::park();
            }
            ping.store(false, Ordering::Relaxed);
            if stopping.load(Ordering::Relaxed) {
                return;
            }
            pong.store(true, Ordering::Release);
            me.unpark();
        })
    };
    let other = partner.thread().clone();
    measure(options, "ping_pong/rust", || {
        ping.store(true, Ordering::Release);
        other.unpark();
        while !pong.load(Ordering::Acquire) {
            thread::park();
        }
        pong.store(false, Ordering::Relaxed);
    });
    stopping.store(true, Ordering::Relaxed);
    ping.store(true, Ordering::Release);
    other.unpark();
    partner.join().unwrap();
    thread::park_timeout(Duration::ZERO); // a token the partner may have left
}

fn heap_per_thread() {
    let spawn_join = || thread::spawn(|| {}).join().unwrap();
    spawn_join();
    let rounds = 1000;
    let bytes = ALLOCATED_BYTES.load(Ordering::Relaxed);
    let count = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..rounds {
        spawn_join();
    }
    let bytes = (ALLOCATED_BYTES.load(Ordering::Relaxed) - bytes) as f64 / rounds as f64;
    let count = (ALLOCATIONS.load(Ordering::Relaxed) - count) as f64 / rounds as f64;
    println!(
        "{{\"name\": \"heap_per_thread/rust\", \"heap_bytes\": {:.1}, \"heap_allocs\": {:.2}}}",
        bytes, count
    );
}

fn timed(options: &Options) {
    measure(options, "spawn_join/rust", || {
        thread::spawn(|| {}).join().unwrap();
    });
    let named = || thread::Builder::new().name("bench-worker".into());
    measure(options, "spawn_join/rust_builder_named", || {
        named().spawn(|| {}).unwrap().join().unwrap();
    });
    measure(options, "spawn_join/rust_scope", || {
        thread::scope(|s| {
            s.spawn(|| {});
        });
    });

    // A silent hook, as the C++ side installs: the report is not measured.
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    measure(options, "panic_join/rust", || {
        let r = thread::spawn(|| panic!("boom")).join();
        black_box(r.is_err());
    });
    panic::set_hook(previous);

    ping_pong(options);

    let me = thread::current();
    measure(options, "unpark_no_waiter/rust", || {
        black_box(&me).unpark();
    });
    thread::park(); // the token it left
    measure(options, "unpark_self_park/rust", || {
        black_box(&me).unpark();
        thread::park();
    });
    measure(options, "park_timeout_zero/rust", || {
        thread::park_timeout(black_box(Duration::ZERO));
    });
    measure(options, "current/rust", || {
        black_box(thread::current());
    });
    // On a spawned thread: the main thread's handle may be special.
    thread::scope(|s| {
        s.spawn(|| {
            measure(options, "current_spawned/rust", || {
                black_box(thread::current());
            });
        });
    });
    measure(options, "current_id/rust", || {
        black_box(thread::current().id());
    });
    measure(options, "thread_name/rust", || {
        black_box(black_box(&me).name());
    });
    measure(options, "yield/rust", || {
        thread::yield_now();
    });
    measure(options, "local_with_trivial/rust", || {
        black_box(TRIVIAL.with(|v| v.get()));
    });
    measure(options, "local_with_trivial/rust_lazy", || {
        black_box(TRIVIAL_LAZY.with(|v| v.get()));
    });
    measure(options, "local_with_destructor/rust", || {
        black_box(WITH_DESTRUCTOR.with(|v| v.borrow().len()));
    });
    mpsc::timed(options);
}

fn status_kib(key: &str) -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix(key) {
            if let Some(value) = rest.strip_prefix(':') {
                let digits: String = value.chars().filter(|c| c.is_ascii_digit()).collect();
                return digits.parse().unwrap_or(-1);
            }
        }
    }
    -1
}

/// N threads with 64 KiB stacks alive at once, each parked until the spawner
/// unparks it, then joined: wall time and peak resident memory.
fn scale(n: usize) {
    let _ = thread::current(); // the main thread's own handle is not measured
    let rss_before = status_kib("VmRSS");
    let cpu_start = process_cpu_seconds();
    let start = Instant::now();
    let arrived = Arc::new(AtomicUsize::new(0));
    let go = Arc::new(AtomicBool::new(false));
    let spawner = thread::current();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (arrived, go, spawner) = (arrived.clone(), go.clone(), spawner.clone());
            thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    if arrived.fetch_add(1, Ordering::AcqRel) + 1 == n {
                        spawner.unpark();
                    }
                    while !go.load(Ordering::Acquire) {
                        thread::park();
                    }
                })
                .expect("spawn failed")
        })
        .collect();
    while arrived.load(Ordering::Acquire) != n {
        thread::park();
    }
    go.store(true, Ordering::Release);
    for h in &handles {
        h.thread().unpark();
    }
    for h in handles {
        h.join().unwrap();
    }
    let wall = start.elapsed();
    let cpu = process_cpu_seconds() - cpu_start;
    let peak = status_kib("VmHWM") - rss_before;
    println!(
        "{{\"name\": \"scale_{}/rust\", \"wall_ms\": {:.3}, \"cpu_ms\": {:.3}, \"peak_rss_kib\": {}, \"rss_per_thread_kib\": {:.2}}}",
        n,
        wall.as_secs_f64() * 1e3,
        cpu * 1e3,
        peak,
        peak as f64 / n as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("scale") {
        let n = args.get(1).and_then(|s| s.parse().ok()).expect("usage: bench scale N");
        scale(n);
        return;
    }
    if args.first().map(String::as_str) == Some("heap") {
        heap_per_thread();
        return;
    }
    let mut options = Options { min_time: 0.05, reps: 5 };
    let mut only: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--min-time" => options.min_time = args[i + 1].parse().expect("--min-time S"),
            "--reps" => options.reps = args[i + 1].parse().expect("--reps N"),
            "--only" => only = Some(args[i + 1].clone()),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    match only.as_deref() {
        None => timed(&options),
        Some("mpsc") => mpsc::timed(&options),
        Some(other) => panic!("--only takes mpsc, not {other}"),
    }
}
