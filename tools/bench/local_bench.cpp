// Thread-local storage: local_key::with and state() next to a native
// thread_local of the same type (a trivial one, and one with a destructor,
// whose every access goes through the compiler's initialisation check),
// pthread_getspecific and boost::thread_specific_ptr.
//
// Each value is made before the timed loop: what is timed is the access of
// an existing value, the hot path. Every value read is produced in a
// register (bench::use_in_register) and followed by ClobberMemory, so that
// the read cannot be hoisted out of the loop nor left out.
#include "bench_support.hpp"

#include <rthread/rthread.hpp>

#include <benchmark/benchmark.h>

#include <boost/thread/tss.hpp>

#include <cstdint>
#include <pthread.h>
#include <string>

namespace {

RTHREAD_THREAD_LOCAL(std::uint64_t, trivial_key, 42);
// NOLINTNEXTLINE(cert-err58-cpp): false positive: the string is made at a thread's first use
RTHREAD_THREAD_LOCAL(std::string, string_key, "forty-two");

thread_local std::uint64_t native_trivial = 42;

// A native thread_local whose initializer is not a constant: made lazily
// on each thread's first use, as every local_key value is, so each read
// passes the compiler's initialisation check.
BOOST_NOINLINE std::uint64_t forty_two() noexcept {
    return 42;
}
thread_local std::uint64_t native_lazy_trivial = forty_two();
// NOLINTNEXTLINE(cert-err58-cpp): the thread_local baseline, as users write it
thread_local std::string native_string = "forty-two";

// ---- a trivial value --------------------------------------------------------

void with_trivial_rthread(benchmark::State& state) {
    trivial_key.with([](std::uint64_t&) {});
    for (auto _ : state) {
        bench::use_in_register(trivial_key.with([](std::uint64_t& v) { return v; }));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(with_trivial_rthread)->Name("local_with_trivial/rthread")->MeasureProcessCPUTime();

// The same key reached through a reference the compiler cannot see through
// (a function taking `const local_key<T>&` that is not inlined): the key's
// slot is found by a call instead of folding to a thread-pointer offset.
BOOST_NOINLINE std::uint64_t read_through(const rthread::local_key<std::uint64_t>& key) {
    return key.with([](std::uint64_t& v) { return v; });
}

void with_trivial_rthread_opaque(benchmark::State& state) {
    const rthread::local_key<std::uint64_t>* key = &trivial_key;
    for (auto _ : state) {
        benchmark::DoNotOptimize(key);
        bench::use_in_register(read_through(*key));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(with_trivial_rthread_opaque)
    ->Name("local_with_trivial/rthread_opaque_key")
    ->MeasureProcessCPUTime();

void with_trivial_native(benchmark::State& state) {
    bench::escape(native_trivial);
    for (auto _ : state) {
        bench::use_in_register(native_trivial);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(with_trivial_native)
    ->Name("local_with_trivial/native_thread_local")
    ->MeasureProcessCPUTime();

void with_trivial_native_lazy(benchmark::State& state) {
    bench::escape(native_lazy_trivial);
    for (auto _ : state) {
        bench::use_in_register(native_lazy_trivial);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(with_trivial_native_lazy)
    ->Name("local_with_trivial/native_thread_local_lazy")
    ->MeasureProcessCPUTime();

void with_trivial_pthread(benchmark::State& state) {
    static const pthread_key_t key = [] {
        pthread_key_t k{};
        ::pthread_key_create(&k, [](void* p) { delete static_cast<std::uint64_t*>(p); });
        return k;
    }();
    if (::pthread_getspecific(key) == nullptr) {
        ::pthread_setspecific(key, new std::uint64_t(42));
    }
    for (auto _ : state) {
        bench::use_in_register(*static_cast<std::uint64_t*>(::pthread_getspecific(key)));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(with_trivial_pthread)
    ->Name("local_with_trivial/pthread_getspecific")
    ->MeasureProcessCPUTime();

// NOLINTNEXTLINE(cert-err58-cpp): a global, as its users declare it
boost::thread_specific_ptr<std::uint64_t> boost_trivial;

void with_trivial_boost(benchmark::State& state) {
    if (boost_trivial.get() == nullptr) {
        boost_trivial.reset(new std::uint64_t(42));
    }
    for (auto _ : state) {
        bench::use_in_register(*boost_trivial);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(with_trivial_boost)
    ->Name("local_with_trivial/boost_thread_specific_ptr")
    ->MeasureProcessCPUTime();

void state_rthread(benchmark::State& state) {
    trivial_key.with([](std::uint64_t&) {});
    for (auto _ : state) {
        bench::use_in_register(trivial_key.state());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(state_rthread)->Name("local_state/rthread")->MeasureProcessCPUTime();

// ---- a value with a destructor ---------------------------------------------

void with_string_rthread(benchmark::State& state) {
    string_key.with([](std::string&) {});
    for (auto _ : state) {
        bench::use_in_register(string_key.with([](std::string& s) { return s.size(); }));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(with_string_rthread)->Name("local_with_destructor/rthread")->MeasureProcessCPUTime();

void with_string_native(benchmark::State& state) {
    bench::escape(native_string);
    for (auto _ : state) {
        bench::use_in_register(native_string.size());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(with_string_native)
    ->Name("local_with_destructor/native_thread_local")
    ->MeasureProcessCPUTime();

// NOLINTNEXTLINE(cert-err58-cpp): a global, as its users declare it
boost::thread_specific_ptr<std::string> boost_string;

void with_string_boost(benchmark::State& state) {
    if (boost_string.get() == nullptr) {
        boost_string.reset(new std::string("forty-two"));
    }
    for (auto _ : state) {
        bench::use_in_register(boost_string->size());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(with_string_boost)
    ->Name("local_with_destructor/boost_thread_specific_ptr")
    ->MeasureProcessCPUTime();

} // namespace

BENCHMARK_MAIN();
