// Thread handles and ids: rthread::thread, thread_id, current(),
// current_id(), threads(). Ported from Rust's library/std/src/thread/tests.rs
// where Rust has the case, plus the C++-specific ones (foreign threads).
#define BOOST_TEST_MODULE thread
#include "test_main.hpp"

#include "child_process.hpp"
#include "platform.hpp"
#include "registry.hpp"

#include <rthread/rthread.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_set>

#include <pthread.h>

namespace {

bool lists(const std::vector<rthread::thread>& all, const rthread::thread& t) {
    return std::find(all.begin(), all.end(), t) != all.end();
}

} // namespace

BOOST_AUTO_TEST_CASE(main_thread_is_named_main_with_id_one) {
    // The test runner's main thread is the process's main thread.
    BOOST_TEST(rthread::current().id().as_u64() == 1u);
    BOOST_TEST(rthread::current_id().as_u64() == 1u);
    BOOST_TEST(rthread::current().name().value() == "main");
}

BOOST_AUTO_TEST_CASE(main_thread_handles_are_not_reference_counted) {
    // The main thread's record lives in static storage for the whole
    // process: copies of its handle, on any thread, leave the count alone.
    rthread::detail::thread_record& main_record = rthread::detail::current_record();
    BOOST_TEST_REQUIRE(main_record.immortal);
    const std::size_t before = main_record.refs.load();
    {
        const rthread::thread me = rthread::current();
        std::vector<rthread::thread> copies(100, me);
        rthread::spawn([copies]() mutable { copies.clear(); }).join().value();
        BOOST_TEST(main_record.refs.load() == before);
    }
    BOOST_TEST(main_record.refs.load() == before);
    BOOST_TEST(rthread::current().name().value() == "main");
}

BOOST_AUTO_TEST_CASE(other_threads_handles_are_reference_counted) {
    // An ended thread's record is kept alive by its handles alone.
    const rthread::thread other = rthread::spawn([] { return rthread::current(); }).join().value();
    rthread::detail::thread_inner* inner = rthread::detail::thread_access::inner(other);
    BOOST_TEST(!inner->immortal);
    BOOST_TEST(inner->refs.load() == 1u);
    {
        const rthread::thread copy = other; // NOLINT(performance-unnecessary-copy-initialization)
        BOOST_TEST(inner->refs.load() == 2u);
    }
    BOOST_TEST(inner->refs.load() == 1u);
}

BOOST_AUTO_TEST_CASE(current_handles_reserve_goes_back_when_the_thread_ends) {
    // current() takes references to the calling thread in batches
    // (thread_inner.hpp); whatever a thread kept in reserve goes back when it
    // ends, on rthread's threads and on foreign ones alike, so the handles
    // that outlive it are all that hold its record.
    const auto many_handles = [] {
        std::vector<rthread::thread> kept;
        for (int i = 0; i < 100; ++i) {
            rthread::thread t = rthread::current();
            if (i % 3 == 0) {
                kept.push_back(std::move(t));
            }
        }
        return kept;
    };
    std::vector<rthread::thread> from_rthread = rthread::spawn(many_handles).join().value();
    std::vector<rthread::thread> from_foreign;
    std::thread foreign([&] { from_foreign = many_handles(); });
    foreign.join();
    for (const std::vector<rthread::thread>* kept : {&from_rthread, &from_foreign}) {
        BOOST_TEST_REQUIRE(kept->size() == 34u);
        rthread::detail::thread_inner* inner = rthread::detail::thread_access::inner(kept->front());
        BOOST_TEST(inner->refs.load() == 34u);
    }
}

BOOST_AUTO_TEST_CASE(main_thread_gets_id_one_even_when_another_thread_asks_first) {
    if (!test_support::in_fresh_process()) {
        const auto child = test_support::run_fresh_test_case(
            "main_thread_gets_id_one_even_when_another_thread_asks_first");
        BOOST_TEST(child.exited);
        BOOST_TEST(child.exit_code == 0, child.stdout_text << child.stderr_text);
        return;
    }
    // A new process whose main thread has not asked yet: a std::thread asks
    // first and must not get 1; then main asks and gets 1 and its name.
    std::uint64_t other = 0;
    std::thread t([&] { other = rthread::current_id().as_u64(); });
    t.join();
    BOOST_TEST(other > 1u);
    BOOST_TEST(rthread::current_id().as_u64() == 1u);
    BOOST_TEST(rthread::current().name().value() == "main");
}

BOOST_AUTO_TEST_CASE(current_returns_one_identity_per_thread) {
    BOOST_TEST((rthread::current() == rthread::current()));
    auto h = rthread::spawn([] {
        const rthread::thread a = rthread::current();
        const rthread::thread b = rthread::current();
        return a == b && a.id() == rthread::current_id();
    });
    BOOST_TEST(h.join().value());
}

BOOST_AUTO_TEST_CASE(spawned_thread_current_is_the_handles_thread) {
    std::promise<rthread::thread> inside;
    auto h = rthread::spawn([&] { inside.set_value(rthread::current()); });
    const rthread::thread seen = inside.get_future().get();
    BOOST_TEST((seen == h.thread()));
    BOOST_TEST((seen.id() == h.thread().id()));
    BOOST_TEST((seen != rthread::current()));
    h.join().value();
}

BOOST_AUTO_TEST_CASE(thread_id_equal) {
    // Rust: test_thread_id_equal.
    BOOST_TEST((rthread::current().id() == rthread::current().id()));
    BOOST_TEST((rthread::current_id() == rthread::current().id()));
}

BOOST_AUTO_TEST_CASE(thread_id_not_equal) {
    // Rust: test_thread_id_not_equal.
    const rthread::thread_id spawned =
        rthread::spawn([] { return rthread::current_id(); }).join().value();
    BOOST_TEST((spawned != rthread::current_id()));
    BOOST_TEST(spawned.as_u64() != 0u);
}

BOOST_AUTO_TEST_CASE(thread_ids_are_unique_and_never_reused) {
    std::set<std::uint64_t> seen{rthread::current_id().as_u64()};
    for (int i = 0; i < 300; ++i) {
        const auto id = rthread::spawn([] { return rthread::current_id(); }).join().value();
        BOOST_TEST(seen.insert(id.as_u64()).second);
    }
    // Ids grow: a later thread never gets an earlier (ended) thread's id.
    const auto later = rthread::spawn([] { return rthread::current_id(); }).join().value();
    BOOST_TEST(later.as_u64() > *std::prev(seen.end()));
}

BOOST_AUTO_TEST_CASE(thread_id_ordering_and_hash) {
    const auto a = rthread::current_id();
    const auto b = rthread::spawn([] { return rthread::current_id(); }).join().value();
    BOOST_TEST((a < b));
    BOOST_TEST((b > a));
    BOOST_TEST((a <= a));
    BOOST_TEST((a >= a));
    std::unordered_set<rthread::thread_id> set{a, b, a};
    BOOST_TEST(set.size() == 2u);
    BOOST_TEST(std::hash<rthread::thread_id>{}(a) == std::hash<rthread::thread_id>{}(a));
}

BOOST_AUTO_TEST_CASE(thread_and_id_print_as_rust_debug) {
    std::ostringstream out;
    out << rthread::current_id() << ' ' << rthread::current();
    BOOST_TEST(out.str() == "ThreadId(1) Thread { id: ThreadId(1), name: Some(\"main\"), .. }");
    auto h = rthread::spawn([] {});
    const std::string expected =
        "Thread { id: ThreadId(" + std::to_string(h.thread().id().as_u64()) + "), name: None, .. }";
    BOOST_TEST(fmt::format("{}", h.thread()) == expected);
    h.join().value();
}

BOOST_AUTO_TEST_CASE(handle_stays_valid_after_thread_ended) {
    auto h = rthread::builder{}.name("short-lived").spawn([] {}).value();
    const rthread::thread t = h.thread();
    const auto id = t.id();
    h.join().value();
    BOOST_TEST(t.name().value() == "short-lived");
    BOOST_TEST((t.id() == id));
    t.unpark(); // fine on a thread that has ended
}

BOOST_AUTO_TEST_CASE(copies_share_identity) {
    const rthread::thread a = rthread::current();
    rthread::thread b = a;
    BOOST_TEST((a == b));
    rthread::thread c = std::move(b);
    BOOST_TEST((a == c));
    b = c;
    BOOST_TEST((b == a));
}

BOOST_AUTO_TEST_CASE(current_works_on_std_thread) {
    rthread::thread seen = rthread::current();
    rthread::thread_id id_seen = rthread::current_id();
    bool listed = false;
    std::thread t([&] {
        seen = rthread::current();
        id_seen = rthread::current_id();
        listed = lists(rthread::threads(), seen);
    });
    t.join();
    BOOST_TEST((seen != rthread::current()));
    BOOST_TEST((seen.id() == id_seen));
    BOOST_TEST(!seen.name().has_value());
    BOOST_TEST(listed);
    // The thread left the list when it ended.
    BOOST_TEST(!lists(rthread::threads(), seen));
}

BOOST_AUTO_TEST_CASE(current_works_on_raw_pthread) {
    struct seen_t {
        std::uint64_t id = 0;
        std::uint64_t fast_id = 0;
        bool same = false;
        bool unnamed = false;
    } seen;
    pthread_t t{};
    BOOST_REQUIRE(::pthread_create(
                      &t, nullptr,
                      [](void* p) -> void* {
                          auto& s = *static_cast<seen_t*>(p);
                          const rthread::thread me = rthread::current();
                          s.id = me.id().as_u64();
                          s.fast_id = rthread::current_id().as_u64();
                          s.same = me == rthread::current();
                          s.unnamed = !me.name().has_value();
                          return nullptr;
                      },
                      &seen) == 0);
    ::pthread_join(t, nullptr);
    BOOST_TEST(seen.id > 1u);
    BOOST_TEST(seen.id == seen.fast_id);
    BOOST_TEST(seen.same);
    BOOST_TEST(seen.unnamed);
}

BOOST_AUTO_TEST_CASE(current_id_first_then_current_agree_on_foreign_thread) {
    std::uint64_t first = 0;
    std::uint64_t second = 0;
    std::thread t([&] {
        first = rthread::current_id().as_u64();
        second = rthread::current().id().as_u64();
    });
    t.join();
    BOOST_TEST(first == second);
}

BOOST_AUTO_TEST_CASE(threads_lists_live_threads_only) {
    std::atomic<bool> go{false};
    rthread::thread main = rthread::current();
    auto h = rthread::spawn([&] {
        while (!go.load()) {
            rthread::park();
        }
    });
    const auto during = rthread::threads();
    BOOST_TEST(lists(during, main));
    BOOST_TEST(lists(during, h.thread()));
    go = true;
    h.thread().unpark();
    const rthread::thread t = h.thread();
    h.join().value();
    BOOST_TEST(!lists(rthread::threads(), t));
}

BOOST_AUTO_TEST_CASE(threads_does_not_grow_over_many_short_lived_threads) {
    const std::size_t baseline = rthread::threads().size();
    const int cycles = test_support::stress_count(2000);
    for (int i = 0; i < cycles; ++i) {
        rthread::spawn([] {}).join().value();
        std::thread([] { (void)rthread::current(); }).join();
    }
    BOOST_TEST(rthread::threads().size() == baseline);
}

BOOST_AUTO_TEST_CASE(id_exhaustion_ends_the_process_with_a_clear_message,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    auto child = test_support::run_in_child([] {
        rthread::detail::set_next_thread_id_for_testing(UINT64_MAX - 1);
        const auto last = rthread::spawn([] { return rthread::current_id(); }).join().value();
        if (last.as_u64() != UINT64_MAX - 1) {
            std::_Exit(3);
        }
        (void)rthread::spawn([] {}); // no id is left: ends the process
        std::_Exit(4);
    });
    BOOST_TEST(child.signal == SIGABRT);
    BOOST_TEST(child.stderr_text.find("failed to generate unique thread ID: bitspace exhausted") !=
               std::string::npos);
#endif
}
