// Parking: both parker backends directly (futex and the portable Boost.Thread
// mutex/condvar one), and park()/park_timeout()/park_until()/unpark() on
// threads. Ported from Rust's library/std/src/thread/tests.rs
// (park_unpark_before, park_unpark_called_other_thread,
// park_timeout_unpark_before, park_timeout_unpark_not_called,
// park_timeout_unpark_called_other_thread) plus the duration edge cases.
#define BOOST_TEST_MODULE park
#include "test_main.hpp"

#include "platform.hpp"
#include "thread_parking.hpp"
#include <rthread/rthread.hpp>

#include <boost/mpl/list.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using rthread::detail::deadline;

using parkers = boost::mpl::list<rthread::detail::futex_parker, rthread::detail::condvar_parker>;

// ---- the backends -----------------------------------------------------------

BOOST_AUTO_TEST_CASE_TEMPLATE(backend_token_starts_absent, P, parkers) {
    P p;
    BOOST_TEST(!p.try_park());
    BOOST_TEST(!p.park(deadline::after(1ms)));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(backend_token_made_before_park_is_consumed_at_once, P, parkers) {
    P p;
    p.unpark();
    BOOST_TEST(p.park(deadline::never()));
    p.unpark();
    BOOST_TEST(p.try_park());
    BOOST_TEST(!p.try_park());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(backend_token_saturates_at_one, P, parkers) {
    P p;
    p.unpark();
    p.unpark();
    p.unpark();
    BOOST_TEST(p.park(deadline::after(1s)));
    BOOST_TEST(!p.park(deadline::after(1ms)));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(backend_passed_deadline_only_looks, P, parkers) {
    P p;
    BOOST_TEST(!p.park(deadline{rthread::detail::nanos::zero()}));
    p.unpark();
    BOOST_TEST(p.park(deadline{rthread::detail::nanos::zero()}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(backend_unpark_from_another_thread_wakes_the_parker, P, parkers) {
    P p;
    std::thread waker([&] { p.unpark(); });
    BOOST_TEST(p.park(deadline::never()));
    waker.join();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(backend_ping_pong_loses_no_wake_up, P, parkers) {
    // Each side parks until the other's unpark; a lost wake-up would hang.
    P ping;
    P pong;
    const int rounds = test_support::stress_count(20000);
    std::atomic<int> turn{0};
    std::thread other([&] {
        for (int i = 0; i < rounds; ++i) {
            while (turn.load() != 2 * i + 1) {
                ping.park(deadline::never());
            }
            turn.store(2 * i + 2);
            pong.unpark();
        }
    });
    for (int i = 0; i < rounds; ++i) {
        turn.store(2 * i + 1);
        ping.unpark();
        while (turn.load() != 2 * i + 2) {
            pong.park(deadline::never());
        }
    }
    other.join();
    BOOST_TEST(turn.load() == 2 * rounds);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(backend_many_unparkers_leave_one_token, P, parkers) {
    P p;
    std::vector<std::thread> unparkers;
    unparkers.reserve(8);
    for (int i = 0; i < 8; ++i) {
        unparkers.emplace_back([&] {
            for (int j = 0; j < 1000; ++j) {
                p.unpark();
            }
        });
    }
    for (auto& t : unparkers) {
        t.join();
    }
    BOOST_TEST(p.try_park());
    BOOST_TEST(!p.try_park());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(backend_timed_park_returns_true_when_woken_in_time, P, parkers) {
    P p;
    std::promise<void> parking;
    std::thread waker([&] {
        parking.get_future().wait();
        p.unpark();
    });
    parking.set_value();
    BOOST_TEST(p.park(deadline::after(std::chrono::hours(1))));
    waker.join();
}

// ---- the calling thread -----------------------------------------------------

BOOST_AUTO_TEST_CASE(park_unpark_before) {
    // Rust: test_park_unpark_before.
    for (int i = 0; i < 10; ++i) {
        rthread::current().unpark();
        rthread::park();
    }
}

BOOST_AUTO_TEST_CASE(park_unpark_called_other_thread) {
    // Rust: test_park_unpark_called_other_thread.
    for (int i = 0; i < 10; ++i) {
        const rthread::thread me = rthread::current();
        rthread::spawn([me] { me.unpark(); });
        rthread::park();
    }
}

BOOST_AUTO_TEST_CASE(park_timeout_unpark_before) {
    // Rust: test_park_timeout_unpark_before.
    for (int i = 0; i < 10; ++i) {
        rthread::current().unpark();
        BOOST_TEST(rthread::park_timeout(std::chrono::hours(1)));
    }
}

BOOST_AUTO_TEST_CASE(park_timeout_unpark_not_called) {
    // Rust: test_park_timeout_unpark_not_called. The wait ends on its own.
    for (int i = 0; i < 10; ++i) {
        BOOST_TEST(!rthread::park_timeout(std::chrono::milliseconds(1)));
    }
}

BOOST_AUTO_TEST_CASE(park_timeout_unpark_called_other_thread) {
    // Rust: test_park_timeout_unpark_called_other_thread.
    for (int i = 0; i < 10; ++i) {
        const rthread::thread me = rthread::current();
        rthread::spawn([me] { me.unpark(); });
        // Spurious wake-ups may answer false; the token is then still coming.
        while (!rthread::park_timeout(std::chrono::hours(1))) {
        }
    }
}

BOOST_AUTO_TEST_CASE(park_timeout_lasts_at_least_its_duration) {
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(!rthread::park_timeout(20ms));
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 20ms));
}

BOOST_AUTO_TEST_CASE(zero_and_negative_durations_never_block) {
    BOOST_TEST(!rthread::park_timeout(0s));
    BOOST_TEST(!rthread::park_timeout(-1s));
    BOOST_TEST(!rthread::park_timeout(std::chrono::nanoseconds::min()));
    BOOST_TEST(!rthread::park_timeout(std::chrono::hours::min()));
    BOOST_TEST(!rthread::park_timeout(std::chrono::duration<double>(-0.5)));
    BOOST_TEST(!rthread::park_timeout(std::chrono::duration<double>(std::nan(""))));
    // They still take a token that is there.
    rthread::current().unpark();
    BOOST_TEST(rthread::park_timeout(0s));
    rthread::current().unpark();
    BOOST_TEST(rthread::park_timeout(std::chrono::nanoseconds::min()));
}

BOOST_AUTO_TEST_CASE(huge_durations_saturate_to_forever) {
    using rthread::detail::forever;
    using rthread::detail::to_nanos;
    BOOST_TEST((to_nanos(std::chrono::nanoseconds::max()) == forever));
    BOOST_TEST((to_nanos(std::chrono::hours::max()) == forever));
    BOOST_TEST((to_nanos(std::chrono::duration<double>(1e300)) == forever));
    BOOST_TEST((to_nanos(std::chrono::duration<double>(INFINITY)) == forever));
    BOOST_TEST((to_nanos(std::chrono::hours::min()) == std::chrono::nanoseconds::zero()));
    BOOST_TEST((to_nanos(std::chrono::duration<double, std::nano>(0.25)).count() == 1));
    BOOST_TEST(deadline::after(forever).is_never());
    BOOST_TEST(deadline::after(forever - 1ns).is_never()); // now + d saturates
    BOOST_TEST(
        (rthread::detail::time_until(std::chrono::system_clock::time_point::max()) == forever));
}

template <class Wait>
void check_waits_until_unparked(Wait wait) {
    // The wait must block (not overflow into "expired") and end with the
    // token. 50 ms is only a lower bound: a slow machine cannot fail it.
    std::atomic<bool> returned{false};
    auto waiter = rthread::spawn([&] {
        bool got = wait();
        if (!got) {
            got = wait(); // the first woke spuriously
        }
        returned = true;
        return got;
    });
    rthread::sleep(50ms);
    BOOST_TEST(!returned.load());
    waiter.thread().unpark();
    BOOST_TEST(waiter.join().value());
}

BOOST_AUTO_TEST_CASE(huge_durations_wait_like_park) {
    check_waits_until_unparked(
        [] { return rthread::park_timeout(std::chrono::nanoseconds::max()); });
    check_waits_until_unparked([] { return rthread::park_timeout(std::chrono::hours::max()); });
    check_waits_until_unparked(
        [] { return rthread::park_until(std::chrono::system_clock::time_point::max()); });
}

BOOST_AUTO_TEST_CASE(park_until_a_passed_time_point_only_looks) {
    BOOST_TEST(!rthread::park_until(std::chrono::steady_clock::now()));
    BOOST_TEST(!rthread::park_until(std::chrono::system_clock::now() - std::chrono::hours(1)));
    BOOST_TEST(!rthread::park_until(std::chrono::steady_clock::time_point::min()));
    rthread::current().unpark();
    BOOST_TEST(rthread::park_until(std::chrono::steady_clock::time_point::min()));
}

BOOST_AUTO_TEST_CASE(park_until_any_clock_times_out) {
    const auto target = std::chrono::system_clock::now() + 20ms;
    BOOST_TEST(!rthread::park_until(target));
    BOOST_TEST((std::chrono::system_clock::now() >= target - 1ms)); // clocks may differ a little
}

BOOST_AUTO_TEST_CASE(unpark_on_an_ended_thread_is_fine) {
    auto h = rthread::spawn([] {});
    const rthread::thread t = h.thread();
    h.join().value();
    t.unpark();
    t.unpark();
}

BOOST_AUTO_TEST_CASE(park_and_unpark_work_on_foreign_threads) {
    std::promise<rthread::thread> who;
    std::thread t([&] {
        who.set_value(rthread::current());
        rthread::park();
    });
    who.get_future().get().unpark();
    t.join();
}

BOOST_AUTO_TEST_CASE(unpark_publishes_writes_to_the_parker) {
    // Data written before unpark() is visible once park consumed that token
    // (release/acquire): the token is the only synchronisation here, so
    // ThreadSanitizer reports a race if either side's ordering is missing.
    int plain = 0;
    const rthread::thread me = rthread::current();
    auto writer = rthread::spawn([&] {
        plain = 42;
        me.unpark();
    });
    while (!rthread::park_timeout(std::chrono::hours(1))) {
        // a spurious wake-up: the token is still to come
    }
    BOOST_TEST(plain == 42);
    writer.join().value();
}

BOOST_AUTO_TEST_CASE(many_threads_unparking_one_loses_no_wake_up) {
    // The parked thread waits for a counter that every unparker bumps: each
    // bump is followed by an unpark, so no wake-up may go missing.
    constexpr int unparkers = 8;
    constexpr int each = 500;
    std::atomic<int> count{0};
    const rthread::thread me = rthread::current();
    std::vector<rthread::join_handle<void>> hs;
    hs.reserve(unparkers);
    for (int i = 0; i < unparkers; ++i) {
        hs.push_back(rthread::spawn([&] {
            for (int j = 0; j < each; ++j) {
                count.fetch_add(1);
                me.unpark();
            }
        }));
    }
    while (count.load() != unparkers * each) {
        rthread::park();
    }
    for (auto& h : hs) {
        h.join().value();
    }
    (void)rthread::park_timeout(0s);
    BOOST_TEST(!rthread::park_timeout(0s)); // saturated at one: none left
}

BOOST_AUTO_TEST_CASE(one_thread_unparking_many) {
    constexpr int parked_threads = 16;
    std::atomic<bool> go{false};
    std::vector<rthread::join_handle<void>> hs;
    hs.reserve(parked_threads);
    for (int i = 0; i < parked_threads; ++i) {
        hs.push_back(rthread::spawn([&] {
            while (!go.load()) {
                rthread::park();
            }
        }));
    }
    go = true;
    for (auto& h : hs) {
        h.thread().unpark();
    }
    for (auto& h : hs) {
        h.join().value();
    }
}

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
BOOST_AUTO_TEST_CASE(deprecated_park_timeout_ms_still_works) {
    rthread::current().unpark();
    rthread::park_timeout_ms(1000); // consumes the token at once
    BOOST_TEST(!rthread::park_timeout(0s));
    rthread::park_timeout_ms(1); // times out
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
