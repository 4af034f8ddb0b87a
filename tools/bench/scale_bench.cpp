// Scale: the wall time and the peak memory to have N threads alive at once
// (64 KiB stacks), each parked until the spawner unparks it, then joined.
//
//   scale_bench <rthread|pthread|boost_thread> <N>
//
// prints one JSON object: {"name": "scale_<N>/<impl>", "wall_ms": ...,
// "cpu_ms": ..., "peak_rss_kib": ..., "rss_per_thread_kib": ...}; cpu_ms is
// the CPU time of the whole process, which other load on the machine does
// not inflate. Run one configuration a
// process: the peak (VmHWM) never goes down within a process. The memory is
// the peak resident set above the one before the first spawn: stacks as far
// as they were touched, thread control blocks, and every library's per-thread
// state.
//
// The baselines wait on a futex word of their own, the closest thing to a
// parking token; the spawner wakes each one by one as rthread unparks each.
#include "bench_support.hpp"

#include <rthread/rthread.hpp>

#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <pthread.h>
#include <string>
#include <time.h>
#include <vector>

#ifdef _WIN32
// After windows.h (bench_support.hpp), which it needs.
#include <psapi.h>
#endif

namespace {

constexpr std::size_t stack_bytes = std::size_t{64} * 1024;

#ifdef _WIN32
// On Windows the working set: VmRSS is the current one, VmHWM its peak.
long status_kib(const char* key) {
    PROCESS_MEMORY_COUNTERS counters{};
    counters.cb = sizeof counters;
    if (::GetProcessMemoryInfo(::GetCurrentProcess(), &counters, sizeof counters) == 0) {
        return -1;
    }
    const bool peak = std::strcmp(key, "VmHWM") == 0;
    return static_cast<long>((peak ? counters.PeakWorkingSetSize : counters.WorkingSetSize) / 1024);
}
#else
// A line "<key>: <n> kB" of /proc/self/status.
long status_kib(const char* key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t key_length = std::strlen(key);
    while (std::getline(in, line)) {
        if (line.compare(0, key_length, key) == 0 && line[key_length] == ':') {
            return std::atol(line.c_str() + key_length + 1);
        }
    }
    return -1;
}
#endif

double process_cpu_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

// Every thread counts itself in; the last one in wakes the spawner.
struct arrivals {
    explicit arrivals(std::size_t n) : expected(n) {}
    const std::size_t expected;
    std::atomic<std::int32_t> all_in{0};
    std::atomic<std::size_t> count{0};

    void arrive() {
        // acq_rel: the last arriver sees every other's arrival.
        if (count.fetch_add(1, std::memory_order_acq_rel) + 1 == expected) {
            all_in.store(1, std::memory_order_release);
            bench::futex_wake(&all_in);
        }
    }
    void wait_all() {
        while (all_in.load(std::memory_order_acquire) == 0) {
            bench::futex_wait(&all_in, 0);
        }
    }
};

void run_rthread(std::size_t n) {
    std::atomic<std::size_t> arrived{0};
    std::atomic<bool> go{false};
    const rthread::thread spawner = rthread::current();
    const rthread::builder b = rthread::builder{}.stack_size(stack_bytes);
    std::vector<rthread::join_handle<void>> threads;
    threads.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        threads.push_back(b.spawn([&] {
                               // acq_rel: the last arriver sees every other's arrival.
                               if (arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
                                   spawner.unpark();
                               }
                               // acquire: pairs with the spawner's release of go.
                               while (!go.load(std::memory_order_acquire)) {
                                   rthread::park();
                               }
                           }).value());
    }
    while (arrived.load(std::memory_order_acquire) != n) {
        rthread::park();
    }
    go.store(true, std::memory_order_release);
    for (auto& t : threads) {
        t.thread().unpark();
    }
    for (auto& t : threads) {
        t.join().value();
    }
}

struct waiter {
    arrivals* all;
    std::atomic<std::int32_t> word{0};

    void run() {
        all->arrive();
        while (word.load(std::memory_order_acquire) == 0) {
            bench::futex_wait(&word, 0);
        }
    }
    void wake() {
        word.store(1, std::memory_order_release);
        bench::futex_wake(&word);
    }
};

void* run_waiter(void* w) {
    static_cast<waiter*>(w)->run();
    return nullptr;
}

void run_pthread(std::size_t n) {
    arrivals all(n);
    std::vector<std::unique_ptr<waiter>> waiters;
    std::vector<pthread_t> threads(n);
    pthread_attr_t attr;
    ::pthread_attr_init(&attr);
    ::pthread_attr_setstacksize(&attr, stack_bytes);
    for (std::size_t i = 0; i < n; ++i) {
        waiters.push_back(std::make_unique<waiter>());
        waiters.back()->all = &all;
        if (::pthread_create(&threads[i], &attr, &run_waiter, waiters.back().get()) != 0) {
            std::fputs("pthread_create failed\n", stderr);
            std::exit(1); // NOLINT(concurrency-mt-unsafe): the run cannot go on
        }
    }
    ::pthread_attr_destroy(&attr);
    all.wait_all();
    for (auto& w : waiters) {
        w->wake();
    }
    for (auto& t : threads) {
        ::pthread_join(t, nullptr);
    }
}

void run_boost(std::size_t n) {
    arrivals all(n);
    std::vector<std::unique_ptr<waiter>> waiters;
    std::vector<boost::thread> threads;
    threads.reserve(n);
    boost::thread::attributes attributes;
    attributes.set_stack_size(stack_bytes);
    for (std::size_t i = 0; i < n; ++i) {
        waiters.push_back(std::make_unique<waiter>());
        waiters.back()->all = &all;
        waiter* w = waiters.back().get();
        threads.emplace_back(attributes, [w] { w->run(); });
    }
    all.wait_all();
    for (auto& w : waiters) {
        w->wake();
    }
    for (auto& t : threads) {
        t.join();
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fputs("usage: scale_bench <rthread|pthread|boost_thread> <threads>\n", stderr);
        return 2;
    }
    const std::string impl = argv[1];
    const auto n = static_cast<std::size_t>(std::strtoull(argv[2], nullptr, 10));
    void (*run)(std::size_t) = impl == "rthread"        ? &run_rthread
                               : impl == "pthread"      ? &run_pthread
                               : impl == "boost_thread" ? &run_boost
                                                        : nullptr;
    if (run == nullptr || n == 0) {
        std::fputs("usage: scale_bench <rthread|pthread|boost_thread> <threads>\n", stderr);
        return 2;
    }
    (void)rthread::current_id(); // the main thread's own registration is not measured
    const long rss_before = status_kib("VmRSS");
    const double cpu_start = process_cpu_ms();
    const auto start = std::chrono::steady_clock::now();
    run(n);
    const auto wall = std::chrono::steady_clock::now() - start;
    const double cpu = process_cpu_ms() - cpu_start;
    const long peak = status_kib("VmHWM") - rss_before;
    std::printf("{\"name\": \"scale_%zu/%s\", \"wall_ms\": %.3f, \"cpu_ms\": %.3f, "
                "\"peak_rss_kib\": %ld, \"rss_per_thread_kib\": %.2f}\n",
                n, impl.c_str(), std::chrono::duration<double, std::milli>(wall).count(), cpu, peak,
                static_cast<double>(peak) / static_cast<double>(n));
    return 0;
}
