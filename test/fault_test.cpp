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
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
