// Private parkers (parker.hpp): crossbeam's Parker / Unparker behaviours
// (crossbeam-utils' tests/parker.rs: park_timeout_unpark_before,
// park_timeout_unpark_not_called, park_timeout_unpark_called_other_thread)
// plus what rust-lang/rust#145895 asks for: a parker's token and the
// thread's own token never consume each other's wake-ups.
#define BOOST_TEST_MODULE parker
#include "test_main.hpp"

#include <rthread/rthread.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(a_new_parker_has_no_token) {
    rthread::parker p;
    BOOST_TEST(!p.park_timeout(0ns));
    BOOST_TEST(!p.park_timeout(1ms));
}

BOOST_AUTO_TEST_CASE(park_timeout_unpark_before) {
    rthread::parker p;
    for (int i = 0; i < 10; ++i) {
        p.unparker().unpark();
        BOOST_TEST(p.park_timeout(std::chrono::hours(24)));
    }
}

BOOST_AUTO_TEST_CASE(park_timeout_unpark_not_called) {
    rthread::parker p;
    for (int i = 0; i < 10; ++i) {
        const auto start = std::chrono::steady_clock::now();
        BOOST_TEST(!p.park_timeout(2ms));
        BOOST_TEST((std::chrono::steady_clock::now() - start >= 2ms));
    }
}

BOOST_AUTO_TEST_CASE(park_timeout_unpark_called_other_thread) {
    rthread::parker p;
    for (int i = 0; i < 10; ++i) {
        std::atomic<bool> woken{false};
        auto waker = rthread::spawn([u = p.unparker(), &woken] {
            // release: pairs with the acquire below.
            woken.store(true, std::memory_order_release);
            u.unpark();
        });
        // acquire: the unpark happened before the park that consumed it.
        while (!woken.load(std::memory_order_acquire)) {
            p.park_timeout(std::chrono::hours(24));
        }
        waker.join().value();
        p.park_timeout(0ns); // a token left by the race above
    }
}

BOOST_AUTO_TEST_CASE(the_token_saturates_at_one) {
    rthread::parker p;
    const rthread::unparker u = p.unparker();
    u.unpark();
    u.unpark();
    u.unpark();
    BOOST_TEST(p.park_timeout(1s));
    BOOST_TEST(!p.park_timeout(1ms));
}

BOOST_AUTO_TEST_CASE(park_consumes_a_token_made_before_it) {
    rthread::parker p;
    p.unparker().unpark();
    p.park(); // returns at once, or the test hangs
    BOOST_TEST(!p.park_timeout(0ns));
}

BOOST_AUTO_TEST_CASE(park_until_follows_park_timeout_rules) {
    rthread::parker p;
    BOOST_TEST(!p.park_until(std::chrono::steady_clock::now() - 1s));
    BOOST_TEST(!p.park_until(std::chrono::system_clock::now() + 1ms));
    p.unparker().unpark();
    BOOST_TEST(p.park_until(std::chrono::steady_clock::time_point::max()));
    BOOST_TEST(!p.park_timeout(-1s));
    BOOST_TEST(!p.park_timeout(std::chrono::nanoseconds::min()));
    BOOST_TEST(!p.park_timeout(std::chrono::duration<double>(std::nan(""))));
}

BOOST_AUTO_TEST_CASE(huge_durations_wait_until_unparked) {
    rthread::parker p;
    std::atomic<bool> parking{false};
    auto waker = rthread::spawn([u = p.unparker(), &parking] {
        while (!parking.load(std::memory_order_acquire)) {
            rthread::yield_now();
        }
        u.unpark();
    });
    parking.store(true, std::memory_order_release);
    BOOST_TEST(p.park_timeout(std::chrono::nanoseconds::max()));
    waker.join().value();
    waker = rthread::spawn([u = p.unparker()] { u.unpark(); });
    BOOST_TEST(p.park_timeout(std::chrono::duration<double>::max()));
    waker.join().value();
}

BOOST_AUTO_TEST_CASE(ping_pong_between_two_parkers_loses_no_wake_up) {
    constexpr int rounds = 20000;
    rthread::parker mine;
    rthread::parker theirs;
    const rthread::unparker there = theirs.unparker();
    std::atomic<int> ball{0}; // odd: the partner's turn; even: ours
    auto partner = rthread::spawn([&ball, p = std::move(theirs), back = mine.unparker()]() mutable {
        for (int i = 0; i < rounds; ++i) {
            // acquire: pairs with the release that handed us the ball.
            while (ball.load(std::memory_order_acquire) != 2 * i + 1) {
                p.park();
            }
            // release: this turn's writes reach the other side's acquire.
            ball.store(2 * i + 2, std::memory_order_release);
            back.unpark();
        }
    });
    for (int i = 0; i < rounds; ++i) {
        ball.store(2 * i + 1, std::memory_order_release);
        there.unpark();
        while (ball.load(std::memory_order_acquire) != 2 * i + 2) {
            mine.park();
        }
    }
    partner.join().value();
    BOOST_TEST(ball.load() == 2 * rounds);
}

BOOST_AUTO_TEST_CASE(unpark_after_the_parker_is_gone_does_nothing) {
    std::vector<rthread::unparker> handles;
    {
        rthread::parker p;
        handles.push_back(p.unparker());
        handles.push_back(handles.back());
    }
    // The token lives on in the copies (ASan would see a use after free).
    for (const auto& u : handles) {
        u.unpark();
    }
    auto other = rthread::spawn([u = handles.front()] { u.unpark(); });
    other.join().value();
}

BOOST_AUTO_TEST_CASE(unparkers_compare_by_identity) {
    rthread::parker a;
    rthread::parker b;
    BOOST_TEST((a.unparker() == a.unparker()));
    BOOST_TEST((a.unparker() != b.unparker()));
    const rthread::unparker before = a.unparker();
    rthread::parker moved = std::move(a);
    BOOST_TEST((moved.unparker() == before));
}

BOOST_AUTO_TEST_CASE(a_moved_parker_keeps_its_token) {
    rthread::parker a;
    a.unparker().unpark();
    rthread::parker b = std::move(a);
    BOOST_TEST(b.park_timeout(0ns));
    // The moved-from parker holds nothing: its waits return at once.
    BOOST_TEST(!a.park_timeout(std::chrono::hours(1))); // NOLINT(bugprone-use-after-move)
    a.park();
    a.unparker().unpark();
    a = std::move(b);
    a.unparker().unpark();
    BOOST_TEST(a.park_timeout(0ns));
}

BOOST_AUTO_TEST_CASE(thread_unpark_never_wakes_a_parker) {
    rthread::parker p;
    rthread::current().unpark();
    BOOST_TEST(!p.park_timeout(0ns));
    BOOST_TEST(!p.park_timeout(1ms));
    // The thread's own token is still there, untouched by the parker.
    BOOST_TEST(rthread::park_timeout(0ns));
}

BOOST_AUTO_TEST_CASE(a_parker_unpark_never_wakes_the_thread_token) {
    rthread::parker p;
    p.unparker().unpark();
    BOOST_TEST(!rthread::park_timeout(0ns));
    BOOST_TEST(!rthread::park_timeout(1ms));
    BOOST_TEST(p.park_timeout(0ns));
}

BOOST_AUTO_TEST_CASE(a_parked_parker_sleeps_through_thread_unparks) {
    // rust-lang/rust#145895: library code parks on the thread token while a
    // wake-up for the user's parker is pending, and neither eats the other.
    rthread::parker p;
    std::atomic<int> stage{0};
    auto other = rthread::spawn([&stage, me = rthread::current(), u = p.unparker()] {
        me.unpark(); // for the thread token only
        stage.store(1, std::memory_order_release);
        u.unpark(); // for the parker only
    });
    other.join().value();
    BOOST_TEST(stage.load(std::memory_order_acquire) == 1);
    BOOST_TEST(rthread::park_timeout(0ns));
    BOOST_TEST(!rthread::park_timeout(0ns));
    BOOST_TEST(p.park_timeout(0ns));
    BOOST_TEST(!p.park_timeout(0ns));
}

BOOST_AUTO_TEST_CASE(many_unparkers_on_many_threads_wake_one_parker) {
    constexpr int threads = 4;
    constexpr int each = 2000;
    rthread::parker p;
    std::atomic<int> done{0};
    std::vector<rthread::join_handle<void>> hs;
    hs.reserve(threads);
    for (int t = 0; t < threads; ++t) {
        hs.push_back(rthread::spawn([&done, u = p.unparker()] {
            for (int i = 0; i < each; ++i) {
                // release: pairs with the parker's acquire load.
                done.fetch_add(1, std::memory_order_release);
                u.unpark();
            }
        }));
    }
    while (done.load(std::memory_order_acquire) != threads * each) {
        p.park();
    }
    for (auto& h : hs) {
        h.join().value();
    }
}
