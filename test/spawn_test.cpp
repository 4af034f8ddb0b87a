// Spawning and joining: spawn, builder, join_handle, result. Ported from
// Rust's library/std/src/thread/tests.rs (run basic, named/unnamed threads,
// invalid names, is_finished, spawning from spawned threads) plus the
// C++-specific cases: move-only values, argument copies, detach on
// destruction, bad input, exit with detached threads.
#define BOOST_TEST_MODULE spawn
#include "test_main.hpp"

#include "child_process.hpp"
#include "platform.hpp"

#include <rthread/rthread.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

#if defined(_WIN32)
#include <windows.h>
#else
#include <pthread.h>
#endif

namespace {

#if defined(_WIN32)
// The thread's description (GetThreadDescription, looked up as the library
// looks up SetThreadDescription), in UTF-8.
std::string os_thread_name() {
    using get_description_fn = HRESULT(WINAPI*)(HANDLE, PWSTR*);
    const auto get_description = reinterpret_cast<get_description_fn>(reinterpret_cast<void*>(
        ::GetProcAddress(::GetModuleHandleW(L"kernel32.dll"), "GetThreadDescription")));
    PWSTR wide = nullptr;
    if (get_description == nullptr || FAILED(get_description(::GetCurrentThread(), &wide))) {
        return "<no GetThreadDescription>";
    }
    const int size = ::WideCharToMultiByte(CP_UTF8, 0, wide, -1, nullptr, 0, nullptr, nullptr);
    std::string name(static_cast<std::size_t>(size > 0 ? size : 1), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, wide, -1, name.data(), size, nullptr, nullptr);
    ::LocalFree(wide);
    name.resize(name.size() - 1);
    return name;
}

// The thread's stack reservation.
std::size_t own_stack_size() {
    ULONG_PTR low = 0;
    ULONG_PTR high = 0;
    ::GetCurrentThreadStackLimits(&low, &high);
    return static_cast<std::size_t>(high - low);
}

// Windows keeps whole names.
constexpr std::size_t os_name_limit = std::string::npos;
#else
std::string os_thread_name() {
    std::ifstream comm("/proc/thread-self/comm");
    std::string name;
    std::getline(comm, name);
    return name;
}

std::size_t own_stack_size() {
    pthread_attr_t attr;
    ::pthread_getattr_np(::pthread_self(), &attr);
    std::size_t size = 0;
    ::pthread_attr_getstacksize(&attr, &size);
    ::pthread_attr_destroy(&attr);
    return size;
}

constexpr std::size_t os_name_limit = 15;
#endif

bool is_invalid_argument(const std::system_error& e) {
    return e.code() == std::errc::invalid_argument;
}

} // namespace

BOOST_AUTO_TEST_CASE(run_basic) {
    // Rust: test_run_basic.
    std::promise<void> ran;
    rthread::spawn([&] { ran.set_value(); });
    ran.get_future().get();
}

BOOST_AUTO_TEST_CASE(join_returns_the_value) {
    auto h = rthread::spawn([](int a, int b) { return a + b; }, 40, 2);
    rthread::result<int> r = h.join();
    BOOST_TEST(r.has_value());
    BOOST_TEST(*r == 42);
}

BOOST_AUTO_TEST_CASE(join_of_void_function) {
    int touched = 0;
    auto h = rthread::spawn([&touched] { touched = 1; });
    rthread::result<void> r = h.join();
    BOOST_TEST(r.has_value());
    BOOST_TEST(touched == 1);
}

BOOST_AUTO_TEST_CASE(move_only_values_go_in_and_come_back) {
    auto h = rthread::spawn(
        [](std::unique_ptr<int> p) {
            *p += 1;
            return p;
        },
        std::make_unique<int>(41));
    std::unique_ptr<int> back = h.join().value();
    BOOST_TEST(*back == 42);
}

BOOST_AUTO_TEST_CASE(arguments_are_decayed_copies) {
    // As std::thread: the thread gets its own copy, not a reference.
    std::string text = "caller's";
    auto h = rthread::spawn(
        [](std::string s) {
            s += " copy";
            return s;
        },
        text);
    BOOST_TEST(h.join().value() == "caller's copy");
    BOOST_TEST(text == "caller's");
}

BOOST_AUTO_TEST_CASE(captures_are_destroyed_on_the_thread_before_it_is_finished) {
    struct witness {
        std::shared_ptr<std::atomic<int>> alive;
        ~witness() {
            if (alive) {
                alive->fetch_sub(1);
            }
        }
        witness(std::shared_ptr<std::atomic<int>> a) : alive(std::move(a)) { alive->fetch_add(1); }
        witness(witness&& o) noexcept : alive(std::move(o.alive)) {}
    };
    auto alive = std::make_shared<std::atomic<int>>(0);
    auto h = rthread::spawn([w = witness(alive)] { return 1; });
    h.join().value();
    BOOST_TEST(alive->load() == 0);
}

BOOST_AUTO_TEST_CASE(spawn_from_spawned_threads) {
    // Rust: test_spawn_sched / test_spawn_sched_childs_on_default_sched.
    auto h = rthread::spawn([] {
        return rthread::spawn([] { return rthread::spawn([] { return 7; }).join().value() * 2; })
                   .join()
                   .value() +
               1;
    });
    BOOST_TEST(h.join().value() == 15);
}

BOOST_AUTO_TEST_CASE(unnamed_thread_has_no_name) {
    // Rust: test_unnamed_thread.
    auto h = rthread::spawn([] { return rthread::current().name().has_value(); });
    BOOST_TEST(!h.join().value());
}

BOOST_AUTO_TEST_CASE(named_thread) {
    // Rust: test_named_thread.
    auto h = rthread::builder{}.name("ada lovelace").spawn([] {
        return std::string(rthread::current().name().value());
    });
    BOOST_REQUIRE(h.has_value());
    BOOST_TEST(h->thread().name().value() == "ada lovelace");
    BOOST_TEST(h->join().value() == "ada lovelace");
}

BOOST_AUTO_TEST_CASE(name_reaches_the_os_before_the_function_starts) {
    auto h = rthread::builder{}.name("worker-7").spawn(&os_thread_name).value();
    BOOST_TEST(h.join().value() == "worker-7");
}

BOOST_AUTO_TEST_CASE(long_os_name_is_cut_at_15_bytes) {
    // Rust: test_named_thread_truncation.
    const std::string name = "a-very-long-thread-name-indeed";
    auto h = rthread::builder{}.name(name).spawn(
        [] { return std::make_pair(os_thread_name(), std::string(*rthread::current().name())); });
    const auto [os, full] = h.value().join().value();
    BOOST_TEST(os == name.substr(0, os_name_limit));
    BOOST_TEST(full == name);
}

BOOST_AUTO_TEST_CASE(os_name_is_cut_on_a_utf8_boundary,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX,
                                          "Windows thread names have no length limit")) {
#if RTHREAD_TEST_POSIX
    // 13 ASCII bytes then "é" (2 bytes) then "€" (3 bytes): byte 15 falls
    // inside "€", so the OS name keeps the first 15 bytes "...é" only.
    const std::string name = "thirteen-byte\xc3\xa9\xe2\x82\xac";
    auto os = rthread::builder{}.name(name).spawn(&os_thread_name).value().join().value();
    BOOST_TEST(os == "thirteen-byte\xc3\xa9");
    const std::string cut_inside = "fourteen-bytes\xe2\x82\xac"; // 14 + 3 bytes
    os = rthread::builder{}.name(cut_inside).spawn(&os_thread_name).value().join().value();
    BOOST_TEST(os == "fourteen-bytes");
#endif
}

BOOST_AUTO_TEST_CASE(name_with_interior_nul_is_invalid_argument) {
    // Rust: test_invalid_named_thread.
    bool ran = false;
    auto h = rthread::builder{}.name(std::string("has\0nul", 7)).spawn([&ran] { ran = true; });
    BOOST_REQUIRE(!h.has_value());
    BOOST_TEST((h.error() == boost::system::errc::invalid_argument));
    BOOST_TEST(!ran);
}

BOOST_AUTO_TEST_CASE(builder_chains_on_lvalues_and_temporaries_and_spawns_twice) {
    rthread::builder b;
    b.name("twice").stack_size(std::size_t{256} * 1024);
    auto first = b.spawn([] { return std::string(*rthread::current().name()); }).value();
    auto second = b.spawn([] { return std::string(*rthread::current().name()); }).value();
    BOOST_TEST(first.join().value() == "twice");
    BOOST_TEST(second.join().value() == "twice");
    BOOST_TEST((first.thread() != second.thread()));
    auto temp = rthread::builder{}.stack_size(1 << 20).name("temp").spawn([] { return 3; });
    BOOST_TEST(temp.value().join().value() == 3);
}

BOOST_AUTO_TEST_CASE(stack_size_is_honoured_and_page_rounded) {
    const std::size_t requested = (8u << 20) + 1; // 8 MiB and one byte
    auto size = rthread::builder{}.stack_size(requested).spawn(&own_stack_size).value().join();
    BOOST_TEST(size.value() >= requested);
    BOOST_TEST(size.value() % 4096 == 0u);
}

BOOST_AUTO_TEST_CASE(tiny_stack_sizes_are_raised_to_the_minimum_and_run) {
    for (std::size_t requested : {std::size_t{0}, std::size_t{1}, std::size_t{4095}}) {
        auto h = rthread::builder{}.stack_size(requested).spawn([] { return 5; });
        BOOST_REQUIRE(h.has_value());
        BOOST_TEST(h->join().value() == 5);
    }
}

BOOST_AUTO_TEST_CASE(impossible_stack_sizes_are_an_error_not_a_crash) {
    for (std::size_t requested : {SIZE_MAX, SIZE_MAX - 4096, SIZE_MAX / 2, std::size_t{1} << 50}) {
        bool ran = false;
        auto h = rthread::builder{}.stack_size(requested).spawn([&ran] { ran = true; });
        BOOST_TEST(!h.has_value(), "stack size " << requested);
        BOOST_TEST(!ran);
    }
    // The process keeps working.
    BOOST_TEST(rthread::spawn([] { return 1; }).join().value() == 1);
}

BOOST_AUTO_TEST_CASE(spawn_throws_system_error_when_the_thread_cannot_be_made) {
    // spawn() has no stack size of its own; an impossible default comes from
    // RTHREAD_MIN_STACK, read once: check it in a fresh process.
    if (!test_support::in_fresh_process()) {
        const auto child = test_support::run_fresh_test_case(
            "spawn_throws_system_error_when_the_thread_cannot_be_made",
            {"RTHREAD_MIN_STACK=1125899906842624"}); // 2^50 bytes
        BOOST_TEST(child.exited);
        BOOST_TEST(child.exit_code == 0, child.stdout_text << child.stderr_text);
        return;
    }
    BOOST_CHECK_THROW(rthread::spawn([] {}), std::system_error);
    // An explicit stack size still works.
    BOOST_TEST(
        rthread::builder{}.stack_size(1 << 20).spawn([] { return 2; }).value().join().value() == 2);
}

BOOST_AUTO_TEST_CASE(default_stack_size_is_two_mib_or_rthread_min_stack) {
    if (!test_support::in_fresh_process()) {
        const auto child =
            test_support::run_fresh_test_case("default_stack_size_is_two_mib_or_rthread_min_stack",
                                              {"RTHREAD_MIN_STACK=3145728"}); // 3 MiB
        BOOST_TEST(child.exited);
        BOOST_TEST(child.exit_code == 0, child.stdout_text << child.stderr_text);
    }
    const char* env = std::getenv("RTHREAD_MIN_STACK");
    const std::size_t expected = env != nullptr ? std::stoull(env) : std::size_t{2} << 20;
    const std::size_t size = rthread::spawn(&own_stack_size).join().value();
    BOOST_TEST(size >= expected);
    BOOST_TEST(size < expected + (std::size_t{1} << 20));
}

BOOST_AUTO_TEST_CASE(is_finished_becomes_true_once_the_function_returned) {
    // Rust: test_is_finished.
    std::atomic<bool> release{false};
    auto h = rthread::spawn([&] {
        while (!release.load()) {
            rthread::park();
        }
    });
    BOOST_TEST(!h.is_finished());
    release = true;
    h.thread().unpark();
    while (!h.is_finished()) {
        rthread::yield_now();
    }
    BOOST_TEST(h.join().has_value());
}

BOOST_AUTO_TEST_CASE(joinable_until_joined) {
    rthread::join_handle<int> empty;
    BOOST_TEST(!empty.joinable());
    BOOST_TEST(!empty.is_finished());
    BOOST_TEST(empty.thread().id().as_u64() == 0u);
    auto h = rthread::spawn([] { return 1; });
    BOOST_TEST(h.joinable());
    h.join().value();
    BOOST_TEST(!h.joinable());
}

BOOST_AUTO_TEST_CASE(second_join_throws_invalid_argument) {
    auto h = rthread::spawn([] { return 1; });
    h.join().value();
    BOOST_CHECK_EXCEPTION((void)h.join(), std::system_error, is_invalid_argument);
    BOOST_CHECK_EXCEPTION((void)h.try_join_for(std::chrono::seconds(1)), std::system_error,
                          is_invalid_argument);
}

BOOST_AUTO_TEST_CASE(join_of_empty_or_moved_from_handle_throws_invalid_argument) {
    rthread::join_handle<void> empty;
    BOOST_CHECK_EXCEPTION((void)empty.join(), std::system_error, is_invalid_argument);
    BOOST_CHECK_EXCEPTION((void)empty.try_join_until(std::chrono::steady_clock::now()),
                          std::system_error, is_invalid_argument);
    auto h = rthread::spawn([] {});
    auto moved = std::move(h);
    // NOLINTNEXTLINE(bugprone-use-after-move): joining the moved-from handle is the test
    BOOST_CHECK_EXCEPTION((void)h.join(), std::system_error, is_invalid_argument);
    moved.join().value();
}

BOOST_AUTO_TEST_CASE(joining_oneself_throws_instead_of_deadlocking) {
    std::promise<rthread::join_handle<void>*> where;
    std::promise<bool> threw;
    rthread::join_handle<void> h = rthread::spawn([&] {
        rthread::join_handle<void>* self = where.get_future().get();
        try {
            (void)self->join();
            threw.set_value(false);
        } catch (const std::system_error& e) {
            threw.set_value(e.code() == std::errc::resource_deadlock_would_occur);
        }
    });
    where.set_value(&h);
    BOOST_TEST(threw.get_future().get());
    h.join().value();
}

BOOST_AUTO_TEST_CASE(try_join_for_times_out_and_keeps_the_handle_joinable) {
    std::atomic<bool> release{false};
    auto h = rthread::spawn([&] {
        while (!release.load()) {
            rthread::park();
        }
        return 9;
    });
    BOOST_TEST(!h.try_join_for(std::chrono::milliseconds(10)).has_value());
    BOOST_TEST(!h.try_join_for(std::chrono::seconds(-5)).has_value());
    BOOST_TEST(!h.try_join_for(std::chrono::nanoseconds::min()).has_value());
    BOOST_TEST(
        !h.try_join_until(std::chrono::system_clock::now() - std::chrono::hours(1)).has_value());
    BOOST_TEST(h.joinable());
    release = true;
    h.thread().unpark();
    auto done = h.try_join_for(std::chrono::hours::max());
    BOOST_REQUIRE(done.has_value());
    BOOST_TEST(done->value() == 9);
    BOOST_TEST(!h.joinable());
}

BOOST_AUTO_TEST_CASE(try_join_until_any_clock_gets_the_value) {
    auto h = rthread::spawn([] { return 4; });
    auto done = h.try_join_until(std::chrono::system_clock::time_point::max());
    BOOST_REQUIRE(done.has_value());
    BOOST_TEST(done->value() == 4);
}

#if defined(_WIN32)
BOOST_AUTO_TEST_CASE(native_handle_is_the_threads_handle) {
    std::promise<DWORD> self;
    std::atomic<bool> release{false};
    auto h = rthread::spawn([&] {
        self.set_value(::GetCurrentThreadId());
        while (!release.load()) {
            rthread::park();
        }
    });
    BOOST_TEST(self.get_future().get() == ::GetThreadId(h.native_handle()));
    release = true;
    h.thread().unpark();
    h.join().value();
}
#else
BOOST_AUTO_TEST_CASE(native_handle_is_the_threads_pthread) {
    std::promise<pthread_t> self;
    std::atomic<bool> release{false};
    auto h = rthread::spawn([&] {
        self.set_value(::pthread_self());
        while (!release.load()) {
            rthread::park();
        }
    });
    BOOST_TEST(::pthread_equal(self.get_future().get(), h.native_handle()) != 0);
    release = true;
    h.thread().unpark();
    h.join().value();
}
#endif

BOOST_AUTO_TEST_CASE(dropping_a_handle_detaches_the_thread) {
    std::promise<int> result;
    std::promise<void> go;
    {
        auto h = rthread::spawn([&] {
            go.get_future().wait();
            result.set_value(11);
        });
        // h is destroyed here while the thread runs: no std::terminate.
    }
    go.set_value();
    BOOST_TEST(result.get_future().get() == 11);
}

BOOST_AUTO_TEST_CASE(move_assigning_over_a_joinable_handle_detaches_it) {
    std::promise<void> go;
    std::promise<void> done;
    auto a = rthread::spawn([&] {
        go.get_future().wait();
        done.set_value();
    });
    a = rthread::spawn([] {});
    go.set_value();
    done.get_future().wait();
    a.join().value();
}

BOOST_AUTO_TEST_CASE(join_waits_for_the_thread_to_end) {
    // The value is ready only after the function returned; join() gives it.
    std::vector<int> filled;
    auto h = rthread::spawn([&filled] {
        for (int i = 0; i < 1000; ++i) {
            filled.push_back(i);
        }
    });
    h.join().value();
    BOOST_TEST(filled.size() == 1000u);
}

namespace {
// A C++ thread_local of the thread's own, made after the thread started (so
// its destructor runs before the library's exit notice): join() must not
// return before it ran, nor before the thread left the live list.
std::atomic<int> cpp_destructors_done{0};
struct slow_cpp_thread_local {
    ~slow_cpp_thread_local() {
        for (int i = 0; i < 20; ++i) {
            rthread::yield_now(); // a joiner that went early would see 0
        }
        cpp_destructors_done.fetch_add(1);
    }
};
thread_local slow_cpp_thread_local slow_local;
} // namespace

BOOST_AUTO_TEST_CASE(join_returns_after_the_threads_cpp_thread_local_destructors) {
    for (int round = 1; round <= 20; ++round) {
        auto h = rthread::spawn([] {
            (void)&slow_local; // odr-use: constructs it and registers its destructor
            return rthread::current();
        });
        const rthread::thread t = round % 2 == 0
                                      ? h.join().value()
                                      : h.try_join_for(std::chrono::hours(1)).value().value();
        BOOST_TEST(cpp_destructors_done.load() == round);
        const auto live = rthread::threads();
        BOOST_TEST((std::find(live.begin(), live.end(), t) == live.end()));
    }
}

BOOST_AUTO_TEST_CASE(timed_joins_that_time_out_leave_the_join_intact) {
    // A timed join that gives up (the joiner may have gone to sleep on the
    // exit notice) must leave a later join working: timed out ones first,
    // then the thread is let go and joined.
    std::atomic<bool> go{false};
    auto h = rthread::spawn([&go] {
        while (!go.load()) {
            rthread::park_timeout(std::chrono::milliseconds(1));
        }
        return 5;
    });
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(!h.try_join_for(std::chrono::milliseconds(2)).has_value());
    }
    go.store(true);
    h.thread().unpark();
    BOOST_TEST(h.join().value() == 5);
}

BOOST_AUTO_TEST_CASE(join_does_not_touch_the_joiners_park_token) {
    rthread::current().unpark(); // leave a token
    rthread::spawn([] {}).join().value();
    auto h = rthread::spawn([] {});
    (void)h.try_join_for(std::chrono::seconds(10));
    BOOST_TEST(rthread::park_timeout(std::chrono::seconds(0)));  // still there
    BOOST_TEST(!rthread::park_timeout(std::chrono::seconds(0))); // and only one
}

// Detached threads parked, sleeping, listing threads and spawning while main
// returns: the process ends with main's exit code, no crash in library code.
RTHREAD_SCENARIO(return_from_main_with_detached_threads) {
    static std::atomic<int> started{0};
    for (int i = 0; i < 4; ++i) {
        (void)rthread::builder{}.name("detached-" + std::to_string(i)).spawn([i] {
            started.fetch_add(1);
            for (;;) {
                switch (i) {
                case 0:
                    rthread::park();
                    break;
                case 1:
                    rthread::sleep(std::chrono::milliseconds(1));
                    break;
                case 2:
                    (void)rthread::threads();
                    break;
                default:
                    (void)rthread::spawn([] { return rthread::current_id(); }).join();
                }
            }
        });
    }
    while (started.load() < 4) {
        rthread::yield_now();
    }
    return 7;
}

BOOST_AUTO_TEST_CASE(process_exit_with_detached_threads_running_is_clean) {
    for (int run = 0; run < 20; ++run) {
        // A thread may end while its spawner is still joining it when the
        // process exits: ThreadSanitizer would call that a leaked thread.
        static const std::string tsan_options =
            std::string("TSAN_OPTIONS=") +
            (std::getenv("TSAN_OPTIONS") != nullptr ? std::getenv("TSAN_OPTIONS") : "") +
            ":report_thread_leaks=0";
        const auto child = test_support::run_scenario("return_from_main_with_detached_threads",
                                                      {tsan_options.c_str()});
        BOOST_TEST(child.exited, "signal " << child.signal << ": " << child.stderr_text);
        BOOST_TEST(child.exit_code == 7, child.stderr_text);
    }
}
