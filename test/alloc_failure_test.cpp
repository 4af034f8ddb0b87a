// Failed allocations (issue 12): a global operator new that fails on
// request, once at the Nth allocation or from the Nth on, on the calling
// thread or on every thread. The sweep tries every N over each public
// operation until one run allocates fewer than N times, and checks that
// every failure is a clean error (std::bad_alloc, errc::not_enough_memory,
// or a thread's panic carrying std::bad_alloc), that threads() is back to
// its size, and (under LeakSanitizer, at the process's exit) that nothing
// leaked. It prints how many allocation sites it tried.
#define BOOST_TEST_MODULE alloc_failure
#include "test_main.hpp"

#include "child_process.hpp"
#include "counting_new.hpp"

#include <rthread/rthread.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

// ---- the failing operator new ---------------------------------------------

enum class failure_mode { once, from_then_on };

// Armed on the calling thread only (armed_here) or on every thread
// (armed_everywhere). countdown: allocations let through before the one
// that fails. seq_cst throughout: a test harness, not a fast path.
thread_local bool armed_here = false;
std::atomic<bool> armed_everywhere{false};
std::atomic<long> countdown{0};
std::atomic<bool> fail_once{true};
std::atomic<long> injected{0};

bool should_fail() noexcept {
    if (!armed_here && !armed_everywhere.load()) {
        return false;
    }
    const long left = countdown.fetch_sub(1);
    if (left > 0 || (left < 0 && fail_once.load())) {
        return false;
    }
    injected.fetch_add(1);
    return true;
}

/// Fails the allocation `n` allocations from now (0: the next one), and with
/// from_then_on every one after it, on the calling thread (everywhere:
/// every thread) until disarm().
void arm(long n, failure_mode mode, bool everywhere) {
    injected.store(0);
    fail_once.store(mode == failure_mode::once);
    countdown.store(n);
    if (everywhere) {
        armed_everywhere.store(true);
    } else {
        armed_here = true;
    }
}

/// Stops failing; true if a failure was injected since arm().
bool disarm() {
    armed_here = false;
    armed_everywhere.store(false);
    return injected.load() != 0;
}

} // namespace

// What test/counting_new.hpp asks at every allocation.
bool test_support::fail_allocation() noexcept {
    return should_fail();
}

namespace {

bool is_bad_alloc(const std::exception_ptr& payload) {
    try {
        std::rethrow_exception(payload);
    } catch (const std::bad_alloc&) {
        return true;
    } catch (...) {
        return false;
    }
}

// ---- issue 12, item 1: a panic reported while allocations fail -------------

int throw_42_while_allocations_fail(failure_mode mode) {
    auto h = rthread::spawn([mode] {
        arm(0, mode, false); // the next operator new on this thread fails
        throw 42;
    });
    const auto r = h.join();
    RTHREAD_CHILD_CHECK(!r.has_value());
    if (!r.has_value()) {
        try {
            std::rethrow_exception(r.error());
        } catch (int value) {
            RTHREAD_CHILD_CHECK(value == 42);
        } catch (...) {
            RTHREAD_CHILD_CHECK(!"the payload is the int thrown");
        }
    }
    std::printf("joined\n");
    return test_support::child_failures;
}

} // namespace

RTHREAD_SCENARIO(panic_while_the_next_allocation_fails) {
    return throw_42_while_allocations_fail(failure_mode::once);
}

RTHREAD_SCENARIO(panic_while_every_allocation_fails) {
    return throw_42_while_allocations_fail(failure_mode::from_then_on);
}

BOOST_AUTO_TEST_CASE(a_panic_reported_while_an_allocation_fails_still_reaches_join) {
    for (const char* name :
         {"panic_while_the_next_allocation_fails", "panic_while_every_allocation_fails"}) {
        const auto child = test_support::run_scenario(name);
        BOOST_TEST(child.exited, name << ": signal " << child.signal << ": " << child.stderr_text);
        BOOST_TEST(child.exit_code == 0, name << ": " << child.stderr_text);
        BOOST_TEST(child.stdout_text == "joined\n", name);
        // The fixed text, never "panicked while processing panic".
        BOOST_TEST(child.stderr_text.find("thread '<unnamed>' (") == 0u, child.stderr_text);
        BOOST_TEST(child.stderr_text.find(") panicked:\nunknown exception\nnote: out of memory "
                                          "while reporting this panic: the panic hook did not "
                                          "run\n") != std::string::npos,
                   child.stderr_text);
        BOOST_TEST(child.stderr_text.find("while processing panic") == std::string::npos);
    }
}

// ---- the sweep ---------------------------------------------------------------

namespace {

// One operation under test: its body runs with failures armed, on the
// calling thread, or on a std::thread of its own (for what a thread the
// library did not make does).
struct operation {
    const char* name;
    bool on_a_std_thread;
    std::function<void()> body;
};

// What an operation saw, recorded without allocating while armed.
struct outcome {
    bool ok = true;
    const char* what = nullptr;
};
thread_local outcome seen;

void unclean(const char* what) {
    seen.ok = false;
    seen.what = what;
}

template <class R>
void expect_value_or_bad_alloc(const R& r) {
    if (!r.has_value() && !is_bad_alloc(r.error())) {
        unclean("a panic other than std::bad_alloc");
    }
}

template <class H>
void expect_handle_or_no_memory(H&& h) {
    if (h.has_value()) {
        expect_value_or_bad_alloc(h.value().join());
    } else if (h.error() != boost::system::errc::not_enough_memory) {
        unclean("a spawn failed with another error than not_enough_memory");
    }
}

// Runs body with failures armed (arm) until disarm; every exception a
// failed allocation may give is clean: std::bad_alloc, not_enough_memory,
// a scope_panic of std::bad_alloc payloads.
void attempt(const std::function<void()>& body, const std::function<void()>& arm,
             const std::function<void()>& disarm_and_record) {
    arm();
    try {
        body();
    } catch (const std::bad_alloc&) {
    } catch (const std::system_error& e) {
        if (e.code() != std::errc::not_enough_memory) {
            unclean("a std::system_error other than not_enough_memory");
        }
    } catch (const rthread::scope_panic& e) {
        for (const auto& p : e.payloads()) {
            if (!is_bad_alloc(p)) {
                unclean("a scope_panic with a payload other than std::bad_alloc");
            }
        }
    } catch (...) {
        unclean("an exception that is not a failed allocation");
    }
    disarm_and_record();
}

RTHREAD_THREAD_LOCAL(std::vector<int>, NUMBERS, {1, 2, 3});
RTHREAD_THREAD_LOCAL(std::string, TEXT, std::string(100, 't'));

void touch_keys() {
    NUMBERS.with([](std::vector<int>& v) { v.push_back(4); });
    TEXT.with([](std::string& t) { t += "more"; });
}

std::atomic<int> hook_calls{0};

std::vector<operation> operations() {
    return {
        {"spawn", false,
         [] {
             expect_value_or_bad_alloc(
                 rthread::spawn([](int x) { return std::vector<int>(10, x); }, 7).join());
         }},
        {"builder", false,
         [] {
             expect_handle_or_no_memory(
                 rthread::builder{}
                     .name("a name longer than the fifteen bytes the OS keeps")
                     .stack_size(std::size_t{64} << 10)
                     .spawn([] { return rthread::current().name().has_value(); }));
         }},
        {"scope", false,
         [] {
             int a = 0;
             int b = 0;
             rthread::scope([&](rthread::scope_handle& s) {
                 s.spawn([&] { a = 1; });
                 expect_value_or_bad_alloc(s.spawn([&] { b = 2; }).join());
                 s.spawn(&touch_keys);
             });
         }},
        {"spawn_scoped", false,
         [] {
             rthread::scope([&](rthread::scope_handle& s) {
                 expect_handle_or_no_memory(rthread::builder{}.name("scoped").spawn_scoped(
                     s, [] { return std::string(50, 's'); }));
             });
         }},
        {"local_key on a std::thread", true, &touch_keys},
        {"local_key on an rthread thread", false,
         [] { expect_value_or_bad_alloc(rthread::spawn(&touch_keys).join()); }},
        {"current() on a foreign thread", true,
         [] {
             const rthread::thread me = rthread::current();
             me.unpark();
             (void)rthread::park_timeout(std::chrono::seconds(0));
         }},
        {"the panic hook", false,
         [] {
             rthread::set_panic_hook([](const rthread::panic_info&) { hook_calls.fetch_add(1); });
             if (rthread::spawn([] { RTHREAD_PANIC("swept {}", 1); }).join().has_value()) {
                 unclean("a panicking thread returned a value");
             }
             (void)rthread::take_panic_hook();
         }},
        {"the default panic hook", false,
         [] {
             auto h = rthread::builder{}.name("swept").spawn(
                 [] { throw std::string("a thrown string"); });
             if (h.has_value() && h.value().join().has_value()) {
                 unclean("a panicking thread returned a value");
             } else if (!h.has_value() && h.error() != boost::system::errc::not_enough_memory) {
                 unclean("builder::spawn failed with another error");
             }
         }},
        {"threads()", false, [] { (void)rthread::threads(); }},
        // On a std::thread of its own each run, so that the hook it adds
        // does not outlive the run. builder::spawn reports the spawn hooks'
        // bookkeeping as errc::not_enough_memory, as every other allocation
        // of the library's own, and never throws std::bad_alloc (the hook
        // itself allocates nothing).
        {"builder with a spawn hook", true,
         [] {
             rthread::add_spawn_hook([](const rthread::thread&) { return [] {}; });
             const rthread::builder b;
             try {
                 expect_handle_or_no_memory(b.spawn([] { return 1; }));
             } catch (const std::bad_alloc&) {
                 unclean("builder::spawn threw std::bad_alloc");
             }
         }},
    };
}

} // namespace

BOOST_AUTO_TEST_CASE(every_failed_allocation_is_a_clean_error_and_leaks_nothing) {
    // The default hook's reports (hundreds) go nowhere; the checks below do
    // not read stderr. Boost.Test writes its report to stderr, so it is put
    // back after each run.
    const int saved_stderr = ::dup(STDERR_FILENO);
#if defined(_WIN32)
    const int null = ::open("NUL", O_WRONLY);
#else
    const int null = ::open("/dev/null", O_WRONLY);
#endif
    BOOST_TEST_REQUIRE(saved_stderr >= 0);
    BOOST_TEST_REQUIRE(null >= 0);
    (void)rthread::current(); // the main thread's handle, before any baseline
    const std::size_t live = rthread::threads().size();
    long sites = 0;
    long runs = 0;
    std::string report;
    for (const operation& op : operations()) {
        for (const bool everywhere : {false, true}) {
            for (const failure_mode mode : {failure_mode::once, failure_mode::from_then_on}) {
                const char* const where = everywhere ? ", every thread" : ", calling thread";
                const char* const how = mode == failure_mode::once ? ", once" : ", from N on";
                long n = 0;
                for (;; ++n) {
                    seen = outcome{};
                    bool failed_one = false;
                    const auto arm_n = [&] { arm(n, mode, everywhere); };
                    const auto stop = [&] { failed_one = disarm(); };
                    ::dup2(null, STDERR_FILENO);
                    if (op.on_a_std_thread) {
                        outcome there;
                        std::thread([&] {
                            attempt(op.body, arm_n, stop);
                            there = seen;
                        }).join();
                        seen = there;
                    } else {
                        attempt(op.body, arm_n, stop);
                    }
                    ::dup2(saved_stderr, STDERR_FILENO);
                    ++runs;
                    BOOST_TEST(seen.ok,
                               op.name << where << how << ", N = " << n << ": " << seen.what);
                    // join() and scope() both return after the thread left threads().
                    BOOST_TEST(rthread::threads().size() == live, op.name << ", N = " << n);
                    if (!failed_one) {
                        break; // the operation made n allocations: all were tried
                    }
                    BOOST_TEST_REQUIRE(n < 10000, op.name << ": does not converge");
                }
                sites += n;
                report += std::string("  ") + op.name + where + how + ": " + std::to_string(n) +
                          " sites\n";
            }
        }
    }
    ::close(null);
    ::close(saved_stderr);
    std::printf("allocation-failure sweep: %ld sites tried in %ld runs\n%s", sites, runs,
                report.c_str());
    BOOST_TEST(sites > 0);
}
