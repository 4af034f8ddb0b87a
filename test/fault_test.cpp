// Faults a thread library must contain (issue 5): a panic hook that throws,
// thread creation failing for want of resources, the process exiting under
// detached threads, and signals interrupting sleep and park_timeout. Cases
// that end the process, drop privileges or depend on process exit run as
// scenarios in a fresh process (test_main.hpp); the process's exit code is
// then what they check, so that LeakSanitizer's check at exit counts too.
#define BOOST_TEST_MODULE fault
#include "test_main.hpp"

#include "child_process.hpp"
#include "platform.hpp"

#include <rthread/rthread.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>

#if RTHREAD_TEST_POSIX
#include <grp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#else
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// The scenario may not hang the test run: a hang becomes SIGALRM.
void bound_the_scenario() {
#if RTHREAD_TEST_POSIX
    ::alarm(60);
#endif
}

} // namespace

// ---- a panic hook that throws -------------------------------------------

RTHREAD_SCENARIO(panic_hook_throws_while_reporting) {
    rthread::set_panic_hook([](const rthread::panic_info& info) {
        std::fprintf(stderr, "hook saw: %s\n", std::string(info.message()).c_str());
        throw 7; // any type: Rust's panic inside the panic hook
    });
    auto h = rthread::builder{}.name("first").spawn([] { RTHREAD_PANIC("the first panic"); });
    (void)h.value().join();
    std::printf("join returned\n"); // not reached: the process aborted
    return 0;
}

BOOST_AUTO_TEST_CASE(a_panic_hook_that_throws_aborts_the_process_with_rusts_message) {
    const auto child = test_support::run_scenario("panic_hook_throws_while_reporting");
    BOOST_TEST(child.signal == SIGABRT, "exit " << child.exit_code << ": " << child.stderr_text);
    BOOST_TEST(child.stderr_text ==
               "hook saw: the first panic\nthread panicked while processing panic. aborting.\n");
    BOOST_TEST(child.stdout_text.empty()); // the joiner never saw a result
}

// ---- thread creation failure ----------------------------------------------

namespace {

#if RTHREAD_TEST_POSIX
// RLIMIT_NPROC bounds the processes and threads of the calling user; root
// (CAP_SYS_RESOURCE or CAP_SYS_ADMIN) is exempt, so a scenario run as root
// becomes an ordinary user first. 65534 is "nobody"; no entry in
// /etc/passwd is needed.
bool become_an_ordinary_user() {
    if (::geteuid() != 0) {
        return true;
    }
    constexpr gid_t nobody_group = 65534;
    constexpr uid_t nobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setgid(nobody_group) != 0 || ::setuid(nobody) != 0) {
        std::perror("dropping root for the RLIMIT_NPROC scenario");
        return false;
    }
    // setuid() made the process non-dumpable, which would hide /proc/self
    // from it (and from a sanitizer's leak check at exit).
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return true;
}
#endif

bool is_resource_exhaustion(const boost::system::error_code& code) {
    return code == boost::system::errc::resource_unavailable_try_again ||
           code == boost::system::errc::not_enough_memory;
}

} // namespace

#if RTHREAD_TEST_POSIX
RTHREAD_SCENARIO(spawn_under_rlimit_nproc) {
    bound_the_scenario();
    // A first thread, before the limit: whatever a runtime starts lazily
    // (a sanitizer's background thread) is started now.
    RTHREAD_CHILD_CHECK(rthread::spawn([] { return 1; }).join().value() == 1);
    if (!become_an_ordinary_user()) {
        return 100;
    }
    rlimit original{};
    ::getrlimit(RLIMIT_NPROC, &original);
    const std::size_t live_before = rthread::threads().size();

    rlimit none = original;
    none.rlim_cur = 0; // any new thread exceeds it
    RTHREAD_CHILD_CHECK(::setrlimit(RLIMIT_NPROC, &none) == 0);

    bool ran = false;
    auto refused = rthread::builder{}.name("refused").spawn([&ran] { ran = true; });
    RTHREAD_CHILD_CHECK(!refused.has_value());
    if (!refused.has_value()) {
        // The OS's own code, as pthread_create gave it (EAGAIN).
        RTHREAD_CHILD_CHECK(refused.error() == boost::system::errc::resource_unavailable_try_again);
        std::printf("builder::spawn: %s\n", refused.error().message().c_str());
    }
    try {
        (void)rthread::spawn([&ran] { ran = true; });
        RTHREAD_CHILD_CHECK(!"spawn should have thrown");
    } catch (const std::system_error& e) {
        RTHREAD_CHILD_CHECK(e.code() == std::errc::resource_unavailable_try_again);
        std::printf("spawn threw: %s\n", e.what());
    }
    RTHREAD_CHILD_CHECK(!ran);
    RTHREAD_CHILD_CHECK(rthread::threads().size() == live_before); // no entry left behind

    // Resources return: the process spawns again.
    RTHREAD_CHILD_CHECK(::setrlimit(RLIMIT_NPROC, &original) == 0);
    RTHREAD_CHILD_CHECK(
        rthread::builder{}.name("again").spawn([] { return 2; }).value().join().value() == 2);
    RTHREAD_CHILD_CHECK(rthread::threads().size() == live_before);
    return test_support::child_failures;
}
#endif

BOOST_AUTO_TEST_CASE(spawn_under_rlimit_nproc_fails_with_the_os_error_and_recovers,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "RLIMIT_NPROC")) {
#if RTHREAD_TEST_POSIX
    const auto child = test_support::run_scenario("spawn_under_rlimit_nproc");
    BOOST_TEST(child.exited, "signal " << child.signal << ": " << child.stderr_text);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
    BOOST_TEST_MESSAGE(child.stdout_text);
#endif
}

BOOST_AUTO_TEST_CASE(impossible_stack_sizes_fail_with_the_os_error_and_leave_nothing_behind) {
    const std::size_t live_before = rthread::threads().size();
    for (int i = 0; i < 100; ++i) { // a leak would show at LeakSanitizer's exit check
        // Half the address space: it rounds fine, the kernel refuses it.
        auto h = rthread::builder{}.name("huge").stack_size(SIZE_MAX / 2).spawn([] { return 0; });
        BOOST_TEST_REQUIRE(!h.has_value());
        BOOST_TEST(is_resource_exhaustion(h.error()), h.error().message());
    }
    BOOST_TEST(rthread::threads().size() == live_before);
    BOOST_TEST(rthread::builder{}
                   .stack_size(std::size_t{64} << 10)
                   .spawn([] { return 3; })
                   .value()
                   .join()
                   .value() == 3);
}

RTHREAD_SCENARIO(spawn_with_impossible_default_stack) {
    bound_the_scenario();
    try {
        (void)rthread::spawn([] {});
        RTHREAD_CHILD_CHECK(!"spawn should have thrown");
    } catch (const std::system_error& e) {
        RTHREAD_CHILD_CHECK(e.code() == std::errc::resource_unavailable_try_again ||
                            e.code() == std::errc::not_enough_memory);
    }
    // The process keeps working: a thread with a stack it can have.
    RTHREAD_CHILD_CHECK(
        rthread::builder{}.stack_size(1 << 20).spawn([] { return 4; }).value().join().value() == 4);
    return test_support::child_failures;
}

BOOST_AUTO_TEST_CASE(spawn_throws_system_error_for_an_impossible_default_stack) {
    const auto child = test_support::run_scenario("spawn_with_impossible_default_stack",
                                                  {"RTHREAD_MIN_STACK=70368744177664"}); // 64 TiB
    BOOST_TEST(child.exited, "signal " << child.signal << ": " << child.stderr_text);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
}

// Issue 12, item 6: "anything but a whole number is ignored". strtoull took
// "-1" (wrapping to the largest size: every default spawn then failed),
// "+1" and leading spaces.
RTHREAD_SCENARIO(spawn_with_a_malformed_rthread_min_stack) {
    bound_the_scenario();
    const auto stack_size = [] {
#if defined(_WIN32)
        ULONG_PTR low = 0;
        ULONG_PTR high = 0;
        ::GetCurrentThreadStackLimits(&low, &high); // the whole reservation
        return static_cast<std::size_t>(high - low);
#else
        pthread_attr_t attr;
        ::pthread_getattr_np(::pthread_self(), &attr);
        std::size_t size = 0;
        ::pthread_attr_getstacksize(&attr, &size);
        ::pthread_attr_destroy(&attr);
        return size;
#endif
    };
    try {
        const std::size_t size = rthread::spawn(stack_size).join().value();
        constexpr std::size_t two_mib = std::size_t{2} << 20;
        RTHREAD_CHILD_CHECK(size >= two_mib);
        RTHREAD_CHILD_CHECK(size < two_mib + (std::size_t{1} << 20));
        std::printf("%zu\n", size);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "spawn failed: %s\n", e.what());
        ++test_support::child_failures;
    }
    return test_support::child_failures;
}

BOOST_AUTO_TEST_CASE(a_malformed_rthread_min_stack_is_ignored) {
    for (const char* env :
         {"RTHREAD_MIN_STACK=-1", "RTHREAD_MIN_STACK=-4096", "RTHREAD_MIN_STACK=+1",
          "RTHREAD_MIN_STACK= 65536", "RTHREAD_MIN_STACK=65536 ", "RTHREAD_MIN_STACK=0x10000",
          "RTHREAD_MIN_STACK=99999999999999999999", "RTHREAD_MIN_STACK=", "RTHREAD_MIN_STACK=1k"}) {
        const auto child =
            test_support::run_scenario("spawn_with_a_malformed_rthread_min_stack", {env});
        BOOST_TEST(child.exited, env << ": signal " << child.signal << ": " << child.stderr_text);
        BOOST_TEST(child.exit_code == 0, env << ": " << child.stderr_text);
    }
}

// ---- timed joins bounded by their deadline ----------------------------------

namespace blocking_key {
// Issue 12, item 4: after the exit notice Boost's join waited without
// limit, so a pthread key destructor that slept 2 s made
// try_join_for(10ms) return after 1.8 s. Here the destructor blocks until
// the test lets it go (or 20 s pass: before the fix try_join_for returned
// the thread's value then, instead of std::nullopt).
std::mutex mutex;
std::condition_variable changed;
bool in_destructor = false;
bool released = false;

void block_until_released(void*) {
    std::unique_lock<std::mutex> lock(mutex);
    in_destructor = true;
    changed.notify_all();
    changed.wait_for(lock, 20s, [] { return released; });
}

pthread_key_t key() {
    static const pthread_key_t k = [] {
        pthread_key_t made{};
        BOOST_TEST_REQUIRE(::pthread_key_create(&made, &block_until_released) == 0);
        return made;
    }();
    return k;
}

rthread::join_handle<int> spawn_blocked_at_exit() {
    (void)key();
    {
        std::lock_guard<std::mutex> lock(mutex);
        in_destructor = false;
        released = false;
    }
    auto h = rthread::spawn([] {
        ::pthread_setspecific(key(), reinterpret_cast<void*>(1));
        return 5;
    });
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [] { return in_destructor; });
    return h;
}

void release() {
    std::lock_guard<std::mutex> lock(mutex);
    released = true;
    changed.notify_all();
}
} // namespace blocking_key

BOOST_AUTO_TEST_CASE(try_join_for_is_bounded_by_a_blocking_pthread_key_destructor) {
    auto h = blocking_key::spawn_blocked_at_exit();
    BOOST_TEST(!h.try_join_for(10ms).has_value()); // the thread has not ended yet
    BOOST_TEST(!h.try_join_for(0ms).has_value());
    BOOST_TEST(h.joinable());
    blocking_key::release();
    BOOST_TEST(h.join().value() == 5);
}

BOOST_AUTO_TEST_CASE(try_join_until_is_bounded_by_a_blocking_pthread_key_destructor) {
    auto h = blocking_key::spawn_blocked_at_exit();
    BOOST_TEST(!h.try_join_until(clock_type::now() + 10ms).has_value());
    blocking_key::release();
    std::optional<rthread::result<int>> r;
    while (!(r = h.try_join_for(1s))) {
    }
    BOOST_TEST(r->value() == 5);
}

// ---- pthread_exit() and pthread_cancel() on an rthread thread ----------------

#if RTHREAD_TEST_POSIX
namespace forced_unwind {
// Issue 12, item 7: the catch-all at the top of the thread swallowed
// glibc's forced unwind (abi::__forced_unwind), and glibc then aborted the
// process ("FATAL: exception not rethrown"). Now the thread ends as one
// whose function returned: its stack is unwound (destructors run), its
// local_key values are destroyed before join() returns, the panic hook is
// not called, and join() gives thread_exit_payload().
constexpr const char* ended_message =
    "rthread: the thread ended through pthread_exit() or pthread_cancel()";

std::atomic<int> unwound{0};
std::atomic<int> values{0};
std::atomic<int> hook_calls{0};

struct on_the_stack {
    ~on_the_stack() { unwound.fetch_add(1); }
};
struct value {
    value() { values.fetch_add(1); }
    value(const value&) = delete;
    value& operator=(const value&) = delete;
    ~value() { values.fetch_sub(1); }
};
RTHREAD_THREAD_LOCAL(value, VALUE, {});

void check_ended_result(const rthread::result<int>& r) {
    RTHREAD_CHILD_CHECK(!r.has_value());
    if (!r.has_value()) {
        RTHREAD_CHILD_CHECK(rthread::panic_message(r.error()) ==
                            std::optional<std::string>(ended_message));
    }
    RTHREAD_CHILD_CHECK(values.load() == 0); // destroyed before join returned
}
} // namespace forced_unwind

RTHREAD_SCENARIO(pthread_exit_and_cancel_on_rthread_threads) {
    using namespace forced_unwind;
    bound_the_scenario();
    rthread::set_panic_hook([](const rthread::panic_info&) { hook_calls.fetch_add(1); });
    // The main thread is listed from its first current() (below): counted
    // here, or it would pass for the detached thread at the end.
    const rthread::thread main_thread = rthread::current();
    const std::size_t live = rthread::threads().size();

    auto exiting = rthread::spawn([]() -> int {
        const on_the_stack guard;
        VALUE.with([](value&) {});
        ::pthread_exit(nullptr);
    });
    check_ended_result(exiting.join());
    RTHREAD_CHILD_CHECK(unwound.load() == 1);

    std::atomic<bool> started{false};
    auto cancelled = rthread::spawn([&]() -> int {
        const on_the_stack guard;
        VALUE.with([](value&) {});
        started.store(true);
        main_thread.unpark();
        for (;;) {
            ::pause(); // a cancellation point (rthread::sleep is none: it is noexcept)
        }
    });
    while (!started.load()) {
        rthread::park();
    }
    RTHREAD_CHILD_CHECK(::pthread_cancel(cancelled.native_handle()) == 0);
    check_ended_result(cancelled.join());
    RTHREAD_CHILD_CHECK(unwound.load() == 2);

    // In a scope, an unjoined thread that ended so is reported as a scoped
    // thread's panic, with that payload.
    try {
        rthread::scope([](rthread::scope_handle& s) { s.spawn([] { ::pthread_exit(nullptr); }); });
        RTHREAD_CHILD_CHECK(!"scope should have thrown");
    } catch (const rthread::scope_panic& e) {
        RTHREAD_CHILD_CHECK(e.payloads().size() == 1);
        RTHREAD_CHILD_CHECK(!e.payloads().empty() && rthread::panic_message(e.payloads()[0]) ==
                                                         std::optional<std::string>(ended_message));
    }

    // A detached thread may end so too; the process goes on.
    (void)rthread::spawn([] { ::pthread_exit(nullptr); });

    RTHREAD_CHILD_CHECK(hook_calls.load() == 0); // not a panic
    RTHREAD_CHILD_CHECK(rthread::spawn([] { return 6; }).join().value() == 6);
    const std::size_t after = rthread::threads().size();
    RTHREAD_CHILD_CHECK(after == live || after == live + 1); // + the detached one, still ending
    return test_support::child_failures;
}
#endif // RTHREAD_TEST_POSIX

// Windows has no forced unwinding: ExitThread and TerminateThread end a
// thread without running its destructors.
BOOST_AUTO_TEST_CASE(pthread_exit_and_pthread_cancel_end_the_thread_and_join_reports_it,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "pthread_exit, pthread_cancel")) {
#if RTHREAD_TEST_POSIX
    const auto child = test_support::run_scenario("pthread_exit_and_cancel_on_rthread_threads");
    BOOST_TEST(child.exited, "signal " << child.signal << ": " << child.stderr_text);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
#endif
}

// ---- process exit under detached threads -----------------------------------

namespace {

struct counted {
    static inline std::atomic<int> alive{0};
    counted() { alive.fetch_add(1); }
    counted(const counted&) = delete;
    counted& operator=(const counted&) = delete;
    ~counted() { alive.fetch_sub(1); }
};

RTHREAD_THREAD_LOCAL(counted, COUNTED, {});

} // namespace

// Detached threads parked, sleeping, holding thread-local values and
// spawning (mid-spawn) when main returns: the process ends with main's
// exit code, without a crash, a hang or a word on stderr.
RTHREAD_SCENARIO(return_from_main_under_busy_detached_threads) {
    bound_the_scenario();
    static std::atomic<int> started{0};
    const rthread::thread main_thread = rthread::current();
    const auto detach = [&](auto body) {
        (void)rthread::spawn([body, main_thread] {
            started.fetch_add(1);
            main_thread.unpark();
            body();
        });
    };
    detach([] {
        for (;;) {
            rthread::park();
        }
    });
    detach([] { rthread::sleep(std::chrono::hours(1)); });
    detach([] {
        COUNTED.with([](counted&) {});
        for (;;) {
            rthread::park_timeout(1ms);
        }
    });
    detach([] { // spawns and joins without end
        for (;;) {
            (void)rthread::builder{}.name("short").spawn([] {}).value().join();
        }
    });
    while (started.load() < 4) {
        rthread::park();
    }
    return 3;
}

BOOST_AUTO_TEST_CASE(returning_from_main_under_busy_detached_threads_exits_with_mains_code) {
    // A thread that main's return catches between spawning a thread and
    // joining it never joins it: ThreadSanitizer would call that a thread
    // leak at exit. It is the very situation under test, so its leak report
    // is off for this scenario (only).
    const char* tsan = std::getenv("TSAN_OPTIONS");
    const std::string options =
        "TSAN_OPTIONS=" + std::string(tsan != nullptr ? tsan : "") + ":report_thread_leaks=0";
    for (int run = 0; run < 10; ++run) {
        const auto child = test_support::run_scenario(
            "return_from_main_under_busy_detached_threads", {options.c_str()});
        BOOST_TEST(child.exited, "signal " << child.signal << ": " << child.stderr_text);
        BOOST_TEST(child.exit_code == 3, child.stderr_text);
        BOOST_TEST(child.stderr_text.empty(), child.stderr_text);
    }
}

// ---- signals interrupting sleep and park_timeout ---------------------------

#if RTHREAD_TEST_POSIX
namespace {

std::atomic<int> handled{0};

void count_signal(int) {
    handled.fetch_add(1);
}

// Installs a SIGUSR1 handler without SA_RESTART (so blocking calls return
// EINTR), and restores the previous one.
class interrupting_handler {
public:
    interrupting_handler() {
        struct sigaction action {};
        action.sa_handler = &count_signal;
        action.sa_flags = 0; // no SA_RESTART
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGUSR1, &action, &previous_);
    }
    interrupting_handler(const interrupting_handler&) = delete;
    interrupting_handler& operator=(const interrupting_handler&) = delete;
    ~interrupting_handler() { ::sigaction(SIGUSR1, &previous_, nullptr); }

private:
    struct sigaction previous_ {};
};

// Sends SIGUSR1 to `target` about every 200 µs until *stop, at most
// `limit` times; returns how many it sent. The pacing only spreads the
// signals over the call they interrupt; no check depends on it. (The calls
// interrupted last 300 ms, so that even a starved signalling thread gets
// some signals in.)
int pelt(pthread_t target, const std::atomic<bool>& stop, int limit) {
    int sent = 0;
    while (!stop.load() && sent < limit) {
        if (::pthread_kill(target, SIGUSR1) != 0) {
            break;
        }
        ++sent;
        std::this_thread::sleep_for(200us);
    }
    return sent;
}

} // namespace
#endif

BOOST_AUTO_TEST_CASE(sleep_interrupted_by_signals_still_lasts_its_duration,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    const interrupting_handler handler;
    std::atomic<bool> asleep{false};
    std::atomic<bool> done{false};
    auto sleeper = rthread::spawn([&] {
        const int before = handled.load();
        const auto start = clock_type::now();
        asleep.store(true);
        rthread::sleep(300ms);
        const auto slept = clock_type::now() - start;
        done.store(true);
        return std::make_pair(slept, handled.load() - before);
    });
    while (!asleep.load()) {
        rthread::yield_now();
    }
    const int sent = pelt(sleeper.native_handle(), done, 100000);
    const auto [slept, interruptions] = sleeper.join().value();
    BOOST_TEST(sent > 0);
    BOOST_TEST(interruptions > 0); // the handler ran on the sleeper meanwhile
    const double slept_ms = std::chrono::duration<double, std::milli>(slept).count();
    BOOST_TEST(slept_ms >= 300.0);
#endif
}

BOOST_AUTO_TEST_CASE(park_timeout_interrupted_by_signals_returns_false_without_the_token,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    const interrupting_handler handler;
    std::atomic<bool> parking{false};
    std::atomic<bool> done{false};
    auto parker = rthread::spawn([&] {
        const int before = handled.load();
        parking.store(true);
        const bool got = rthread::park_timeout(300ms);
        done.store(true);
        // No token was made: none is left behind either.
        const bool stray = rthread::park_timeout(0ms);
        return std::make_tuple(got, stray, handled.load() - before);
    });
    while (!parking.load()) {
        rthread::yield_now();
    }
    const int sent = pelt(parker.native_handle(), done, 100000);
    const auto [got, stray, interruptions] = parker.join().value();
    BOOST_TEST(sent > 0);
    BOOST_TEST(interruptions > 0);
    BOOST_TEST(!got);
    BOOST_TEST(!stray);
#endif
}

BOOST_AUTO_TEST_CASE(park_timeout_interrupted_by_signals_returns_true_with_the_token,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    const interrupting_handler handler;
    std::atomic<bool> parking{false};
    std::atomic<bool> done{false};
    auto parker = rthread::spawn([&] {
        const int before = handled.load();
        parking.store(true);
        const bool got = rthread::park_timeout(std::chrono::minutes(10));
        done.store(true);
        return std::make_pair(got, handled.load() - before);
    });
    while (!parking.load()) {
        rthread::yield_now();
    }
    // Interrupt the park with signals first, then make the token.
    const int sent = pelt(parker.native_handle(), done, 50);
    parker.thread().unpark();
    const auto [got, interruptions] = parker.join().value();
    BOOST_TEST(sent == 50);
    BOOST_TEST(interruptions > 0);
    BOOST_TEST(got);
#endif
}
