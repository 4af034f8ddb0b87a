// The calling thread's identity: current(), current_id() and thread::name()
// next to std::this_thread::get_id(), pthread_self() and a native
// thread_local read.
//
// Every value is produced in a register (bench::use_in_register) and
// followed by ClobberMemory, so the compiler can neither hoist a
// thread-local load out of the loop nor leave it out; handles (which own a
// reference) go through benchmark::DoNotOptimize.
#include "bench_support.hpp"

#include <rthread/rthread.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <pthread.h>
#include <thread>

namespace {

// The floor for current_id(): one load of a constant-initialised
// thread_local, which is all current_id() should cost.
thread_local std::uint64_t native_thread_local = 42;

void current_rthread(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(rthread::current());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(current_rthread)->Name("current/rthread")->MeasureProcessCPUTime();

// The same on a spawned thread: the main thread's handle is not reference
// counted (thread_inner::immortal), every other thread's is. The loop runs
// on the spawned thread; spawn and join stay outside the timed part.
void current_rthread_spawned(benchmark::State& state) {
    rthread::spawn([&state] {
        for (auto _ : state) {
            benchmark::DoNotOptimize(rthread::current());
            benchmark::ClobberMemory();
        }
    })
        .join()
        .value();
}
BENCHMARK(current_rthread_spawned)->Name("current_spawned/rthread")->MeasureProcessCPUTime();

void current_id_rthread(benchmark::State& state) {
    for (auto _ : state) {
        bench::use_in_register(rthread::current_id().as_u64());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(current_id_rthread)->Name("current_id/rthread")->MeasureProcessCPUTime();

void thread_name_rthread(benchmark::State& state) {
    const rthread::thread me = rthread::current();
    for (auto _ : state) {
        benchmark::DoNotOptimize(me);
        benchmark::DoNotOptimize(me.name());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(thread_name_rthread)->Name("thread_name/rthread")->MeasureProcessCPUTime();

void native_thread_local_read(benchmark::State& state) {
    bench::escape(native_thread_local);
    for (auto _ : state) {
        bench::use_in_register(native_thread_local);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(native_thread_local_read)
    ->Name("current_id/native_thread_local")
    ->MeasureProcessCPUTime();

void std_get_id(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(std::this_thread::get_id());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(std_get_id)->Name("current/std_this_thread_get_id")->MeasureProcessCPUTime();

void posix_pthread_self(benchmark::State& state) {
    for (auto _ : state) {
        bench::use_in_register(::pthread_self());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(posix_pthread_self)->Name("current/pthread_self")->MeasureProcessCPUTime();

} // namespace

BENCHMARK_MAIN();
