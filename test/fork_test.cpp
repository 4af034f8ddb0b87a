// fork() from a multithreaded program. Only the forking thread goes on in
// the child (POSIX); the registry's fork handlers make the library agree:
// threads() lists that thread alone, current() and current_id() are still
// its own, and parking, spawning and thread-locals work.
//
// Each case forks while other threads are parked (the state under test),
// through run_in_child; the child reports failed checks on stderr and in
// its exit code.
#define BOOST_TEST_MODULE fork
#include "test_main.hpp"

#include "child_process.hpp"
#include "platform.hpp"

#include <rthread/rthread.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

// ThreadSanitizer refuses by default to let the child of a multithreaded
// fork start threads (die_after_fork); spawning there is what these tests
// check, so allow it. Only ThreadSanitizer reads this.
// NOLINTNEXTLINE(bugprone-reserved-identifier): the name ThreadSanitizer looks up
extern "C" const char* __tsan_default_options() {
    return "die_after_fork=0";
}

#if RTHREAD_TEST_POSIX
namespace {

using namespace std::chrono_literals;

// Threads parked until released, so that the fork happens while they run.
//
// Their stacks are small (64 KiB) so that, in the child, glibc's stack
// cache (which takes back the stacks of the threads that did not survive
// the fork) never hands one of them to a thread the child spawns with the
// default size: ThreadSanitizer, which keeps the parent's threads
// registered in the child, would take the reused pthread_t for a duplicate.
class parked_threads {
public:
    explicit parked_threads(int count) {
        for (int i = 0; i < count; ++i) {
            auto h = rthread::builder{}
                         .name("bystander")
                         .stack_size(std::size_t{64} << 10)
                         .spawn([this] {
                             started_.fetch_add(1);
                             while (!released_.load()) {
                                 rthread::park();
                             }
                         });
            handles_.push_back(std::move(h).value());
        }
        // Not park(): the forking thread must fork without a token.
        while (started_.load() < count) {
            rthread::yield_now();
        }
    }
    parked_threads(const parked_threads&) = delete;
    parked_threads& operator=(const parked_threads&) = delete;
    ~parked_threads() {
        released_.store(true);
        for (auto& h : handles_) {
            h.thread().unpark();
            (void)h.join();
        }
    }
    const std::vector<rthread::join_handle<void>>& handles() const { return handles_; }

private:
    std::vector<rthread::join_handle<void>> handles_;
    std::atomic<int> started_{0};
    std::atomic<bool> released_{false};
};

// Forks (with three other threads parked) and runs checks in the child.
void check_in_forked_child(const std::function<void()>& checks) {
    const parked_threads bystanders(3);
    const auto child = test_support::run_in_child([&] {
        test_support::child_failures = 0;
        checks();
        std::fflush(stderr);
        ::_exit(test_support::child_failures == 0 ? 0 : 1);
    });
    BOOST_TEST(child.exited, "signal " << child.signal << ": " << child.stderr_text);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
}

} // namespace
#endif

BOOST_AUTO_TEST_CASE(child_lists_only_the_forking_thread,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    const rthread::thread before = rthread::current();
    check_in_forked_child([&] {
        const auto live = rthread::threads();
        RTHREAD_CHILD_CHECK(live.size() == 1);
        RTHREAD_CHILD_CHECK(!live.empty() && live.front() == before);
    });
#endif
}

BOOST_AUTO_TEST_CASE(child_keeps_the_forking_threads_identity,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    const rthread::thread before = rthread::current();
    check_in_forked_child([&] {
        RTHREAD_CHILD_CHECK(rthread::current() == before);
        RTHREAD_CHILD_CHECK(rthread::current_id() == before.id());
        RTHREAD_CHILD_CHECK(rthread::current().id() == before.id());
        RTHREAD_CHILD_CHECK(rthread::current().name() == before.name());
    });
#endif
}

BOOST_AUTO_TEST_CASE(child_parks_with_a_timeout_and_unparks_itself,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    check_in_forked_child([] {
        RTHREAD_CHILD_CHECK(!rthread::park_timeout(5ms)); // no token: times out
        rthread::current().unpark();
        RTHREAD_CHILD_CHECK(rthread::park_timeout(10s)); // its own token
        RTHREAD_CHILD_CHECK(!rthread::park_timeout(0ms));
    });
#endif
}

BOOST_AUTO_TEST_CASE(child_spawns_joins_and_is_unparked_by_its_threads,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    check_in_forked_child([] {
        const rthread::thread me = rthread::current();
        auto h = rthread::builder{}.name("child's own").spawn([me] {
            me.unpark();
            return rthread::current().name().value_or("?") == "child's own";
        });
        RTHREAD_CHILD_CHECK(rthread::park_timeout(10s));
        RTHREAD_CHILD_CHECK(h.value().join().value());
        RTHREAD_CHILD_CHECK(rthread::threads().size() == 1); // the joined one has gone
    });
#endif
}

BOOST_AUTO_TEST_CASE(unparking_threads_left_behind_in_the_parent_is_harmless,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    const parked_threads bystanders(2);
    const auto child = test_support::run_in_child([&] {
        for (const auto& h : bystanders.handles()) {
            h.thread().unpark(); // a handle of a thread that does not exist here
            RTHREAD_CHILD_CHECK(!h.thread().name().value_or("").empty());
        }
        RTHREAD_CHILD_CHECK(rthread::spawn([] { return 5; }).join().value() == 5);
        std::fflush(stderr);
        ::_exit(test_support::child_failures == 0 ? 0 : 1);
    });
    BOOST_TEST(child.exited, "signal " << child.signal << ": " << child.stderr_text);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
#endif
}

#if RTHREAD_TEST_POSIX
namespace {

std::atomic<int> values_destroyed{0};

struct tracked {
    int value = 0;
    tracked() = default;
    explicit tracked(int v) : value(v) {}
    tracked(const tracked&) = delete;
    tracked& operator=(const tracked&) = delete;
    ~tracked() { values_destroyed.fetch_add(1); }
};

RTHREAD_THREAD_LOCAL(int, NUMBER, 1);
RTHREAD_THREAD_LOCAL(tracked, TRACKED, tracked(10));

} // namespace
#endif

BOOST_AUTO_TEST_CASE(thread_locals_work_in_the_child,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    NUMBER.set(42); // the forking thread's value is copied into the child
    check_in_forked_child([] {
        RTHREAD_CHILD_CHECK(NUMBER.get() == 42);
        RTHREAD_CHILD_CHECK(NUMBER.state() == rthread::local_key_state::valid);
        // A key first touched in the child.
        RTHREAD_CHILD_CHECK(TRACKED.with([](tracked& t) { return t.value; }) == 10);
        // A thread spawned in the child has values of its own, destroyed
        // before join() returns.
        const int destroyed_before = values_destroyed.load();
        auto h = rthread::spawn([] {
            const int fresh = NUMBER.get();
            NUMBER.set(7);
            TRACKED.with([](tracked& t) { t.value = 11; });
            return fresh;
        });
        RTHREAD_CHILD_CHECK(h.join().value() == 1);
        RTHREAD_CHILD_CHECK(values_destroyed.load() == destroyed_before + 1);
        RTHREAD_CHILD_CHECK(NUMBER.get() == 42); // untouched by the other thread
    });
    NUMBER.set(1);
#endif
}

BOOST_AUTO_TEST_CASE(fork_from_a_spawned_thread_makes_it_the_childs_only_thread,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    const parked_threads bystanders(2);
    auto forker = rthread::builder{}.name("forker").spawn([] {
        const rthread::thread me = rthread::current();
        return test_support::run_in_child([me] {
            RTHREAD_CHILD_CHECK(rthread::current() == me);
            RTHREAD_CHILD_CHECK(rthread::current().name() ==
                                std::optional<std::string_view>("forker"));
            const auto live = rthread::threads();
            RTHREAD_CHILD_CHECK(live.size() == 1 && live.front() == me);
            RTHREAD_CHILD_CHECK(
                rthread::spawn([] { return rthread::current_id(); }).join().value() != me.id());
            rthread::current().unpark();
            RTHREAD_CHILD_CHECK(rthread::park_timeout(10s));
            std::fflush(stderr);
            ::_exit(test_support::child_failures == 0 ? 0 : 1);
        });
    });
    const auto child = forker.value().join().value();
    BOOST_TEST(child.exited, "signal " << child.signal << ": " << child.stderr_text);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
#endif
}

// Issue 12, item 2: a fork while another thread held the panic hook's
// mutex (a panic taking the hook, set_panic_hook replacing it) left the
// child deadlocked at its first panic, 16 children in 40. The child's alarm
// turns a deadlock into SIGALRM.
//
// GCC 12's AddressSanitizer runtime takes no lock of its allocator around
// fork(): a child forked while another thread is inside the sanitizer's
// malloc deadlocks in it (seen here, in the sanitizer's SizeClassAllocator
// lock). Under AddressSanitizer the other threads therefore stop between
// two operations for each fork, and the case checks only that the child
// panics and sets a hook; the race itself is checked by the other builds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool forks_only_between_allocations = true;
#else
constexpr bool forks_only_between_allocations = false;
#endif

BOOST_AUTO_TEST_CASE(a_child_forked_while_panics_and_set_panic_hook_run_can_panic,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    const auto quiet = [](const rthread::panic_info&) {};
    rthread::set_panic_hook(quiet);
    std::atomic<bool> stop{false};
    std::atomic<bool> hold{false};
    std::atomic<int> held{0};
    const auto maybe_hold = [&] {
        if (hold.load()) {
            held.fetch_add(1);
            while (hold.load()) {
                rthread::yield_now();
            }
            held.fetch_sub(1);
        }
    };
    // 64 KiB stacks: see parked_threads.
    const auto small = rthread::builder{}.stack_size(std::size_t{64} << 10);
    auto panicker = small.spawn([&] {
        while (!stop.load()) {
            maybe_hold();
            (void)small.spawn([] { RTHREAD_PANIC("a panic in the parent"); }).value().join();
        }
    });
    auto setter = small.spawn([&] {
        const std::string ballast(256, 'x'); // a hook whose copy allocates
        while (!stop.load()) {
            maybe_hold();
            rthread::set_panic_hook([ballast](const rthread::panic_info&) {});
        }
    });
    for (int i = 0; i < 40; ++i) {
        if (forks_only_between_allocations) {
            hold.store(true);
            while (held.load() < 2) {
                rthread::yield_now();
            }
        }
        const auto child = test_support::run_in_child([] {
            ::alarm(20);
            test_support::child_failures = 0;
            auto r = rthread::spawn([] { RTHREAD_PANIC("a panic in the child"); }).join();
            RTHREAD_CHILD_CHECK(!r.has_value());
            rthread::set_panic_hook({});
            std::fflush(stderr);
            ::_exit(test_support::child_failures == 0 ? 0 : 1);
        });
        hold.store(false);
        BOOST_TEST(child.exited,
                   "child " << i << ": signal " << child.signal << ": " << child.stderr_text);
        BOOST_TEST(child.exit_code == 0, child.stderr_text);
    }
    stop.store(true);
    (void)panicker.value().join();
    (void)setter.value().join();
    rthread::set_panic_hook({});
#endif
}
