// Heap allocated per spawned thread: rthread next to boost::thread (which
// rthread spawns through) and std::thread.
//
// A counting global operator new (test/counting_new.hpp, which the tests of
// allocations use too) sees every C++ allocation of the process:
// the library's (handle record, result packet, task, the boost::thread
// object) and Boost.Thread's own (its thread_data). glibc's own allocations
// inside pthread_create use malloc directly and are the same for every
// implementation, so they are left out. The time columns of this binary mean
// nothing (the counting itself costs); only the counters are read.
#include "../../test/counting_new.hpp"

#include <rthread/rthread.hpp>

#include <benchmark/benchmark.h>

#include <boost/thread/thread.hpp>

#include <thread>

bool test_support::fail_allocation() noexcept {
    return false;
}

namespace {

void empty_function() {}

// Runs spawn_and_join once untimed (one-time set-up: the registry, keys,
// the default stack size), then counts what each iteration allocates.
template <class SpawnAndJoin>
void count_heap(benchmark::State& state, SpawnAndJoin spawn_and_join) {
    spawn_and_join();
    const std::size_t bytes_before = test_support::allocated_bytes.load(std::memory_order_relaxed);
    const std::size_t count_before = test_support::allocations.load(std::memory_order_relaxed);
    for (auto _ : state) {
        spawn_and_join();
    }
    const auto iterations = static_cast<double>(state.iterations());
    state.counters["heap_bytes"] =
        static_cast<double>(test_support::allocated_bytes.load(std::memory_order_relaxed) -
                            bytes_before) /
        iterations;
    state.counters["heap_allocs"] =
        static_cast<double>(test_support::allocations.load(std::memory_order_relaxed) -
                            count_before) /
        iterations;
}

void heap_rthread_spawn(benchmark::State& state) {
    count_heap(state, [] { (void)rthread::spawn(empty_function).join(); });
}
BENCHMARK(heap_rthread_spawn)->Name("heap_per_thread/rthread_spawn");

void heap_boost_thread(benchmark::State& state) {
    count_heap(state, [] { boost::thread(empty_function).join(); });
}
BENCHMARK(heap_boost_thread)->Name("heap_per_thread/boost_thread");

void heap_std_thread(benchmark::State& state) {
    count_heap(state, [] { std::thread(empty_function).join(); });
}
BENCHMARK(heap_std_thread)->Name("heap_per_thread/std_thread");

} // namespace

BENCHMARK_MAIN();
