//! std::sync::mpsc, timed as tools/bench/mpsc_bench.cpp times rthread::mpsc:
//! throughput (one iteration = one message received; 1 or 4 producers held
//! at a gate the timed run opens; unbounded and a bound of 1024) and a
//! ping-pong round trip over two channels.

use super::{median, measure, process_cpu_seconds, Options};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

const BOUND: usize = 1024;

enum Tx {
    Unbounded(mpsc::Sender<u64>),
    Bounded(mpsc::SyncSender<u64>),
}

impl Tx {
    fn send(&self, v: u64) {
        match self {
            Tx::Unbounded(tx) => tx.send(v).unwrap(),
            Tx::Bounded(tx) => tx.send(v).unwrap(),
        }
    }
    fn clone_tx(&self) -> Tx {
        match self {
            Tx::Unbounded(tx) => Tx::Unbounded(tx.clone()),
            Tx::Bounded(tx) => Tx::Bounded(tx.clone()),
        }
    }
}

/// (wall seconds, process CPU seconds) to receive `n` messages from
/// `producers` threads.
fn run(n: u64, producers: u64, bounded: bool) -> (f64, f64) {
    let (tx, rx) = if bounded {
        let (tx, rx) = mpsc::sync_channel(BOUND);
        (Tx::Bounded(tx), rx)
    } else {
        let (tx, rx) = mpsc::channel();
        (Tx::Unbounded(tx), rx)
    };
    let gate = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let share = n / producers + u64::from(p < n % producers);
            let (tx, gate) = (tx.clone_tx(), gate.clone());
            thread::spawn(move || {
                while !gate.load(Ordering::Acquire) {
                    thread::yield_now();
                }
                for i in 0..share {
                    tx.send(i);
                }
            })
        })
        .collect();
    drop(tx);
    let cpu_start = process_cpu_seconds();
    let start = Instant::now();
    gate.store(true, Ordering::Release);
    for _ in 0..n {
        black_box(rx.recv().unwrap());
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu_start;
    for h in handles {
        h.join().unwrap();
    }
    (wall, cpu)
}

/// Google Benchmark's method, for a run that takes its iteration count.
fn measure_runs(options: &Options, name: &str, producers: u64, bounded: bool) {
    let mut n: u64 = 1000;
    loop {
        let (elapsed, _) = run(n, producers, bounded);
        if elapsed >= options.min_time || n >= 1_000_000_000 {
            break;
        }
        let factor = (options.min_time * 1.4 / elapsed.max(1e-9)).min(10.0).max(1.5);
        n = ((n as f64) * factor).ceil() as u64;
    }
    let runs: Vec<(f64, f64)> = (0..options.reps).map(|_| run(n, producers, bounded)).collect();
    let per = |s: f64| s * 1e9 / n as f64;
    println!(
        "{{\"name\": \"{}\", \"median_ns\": {:.3}, \"median_cpu_ns\": {:.3}, \"iterations\": {}}}",
        name,
        median(runs.iter().map(|r| per(r.0)).collect()),
        median(runs.iter().map(|r| per(r.1)).collect()),
        n
    );
}

fn ping_pong(options: &Options) {
    let (ping_tx, ping_rx) = mpsc::channel::<u64>();
    let (pong_tx, pong_rx) = mpsc::channel::<u64>();
    let partner = thread::spawn(move || loop {
        let v = ping_rx.recv().unwrap();
        if v == 0 {
            return;
        }
        pong_tx.send(v).unwrap();
    });
    measure(options, "mpsc_ping_pong/rust", || {
        ping_tx.send(1).unwrap();
        black_box(pong_rx.recv().unwrap());
    });
    ping_tx.send(0).unwrap();
    partner.join().unwrap();
}

pub fn timed(options: &Options) {
    measure_runs(options, "mpsc_unbounded_1p/rust", 1, false);
    measure_runs(options, "mpsc_unbounded_4p/rust", 4, false);
    measure_runs(options, "mpsc_bounded_1p/rust", 1, true);
    measure_runs(options, "mpsc_bounded_4p/rust", 4, true);
    ping_pong(options);
}
