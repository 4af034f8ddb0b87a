// Spawn + join of an empty function (rthread::spawn, a named builder, a scope
// with one thread, with and without a spawn hook), and of a function that panics, next to raw
// pthreads, std::thread, boost::thread and std::async.
//
// Each iteration makes one thread and waits for it: the figure is the whole
// life of a thread as its spawner sees it. Baselines use their own default
// stack size (8 MiB for pthread, std::thread and boost::thread; glibc caches
// freed stacks, so the size costs no mmap after the first iteration);
// rthread uses its default, 2 MiB, as Rust does.
#include <rthread/rthread.hpp>

#include <benchmark/benchmark.h>

#include <boost/thread/thread.hpp>

#include <exception>
#include <future>
#include <pthread.h>
#include <stdexcept>
#include <thread>

namespace {

void empty_function() {}

// ---- spawn + join ---------------------------------------------------------

void spawn_join_rthread_spawn(benchmark::State& state) {
    for (auto _ : state) {
        (void)rthread::spawn(empty_function).join();
    }
}
BENCHMARK(spawn_join_rthread_spawn)->Name("spawn_join/rthread_spawn")->MeasureProcessCPUTime();

void spawn_join_rthread_builder_named(benchmark::State& state) {
    const rthread::builder named = rthread::builder{}.name("bench-worker");
    for (auto _ : state) {
        (void)named.spawn(empty_function).value().join();
    }
}
BENCHMARK(spawn_join_rthread_builder_named)
    ->Name("spawn_join/rthread_builder_named")
    ->MeasureProcessCPUTime();

void spawn_join_rthread_scope(benchmark::State& state) {
    for (auto _ : state) {
        rthread::scope([](rthread::scope_handle& s) { s.spawn(empty_function); });
    }
}
BENCHMARK(spawn_join_rthread_scope)->Name("spawn_join/rthread_scope")->MeasureProcessCPUTime();

// Spawn hooks (add_spawn_hook). Hooks stay with the thread that adds them,
// so these rows run their loop on a thread of their own (made with
// no_hooks), leaving the benchmark's main thread, and every other row,
// without any: the first is the baseline of the second, and
// rthread_spawn above is the cost with no hook registered anywhere.
template <bool with_hook>
void spawn_join_rthread_from_a_thread(benchmark::State& state) {
    auto runner = rthread::builder{}.no_hooks().spawn([&state] {
        if constexpr (with_hook) {
            rthread::add_spawn_hook([](const rthread::thread&) { return [] {}; });
        }
        for (auto _ : state) {
            rthread::spawn(empty_function).join().value();
        }
    });
    runner.value().join().value();
}
BENCHMARK(spawn_join_rthread_from_a_thread<false>)
    ->Name("spawn_join/rthread_spawn_from_a_thread_no_hook")
    ->MeasureProcessCPUTime();
BENCHMARK(spawn_join_rthread_from_a_thread<true>)
    ->Name("spawn_join/rthread_spawn_from_a_thread_one_hook")
    ->MeasureProcessCPUTime();

void* pthread_empty(void*) {
    return nullptr;
}

void spawn_join_pthread(benchmark::State& state) {
    for (auto _ : state) {
        pthread_t t{};
        if (::pthread_create(&t, nullptr, &pthread_empty, nullptr) != 0) {
            state.SkipWithError("pthread_create failed");
            break;
        }
        ::pthread_join(t, nullptr);
    }
}
BENCHMARK(spawn_join_pthread)->Name("spawn_join/pthread")->MeasureProcessCPUTime();

void spawn_join_std_thread(benchmark::State& state) {
    for (auto _ : state) {
        std::thread(empty_function).join();
    }
}
BENCHMARK(spawn_join_std_thread)->Name("spawn_join/std_thread")->MeasureProcessCPUTime();

void spawn_join_boost_thread(benchmark::State& state) {
    for (auto _ : state) {
        boost::thread(empty_function).join();
    }
}
BENCHMARK(spawn_join_boost_thread)->Name("spawn_join/boost_thread")->MeasureProcessCPUTime();

void spawn_join_std_async(benchmark::State& state) {
    for (auto _ : state) {
        std::async(std::launch::async, empty_function).get();
    }
}
BENCHMARK(spawn_join_std_async)->Name("spawn_join/std_async")->MeasureProcessCPUTime();

// ---- a thread that panics, joined ------------------------------------------

// Rust's benchmark installs a silent hook too: the report's text and its
// write to stderr are not what is measured.
void silent_hook(const rthread::panic_info&) {}

void panic_join_rthread(benchmark::State& state) {
    rthread::panic_hook previous = rthread::take_panic_hook();
    rthread::set_panic_hook(&silent_hook);
    for (auto _ : state) {
        auto r = rthread::spawn([] { RTHREAD_PANIC("boom"); }).join();
        benchmark::DoNotOptimize(r.has_error());
    }
    rthread::set_panic_hook(std::move(previous));
}
BENCHMARK(panic_join_rthread)->Name("panic_join/rthread")->MeasureProcessCPUTime();

void panic_join_std_thread(benchmark::State& state) {
    for (auto _ : state) {
        std::exception_ptr panic;
        std::thread([&panic] {
            try {
                throw std::runtime_error("boom");
            } catch (...) {
                panic = std::current_exception();
            }
        }).join();
        benchmark::DoNotOptimize(static_cast<bool>(panic));
    }
}
BENCHMARK(panic_join_std_thread)
    ->Name("panic_join/std_thread_exception_ptr")
    ->MeasureProcessCPUTime();

void panic_join_std_async(benchmark::State& state) {
    for (auto _ : state) {
        auto f = std::async(std::launch::async, [] { throw std::runtime_error("boom"); });
        try {
            f.get();
        } catch (const std::runtime_error& e) {
            benchmark::DoNotOptimize(e.what());
        }
    }
}
BENCHMARK(panic_join_std_async)->Name("panic_join/std_async")->MeasureProcessCPUTime();

} // namespace

BENCHMARK_MAIN();
