// Scoped threads: rthread::scope, scope_handle, scoped_join_handle,
// builder::spawn_scoped, scope_panic. Ported as behaviour from Rust's
// library/std/src/thread/tests.rs (the scoped cases), the examples in
// library/std/src/thread/scoped.rs and crossbeam-utils' tests/thread.rs,
// plus what C++ adds: handles that outlive their scope, payloads of any type
// kept in scope_panic, the parking token left alone.
#define BOOST_TEST_MODULE scope
#include "test_main.hpp"

#include "child_process.hpp"
#include "platform.hpp"
#include "sys/sys.hpp"

#include <rthread/rthread.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#if defined(_WIN32)
#include <windows.h>
#else
#include <pthread.h>
#endif

namespace {

using namespace std::chrono_literals;

// A one-shot gate: wait() blocks until open(). The tests' own
// synchronisation, so that no case sleeps to let a thread get somewhere.
class gate {
public:
    void open() {
        std::lock_guard<std::mutex> lock(mutex_);
        open_ = true;
        opened_.notify_all();
    }
    void wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        opened_.wait(lock, [this] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable opened_;
    bool open_ = false;
};

// Waits, without sleeping, until a thread's function has returned.
template <class Handle>
void wait_finished(const Handle& h) {
    while (!h.is_finished()) {
        rthread::yield_now();
    }
}

// Waits, without sleeping, until the thread with OS id tid is asleep (state
// S in /proc: blocked in a system call). The cases below use it to let the
// scope's end run past its yields into its futex sleep before its threads
// end, so that the last of them has to wake it. A handshake, not an
// assertion: a thread asleep for another reason only weakens the case.
void wait_until_asleep(std::uint64_t tid) {
#if !defined(__linux__)
    // No /proc: a thousand yields let it get there, most of the time.
    (void)tid;
    for (int i = 0; i < 1000; ++i) {
        rthread::yield_now();
    }
    return;
#endif
    const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
    for (;;) {
        std::ifstream in(path);
        std::string stat;
        std::getline(in, stat);
        const std::size_t comm_end = stat.rfind(')'); // the name may hold anything
        if (comm_end != std::string::npos && comm_end + 2 < stat.size() &&
            stat[comm_end + 2] == 'S') {
            return;
        }
        rthread::yield_now();
    }
}

// Sets *flag when destroyed (a moved-from one does nothing).
class sets_on_destroy {
public:
    explicit sets_on_destroy(std::atomic<bool>* flag) : flag_(flag) {}
    sets_on_destroy(sets_on_destroy&& other) noexcept
        : flag_(std::exchange(other.flag_, nullptr)) {}
    sets_on_destroy& operator=(sets_on_destroy&&) = delete;
    ~sets_on_destroy() {
        if (flag_ != nullptr) {
            flag_->store(true);
        }
    }

private:
    std::atomic<bool>* flag_;
};

struct not_an_exception {
    int code;
};

// The payload as an E, or nullopt when it is something else.
template <class E>
std::optional<E> caught_as(const std::exception_ptr& p) {
    try {
        std::rethrow_exception(p);
    } catch (const E& e) {
        return e;
    } catch (...) {
        return std::nullopt;
    }
}

bool is_invalid_argument(const std::system_error& e) {
    return e.code() == std::errc::invalid_argument;
}

// The payload's text (panic_message), or "?" for types without one.
std::string text(const std::exception_ptr& p) {
    return rthread::panic_message(p).value_or("?");
}

// Panics of this suite are expected: keep stderr for real failures. Cases
// that look at the hook install their own and put this one back.
struct quiet_panic_hook {
    quiet_panic_hook() {
        rthread::set_panic_hook([](const rthread::panic_info&) {});
    }
};
BOOST_TEST_GLOBAL_FIXTURE(quiet_panic_hook);

} // namespace

// --- Rust's scoped.rs examples ---------------------------------------------

BOOST_AUTO_TEST_CASE(scope_lets_threads_borrow_the_callers_locals) {
    // Rust: the example of thread::scope.
    std::vector<int> a{1, 2, 3};
    std::size_t x = 0;
    std::size_t seen = 0;
    rthread::scope([&](rthread::scope_handle& s) {
        s.spawn([&] { seen = a.size(); });
        s.spawn([&] { x += static_cast<std::size_t>(a[0] + a[2]); });
    });
    a.push_back(4);
    BOOST_TEST(x == a.size());
    BOOST_TEST(seen == 3u);
}

BOOST_AUTO_TEST_CASE(spawn_scoped_names_threads_and_borrows_locals) {
    // Rust: the example of Builder::spawn_scoped.
    std::vector<int> a{1, 2, 3};
    std::size_t x = 0;
    std::string first_name;
    std::string second_name;
    std::size_t first_saw = 0;
    rthread::scope([&](rthread::scope_handle& s) {
        rthread::builder{}
            .name("first")
            .spawn_scoped(s,
                          [&] {
                              first_name = std::string(rthread::current().name().value());
                              first_saw = a.size();
                          })
            .value();
        rthread::builder{}
            .name("second")
            .spawn_scoped(s,
                          [&] {
                              second_name = std::string(rthread::current().name().value());
                              x += static_cast<std::size_t>(a[0] + a[2]);
                          })
            .value();
    });
    a.push_back(4);
    BOOST_TEST(x == a.size());
    BOOST_TEST(first_name == "first");
    BOOST_TEST(first_saw == 3u);
    BOOST_TEST(second_name == "second");
}

BOOST_AUTO_TEST_CASE(scoped_join_handle_thread_is_the_spawned_thread) {
    // Rust: the example of ScopedJoinHandle::thread.
    rthread::scope([](rthread::scope_handle& s) {
        auto t = s.spawn([] { return rthread::current(); });
        const rthread::thread seen = t.join().value();
        BOOST_TEST((seen == t.thread()));
        BOOST_TEST((t.thread() != rthread::current()));
        BOOST_TEST(t.thread().id().as_u64() > 1u);
    });
}

BOOST_AUTO_TEST_CASE(join_returns_a_scoped_threads_panic) {
    // Rust: the example of ScopedJoinHandle::join.
    rthread::scope([](rthread::scope_handle& s) {
        auto t = s.spawn([] { RTHREAD_PANIC("oh no"); });
        const rthread::result<void> r = t.join();
        BOOST_REQUIRE(r.has_error());
        BOOST_TEST(text(r.error()) == "oh no");
    });
}

BOOST_AUTO_TEST_CASE(is_finished_turns_true_once_the_function_returned) {
    // Rust: test_is_finished, through a scope.
    gate release;
    rthread::scope([&](rthread::scope_handle& s) {
        auto t = s.spawn([&] {
            release.wait();
            return 1234;
        });
        BOOST_TEST(!t.is_finished()); // it is still waiting for the gate
        release.open();
        wait_finished(t);
        BOOST_TEST(t.is_finished());
        BOOST_TEST(t.join().value() == 1234);
        BOOST_TEST(!t.is_finished()); // joined: empty
    });
}

// --- Rust's tests.rs scoped cases ------------------------------------------

BOOST_AUTO_TEST_CASE(scope_waits_for_threads_spawned_by_a_result_destructor) {
    // Rust: test_scoped_threads_drop_result_before_join. The thread's result
    // is never joined; its destructor, run by the scope, spawns one more
    // thread of the scope, which the scope must wait for too.
    std::atomic<bool> actually_finished{false};
    struct spawns_on_destroy {
        rthread::scope_handle* scope;
        std::atomic<bool>* flag;
        spawns_on_destroy(rthread::scope_handle* s, std::atomic<bool>* f) : scope(s), flag(f) {}
        spawns_on_destroy(spawns_on_destroy&& other) noexcept
            : scope(std::exchange(other.scope, nullptr)), flag(other.flag) {}
        spawns_on_destroy& operator=(spawns_on_destroy&&) = delete;
        ~spawns_on_destroy() {
            if (scope != nullptr) {
                std::atomic<bool>* f = flag;
                scope->spawn([f] { f->store(true); });
            }
        }
    };
    rthread::scope([&](rthread::scope_handle& s) {
        s.spawn([&] { return spawns_on_destroy(&s, &actually_finished); });
    });
    BOOST_TEST(actually_finished.load());
}

BOOST_AUTO_TEST_CASE(scope_destroys_unjoined_results_before_it_returns) {
    // crossbeam: test_scoped_threads_drop_result_before_join.
    std::atomic<bool> destroyed{false};
    rthread::scope(
        [&](rthread::scope_handle& s) { s.spawn([&] { return sets_on_destroy(&destroyed); }); });
    BOOST_TEST(destroyed.load());
}

namespace {
// Rust: test_scoped_threads_nll, a compilation test for this exact shape:
// a scope that borrows a function's reference parameter.
void borrow_in_scope(const std::uint8_t& x, std::uint8_t& out) {
    rthread::scope([&](rthread::scope_handle& s) { s.spawn([&] { out = x; }); });
}
} // namespace

BOOST_AUTO_TEST_CASE(scope_borrows_a_reference_parameter) {
    const std::uint8_t x = 42;
    std::uint8_t out = 0;
    borrow_in_scope(x, out);
    BOOST_TEST(out == 42);
}

BOOST_AUTO_TEST_CASE(threads_reading_a_shared_local_race_free) {
    // Rust: scope_join_race (rust-lang/rust#98498), whose race ThreadSanitizer
    // sees here as Miri does there.
    for (int round = 0; round < 30; ++round) {
        std::atomic<bool> a_bool{false};
        rthread::scope([&](rthread::scope_handle& s) {
            for (int i = 0; i < 10; ++i) {
                s.spawn([&] { return a_bool.load(std::memory_order_relaxed); });
            }
        });
    }
}

// --- crossbeam-utils' scope tests ------------------------------------------

BOOST_AUTO_TEST_CASE(joined_threads_and_joined_panics_end_the_scope_normally) {
    // crossbeam: join.
    std::size_t counter = 0;
    rthread::scope([&](rthread::scope_handle& s) {
        auto handle = s.spawn([&] { counter = 1; });
        BOOST_TEST(!handle.join().has_error());
        auto panic_handle =
            s.spawn([] { RTHREAD_PANIC("\"My honey is running out!\", said Pooh."); });
        BOOST_TEST(panic_handle.join().has_error());
    });
    BOOST_TEST(counter == 1u);
}

BOOST_AUTO_TEST_CASE(a_sleeping_scope_end_waits_for_threads_ending_in_any_order) {
    // The scope's end sleeps (see wait_until_asleep) while four threads wait
    // at their gates; a helper opens the gates in a given order. Whatever
    // the order, scope() returns only after every thread wrote its mark,
    // and its end is woken by the last thread.
    constexpr std::size_t n = 4;
    const std::vector<std::vector<std::size_t>> orders{
        {0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}};
    const std::uint64_t caller = rthread::sys::current_os_id();
    for (const auto& order : orders) {
        std::vector<gate> gates(n);
        std::vector<int> marks(n, 0);
        std::atomic<bool> f_returned{false};
        auto opener = rthread::spawn([&] {
            // acquire: pairs with the release below; only steers the handshake.
            while (!f_returned.load(std::memory_order_acquire)) {
                rthread::yield_now();
            }
            wait_until_asleep(caller);
            for (std::size_t i : order) {
                gates[i].open();
            }
        });
        rthread::scope([&](rthread::scope_handle& s) {
            for (std::size_t i = 0; i < n; ++i) {
                s.spawn([&, i] {
                    gates[i].wait();
                    marks[i] = static_cast<int>(i) + 1;
                });
            }
            f_returned.store(true, std::memory_order_release); // release: see above
        });
        // Plain reads: scope() orders them after the threads' writes
        // (ThreadSanitizer checks it).
        for (std::size_t i = 0; i < n; ++i) {
            BOOST_TEST(marks[i] == static_cast<int>(i) + 1);
        }
        opener.join().value();
    }
}

BOOST_AUTO_TEST_CASE(a_sleeping_scope_end_waits_again_for_threads_spawned_by_a_result_destructor) {
    // As scope_waits_for_threads_spawned_by_a_result_destructor, with the
    // scope's end asleep before each of the two threads ends: it settles the
    // first thread's result (a handle outlived f) between its two waits.
    const std::uint64_t caller = rthread::sys::current_os_id();
    gate first;
    gate second;
    int second_mark = 0;
    std::atomic<int> stage{0}; // 1: f returned; 2: the second thread was spawned
    struct spawns_on_destroy {
        rthread::scope_handle* scope;
        gate* second;
        int* mark;
        std::atomic<int>* stage;
        spawns_on_destroy(rthread::scope_handle* s, gate* g, int* m, std::atomic<int>* st)
            : scope(s), second(g), mark(m), stage(st) {}
        spawns_on_destroy(spawns_on_destroy&& other) noexcept
            : scope(std::exchange(other.scope, nullptr)), second(other.second), mark(other.mark),
              stage(other.stage) {}
        spawns_on_destroy& operator=(spawns_on_destroy&&) = delete;
        ~spawns_on_destroy() {
            if (scope != nullptr) {
                gate* g = second;
                int* m = mark;
                scope->spawn([g, m] {
                    g->wait();
                    *m = 2;
                });
                stage->store(2, std::memory_order_release); // release: see the opener
            }
        }
    };
    auto opener = rthread::spawn([&] {
        // acquire: pairs with the release in f; only steers the handshake.
        while (stage.load(std::memory_order_acquire) == 0) {
            rthread::yield_now();
        }
        wait_until_asleep(caller); // the first wait
        first.open();
        // acquire: pairs with the release in the result's destructor (on
        // the caller, which spawned the second thread); only steers.
        while (stage.load(std::memory_order_acquire) == 1) {
            rthread::yield_now();
        }
        wait_until_asleep(caller); // the second wait
        second.open();
    });
    // Outlives f, so that the scope's end (not the first thread) destroys
    // the result, between its two waits.
    rthread::scoped_join_handle<spawns_on_destroy> outliving;
    rthread::scope([&](rthread::scope_handle& s) {
        outliving = s.spawn([&] {
            first.wait();
            return spawns_on_destroy(&s, &second, &second_mark, &stage);
        });
        stage.store(1, std::memory_order_release); // release: see above
    });
    BOOST_TEST(second_mark == 2);
    opener.join().value();
}

BOOST_AUTO_TEST_CASE(scope_waits_for_threads_whose_handles_were_dropped) {
    // crossbeam: counter.
    std::atomic<std::size_t> counter{0};
    rthread::scope([&](rthread::scope_handle& s) {
        for (int i = 0; i < 10; ++i) {
            s.spawn([&] { counter.fetch_add(1, std::memory_order_relaxed); });
        }
    });
    BOOST_TEST(counter.load() == 10u);
}

BOOST_AUTO_TEST_CASE(spawn_scoped_with_a_tiny_stack_and_names) {
    // crossbeam: counter_builder (a 20-byte stack is raised to the minimum).
    // Boost.Test's assertions are not thread-safe: threads only record.
    std::vector<std::string> names(10);
    std::atomic<std::size_t> counter{0};
    rthread::scope([&](rthread::scope_handle& s) {
        for (std::size_t i = 0; i < names.size(); ++i) {
            rthread::builder{}
                .name("child-" + std::to_string(i))
                .stack_size(20)
                .spawn_scoped(s,
                              [&counter, &names, i] {
                                  names[i] = std::string(rthread::current().name().value());
                                  counter.fetch_add(1, std::memory_order_relaxed);
                              })
                .value();
        }
    });
    BOOST_TEST(counter.load() == 10u);
    for (std::size_t i = 0; i < names.size(); ++i) {
        BOOST_TEST(names[i] == "child-" + std::to_string(i));
    }
}

BOOST_AUTO_TEST_CASE(an_unjoined_panic_ends_the_scope_with_scope_panic_after_all_threads) {
    // crossbeam: counter_panic.
    std::atomic<std::size_t> counter{0};
    BOOST_CHECK_THROW(rthread::scope([&](rthread::scope_handle& s) {
                          s.spawn(
                              [] { RTHREAD_PANIC("\"My honey is running out!\", said Pooh."); });
                          for (int i = 0; i < 10; ++i) {
                              s.spawn([&] { counter.fetch_add(1, std::memory_order_relaxed); });
                          }
                      }),
                      rthread::scope_panic);
    BOOST_TEST(counter.load() == 10u);
}

BOOST_AUTO_TEST_CASE(scope_panic_keeps_every_unjoined_panic_in_spawn_order) {
    // crossbeam: panic_twice / panic_many, which count the panics; we keep
    // them. The threads end in reverse order, so the payloads' order is the
    // spawn order and not the order the panics were seen.
    gate second_may_panic;
    gate first_may_panic;
    try {
        rthread::scope([&](rthread::scope_handle& s) {
            auto first = s.spawn([&] {
                first_may_panic.wait();
                RTHREAD_PANIC("deliberate panic #1");
            });
            auto second = s.spawn([&] {
                second_may_panic.wait();
                throw std::string("deliberate panic #2");
            });
            auto third = s.spawn([] { throw std::runtime_error("deliberate panic #3"); });
            s.spawn([] {}); // no panic: not in the list
            wait_finished(third);
            third = {}; // dropped unjoined: its panic is the scope's now
            second_may_panic.open();
            wait_finished(second);
            second = {};
            first_may_panic.open();
        });
        BOOST_FAIL("scope did not throw");
    } catch (const rthread::scope_panic& e) {
        BOOST_TEST(std::string(e.what()) == "a scoped thread panicked");
        BOOST_REQUIRE(e.payloads().size() == 3u);
        BOOST_TEST(text(e.payloads()[0]) == "deliberate panic #1");
        BOOST_TEST(text(e.payloads()[1]) == "deliberate panic #2");
        BOOST_TEST(text(e.payloads()[2]) == "deliberate panic #3");
    }
}

namespace {
// crossbeam: nesting. Each level spawns the next through the same handle.
void recurse(rthread::scope_handle& s, const std::string& var, int depth,
             std::atomic<int>& reached) {
    if (var == "foo") {
        reached.fetch_add(1, std::memory_order_relaxed);
    }
    if (depth > 0) {
        s.spawn([&s, &var, depth, &reached] { recurse(s, var, depth - 1, reached); });
    }
}
} // namespace

BOOST_AUTO_TEST_CASE(scope_waits_for_threads_spawned_by_scoped_threads) {
    // crossbeam: nesting.
    const std::string var = "foo";
    std::atomic<int> reached{0};
    rthread::scope([&](rthread::scope_handle& s) {
        s.spawn([&] { s.spawn([&] { recurse(s, var, 5, reached); }); });
    });
    BOOST_TEST(reached.load() == 6);
}

BOOST_AUTO_TEST_CASE(a_scoped_thread_joins_a_thread_it_spawned) {
    // crossbeam: join_nested.
    int seven = 0;
    rthread::scope([&](rthread::scope_handle& s) {
        s.spawn([&] {
            auto handle = s.spawn([] { return 7; });
            seven = handle.join().value();
        });
    });
    BOOST_TEST(seven == 7);
}

BOOST_AUTO_TEST_CASE(scope_returns_the_value_of_its_function) {
    // crossbeam: scope_returns_ok.
    const int result = rthread::scope(
        [](rthread::scope_handle& s) { return s.spawn([] { return 1234; }).join().value(); });
    BOOST_TEST(result == 1234);
}

#if defined(_WIN32)
BOOST_AUTO_TEST_CASE(native_handle_is_the_threads_handle) {
    gate release;
    rthread::scope([&](rthread::scope_handle& s) {
        auto handle = s.spawn([&] {
            release.wait();
            return ::GetCurrentThreadId();
        });
        // Read before join(), which closes the handle.
        const DWORD native_id = ::GetThreadId(handle.native_handle());
        release.open();
        BOOST_TEST(native_id == handle.join().value());
    });
}
#else
BOOST_AUTO_TEST_CASE(native_handle_is_the_threads_pthread_t) {
    // crossbeam: as_pthread_t.
    gate release;
    rthread::scope([&](rthread::scope_handle& s) {
        auto handle = s.spawn([&] {
            release.wait();
            return ::pthread_self();
        });
        const pthread_t native = handle.native_handle();
        release.open();
        BOOST_TEST(::pthread_equal(native, handle.join().value()) != 0);
    });
}
#endif

// --- The issue's own cases -------------------------------------------------

BOOST_AUTO_TEST_CASE(threads_mutate_a_local_vector_seen_after_scope) {
    std::vector<std::uint64_t> squares(16, 0);
    rthread::scope([&](rthread::scope_handle& s) {
        for (std::size_t i = 0; i < squares.size(); ++i) {
            s.spawn([&squares, i] { squares[i] = i * i; });
        }
    });
    for (std::size_t i = 0; i < squares.size(); ++i) {
        BOOST_TEST(squares[i] == i * i);
    }
}

BOOST_AUTO_TEST_CASE(nested_scopes_each_wait_for_their_own_threads) {
    std::vector<int> outer(4, 0);
    rthread::scope([&](rthread::scope_handle& s) {
        for (std::size_t i = 0; i < outer.size(); ++i) {
            s.spawn([&outer, i] {
                std::vector<int> inner(4, 0);
                rthread::scope([&](rthread::scope_handle& t) {
                    for (std::size_t j = 0; j < inner.size(); ++j) {
                        // Borrows from both scopes' callers.
                        t.spawn([&inner, &outer, i, j] {
                            inner[j] = static_cast<int>(i * 10 + j + outer.size());
                        });
                    }
                });
                // The inner scope has ended: every inner[j] is written.
                outer[i] = std::accumulate(inner.begin(), inner.end(), 0);
            });
        }
    });
    for (std::size_t i = 0; i < outer.size(); ++i) {
        BOOST_TEST(outer[i] == static_cast<int>(40 * i + 6 + 16));
    }
}

BOOST_AUTO_TEST_CASE(scope_with_a_thousand_threads_alive_at_once) {
    // All of them alive together on the machine's two cores: the count must
    // hold up under contention, whoever ends last.
    constexpr int threads = 1000;
    gate all_spawned;
    std::atomic<int> ran{0};
    rthread::scope([&](rthread::scope_handle& s) {
        for (int i = 0; i < threads; ++i) {
            rthread::builder{}
                .stack_size(std::size_t{64} * 1024)
                .spawn_scoped(s,
                              [&] {
                                  all_spawned.wait();
                                  ran.fetch_add(1, std::memory_order_relaxed);
                              })
                .value();
        }
        all_spawned.open();
    });
    BOOST_TEST(ran.load() == threads);
}

BOOST_AUTO_TEST_CASE(scope_panic_keeps_payloads_of_any_type) {
    try {
        rthread::scope([](rthread::scope_handle& s) {
            // One at a time, so that the spawn order is also the end order.
            wait_finished(s.spawn([] { throw 42; }));
            wait_finished(s.spawn([] { throw not_an_exception{7}; }));
            wait_finished(s.spawn([] { throw "a string literal"; }));
            wait_finished(s.spawn([] { throw std::string("a std::string"); }));
        });
        BOOST_FAIL("scope did not throw");
    } catch (const rthread::scope_panic& e) {
        BOOST_REQUIRE(e.payloads().size() == 4u);
        BOOST_TEST(caught_as<int>(e.payloads()[0]).value_or(0) == 42);
        BOOST_TEST(
            caught_as<not_an_exception>(e.payloads()[1]).value_or(not_an_exception{0}).code == 7);
        BOOST_TEST(!rthread::panic_message(e.payloads()[1]).has_value());
        BOOST_TEST(text(e.payloads()[2]) == "a string literal");
        BOOST_TEST(text(e.payloads()[3]) == "a std::string");
    }
}

BOOST_AUTO_TEST_CASE(scope_panic_is_a_panic_error_at_the_callers_location) {
    // Rust's scope is #[track_caller]: its panic points at the caller.
    std::uint_least32_t line = 0;
    try {
        line = __LINE__ + 1;
        rthread::scope([](rthread::scope_handle& s) { s.spawn([] { throw 1; }); });
        BOOST_FAIL("scope did not throw");
    } catch (const rthread::panic_error& e) {
        BOOST_TEST(std::string(e.what()) == "a scoped thread panicked");
        BOOST_TEST(e.location().line() == line);
        BOOST_TEST(std::string(e.location().file_name()).find("scope_test.cpp") !=
                   std::string::npos);
        BOOST_TEST(dynamic_cast<const rthread::scope_panic*>(&e) != nullptr);
    }
}

BOOST_AUTO_TEST_CASE(scope_panic_copies_share_the_payloads) {
    try {
        rthread::scope([](rthread::scope_handle& s) { s.spawn([] { throw 5; }); });
    } catch (const rthread::scope_panic& e) {
        // NOLINTNEXTLINE(performance-unnecessary-copy-initialization): the copy is under test
        const rthread::scope_panic copy = e; // an exception is copied when rethrown
        BOOST_TEST(copy.payloads().size() == 1u);
        BOOST_TEST((&copy.payloads() == &e.payloads()));
        return;
    }
    BOOST_FAIL("scope did not throw");
}

BOOST_AUTO_TEST_CASE(a_joined_panic_does_not_count) {
    BOOST_CHECK_NO_THROW(rthread::scope([](rthread::scope_handle& s) {
        auto h = s.spawn([] { throw 1; });
        BOOST_TEST(h.join().has_error());
    }));
}

BOOST_AUTO_TEST_CASE(a_panic_joined_after_the_thread_ended_does_not_count) {
    BOOST_CHECK_NO_THROW(rthread::scope([](rthread::scope_handle& s) {
        auto h = s.spawn([] { throw 1; });
        wait_finished(h);
        BOOST_TEST(h.join().has_error());
    }));
}

BOOST_AUTO_TEST_CASE(if_f_throws_scope_waits_for_every_thread_then_rethrows) {
    struct from_f {};
    gate release;
    std::atomic<bool> finished{false};
    struct opens_on_unwind {
        gate& g;
        ~opens_on_unwind() { g.open(); }
    };
    BOOST_CHECK_THROW(rthread::scope([&](rthread::scope_handle& s) {
                          s.spawn([&] {
                              release.wait();
                              finished.store(true);
                          });
                          opens_on_unwind opener{release};
                          throw from_f{};
                      }),
                      from_f);
    BOOST_TEST(finished.load());
}

BOOST_AUTO_TEST_CASE(fs_exception_wins_over_unjoined_panics) {
    // As Rust's scope, which resumes f's panic before looking at the threads.
    BOOST_CHECK_EXCEPTION(rthread::scope([](rthread::scope_handle& s) {
                              wait_finished(s.spawn([] { throw 1; }));
                              throw std::logic_error("from f");
                          }),
                          std::logic_error, [](const std::logic_error& e) {
                              return std::string(e.what()) == "from f";
                          });
}

BOOST_AUTO_TEST_CASE(if_f_throws_unjoined_results_are_still_destroyed) {
    std::atomic<bool> destroyed{false};
    BOOST_CHECK_THROW(rthread::scope([&](rthread::scope_handle& s) {
                          s.spawn([&] { return sets_on_destroy(&destroyed); });
                          throw 1;
                      }),
                      int);
    BOOST_TEST(destroyed.load());
}

BOOST_AUTO_TEST_CASE(spawn_failure_inside_a_scope_is_an_error_and_the_scope_ends_cleanly) {
    std::atomic<int> ran{0};
    rthread::scope([&](rthread::scope_handle& s) {
        auto before = s.spawn([&] { ran.fetch_add(1); });
        auto too_big = rthread::builder{}
                           .stack_size(std::numeric_limits<std::size_t>::max())
                           .spawn_scoped(s, [&] { ran.fetch_add(100); });
        BOOST_TEST(too_big.has_error());
        // Past the overflow check, refused by the system (2^50 bytes).
        auto refused = rthread::builder{}.stack_size(std::size_t{1} << 50).spawn_scoped(s, [&] {
            ran.fetch_add(100);
        });
        BOOST_TEST(refused.has_error());
        auto bad_name = rthread::builder{}.name(std::string("nul\0here", 8)).spawn_scoped(s, [&] {
            ran.fetch_add(100);
        });
        BOOST_REQUIRE(bad_name.has_error());
        BOOST_TEST((bad_name.error() == boost::system::errc::invalid_argument));
        s.spawn([&] { ran.fetch_add(1); });
    });
    BOOST_TEST(ran.load() == 2);
}

BOOST_AUTO_TEST_CASE(a_failed_spawn_destroys_its_function_before_the_scope_ends) {
    // The function and its captures belong to the failed spawn: gone by the
    // time spawn_scoped returns its error.
    std::atomic<bool> destroyed{false};
    rthread::scope([&](rthread::scope_handle& s) {
        auto failed = rthread::builder{}
                          .stack_size(std::numeric_limits<std::size_t>::max())
                          .spawn_scoped(
                              s, [](const sets_on_destroy&) {}, sets_on_destroy(&destroyed));
        BOOST_TEST(failed.has_error());
        BOOST_TEST(destroyed.load());
    });
}

BOOST_AUTO_TEST_CASE(scope_handle_spawn_throws_system_error_when_no_thread_can_be_made) {
    // Rust's Scope::spawn panics with "failed to spawn thread"; ours throws
    // as rthread::spawn does. The default stack size is read once per
    // process, so the impossible one is set in a fresh process.
    if (!test_support::in_fresh_process()) {
        const auto child = test_support::run_fresh_test_case(
            "scope_handle_spawn_throws_system_error_when_no_thread_can_be_made",
            {"RTHREAD_MIN_STACK=18446744073709551615"});
        BOOST_TEST(child.exited);
        BOOST_TEST(child.exit_code == 0, child.stdout_text << child.stderr_text);
        return;
    }
    bool threw = false;
    rthread::scope([&](rthread::scope_handle& s) {
        try {
            s.spawn([] {});
        } catch (const std::system_error&) {
            threw = true;
        }
    });
    BOOST_TEST(threw);
}

BOOST_AUTO_TEST_CASE(scope_neither_consumes_nor_leaves_a_park_token) {
    // Rust's scope parks and may leave a stray token; ours
    // waits by other means.
    const auto busy_scope = [] {
        rthread::scope([](rthread::scope_handle& s) {
            for (int i = 0; i < 8; ++i) {
                auto h = s.spawn([] { return 1; });
                if (i % 2 == 0) {
                    h.join().value();
                }
            }
        });
    };
    busy_scope();
    BOOST_TEST(!rthread::park_timeout(0s)); // none left behind

    rthread::current().unpark();
    busy_scope();
    BOOST_TEST(rthread::park_timeout(0s)); // ours survived the scope
    BOOST_TEST(!rthread::park_timeout(0s));
}

namespace tls_order_test {

// Rust does not order scope() after the scoped threads' thread-local
// destructors (rust-lang/rust#116179); we do, as join() does. The
// destructor of a scoped thread's local_key value holds on until a helper
// thread outside the scope releases it, then marks itself finished: scope
// must not return before that mark.
enum tls_state : int { fresh, in_destructor, released, destructor_finished };
std::atomic<int> state{fresh};

// The destructor's side of the handshake on word. relaxed: the values only
// steer the handshake; scope()'s own synchronisation is what the test checks
// (as Rust's join_orders_after_tls_destructors does).
void hold_until_released(std::atomic<int>& word) {
    word.store(in_destructor, std::memory_order_relaxed);
    while (word.load(std::memory_order_relaxed) != released) {
        rthread::yield_now();
    }
    word.store(destructor_finished, std::memory_order_relaxed);
}

// The helper's side: releases the destructor once it runs and the scope's
// caller (OS id caller) sleeps.
rthread::join_handle<void> release_when_asleep(std::atomic<int>& word, std::uint64_t caller) {
    return rthread::spawn([&word, caller] {
        while (word.load(std::memory_order_relaxed) != in_destructor) {
            rthread::yield_now();
        }
        wait_until_asleep(caller);
        word.store(released, std::memory_order_relaxed);
    });
}

struct slow_destructor {
    ~slow_destructor() { hold_until_released(state); }
};

RTHREAD_THREAD_LOCAL(slow_destructor, SLOW, slow_destructor{});

} // namespace tls_order_test

BOOST_AUTO_TEST_CASE(scope_waits_for_thread_local_destructors) {
    using namespace tls_order_test;
    for (int round = 0; round < 5; ++round) {
        state.store(fresh, std::memory_order_relaxed);
        auto releaser = rthread::spawn([] {
            int expected = in_destructor;
            while (!state.compare_exchange_weak(expected, released, std::memory_order_relaxed)) {
                expected = in_destructor;
                rthread::yield_now();
            }
        });
        rthread::scope(
            [](rthread::scope_handle& s) { s.spawn([] { SLOW.with([](slow_destructor&) {}); }); });
        BOOST_TEST(state.load(std::memory_order_relaxed) == destructor_finished);
        releaser.join().value();
    }
}

BOOST_AUTO_TEST_CASE(a_sleeping_scope_end_waits_for_a_thread_local_destructor_still_running) {
    // As above, with the scope's end asleep (see wait_until_asleep) before
    // the destructor is let go.
    using namespace tls_order_test;
    state.store(fresh, std::memory_order_relaxed);
    auto releaser = release_when_asleep(state, rthread::sys::current_os_id());
    rthread::scope(
        [](rthread::scope_handle& s) { s.spawn([] { SLOW.with([](slow_destructor&) {}); }); });
    BOOST_TEST(state.load(std::memory_order_relaxed) == destructor_finished);
    releaser.join().value();
}

BOOST_AUTO_TEST_CASE(a_joined_scoped_thread_ran_its_thread_local_destructors) {
    using namespace tls_order_test;
    state.store(fresh, std::memory_order_relaxed);
    auto releaser = rthread::spawn([] {
        int expected = in_destructor;
        while (!state.compare_exchange_weak(expected, released, std::memory_order_relaxed)) {
            expected = in_destructor;
            rthread::yield_now();
        }
    });
    rthread::scope([](rthread::scope_handle& s) {
        auto h = s.spawn([] { SLOW.with([](slow_destructor&) {}); });
        h.join().value();
        BOOST_TEST(state.load(std::memory_order_relaxed) == destructor_finished);
    });
    releaser.join().value();
}

namespace cxx_tls_order_test {

// A C++ thread_local's destructor runs later than local_key's, when the C
// library ends the thread. A scoped thread ends for its scope at one point,
// its exit hook, after even those: the same event its join waits for. The
// destructor below holds on until a helper releases it, and the helper does
// so only once the scope's caller sleeps: a scope that returned earlier
// would find the mark not yet written.
std::atomic<int> state{tls_order_test::fresh};

struct slow_cxx_destructor {
    int touched = 0;
    ~slow_cxx_destructor() { tls_order_test::hold_until_released(state); }
};

thread_local slow_cxx_destructor slow_cxx;

} // namespace cxx_tls_order_test

BOOST_AUTO_TEST_CASE(scope_waits_for_cxx_thread_local_destructors_and_the_threads_left_threads) {
    using namespace tls_order_test;
    using cxx_tls_order_test::state;
    state.store(fresh, std::memory_order_relaxed);
    auto releaser = release_when_asleep(state, rthread::sys::current_os_id());
    rthread::thread_id scoped{rthread::current_id()};
    rthread::scope([&scoped](rthread::scope_handle& s) {
        scoped = s.spawn([] { cxx_tls_order_test::slow_cxx.touched = 1; }).thread().id();
    });
    BOOST_TEST(state.load(std::memory_order_relaxed) == destructor_finished);
    for (const rthread::thread& t : rthread::threads()) {
        BOOST_TEST(t.id() != scoped); // it has left threads() too
    }
    releaser.join().value();
}

// --- scoped_join_handle ----------------------------------------------------

BOOST_AUTO_TEST_CASE(a_second_join_throws_invalid_argument) {
    rthread::scope([](rthread::scope_handle& s) {
        auto h = s.spawn([] { return 3; });
        BOOST_TEST(h.joinable());
        BOOST_TEST(h.join().value() == 3);
        BOOST_TEST(!h.joinable());
        BOOST_CHECK_EXCEPTION((void)h.join(), std::system_error, is_invalid_argument);
    });
}

BOOST_AUTO_TEST_CASE(an_empty_or_moved_from_handle_is_not_joinable) {
    rthread::scoped_join_handle<int> empty;
    BOOST_TEST(!empty.joinable());
    BOOST_TEST(!empty.is_finished());
    BOOST_TEST(empty.thread().id().as_u64() == 0u);
    BOOST_CHECK_EXCEPTION((void)empty.join(), std::system_error, is_invalid_argument);
    rthread::scope([](rthread::scope_handle& s) {
        auto h = s.spawn([] { return 1; });
        auto moved = std::move(h);
        BOOST_TEST(!h.joinable()); // NOLINT(bugprone-use-after-move): the point of the test
        BOOST_CHECK_EXCEPTION((void)h.join(), std::system_error, is_invalid_argument);
        BOOST_TEST(moved.join().value() == 1);
    });
}

BOOST_AUTO_TEST_CASE(join_gives_move_only_values_and_passes_decayed_argument_copies) {
    rthread::scope([](rthread::scope_handle& s) {
        std::string original = "abc";
        auto h = s.spawn(
            [](std::string copy, int n) {
                copy += std::to_string(n);
                return std::make_unique<std::string>(copy);
            },
            original, 1);
        BOOST_TEST(*h.join().value() == "abc1");
        BOOST_TEST(original == "abc");
    });
}

BOOST_AUTO_TEST_CASE(scope_returns_void_move_only_and_reference_results) {
    rthread::scope([](rthread::scope_handle&) {});
    auto p = rthread::scope([](rthread::scope_handle&) { return std::make_unique<int>(9); });
    BOOST_TEST(*p == 9);
    int x = 0;
    int& r = rthread::scope([&](rthread::scope_handle&) -> int& { return x; });
    BOOST_TEST(&r == &x);
    // A generic lambda works as f too.
    BOOST_TEST(rthread::scope([](auto& s) { return s.spawn([] { return 2; }).join().value(); }) ==
               2);
}

BOOST_AUTO_TEST_CASE(a_handle_that_outlives_its_scope_was_settled_by_the_scope) {
    // C++ cannot stop a handle from leaving its scope (Rust's lifetimes do).
    // The scope took its result: destroyed before scope returned, and join()
    // afterwards throws as on a joined handle.
    std::atomic<bool> destroyed{false};
    auto h = rthread::scope([&](rthread::scope_handle& s) {
        return s.spawn([&] { return sets_on_destroy(&destroyed); });
    });
    BOOST_TEST(destroyed.load());
    BOOST_TEST(h.is_finished());
    BOOST_CHECK_EXCEPTION((void)h.join(), std::system_error, is_invalid_argument);
    BOOST_TEST(!h.joinable());
}

BOOST_AUTO_TEST_CASE(a_panic_in_a_handle_that_outlives_its_scope_counts_as_unjoined) {
    rthread::scoped_join_handle<void> kept;
    BOOST_CHECK_EXCEPTION(
        rthread::scope([&](rthread::scope_handle& s) { kept = s.spawn([] { throw 11; }); }),
        rthread::scope_panic,
        [](const rthread::scope_panic& e) { return e.payloads().size() == 1u; });
    BOOST_CHECK_EXCEPTION((void)kept.join(), std::system_error, is_invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_handle_in_an_unjoined_result_is_settled_with_it) {
    // A thread returns the handle of a thread it spawned, which panicked;
    // nobody joins either: destroying the first result drops the second
    // handle, so that panic is the scope's.
    try {
        rthread::scope([](rthread::scope_handle& s) {
            s.spawn([&s] { return s.spawn([] { throw std::string("inner"); }); });
        });
        BOOST_FAIL("scope did not throw");
    } catch (const rthread::scope_panic& e) {
        BOOST_REQUIRE(e.payloads().size() == 1u);
        BOOST_TEST(text(e.payloads()[0]) == "inner");
    }
}

BOOST_AUTO_TEST_CASE(a_scoped_thread_may_spawn_after_f_returned) {
    // The scope is already waiting when the spawn happens: it must count the
    // new thread before the spawning one ends.
    std::atomic<bool> f_returned{false};
    std::atomic<bool> late_ran{false};
    rthread::scope([&](rthread::scope_handle& s) {
        s.spawn([&] {
            while (!f_returned.load()) {
                rthread::yield_now();
            }
            s.spawn([&] { late_ran.store(true); });
        });
        f_returned.store(true);
    });
    BOOST_TEST(late_ran.load());
}

BOOST_AUTO_TEST_CASE(spawn_scoped_honours_the_stack_size) {
    constexpr std::size_t wanted = 8u << 20;
    rthread::scope([&](rthread::scope_handle& s) {
        auto h = rthread::builder{}
                     .stack_size(wanted)
                     .spawn_scoped(s,
                                   [] {
                                       std::size_t size = 0;
#if defined(_WIN32)
                                       ULONG_PTR low = 0;
                                       ULONG_PTR high = 0;
                                       ::GetCurrentThreadStackLimits(&low, &high);
                                       size = static_cast<std::size_t>(high - low);
#else
                                       pthread_attr_t attr;
                                       ::pthread_getattr_np(::pthread_self(), &attr);
                                       ::pthread_attr_getstacksize(&attr, &size);
                                       ::pthread_attr_destroy(&attr);
#endif
                                       return size;
                                   })
                     .value();
        BOOST_TEST(h.join().value() >= wanted);
    });
}

BOOST_AUTO_TEST_CASE(one_builder_spawns_several_scoped_threads) {
    const rthread::builder named = rthread::builder{}.name("worker");
    std::atomic<int> named_right{0};
    rthread::scope([&](rthread::scope_handle& s) {
        for (int i = 0; i < 3; ++i) {
            named
                .spawn_scoped(s,
                              [&] {
                                  if (rthread::current().name() ==
                                      std::optional<std::string_view>("worker")) {
                                      named_right.fetch_add(1);
                                  }
                              })
                .value();
        }
    });
    BOOST_TEST(named_right.load() == 3);
}

BOOST_AUTO_TEST_CASE(scoped_thread_panics_reach_the_panic_hook) {
    std::mutex mutex;
    std::vector<rthread::thread> reported;
    rthread::set_panic_hook([&](const rthread::panic_info& info) {
        std::lock_guard<std::mutex> lock(mutex);
        reported.push_back(info.thread());
    });
    rthread::thread panicked = rthread::current();
    BOOST_CHECK_THROW(rthread::scope([&](rthread::scope_handle& s) {
                          panicked = s.spawn([] { throw 1; }).thread();
                      }),
                      rthread::scope_panic);
    quiet_panic_hook restore;
    BOOST_REQUIRE(reported.size() == 1u);
    BOOST_TEST((reported[0] == panicked));
}

// --- A scope that tells its threads to stop -----------------------------------

BOOST_AUTO_TEST_CASE(stop_is_requested_by_request_stop_and_not_before) {
    rthread::scope([](rthread::scope_handle& s) {
        BOOST_TEST(!s.stop_requested());
        s.spawn([&s] { s.request_stop(); }).join().value();
        BOOST_TEST(s.stop_requested());
        s.request_stop(); // again: nothing more
        BOOST_TEST(s.stop_requested());
    });
}

BOOST_AUTO_TEST_CASE(stop_callbacks_run_once_in_order_on_the_requesting_thread) {
    std::vector<std::pair<int, rthread::thread_id>> ran;
    std::vector<bool> requested_while_running;
    rthread::thread_id requester = rthread::current_id();
    rthread::scope([&](rthread::scope_handle& s) {
        for (int i = 0; i < 3; ++i) {
            s.on_stop([&, i] {
                ran.emplace_back(i, rthread::current_id());
                requested_while_running.push_back(s.stop_requested());
            });
        }
        auto h = s.spawn([&s] {
            s.request_stop();
            s.request_stop();
        });
        requester = h.thread().id();
        h.join().value();
        s.request_stop();
    });
    BOOST_TEST_REQUIRE(ran.size() == 3u);
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(ran[static_cast<std::size_t>(i)].first == i);
        BOOST_TEST(ran[static_cast<std::size_t>(i)].second == requester);
        BOOST_TEST(requested_while_running[static_cast<std::size_t>(i)]);
    }
}

BOOST_AUTO_TEST_CASE(on_stop_after_the_request_runs_at_once_on_the_caller) {
    rthread::scope([](rthread::scope_handle& s) {
        s.request_stop();
        std::optional<rthread::thread_id> ran_on;
        s.on_stop([&] { ran_on = rthread::current_id(); });
        BOOST_TEST((ran_on == rthread::current_id()));
    });
}

BOOST_AUTO_TEST_CASE(a_scoped_panic_requests_the_stop_as_it_is_stored_before_the_thread_finishes) {
    gate release_callback;
    std::optional<rthread::thread_id> callback_on;
    rthread::thread_id panicker = rthread::current_id();
    bool finished_when_requested = true;
    rthread::scope([&](rthread::scope_handle& s) {
        s.on_stop([&] {
            callback_on = rthread::current_id();
            release_callback.wait(); // the thread cannot finish meanwhile
        });
        auto h = s.spawn([] { throw std::runtime_error("producer failed"); });
        panicker = h.thread().id();
        while (!s.stop_requested()) {
            rthread::yield_now();
        }
        finished_when_requested = h.is_finished();
        release_callback.open();
        auto r = h.join(); // joined: the stop stays requested
        BOOST_TEST(r.has_error());
        BOOST_TEST(s.stop_requested());
    });
    BOOST_TEST(!finished_when_requested);
    BOOST_TEST((callback_on == panicker));
}

BOOST_AUTO_TEST_CASE(the_scope_body_throwing_requests_the_stop) {
    // The waiter would wait forever (and the scope for it) if the body's
    // exception did not request the stop.
    std::mutex m;
    std::condition_variable cv;
    bool woken_by_stop = false;
    BOOST_CHECK_THROW(rthread::scope([&](rthread::scope_handle& s) {
                          s.on_stop([&] {
                              std::lock_guard<std::mutex> lock(m);
                              cv.notify_all();
                          });
                          s.spawn([&] {
                              std::unique_lock<std::mutex> lock(m);
                              cv.wait(lock, [&] { return s.stop_requested(); });
                              woken_by_stop = true;
                          });
                          throw std::logic_error("the body gave up");
                      }),
                      std::logic_error);
    BOOST_TEST(woken_by_stop);
}

BOOST_AUTO_TEST_CASE(crossbeam_196_a_consumer_of_a_panicked_producer_is_woken_and_the_scope_ends) {
    // crossbeam-rs/crossbeam#196: the producer panics before it produces;
    // the consumer waits on a condition variable for an item that never
    // comes, and the scope waits for the consumer. on_stop wakes it.
    std::mutex m;
    std::condition_variable cv;
    std::optional<int> item;
    bool consumer_saw_stop = false;
    try {
        rthread::scope([&](rthread::scope_handle& s) {
            s.on_stop([&] {
                std::lock_guard<std::mutex> lock(m);
                cv.notify_all();
            });
            s.spawn([&] {
                std::unique_lock<std::mutex> lock(m);
                cv.wait(lock, [&] { return item.has_value() || s.stop_requested(); });
                consumer_saw_stop = !item.has_value();
            });
            s.spawn([&]() -> void { RTHREAD_PANIC("producer failed before producing"); });
        });
        BOOST_FAIL("scope() returned normally");
    } catch (const rthread::scope_panic& e) {
        BOOST_REQUIRE(e.payloads().size() == 1u);
        BOOST_TEST(rthread::panic_message(e.payloads()[0]).value_or("") ==
                   "producer failed before producing");
    }
    BOOST_TEST(consumer_saw_stop);
}

BOOST_AUTO_TEST_CASE(stop_callbacks_that_never_ran_are_destroyed_at_the_scope_end) {
    auto witness = std::make_shared<int>(0);
    rthread::scope([&](rthread::scope_handle& s) {
        s.on_stop([w = witness] { (void)w; });
        s.spawn([] {});
    });
    BOOST_TEST(witness.use_count() == 1);
    bool ran = false;
    rthread::scope([&](rthread::scope_handle& s) { s.on_stop([&] { ran = true; }); });
    BOOST_TEST(!ran);
}

BOOST_AUTO_TEST_CASE(concurrent_stop_requests_run_each_callback_once) {
    std::atomic<int> runs{0};
    rthread::scope([&](rthread::scope_handle& s) {
        for (int i = 0; i < 4; ++i) {
            s.on_stop([&] { runs.fetch_add(1, std::memory_order_relaxed); }); // relaxed: a count
        }
        for (int i = 0; i < 4; ++i) {
            s.spawn([&] {
                s.on_stop([&] { runs.fetch_add(1, std::memory_order_relaxed); }); // as above
                s.request_stop();
            });
        }
    });
    // The 4 registered first, plus the 4 the threads registered: each ran
    // once, before or after the first request.
    BOOST_TEST(runs.load() == 8);
}

// RTHREAD_STOP_ALREADY_REQUESTED=1: the stop is requested before the
// callback is registered, which then runs at once.
RTHREAD_SCENARIO(a_throwing_stop_callback) {
    const bool already_requested = std::getenv("RTHREAD_STOP_ALREADY_REQUESTED") != nullptr;
    rthread::scope([&](rthread::scope_handle& s) {
        if (already_requested) {
            s.request_stop();
        }
        s.on_stop([] { throw std::runtime_error("callback failed"); });
        s.spawn([&s] { s.request_stop(); });
    });
    return 0; // not reached: the process aborted
}

BOOST_AUTO_TEST_CASE(a_throwing_stop_callback_ends_the_process) {
    for (const bool already_requested : {false, true}) {
        const auto child = already_requested
                               ? test_support::run_scenario("a_throwing_stop_callback",
                                                            {"RTHREAD_STOP_ALREADY_REQUESTED=1"})
                               : test_support::run_scenario("a_throwing_stop_callback");
        BOOST_TEST(child.signal == SIGABRT, child.stderr_text);
        BOOST_TEST(child.stderr_text.find(
                       "fatal runtime error: scope stop callback panicked, aborting\n") !=
                   std::string::npos);
    }
}
