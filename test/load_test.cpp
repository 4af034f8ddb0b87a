// Load: the registry, spawning and the parker under volume. Each case runs
// in every build of the test matrix at a size that takes a second or so;
// with RTHREAD_LOAD=full (tools/checks/stress.sh, in a release build) it
// runs at the sizes and reports its figures as Boost.Test messages
// (--log_level=message shows them).
//
//   spawn+join cycles, in sequence      2,000     full: 100,000
//   threads alive at once (64 KiB)      2,000     full: 2,000 (and 10,000)
//   park/unpark ping-pong round trips   20,000    full: 1,000,000
//                                       (ThreadSanitizer: 2,000 / 100,000)
//
// A lost wake-up would hang a case: every wait on another thread here has
// a generous deadline (try_join_for) and fails the case instead.
#define BOOST_TEST_MODULE load
#include "test_main.hpp"

#include <rthread/rthread.hpp>

#include <boost/thread/thread.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#if defined(_WIN32)
#include <windows.h>

#include <psapi.h>
#else
#include <unistd.h>
#endif

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

#if defined(__SANITIZE_THREAD__)
constexpr bool under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool under_tsan = true;
#else
constexpr bool under_tsan = false;
#endif
#else
constexpr bool under_tsan = false;
#endif

#if defined(__SANITIZE_ADDRESS__)
constexpr bool under_asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool under_asan = true;
#else
constexpr bool under_asan = false;
#endif
#else
constexpr bool under_asan = false;
#endif

bool full_size() {
    static const bool full = [] {
        const char* load = std::getenv("RTHREAD_LOAD");
        return load != nullptr && std::strcmp(load, "full") == 0;
    }();
    return full;
}

// The size of a case: `quick` normally, `full` for the stress check;
// sanitizers (several times slower) get `sanitized` of them.
std::size_t size_of(std::size_t quick, std::size_t full, std::size_t sanitized_quick,
                    std::size_t sanitized_full) {
    const bool sanitized = under_tsan || under_asan;
    if (full_size()) {
        return sanitized ? sanitized_full : full;
    }
    return sanitized ? sanitized_quick : quick;
}

// A deadline no healthy run comes near; reaching it means a lost wake-up.
constexpr auto hang = std::chrono::minutes(5);

std::size_t resident_bytes() {
#if defined(_WIN32)
    PROCESS_MEMORY_COUNTERS counters{};
    counters.cb = sizeof counters;
    ::GetProcessMemoryInfo(::GetCurrentProcess(), &counters, sizeof counters);
    return counters.WorkingSetSize;
#else
    std::ifstream statm("/proc/self/statm");
    std::size_t total = 0;
    std::size_t resident = 0;
    statm >> total >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
#endif
}

double mib(std::size_t bytes) {
    return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

double micros(clock_type::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

template <class T>
bool joined_in_time(rthread::join_handle<T>& h) {
    auto r = h.try_join_for(hang);
    return r.has_value() && r->has_value();
}

} // namespace

// RTHREAD_LOAD_CYCLES overrides the count (tools/checks/stress.sh counts
// system calls over a smaller run).
std::size_t spawn_join_cycles() {
    if (const char* cycles = std::getenv("RTHREAD_LOAD_CYCLES")) {
        return std::strtoull(cycles, nullptr, 10);
    }
    return size_of(2000, 100000, 500, 20000);
}

BOOST_AUTO_TEST_CASE(sequential_spawn_join_cycles_leave_registry_and_memory_at_baseline) {
    const std::size_t cycles = spawn_join_cycles();
    // Warm up: the allocator's arenas and glibc's stack cache reach their
    // steady state.
    for (int i = 0; i < 200; ++i) {
        rthread::spawn([] {}).join().value();
    }
    const std::size_t live_before = rthread::threads().size();
    const std::size_t resident_before = resident_bytes();
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < cycles; ++i) {
        rthread::spawn([] {}).join().value();
    }
    const auto elapsed = clock_type::now() - start;
    const std::size_t resident_after = resident_bytes();
    BOOST_TEST(rthread::threads().size() == live_before);
    // A leak of even 16 bytes a cycle would show at full size (1.5 MiB);
    // AddressSanitizer's quarantine grows by design (LeakSanitizer checks
    // leaks there instead).
    if (!under_asan) {
        BOOST_TEST(resident_after <= resident_before + (std::size_t{2} << 20),
                   "resident memory grew from " << mib(resident_before) << " MiB to "
                                                << mib(resident_after) << " MiB");
    }
    BOOST_TEST_MESSAGE("load: " << cycles << " sequential spawn+join cycles: "
                                << micros(elapsed) / static_cast<double>(cycles)
                                << " us a cycle; resident " << mib(resident_before) << " -> "
                                << mib(resident_after) << " MiB; threads() " << live_before
                                << " -> " << rthread::threads().size());
}

// The same cycles on boost::thread, which rthread spawns through: the
// baseline of the figures and of the system-call count (stress check only).
BOOST_AUTO_TEST_CASE(baseline_boost_thread_spawn_join_cycles,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return full_size();
                     })) {
    const std::size_t cycles = spawn_join_cycles();
    std::atomic<std::size_t> ran{0};
    boost::thread::attributes attributes;
    attributes.set_stack_size(std::size_t{2} << 20); // rthread's default
    for (int i = 0; i < 200; ++i) {
        boost::thread(attributes, [&ran] { ran.fetch_add(1); }).join();
    }
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < cycles; ++i) {
        boost::thread(attributes, [&ran] { ran.fetch_add(1); }).join();
    }
    const auto elapsed = clock_type::now() - start;
    BOOST_TEST(ran.load() == cycles + 200);
    BOOST_TEST_MESSAGE("load: baseline: "
                       << cycles << " sequential boost::thread spawn+join cycles: "
                       << micros(elapsed) / static_cast<double>(cycles) << " us a cycle");
}

namespace {

// `count` threads with 64 KiB stacks, each parked until released, then
// unparked one by one and joined; returns false on a hang.
bool many_parked_threads(std::size_t count) {
    std::atomic<std::size_t> started{0};
    std::atomic<bool> released{false};
    std::vector<rthread::join_handle<std::size_t>> handles;
    handles.reserve(count);
    const std::size_t resident_before = resident_bytes();
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < count; ++i) {
        auto h =
            rthread::builder{}.stack_size(std::size_t{64} << 10).spawn([&started, &released, i] {
                started.fetch_add(1);
                while (!released.load()) {
                    rthread::park();
                }
                return i;
            });
        BOOST_TEST_REQUIRE(h.has_value(), "thread " << i << ": " << h.error().message());
        handles.push_back(std::move(h).value());
    }
    while (started.load() < count) {
        rthread::yield_now();
    }
    const auto all_alive = clock_type::now();
    const std::size_t resident_peak = resident_bytes();
    BOOST_TEST(rthread::threads().size() >= count);
    released.store(true);
    for (auto& h : handles) {
        h.thread().unpark();
    }
    bool all_joined = true;
    for (std::size_t i = 0; i < count; ++i) {
        auto r = handles[i].try_join_for(hang);
        if (!r.has_value()) {
            all_joined = false;
            break;
        }
        BOOST_TEST(r->value() == i);
    }
    const auto end = clock_type::now();
    BOOST_TEST_MESSAGE("load: " << count << " threads alive at once (64 KiB stacks): "
                                << micros(all_alive - start) / 1000.0 << " ms to start all, "
                                << micros(end - all_alive) / 1000.0
                                << " ms to unpark and join all; resident +"
                                << mib(resident_peak - std::min(resident_peak, resident_before))
                                << " MiB at the peak");
    return all_joined;
}

} // namespace

BOOST_AUTO_TEST_CASE(two_thousand_parked_threads_are_all_unparked_and_joined) {
    BOOST_TEST(many_parked_threads(size_of(2000, 2000, 300, 2000)));
}

// Only in the stress check (memory and time): a precondition skips it
// otherwise.
BOOST_AUTO_TEST_CASE(ten_thousand_parked_threads_at_full_size,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return full_size();
                     })) {
    BOOST_TEST(many_parked_threads(under_tsan || under_asan ? 2000 : 10000));
}

BOOST_AUTO_TEST_CASE(park_unpark_ping_pong_loses_no_wake_up) {
    const std::size_t round_trips = size_of(20000, 1000000, 2000, 100000);
    // The ball: whose turn it is. Each side parks until the turn is its
    // own (a spurious return re-checks), hands the turn over and unparks
    // the other.
    std::atomic<int> turn{0};
    std::atomic<bool> ready{false};
    const rthread::thread main_thread = rthread::current();
    auto pong = rthread::spawn([&] {
        while (!ready.load()) {
            rthread::yield_now();
        }
        for (std::size_t i = 0; i < round_trips; ++i) {
            while (turn.load(std::memory_order_acquire) != 1) {
                rthread::park();
            }
            turn.store(0, std::memory_order_release);
            main_thread.unpark();
        }
    });
    const rthread::thread other = pong.thread();
    ready.store(true);
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < round_trips; ++i) {
        turn.store(1, std::memory_order_release);
        other.unpark();
        while (turn.load(std::memory_order_acquire) != 0) {
            // park_timeout, not park: a lost wake-up fails the case after
            // `hang` instead of hanging it. It returns false only then or
            // spuriously, which the next round of the loop tells apart.
            if (!rthread::park_timeout(hang) && turn.load() != 0 &&
                clock_type::now() - start > hang) {
                BOOST_FAIL("ping-pong hung at round trip " << i);
            }
        }
    }
    const auto elapsed = clock_type::now() - start;
    BOOST_TEST(joined_in_time(pong));
    // The last unpark may leave a token behind; nothing more.
    (void)rthread::park_timeout(0s);
    BOOST_TEST(!rthread::park_timeout(0s));
    BOOST_TEST_MESSAGE("load: " << round_trips << " park/unpark round trips: "
                                << micros(elapsed) / static_cast<double>(round_trips)
                                << " us a round trip");
}

namespace {

// Starts `count` threads running body(index) all at once (a spinning start
// line, so that they collide), and joins them.
template <class Body>
bool run_together(std::size_t count, Body body) {
    std::atomic<bool> go{false};
    std::vector<rthread::join_handle<void>> handles;
    for (std::size_t i = 0; i < count; ++i) {
        handles.push_back(rthread::spawn([&go, &body, i] {
            while (!go.load()) {
                rthread::yield_now();
            }
            body(i);
        }));
    }
    go.store(true);
    bool ok = true;
    for (auto& h : handles) {
        ok = joined_in_time(h) && ok;
    }
    return ok;
}

} // namespace

BOOST_AUTO_TEST_CASE(token_saturates_at_one_under_concurrent_unparks) {
    const std::size_t rounds = size_of(20, 500, 5, 50);
    const std::size_t unparkers = full_size() ? 16 : 8;
    const rthread::thread target = rthread::current();
    for (std::size_t round = 0; round < rounds; ++round) {
        BOOST_TEST_REQUIRE(run_together(unparkers, [&](std::size_t) {
            for (int i = 0; i < 100; ++i) {
                target.unpark();
            }
        }));
        BOOST_TEST(rthread::park_timeout(0s));  // the one token
        BOOST_TEST(!rthread::park_timeout(0s)); // and no second
    }
}

BOOST_AUTO_TEST_CASE(many_threads_unparking_one_parked_thread_lose_no_wake_up) {
    const std::size_t rounds = size_of(50, 2000, 10, 200);
    const std::size_t unparkers = full_size() ? 16 : 8;
    for (std::size_t round = 0; round < rounds; ++round) {
        std::atomic<std::size_t> arrived{0};
        // The target parks until every unparker has arrived: each arrival
        // is followed by an unpark, so the last one must wake it.
        auto target = rthread::spawn([&] {
            while (arrived.load() < unparkers) {
                rthread::park();
            }
        });
        const rthread::thread t = target.thread();
        BOOST_TEST_REQUIRE(run_together(unparkers, [&](std::size_t) {
            arrived.fetch_add(1);
            t.unpark();
        }));
        BOOST_TEST_REQUIRE(joined_in_time(target), "round " << round);
    }
}

BOOST_AUTO_TEST_CASE(one_thread_unparking_many_parked_threads_loses_no_wake_up) {
    const std::size_t rounds = size_of(20, 200, 5, 20);
    const std::size_t targets = size_of(64, 500, 16, 100);
    for (std::size_t round = 0; round < rounds; ++round) {
        auto released = std::make_unique<std::atomic<bool>[]>(targets);
        std::vector<rthread::join_handle<void>> handles;
        for (std::size_t i = 0; i < targets; ++i) {
            released[i].store(false);
            handles.push_back(rthread::builder{}
                                  .stack_size(std::size_t{64} << 10)
                                  .spawn([&released, i] {
                                      while (!released[i].load()) {
                                          rthread::park();
                                      }
                                  })
                                  .value());
        }
        for (std::size_t i = 0; i < targets; ++i) {
            released[i].store(true);
            handles[i].thread().unpark();
        }
        for (auto& h : handles) {
            BOOST_TEST_REQUIRE(joined_in_time(h), "round " << round);
        }
    }
}
