// Heap allocated per spawned thread: rthread next to boost::thread (which
// rthread spawns through) and std::thread.
//
// A counting global operator new sees every C++ allocation of the process:
// the library's (handle record, result packet, task, the boost::thread
// object) and Boost.Thread's own (its thread_data). glibc's own allocations
// inside pthread_create use malloc directly and are the same for every
// implementation, so they are left out. The time columns of this binary mean
// nothing (the counting itself costs); only the counters are read.
#include <rthread/rthread.hpp>

#include <benchmark/benchmark.h>

#include <boost/thread/thread.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

namespace {

std::atomic<std::size_t> allocated_bytes{0};
std::atomic<std::size_t> allocation_count{0};

void* counted_allocation(std::size_t size, std::size_t alignment) {
    // relaxed: plain statistics, read after the threads that wrote them were joined.
    allocated_bytes.fetch_add(size, std::memory_order_relaxed);
    allocation_count.fetch_add(1, std::memory_order_relaxed);
    void* p = nullptr;
    if (alignment > alignof(std::max_align_t)) {
        if (::posix_memalign(&p, alignment, size == 0 ? 1 : size) != 0) {
            p = nullptr;
        }
    } else {
        p = std::malloc(size == 0 ? 1 : size);
    }
    return p;
}

} // namespace

void* operator new(std::size_t size) {
    if (void* p = counted_allocation(size, 0)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    return operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return counted_allocation(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return counted_allocation(size, 0);
}
void* operator new(std::size_t size, std::align_val_t al) {
    if (void* p = counted_allocation(size, static_cast<std::size_t>(al))) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t al) {
    return operator new(size, al);
}
void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
    return counted_allocation(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
    return counted_allocation(size, static_cast<std::size_t>(al));
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}

namespace {

void empty_function() {}

// Runs spawn_and_join once untimed (one-time set-up: the registry, keys,
// the default stack size), then counts what each iteration allocates.
template <class SpawnAndJoin>
void count_heap(benchmark::State& state, SpawnAndJoin spawn_and_join) {
    spawn_and_join();
    const std::size_t bytes_before = allocated_bytes.load(std::memory_order_relaxed);
    const std::size_t count_before = allocation_count.load(std::memory_order_relaxed);
    for (auto _ : state) {
        spawn_and_join();
    }
    const auto iterations = static_cast<double>(state.iterations());
    state.counters["heap_bytes"] =
        static_cast<double>(allocated_bytes.load(std::memory_order_relaxed) - bytes_before) /
        iterations;
    state.counters["heap_allocs"] =
        static_cast<double>(allocation_count.load(std::memory_order_relaxed) - count_before) /
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
