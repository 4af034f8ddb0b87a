// Channels (mpsc.hpp): the behavioural tests of Rust's std::sync::mpsc
// (library/std/tests/sync/mpsc.rs and mpsc_sync.rs), ported, plus what C++
// adds: move-only and throwing-move values, values destroyed once with the
// last end, no allocation per message on a bounded channel, and waits that
// never touch the thread's own park() token.
#define BOOST_TEST_MODULE mpsc
#include "test_main.hpp"

#include "counting_new.hpp"
#include "platform.hpp"

#include <rthread/rthread.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace mpsc = rthread::mpsc;

// ---- counting every allocation, for "no allocation per message" ------------

bool test_support::fail_allocation() noexcept {
    return false;
}

namespace {

// A value that counts its live instances, to see each destroyed once.
struct counted {
    static inline std::atomic<int> live{0};
    int value;
    explicit counted(int v) : value(v) { live.fetch_add(1); }
    counted(counted&& other) noexcept : value(other.value) { live.fetch_add(1); }
    counted(const counted&) = delete;
    ~counted() { live.fetch_sub(1); }
};

// A move-only value whose move throws when asked to.
struct fragile {
    static inline bool throw_on_move = false;
    static inline std::atomic<int> live{0};
    int value;
    explicit fragile(int v) : value(v) { live.fetch_add(1); }
    // NOLINTNEXTLINE(performance-noexcept-move-constructor): throwing is its purpose
    fragile(fragile&& other) : value(other.value) {
        if (throw_on_move) {
            throw std::runtime_error("move failed");
        }
        live.fetch_add(1);
    }
    fragile(const fragile&) = delete;
    ~fragile() { live.fetch_sub(1); }
};

// The value a failed send hands back, for a move-only T: Boost 1.81's
// result::error() copies, so it comes out of the exception value() throws.
template <class T>
T value_back(boost::system::result<void, rthread::mpsc::send_error<T>>&& r) {
    try {
        r.value();
    } catch (rthread::mpsc::send_error<T>& e) {
        return std::move(e.value);
    }
    throw std::logic_error("the send did not fail");
}

} // namespace

// ---- smoke ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(smoke) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    BOOST_TEST(tx.send(1).has_value());
    BOOST_TEST(rx.recv().value() == 1);
}

BOOST_AUTO_TEST_CASE(smoke_shared) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    tx.send(1).value();
    BOOST_TEST(rx.recv().value() == 1);
    auto tx2 = tx;
    tx2.send(2).value();
    BOOST_TEST(rx.recv().value() == 2);
}

BOOST_AUTO_TEST_CASE(smoke_threads) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto t = rthread::spawn([tx = std::move(tx)]() mutable { tx.send(1).value(); });
    BOOST_TEST(rx.recv().value() == 1);
    t.join().value();
}

BOOST_AUTO_TEST_CASE(move_only_values_pass_through) {
    auto tx_rx = mpsc::channel<std::unique_ptr<int>>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    tx.send(std::make_unique<int>(10)).value();
    BOOST_TEST(*rx.recv().value() == 10);
}

BOOST_AUTO_TEST_CASE(recv_a_lot) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    for (int i = 0; i < 10000; ++i) {
        tx.send(i).value();
    }
    for (int i = 0; i < 10000; ++i) {
        BOOST_TEST_REQUIRE(rx.recv().value() == i);
    }
}

// ---- disconnection, both ways -------------------------------------------------

BOOST_AUTO_TEST_CASE(send_after_the_receiver_is_gone_hands_the_value_back) {
    auto tx_rx = mpsc::channel<std::unique_ptr<int>>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    { auto gone = std::move(rx); }
    auto r = tx.send(std::make_unique<int>(7));
    BOOST_TEST_REQUIRE(r.has_error());
    const auto back = value_back(std::move(r));
    BOOST_TEST(*back == 7);
}

BOOST_AUTO_TEST_CASE(smoke_shared_port_gone2) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    { auto gone = std::move(rx); }
    auto tx2 = tx;
    { auto gone = std::move(tx); }
    BOOST_TEST(tx2.send(1).has_error());
}

BOOST_AUTO_TEST_CASE(issue_32114_send_keeps_failing_after_the_receiver_went) {
    auto tx = mpsc::channel<int>().first; // the receiver dies at once
    BOOST_TEST(tx.send(123).has_error());
    auto r = tx.send(123);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().value == 123);
}

BOOST_AUTO_TEST_CASE(port_gone_concurrent) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto t = rthread::spawn([rx = std::move(rx)]() mutable { rx.recv().value(); });
    while (tx.send(1).has_value()) {
    }
    t.join().value();
}

BOOST_AUTO_TEST_CASE(recv_after_every_sender_is_gone_fails) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto tx2 = tx;
    { auto gone = std::move(tx); }
    BOOST_TEST(rx.try_recv().error().kind == mpsc::try_recv_error::empty);
    { auto gone = std::move(tx2); }
    BOOST_TEST(rx.recv().has_error());
    BOOST_TEST(rx.recv().error().what() == std::string("receiving on a closed channel"));
}

BOOST_AUTO_TEST_CASE(values_sent_before_the_senders_went_are_still_received) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    tx.send(1).value();
    tx.send(2).value();
    { auto gone = std::move(tx); }
    BOOST_TEST(rx.recv().value() == 1);
    BOOST_TEST(rx.try_recv().value() == 2);
    BOOST_TEST(rx.try_recv().error().kind == mpsc::try_recv_error::disconnected);
}

BOOST_AUTO_TEST_CASE(chan_gone_concurrent) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto t = rthread::spawn([tx = std::move(tx)]() mutable {
        tx.send(1).value();
        tx.send(1).value();
    });
    int n = 0;
    while (rx.recv().has_value()) {
        ++n;
    }
    BOOST_TEST(n == 2);
    t.join().value();
}

BOOST_AUTO_TEST_CASE(a_sender_dropped_on_another_thread_ends_a_blocked_recv) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto t = rthread::spawn([&rx] { return rx.recv().has_error(); });
    { auto gone = std::move(tx); }
    BOOST_TEST(t.join().value());
    auto stx_srx = mpsc::sync_channel<int>(0);
    auto& stx = stx_srx.first;
    auto& srx = stx_srx.second;
    auto t2 = rthread::spawn([&srx] { return srx.recv().has_error(); });
    auto t3 = rthread::spawn([stx = std::move(stx)] {});
    t3.join().value();
    BOOST_TEST(t2.join().value());
}

BOOST_AUTO_TEST_CASE(oneshot_multi_thread_send_close_stress) {
    const int rounds = test_support::stress_count(200);
    for (int i = 0; i < rounds; ++i) {
        auto tx_rx = mpsc::channel<int>();
        auto& tx = tx_rx.first;
        auto& rx = tx_rx.second;
        auto a = rthread::spawn([rx = std::move(rx)] {});
        auto b = rthread::spawn([tx = std::move(tx)]() mutable { (void)tx.send(1); });
        a.join().value();
        b.join().value();
    }
}

BOOST_AUTO_TEST_CASE(moved_from_ends_fail_as_disconnected_ones) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto tx2 = std::move(tx);
    auto rx2 = std::move(rx);
    BOOST_TEST(tx.send(1).error().value == 1); // NOLINT(bugprone-use-after-move)
    // NOLINTNEXTLINE(bugprone-use-after-move): the moved-from end is what is tested
    BOOST_TEST(rx.try_recv().error().kind == mpsc::try_recv_error::disconnected);
    BOOST_TEST(rx.recv().has_error());
    tx2.send(2).value();
    BOOST_TEST(rx2.recv().value() == 2);
}

// ---- values are destroyed once, with the last end ------------------------------

BOOST_AUTO_TEST_CASE(queued_values_die_with_the_receiver) {
    {
        auto tx_rx = mpsc::channel<counted>();
        auto& tx = tx_rx.first;
        auto& rx = tx_rx.second;
        tx.send(counted(1)).value();
        tx.send(counted(2)).value();
        BOOST_TEST(counted::live.load() == 2);
        { auto gone = std::move(rx); }
        BOOST_TEST(counted::live.load() == 0);
    }
    {
        auto tx_rx = mpsc::sync_channel<counted>(4);
        auto& tx = tx_rx.first;
        auto& rx = tx_rx.second;
        tx.send(counted(1)).value();
        tx.send(counted(2)).value();
        { auto gone = std::move(rx); }
        BOOST_TEST(counted::live.load() == 0);
    }
}

BOOST_AUTO_TEST_CASE(queued_values_die_with_the_last_end_whichever_it_is) {
    for (bool bounded : {false, true}) {
        {
            auto tx_rx = mpsc::sync_channel<counted>(8);
            auto& tx = tx_rx.first;
            auto utx_urx = mpsc::channel<counted>();
            auto& utx = utx_urx.first;
            for (int i = 0; i < 5; ++i) {
                if (bounded) {
                    tx.send(counted(i)).value();
                } else {
                    utx.send(counted(i)).value();
                }
            }
            { auto gone = std::move(tx); }
            { auto gone = std::move(utx); }
            BOOST_TEST(counted::live.load() == 5); // the receivers may still take them
        }
        BOOST_TEST(counted::live.load() == 0);
    }
}

// ---- errors ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(errors_say_what_rust_says) {
    BOOST_TEST(mpsc::send_error<int>(1).what() == std::string("sending on a closed channel"));
    BOOST_TEST(mpsc::try_send_error<int>(mpsc::try_send_error<int>::full, 1).what() ==
               std::string("sending on a full channel"));
    BOOST_TEST(mpsc::try_send_error<int>(mpsc::try_send_error<int>::disconnected, 1).what() ==
               std::string("sending on a closed channel"));
    BOOST_TEST(mpsc::recv_error{}.what() == std::string("receiving on a closed channel"));
    BOOST_TEST(mpsc::try_recv_error{mpsc::try_recv_error::empty}.what() ==
               std::string("receiving on an empty channel"));
    BOOST_TEST(mpsc::try_recv_error{mpsc::try_recv_error::disconnected}.what() ==
               std::string("receiving on an empty and disconnected channel"));
    BOOST_TEST(mpsc::recv_timeout_error{mpsc::recv_timeout_error::timeout}.what() ==
               std::string("timed out waiting on channel"));
    BOOST_TEST(mpsc::recv_timeout_error{mpsc::recv_timeout_error::disconnected}.what() ==
               std::string("channel is empty and sending half is closed"));
}

BOOST_AUTO_TEST_CASE(value_on_a_failed_result_throws_the_error_itself) {
    auto tx_rx = mpsc::channel<std::unique_ptr<int>>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    BOOST_CHECK_THROW(rx.try_recv().value(), mpsc::try_recv_error);
    BOOST_CHECK_THROW(rx.recv_timeout(0s).value(), mpsc::recv_timeout_error);
    { auto gone = std::move(rx); }
    try {
        tx.send(std::make_unique<int>(3)).value();
        BOOST_FAIL("no exception");
    } catch (const mpsc::send_error<std::unique_ptr<int>>& e) {
        BOOST_TEST(*e.value == 3); // a move-only value moves into the exception
    }
    auto stx_srx = mpsc::sync_channel<int>(0);
    auto& stx = stx_srx.first;
    auto& srx = stx_srx.second;
    try {
        stx.try_send(4).value();
        BOOST_FAIL("no exception");
    } catch (const mpsc::try_send_error<int>& e) {
        BOOST_TEST(e.kind == mpsc::try_send_error<int>::full);
        BOOST_TEST(e.value == 4);
    }
    { auto gone = std::move(stx); }
    BOOST_CHECK_THROW(srx.recv().value(), mpsc::recv_error);
}

BOOST_AUTO_TEST_CASE(an_unaddressable_bound_is_a_length_error) {
    using block = std::array<char, 64>;
    BOOST_CHECK_THROW(mpsc::sync_channel<block>(std::size_t(-1) / 2), std::length_error);
}

// ---- try_recv and timeouts -------------------------------------------------------

BOOST_AUTO_TEST_CASE(try_recv_states) {
    auto tx1_rx1 = mpsc::channel<int>();
    auto& tx1 = tx1_rx1.first;
    auto& rx1 = tx1_rx1.second;
    auto tx2_rx2 = mpsc::channel<int>();
    auto& tx2 = tx2_rx2.first;
    auto& rx2 = tx2_rx2.second;
    auto tx3_rx3 = mpsc::channel<int>();
    auto& tx3 = tx3_rx3.first;
    auto& rx3 = tx3_rx3.second;
    auto t = rthread::spawn([&, tx1 = std::move(tx1), tx3 = std::move(tx3)]() mutable {
        rx2.recv().value();
        tx1.send(1).value();
        tx3.send(0).value();
        rx2.recv().value();
        { auto gone = std::move(tx1); }
        tx3.send(0).value();
    });
    BOOST_TEST(rx1.try_recv().error().kind == mpsc::try_recv_error::empty);
    tx2.send(0).value();
    rx3.recv().value();
    BOOST_TEST(rx1.try_recv().value() == 1);
    BOOST_TEST(rx1.try_recv().error().kind == mpsc::try_recv_error::empty);
    tx2.send(0).value();
    rx3.recv().value();
    BOOST_TEST(rx1.try_recv().error().kind == mpsc::try_recv_error::disconnected);
    t.join().value();
}

BOOST_AUTO_TEST_CASE(oneshot_single_thread_recv_timeout) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    tx.send(1).value();
    BOOST_TEST(rx.recv_timeout(1ms).value() == 1);
    BOOST_TEST(rx.recv_timeout(1ms).error().kind == mpsc::recv_timeout_error::timeout);
    tx.send(2).value();
    BOOST_TEST(rx.recv_timeout(1ms).value() == 2);
}

BOOST_AUTO_TEST_CASE(recv_timeout_waits_at_least_its_duration) {
    auto tx_rx = mpsc::channel<int>();
    auto& rx = tx_rx.second;
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(rx.recv_timeout(2ms).error().kind == mpsc::recv_timeout_error::timeout);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 2ms));
    auto stx_srx = mpsc::sync_channel<int>(1);
    auto& srx = stx_srx.second;
    const auto start2 = std::chrono::steady_clock::now();
    BOOST_TEST(srx.recv_until(start2 + 2ms).has_error());
    BOOST_TEST((std::chrono::steady_clock::now() - start2 >= 2ms));
}

BOOST_AUTO_TEST_CASE(recv_timeout_follows_park_timeout_duration_rules) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    BOOST_TEST(rx.recv_timeout(0s).error().kind == mpsc::recv_timeout_error::timeout);
    BOOST_TEST(rx.recv_timeout(-1s).error().kind == mpsc::recv_timeout_error::timeout);
    BOOST_TEST(rx.recv_timeout(std::chrono::nanoseconds::min()).has_error());
    BOOST_TEST(rx.recv_timeout(std::chrono::duration<double>(std::nan(""))).has_error());
    BOOST_TEST(rx.recv_until(std::chrono::system_clock::now() - 1h).has_error());
    tx.send(5).value();
    BOOST_TEST(rx.recv_timeout(0s).value() == 5);
    tx.send(6).value();
    BOOST_TEST(rx.recv_until(std::chrono::steady_clock::time_point::max()).value() == 6);
}

BOOST_AUTO_TEST_CASE(very_long_recv_timeout_waits_like_recv) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto t = rthread::spawn([&rx] { return rx.recv_timeout(std::chrono::seconds::max()); });
    tx.send(1).value();
    BOOST_TEST(t.join().value().value() == 1);
    auto t2 = rthread::spawn(
        [&rx] { return rx.recv_timeout(std::chrono::duration<double>::max()).has_error(); });
    { auto gone = std::move(tx); }
    BOOST_TEST(t2.join().value());
}

BOOST_AUTO_TEST_CASE(recv_timeout_reports_disconnection) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    { auto gone = std::move(tx); }
    BOOST_TEST(rx.recv_timeout(1s).error().kind == mpsc::recv_timeout_error::disconnected);
    BOOST_TEST(rx.recv_timeout(0s).error().kind == mpsc::recv_timeout_error::disconnected);
}

BOOST_AUTO_TEST_CASE(stress_recv_timeout_shared) {
    constexpr int senders = 20;
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    std::vector<rthread::join_handle<void>> hs;
    hs.reserve(senders);
    for (int i = 0; i < senders; ++i) {
        hs.push_back(rthread::spawn([tx = tx] { tx.send(1).value(); }));
    }
    { auto gone = std::move(tx); }
    int received = 0;
    for (;;) {
        auto r = rx.recv_timeout(1ms);
        if (r) {
            received += r.value();
        } else if (r.error().kind == mpsc::recv_timeout_error::disconnected) {
            break;
        }
    }
    BOOST_TEST(received == senders);
    for (auto& h : hs) {
        h.join().value();
    }
}

BOOST_AUTO_TEST_CASE(channel_waits_never_touch_the_thread_token) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    rthread::current().unpark();
    BOOST_TEST(rx.recv_timeout(1ms).has_error()); // woke for nothing, timed out
    BOOST_TEST(rthread::park_timeout(0s));        // the token is still there
    auto t = rthread::spawn([tx = std::move(tx)] { tx.send(1).value(); });
    BOOST_TEST(rx.recv().value() == 1);
    t.join().value();
    BOOST_TEST(!rthread::park_timeout(0s)); // and the send left none behind
}

// ---- iteration -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(test_nested_recv_iter) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto total_tx_total_rx = mpsc::channel<int>();
    auto& total_tx = total_tx_total_rx.first;
    auto& total_rx = total_tx_total_rx.second;
    auto t = rthread::spawn([rx = std::move(rx), total_tx = std::move(total_tx)]() mutable {
        int acc = 0;
        for (int x : rx) {
            acc += x;
        }
        total_tx.send(acc).value();
    });
    tx.send(3).value();
    tx.send(1).value();
    tx.send(2).value();
    { auto gone = std::move(tx); }
    BOOST_TEST(total_rx.recv().value() == 6);
    t.join().value();
}

BOOST_AUTO_TEST_CASE(test_recv_iter_break) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto count_tx_count_rx = mpsc::channel<int>();
    auto& count_tx = count_tx_count_rx.first;
    auto& count_rx = count_tx_count_rx.second;
    auto t = rthread::spawn([rx = std::move(rx), count_tx = std::move(count_tx)]() mutable {
        int count = 0;
        for (int x : rx) {
            if (count >= 3) {
                break;
            }
            count += x;
        }
        count_tx.send(count).value();
    });
    tx.send(2).value();
    tx.send(2).value();
    tx.send(2).value();
    (void)tx.send(2);
    { auto gone = std::move(tx); }
    BOOST_TEST(count_rx.recv().value() == 4);
    t.join().value();
}

BOOST_AUTO_TEST_CASE(test_recv_try_iter) {
    auto request_tx_request_rx = mpsc::channel<int>();
    auto& request_tx = request_tx_request_rx.first;
    auto& request_rx = request_tx_request_rx.second;
    auto response_tx_response_rx = mpsc::channel<int>();
    auto& response_tx = response_tx_response_rx.first;
    auto& response_rx = response_tx_response_rx.second;
    auto t = rthread::spawn(
        [request_tx = std::move(request_tx), response_rx = std::move(response_rx)]() mutable {
            int count = 0;
            for (;;) {
                for (int x : response_rx.try_iter()) {
                    count += x;
                    if (count == 6) {
                        return count;
                    }
                }
                request_tx.send(0).value();
            }
        });
    for (int request : request_rx) {
        (void)request;
        if (response_tx.send(2).has_error()) {
            break;
        }
    }
    BOOST_TEST(t.join().value() == 6);
}

BOOST_AUTO_TEST_CASE(iteration_moves_move_only_values_out) {
    auto tx_rx = mpsc::channel<std::unique_ptr<int>>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    tx.send(std::make_unique<int>(1)).value();
    tx.send(std::make_unique<int>(2)).value();
    { auto gone = std::move(tx); }
    int sum = 0;
    for (std::unique_ptr<int> v : rx) {
        sum += *v;
    }
    BOOST_TEST(sum == 3);
}

BOOST_AUTO_TEST_CASE(try_iter_stops_at_the_first_empty_look) {
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    int n = 0;
    for (int v : rx.try_iter()) {
        n += v;
    }
    BOOST_TEST(n == 0);
    tx.send(1).value();
    tx.send(2).value();
    for (int v : rx.try_iter()) {
        n += v;
    }
    BOOST_TEST(n == 3);
    tx.send(4).value(); // the channel is still open after a try_iter
    BOOST_TEST(rx.recv().value() == 4);
}

// ---- throwing moves --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_throwing_move_leaves_the_channel_usable_and_the_value_in_place) {
    for (bool bounded : {false, true}) {
        auto utx_urx = mpsc::channel<fragile>();
        auto& utx = utx_urx.first;
        auto& urx = utx_urx.second;
        auto btx_brx = mpsc::sync_channel<fragile>(2);
        auto& btx = btx_brx.first;
        auto& brx = btx_brx.second;
        auto& rx = bounded ? brx : urx;
        auto send = [&](int v) {
            return bounded ? btx.send(fragile(v)).has_value() : utx.send(fragile(v)).has_value();
        };
        BOOST_TEST(send(1));
        fragile::throw_on_move = true;
        // The move into the channel throws: nothing is queued.
        if (bounded) {
            BOOST_CHECK_THROW((void)btx.try_send(fragile(2)), std::runtime_error);
        } else {
            fragile keep(2);
            // NOLINTNEXTLINE(bugprone-use-after-move): BOOST_CHECK_THROW runs it once
            BOOST_CHECK_THROW((void)utx.send(std::move(keep)), std::runtime_error);
        }
        // The move out of the channel throws: the value stays first in line.
        BOOST_CHECK_THROW((void)rx.recv(), std::runtime_error);
        fragile::throw_on_move = false;
        BOOST_TEST(rx.recv().value().value == 1);
        BOOST_TEST(rx.try_recv().error().kind == mpsc::try_recv_error::empty);
        BOOST_TEST(send(3));
        BOOST_TEST(rx.recv().value().value == 3);
    }
    BOOST_TEST(fragile::live.load() == 0);
}

namespace {
// A value whose move throws when it was made to.
struct picky {
    int value;
    bool throws;
    picky(int v, bool t) : value(v), throws(t) {}
    // NOLINTNEXTLINE(performance-noexcept-move-constructor): throwing is its purpose
    picky(picky&& other) : value(other.value), throws(other.throws) {
        if (throws) {
            throw std::runtime_error("move failed");
        }
    }
};
} // namespace

BOOST_AUTO_TEST_CASE(a_woken_sender_whose_move_throws_lets_the_next_sender_on) {
    // Whichever of the two blocked senders is woken first, the other must
    // get the room: a throwing one passes its wake-up on.
    for (int round = 0; round < 50; ++round) {
        auto ch = mpsc::sync_channel<picky>(1);
        ch.first.send(picky(1, false)).value();
        auto thrower = rthread::spawn([tx = ch.first] {
            try {
                (void)tx.send(picky(2, true));
            } catch (const std::runtime_error&) {
                return true;
            }
            return false;
        });
        auto sender = rthread::spawn([tx = ch.first] { tx.send(picky(3, false)).value(); });
        BOOST_TEST_REQUIRE(ch.second.recv().value().value == 1);
        BOOST_TEST_REQUIRE(ch.second.recv().value().value == 3);
        BOOST_TEST(thrower.join().value());
        sender.join().value();
    }
}

namespace {
// A value whose move, once asked to throw, waits a while first.
struct slow_thrower {
    bool throws = true;
    slow_thrower() = default;
    // NOLINTNEXTLINE(performance-noexcept-move-constructor): throwing is its purpose
    slow_thrower(slow_thrower&& other) : throws(other.throws) {
        if (throws) {
            rthread::sleep(std::chrono::milliseconds(50));
            throw std::runtime_error("move failed");
        }
    }
};
} // namespace

BOOST_AUTO_TEST_CASE(a_receiver_waiting_on_a_slot_given_back_sees_the_disconnection) {
    // The only send reserves a slot and its move throws: the send gives
    // the slot back (the tail moves back), and the receiver, waiting for
    // that slot to be written, must look at the tail again to see the
    // channel empty, then disconnected. The move waits 50 ms so that the
    // receiver is already waiting on the slot when it throws; if the
    // receiver came later, the case passes without testing that.
    auto ch = mpsc::sync_channel<slow_thrower>(4);
    auto receiver =
        rthread::spawn([rx = std::move(ch.second)]() mutable { return rx.recv().has_value(); });
    BOOST_CHECK_THROW((void)ch.first.send(slow_thrower{}), std::runtime_error);
    { auto gone = std::move(ch.first); }
    BOOST_TEST(!receiver.join().value());
}

// ---- bounded and rendezvous channels (mpsc_sync.rs) ---------------------------------

BOOST_AUTO_TEST_CASE(sync_smoke_and_try_send_full) {
    auto tx_rx = mpsc::sync_channel<int>(1);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    BOOST_TEST(tx.try_send(1).has_value());
    auto r = tx.try_send(2);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().kind == mpsc::try_send_error<int>::full);
    BOOST_TEST(r.error().value == 2);
    BOOST_TEST(r.error().what() == std::string("sending on a full channel"));
    BOOST_TEST(rx.recv().value() == 1);
    BOOST_TEST(tx.try_send(3).has_value());
    { auto gone = std::move(rx); }
    auto d = tx.try_send(4);
    BOOST_TEST(d.error().kind == mpsc::try_send_error<int>::disconnected);
    BOOST_TEST(d.error().value == 4);
}

BOOST_AUTO_TEST_CASE(sync_send_blocks_while_full) {
    auto tx_rx = mpsc::sync_channel<int>(1);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    tx.send(1).value();
    auto t = rthread::spawn([tx = tx]() mutable { tx.send(2).value(); });
    BOOST_TEST(rx.recv().value() == 1);
    BOOST_TEST(rx.recv().value() == 2);
    t.join().value();
}

BOOST_AUTO_TEST_CASE(a_blocked_sync_send_gets_its_value_back_when_the_receiver_goes) {
    auto tx_rx = mpsc::sync_channel<std::unique_ptr<int>>(1);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    tx.send(std::make_unique<int>(1)).value();
    std::atomic<bool> started{false};
    auto t = rthread::spawn([tx = tx, &started]() mutable {
        started.store(true);
        auto r = tx.send(std::make_unique<int>(2));
        return r.has_error() ? *value_back(std::move(r)) : 0;
    });
    while (!started.load()) {
        rthread::yield_now();
    }
    { auto gone = std::move(rx); } // whether t blocked yet or not, it fails
    BOOST_TEST(t.join().value() == 2);
}

BOOST_AUTO_TEST_CASE(rendezvous_try_send_needs_a_waiting_receiver) {
    auto tx_rx = mpsc::sync_channel<int>(0);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    BOOST_TEST(tx.try_send(1).error().kind == mpsc::try_send_error<int>::full);
    auto t = rthread::spawn([&rx] { return rx.recv().value(); });
    while (tx.try_send(7).has_error()) {
        rthread::yield_now(); // until the receiver waits
    }
    BOOST_TEST(t.join().value() == 7);
}

BOOST_AUTO_TEST_CASE(rendezvous_send_returns_only_after_its_value_was_received) {
    constexpr int rounds = 2000;
    auto tx_rx = mpsc::sync_channel<int>(0);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    std::atomic<int> completed{0}; // sends that returned
    auto t = rthread::spawn([tx = std::move(tx), &completed]() mutable {
        for (int i = 0; i < rounds; ++i) {
            tx.send(i).value();
            completed.store(i + 1);
        }
    });
    for (int i = 0; i < rounds; ++i) {
        BOOST_TEST_REQUIRE(rx.recv().value() == i);
        // send(i + 1) cannot have returned before i + 1 is received.
        BOOST_TEST_REQUIRE(completed.load() <= i + 1);
    }
    t.join().value();
    BOOST_TEST(rx.recv().has_error());
}

BOOST_AUTO_TEST_CASE(rendezvous_send_gets_its_value_back_when_the_receiver_goes) {
    auto tx_rx = mpsc::sync_channel<std::unique_ptr<int>>(0);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto ready_tx_ready_rx = mpsc::channel<int>();
    auto& ready_tx = ready_tx_ready_rx.first;
    auto& ready_rx = ready_tx_ready_rx.second;
    auto t = rthread::spawn([tx = std::move(tx), ready_tx = std::move(ready_tx)]() mutable {
        ready_tx.send(0).value();
        auto r = tx.send(std::make_unique<int>(9));
        return r.has_error() ? *value_back(std::move(r)) : 0;
    });
    ready_rx.recv().value();
    { auto gone = std::move(rx); }
    BOOST_TEST(t.join().value() == 9);
}

BOOST_AUTO_TEST_CASE(sync_stress_many_senders) {
    constexpr int senders = 4;
    constexpr int each = 2000;
    auto tx_rx = mpsc::sync_channel<int>(0);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    std::vector<rthread::join_handle<void>> hs;
    hs.reserve(senders);
    for (int s = 0; s < senders; ++s) {
        hs.push_back(rthread::spawn([tx = tx] {
            for (int i = 0; i < each; ++i) {
                tx.send(1).value();
            }
        }));
    }
    { auto gone = std::move(tx); }
    int n = 0;
    for (int v : rx) {
        n += v;
    }
    BOOST_TEST(n == senders * each);
    for (auto& h : hs) {
        h.join().value();
    }
}

BOOST_AUTO_TEST_CASE(a_bounded_channel_allocates_nothing_per_message) {
    auto tx_rx = mpsc::sync_channel<std::uint64_t>(16);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    auto [utx, urx] = mpsc::channel<std::uint64_t>(); // for comparison: it does
    tx.send(0).value();
    rx.recv().value();
    const std::size_t before = test_support::allocations.load();
    for (std::uint64_t i = 0; i < 10000; ++i) {
        tx.send(i).value();
        BOOST_TEST_REQUIRE(rx.recv().value() == i);
    }
    BOOST_TEST(test_support::allocations.load() == before);
    // The same with a producer thread that blocks while the channel is full.
    // A sender's first blocking wait makes its thread's channel parker (once
    // a thread, not a message): the producer makes it before the count.
    auto ready_tx_rx = mpsc::channel<int>();
    auto t = rthread::spawn([tx = tx, ready = std::move(ready_tx_rx.first)] {
        (void)rthread::detail::channel_parker::of_this_thread();
        ready.send(0).value();
        for (std::uint64_t i = 0; i < 10000; ++i) {
            tx.send(i).value();
        }
    });
    ready_tx_rx.second.recv().value();
    const std::size_t spawned = test_support::allocations.load();
    for (std::uint64_t i = 0; i < 10000; ++i) {
        BOOST_TEST_REQUIRE(rx.recv().value() == i);
    }
    BOOST_TEST(test_support::allocations.load() == spawned);
    t.join().value();
}

// ---- many senders, stress ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(shared_chan_stress) {
    constexpr int senders = 100;
    auto tx_rx = mpsc::channel<int>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    std::vector<rthread::join_handle<void>> hs;
    hs.reserve(senders);
    for (int i = 0; i < senders; ++i) {
        hs.push_back(rthread::spawn([tx = tx] { tx.send(1).value(); }));
    }
    for (int i = 0; i < senders; ++i) {
        rx.recv().value();
    }
    for (auto& h : hs) {
        h.join().value();
    }
}

namespace {
// 8 producers, 1,000,000 messages in all: each value carries its sender and
// its index, and the receiver checks that every sender's values arrive
// complete, once each and in order.
template <class Tx, class Rx>
void stress_8_producers(Tx tx, Rx rx, int each = 125000) {
    constexpr int producers = 8;
    std::vector<rthread::join_handle<void>> hs;
    hs.reserve(producers);
    for (int p = 0; p < producers; ++p) {
        hs.push_back(rthread::spawn([tx = tx, p, each] {
            for (int i = 0; i < each; ++i) {
                tx.send(std::uint64_t(p) << 32 | std::uint32_t(i)).value();
            }
        }));
    }
    { auto gone = std::move(tx); }
    std::array<std::uint32_t, producers> next{};
    std::size_t total = 0;
    bool in_order = true;
    for (std::uint64_t v : rx) {
        const auto p = static_cast<std::size_t>(v >> 32);
        in_order = in_order && p < producers && next[p] == std::uint32_t(v);
        if (p < producers) {
            ++next[p];
        }
        ++total;
    }
    BOOST_TEST(in_order);
    BOOST_TEST(total == std::size_t(producers) * each);
    for (auto& h : hs) {
        h.join().value();
    }
}
} // namespace

BOOST_AUTO_TEST_CASE(stress_a_million_messages_from_8_producers_unbounded) {
    auto tx_rx = mpsc::channel<std::uint64_t>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    stress_8_producers(std::move(tx), std::move(rx));
}

BOOST_AUTO_TEST_CASE(stress_a_million_messages_from_8_producers_bounded) {
    auto tx_rx = mpsc::sync_channel<std::uint64_t>(64);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    stress_8_producers(std::move(tx), std::move(rx));
}

BOOST_AUTO_TEST_CASE(stress_8_producers_on_a_bound_of_1) {
    // Nearly every send waits for room: the blocked senders' wake-ups,
    // under TSan too.
    auto tx_rx = mpsc::sync_channel<std::uint64_t>(1);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    stress_8_producers(std::move(tx), std::move(rx), test_support::stress_count(5000));
}

// ---- the queues' internals: block boundaries, ring laps, holes ------------------

namespace {
// Sends values 0..n-1 on either kind of channel, a throwing move after
// each value whose index is in holes, then receives them all in order; each
// hole (a slot whose move threw) must be skipped, wherever it falls.
template <class Tx>
void send_with_holes(const Tx& tx, int n, const std::vector<int>& holes) {
    for (int i = 0; i < n; ++i) {
        tx.send(fragile(i)).value();
        if (std::find(holes.begin(), holes.end(), i) != holes.end()) {
            fragile::throw_on_move = true;
            fragile keep(-1);
            // NOLINTNEXTLINE(bugprone-use-after-move): the macro's own loop, run once
            BOOST_CHECK_THROW((void)tx.send(std::move(keep)), std::runtime_error);
            fragile::throw_on_move = false;
        }
    }
}
} // namespace

BOOST_AUTO_TEST_CASE(the_unbounded_queue_crosses_block_boundaries_in_order) {
    // Blocks hold 31 values: these counts end before, on and after the
    // first boundaries, with the receiver at every offset of a block.
    for (int n : {30, 31, 32, 61, 62, 63, 100}) {
        for (int lag : {0, 1, 30, 31}) {
            auto tx_rx = mpsc::channel<int>();
            auto& tx = tx_rx.first;
            auto& rx = tx_rx.second;
            int next = 0;
            bool in_order = true;
            for (int i = 0; i < n; ++i) {
                tx.send(i).value();
                if (i >= lag) {
                    in_order = in_order && rx.recv().value() == next++;
                }
            }
            while (next < n) {
                in_order = in_order && rx.recv().value() == next++;
            }
            BOOST_TEST(in_order);
            BOOST_TEST(rx.try_recv().error().kind == mpsc::try_recv_error::empty);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_throwing_move_at_a_block_boundary_leaves_a_hole_that_is_skipped) {
    // The holes fall on a block's last slot (offset 30), its first, and in
    // the middle; whole blocks of holes too.
    std::vector<int> holes{0, 15, 29, 30, 31, 60, 61};
    for (int i = 70; i < 110; ++i) {
        holes.push_back(i);
    }
    auto tx_rx = mpsc::channel<fragile>();
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    send_with_holes(tx, 120, holes);
    int next = 0;
    bool in_order = true;
    while (auto r = rx.try_recv()) {
        in_order = in_order && r->value == next++;
    }
    BOOST_TEST(in_order);
    BOOST_TEST(next == 120);
    BOOST_TEST(fragile::live.load() == 0);
}

BOOST_AUTO_TEST_CASE(the_bounded_ring_wraps_around_in_order) {
    // Many laps of rings of odd and power-of-two sizes, filled to every
    // level before draining.
    for (std::size_t bound : {1, 2, 3, 4, 5, 7, 8}) {
        auto tx_rx = mpsc::sync_channel<int>(bound);
        auto& tx = tx_rx.first;
        auto& rx = tx_rx.second;
        int sent = 0;
        int next = 0;
        bool in_order = true;
        for (int round = 0; round < 50; ++round) {
            const std::size_t fill = std::size_t(round) % bound + 1;
            for (std::size_t i = 0; i < fill; ++i) {
                BOOST_TEST_REQUIRE(tx.try_send(sent++).has_value());
            }
            if (fill == bound) {
                BOOST_TEST(tx.try_send(-1).error().kind == mpsc::try_send_error<int>::full);
            }
            while (next < sent) {
                in_order = in_order && rx.recv().value() == next++;
            }
        }
        BOOST_TEST(in_order);
    }
}

namespace {
// A value whose move throws when it was made to; first, when `inner` is
// set, it sends another value on that channel, so that a later send has
// reserved the next slot when the move throws.
struct reentrant {
    static inline const mpsc::sync_sender<reentrant>* inner = nullptr;
    int value;
    bool throws;
    // boost::system::result::error() asks for both.
    reentrant() : reentrant(0, false) {}
    reentrant(const reentrant&) = default;
    reentrant(int v, bool t) : value(v), throws(t) {}
    // NOLINTNEXTLINE(performance-noexcept-move-constructor): throwing is the point
    reentrant(reentrant&& other) : value(other.value), throws(other.throws) {
        if (throws) {
            if (inner != nullptr) {
                BOOST_TEST_REQUIRE(inner->try_send(reentrant(value + 1, false)).has_value());
            }
            throw std::runtime_error("move failed");
        }
    }
};
} // namespace

BOOST_AUTO_TEST_CASE(a_throwing_move_gives_its_ring_slot_back_or_leaves_a_hole) {
    constexpr std::size_t bound = 4; // 7 slots a round: every ring position in turn
    auto tx_rx = mpsc::sync_channel<reentrant>(bound);
    auto& tx = tx_rx.first;
    auto& rx = tx_rx.second;
    for (int round = 0; round < 12; ++round) {
        // Alone, the failed send gives its slot back: all four are free.
        reentrant::inner = nullptr;
        BOOST_CHECK_THROW((void)tx.try_send(reentrant(0, true)), std::runtime_error);
        for (int v = 0; v < int(bound); ++v) {
            BOOST_TEST(tx.try_send(reentrant(v, false)).has_value());
        }
        BOOST_TEST(tx.try_send(reentrant(9, false)).error().kind ==
                   mpsc::try_send_error<reentrant>::full);
        for (int v = 0; v < int(bound); ++v) {
            BOOST_TEST(rx.recv().value().value == v);
        }
        // With a later send already in the next slot, it leaves a hole,
        // which takes room until the receiver passes it.
        reentrant::inner = &tx;
        BOOST_CHECK_THROW((void)tx.try_send(reentrant(10, true)), std::runtime_error);
        BOOST_TEST(tx.try_send(reentrant(12, false)).has_value());
        BOOST_TEST(tx.try_send(reentrant(13, false)).has_value());
        BOOST_TEST(tx.try_send(reentrant(14, false)).error().kind ==
                   mpsc::try_send_error<reentrant>::full);
        BOOST_TEST(rx.recv().value().value == 11); // past the hole
        BOOST_TEST(rx.recv().value().value == 12);
        BOOST_TEST(rx.recv().value().value == 13);
        BOOST_TEST(rx.try_recv().error().kind == mpsc::try_recv_error::empty);
    }
    reentrant::inner = nullptr;
}

BOOST_AUTO_TEST_CASE(a_receiver_gone_mid_stream_destroys_every_queued_value_once) {
    // Producers keep sending while the receiver goes: each value is either
    // handed back or queued and destroyed with the receiver, never leaked
    // or destroyed twice (ASan, the live count).
    for (bool bounded : {false, true}) {
        {
            auto utx_urx = mpsc::channel<counted>();
            auto btx_brx = mpsc::sync_channel<counted>(4);
            std::vector<rthread::join_handle<void>> hs;
            for (int p = 0; p < 4; ++p) {
                if (bounded) {
                    hs.push_back(rthread::spawn([tx = btx_brx.first] {
                        for (int i = 0; tx.send(counted(i)).has_value(); ++i) {
                        }
                    }));
                } else {
                    hs.push_back(rthread::spawn([tx = utx_urx.first] {
                        for (int i = 0; tx.send(counted(i)).has_value(); ++i) {
                        }
                    }));
                }
            }
            auto& rx = bounded ? btx_brx.second : utx_urx.second;
            for (int i = 0; i < 1000; ++i) {
                (void)rx.recv().value();
            }
            { auto gone = std::move(rx); }
            for (auto& h : hs) {
                h.join().value();
            }
        }
        BOOST_TEST(counted::live.load() == 0);
    }
}
