// Scoped thread-local references: scoped_key and RTHREAD_SCOPED_THREAD_LOCAL.
// Ported from the scoped-tls crate's tests (smoke, cell_allowed,
// scope_item_allowed, panic_resets) and its documented examples (nesting),
// plus the per-thread and exception cases.
#define BOOST_TEST_MODULE scoped_key
#include "test_main.hpp"

#include <rthread/rthread.hpp>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

constexpr const char* unbound_text =
    "cannot access a scoped thread local variable without calling `set` first";

} // namespace

RTHREAD_SCOPED_THREAD_LOCAL(const int, FOO);

BOOST_AUTO_TEST_CASE(smoke) {
    // scoped-tls: smoke (a key declared in the function).
    RTHREAD_SCOPED_THREAD_LOCAL(const int, BAR);
    BOOST_TEST(!BAR.is_set());
    const int one = 1;
    BAR.set(one, [] {
        BOOST_TEST(BAR.is_set());
        BAR.with([](const int& slot) { BOOST_TEST(slot == 1); });
    });
    BOOST_TEST(!BAR.is_set());
}

BOOST_AUTO_TEST_CASE(cell_allowed) {
    // scoped-tls: cell_allowed. with() hands out T&: the bound object can be
    // changed through it, and the change is seen by its owner.
    RTHREAD_SCOPED_THREAD_LOCAL(int, BAR);
    int cell = 1;
    BAR.set(cell, [] {
        BAR.with([](int& slot) {
            BOOST_TEST(slot == 1);
            slot = 2;
        });
    });
    BOOST_TEST(cell == 2);
}

BOOST_AUTO_TEST_CASE(scope_item_allowed) {
    // scoped-tls: scope_item_allowed (a key declared at namespace scope).
    BOOST_TEST(!FOO.is_set());
    const int one = 1;
    FOO.set(one, [] {
        BOOST_TEST(FOO.is_set());
        FOO.with([](const int& slot) { BOOST_TEST(slot == 1); });
    });
    BOOST_TEST(!FOO.is_set());
}

namespace {
// Reads FOO when destroyed, while the inner set() unwinds.
struct check {
    std::optional<int>* seen;
    ~check() {
        FOO.with([this](const int& r) { *seen = r; });
    }
};
} // namespace

BOOST_AUTO_TEST_CASE(panic_resets) {
    // scoped-tls: panic_resets. An exception out of the inner set() restores
    // the outer binding before outer frames' destructors run.
    rthread::set_panic_hook([](const rthread::panic_info&) {});
    std::optional<int> seen;
    auto r = rthread::spawn([&seen] {
                 const int one = 1;
                 const int two = 2;
                 FOO.set(one, [&] {
                     const check c{&seen};
                     FOO.set(two, []() -> void { throw std::runtime_error("boom"); });
                 });
             }).join();
    rthread::take_panic_hook();
    BOOST_TEST((seen == std::optional<int>(1)));
    BOOST_TEST(r.has_error());
}

BOOST_AUTO_TEST_CASE(set_nests_and_restores_the_outer_binding) {
    // The crate's set() example: recursive calls restore the previous value.
    const int hundred = 100;
    const int hundred_one = 101;
    FOO.set(hundred, [&] {
        BOOST_TEST(FOO.with([](const int& v) { return v; }) == 100);
        FOO.set(hundred_one, [] { BOOST_TEST(FOO.with([](const int& v) { return v; }) == 101); });
        BOOST_TEST(FOO.with([](const int& v) { return v; }) == 100);
    });
    BOOST_TEST(!FOO.is_set());
}

BOOST_AUTO_TEST_CASE(set_restores_the_binding_when_f_throws) {
    const int one = 1;
    BOOST_CHECK_THROW(FOO.set(one, []() -> void { throw std::runtime_error("out"); }),
                      std::runtime_error);
    BOOST_TEST(!FOO.is_set());
}

BOOST_AUTO_TEST_CASE(set_and_with_return_what_the_function_returns) {
    RTHREAD_SCOPED_THREAD_LOCAL(std::string, NAME);
    std::string name = "abc";
    const std::size_t size =
        NAME.set(name, [] { return NAME.with([](std::string& s) { return s.size(); }); });
    BOOST_TEST(size == 3u);
    std::string& same = NAME.set(
        name, [] { return std::ref(NAME.with([](std::string& s) -> std::string& { return s; })); });
    BOOST_TEST(&same == &name);
}

BOOST_AUTO_TEST_CASE(with_unbound_panics_with_the_crates_message) {
    RTHREAD_SCOPED_THREAD_LOCAL(int, UNBOUND);
    BOOST_CHECK_EXCEPTION(
        UNBOUND.with([](int&) {}), rthread::panic_error,
        [](const rthread::panic_error& e) { return std::string(e.what()) == unbound_text; });
}

BOOST_AUTO_TEST_CASE(a_binding_is_seen_by_the_binding_thread_only) {
    const int one = 1;
    FOO.set(one, [] {
        const auto other = rthread::spawn([] {
                               const bool unbound_there = !FOO.is_set();
                               const int seven = 7;
                               const int seen = FOO.set(
                                   seven, [] { return FOO.with([](const int& v) { return v; }); });
                               return unbound_there && seen == 7;
                           })
                               .join()
                               .value();
        BOOST_TEST(other);
        BOOST_TEST(FOO.with([](const int& v) { return v; }) == 1);
    });
}

BOOST_AUTO_TEST_CASE(bindings_on_many_threads_at_once) {
    // Under ThreadSanitizer: concurrent bindings of one key never meet.
    constexpr int threads = 4;
    std::atomic<int> ready{0};
    std::vector<rthread::join_handle<bool>> handles;
    handles.reserve(threads);
    for (int t = 0; t < threads; ++t) {
        handles.push_back(rthread::spawn([&ready, t] {
            // relaxed: a start line only.
            ready.fetch_add(1, std::memory_order_relaxed);
            while (ready.load(std::memory_order_relaxed) < threads) {
                rthread::yield_now();
            }
            bool ok = true;
            for (int i = 0; i < 1000; ++i) {
                const int mine = t * 10000 + i;
                ok = ok && FOO.set(mine, [mine] {
                    return FOO.with([](const int& v) { return v; }) == mine;
                });
            }
            return ok && !FOO.is_set();
        }));
    }
    for (auto& h : handles) {
        BOOST_TEST(h.join().value());
    }
}

namespace {
// Two keys of one type declared without the macro: each is its own key.
const rthread::scoped_key<int> first_plain;
const rthread::scoped_key<int> second_plain;
} // namespace

BOOST_AUTO_TEST_CASE(keys_of_one_type_have_their_own_bindings) {
    int a = 1;
    int b = 2;
    first_plain.set(a, [&] {
        BOOST_TEST(!second_plain.is_set());
        second_plain.set(b, [&] {
            BOOST_TEST(first_plain.with([](int& v) { return &v; }) == &a);
            BOOST_TEST(second_plain.with([](int& v) { return &v; }) == &b);
        });
        BOOST_TEST(!second_plain.is_set());
        BOOST_TEST(first_plain.with([](int& v) { return v; }) == 1);
    });
    BOOST_TEST(!first_plain.is_set());
}

BOOST_AUTO_TEST_CASE(interleaved_bindings_of_two_keys_restore_each_key) {
    // a1 { b1 { a2 } }: inside, A sees a2 and B b1; after the inner set(), A
    // sees a1 again while B still sees b1.
    int a1 = 1;
    int a2 = 2;
    int b1 = 10;
    first_plain.set(a1, [&] {
        second_plain.set(b1, [&] {
            first_plain.set(a2, [&] {
                BOOST_TEST(first_plain.with([](int& v) { return v; }) == 2);
                BOOST_TEST(second_plain.with([](int& v) { return v; }) == 10);
            });
            BOOST_TEST(first_plain.with([](int& v) { return v; }) == 1);
            BOOST_TEST(second_plain.with([](int& v) { return v; }) == 10);
        });
        BOOST_TEST(!second_plain.is_set());
    });
}

namespace {
// Reads FOO from a local_key value's destructor at thread end, while no
// set() is in progress: the key is unbound, not destroyed.
std::atomic<bool> unbound_in_teardown{false};
struct reads_foo_when_destroyed {
    ~reads_foo_when_destroyed() { unbound_in_teardown = !FOO.is_set(); }
};
RTHREAD_THREAD_LOCAL(reads_foo_when_destroyed, READER, {});
} // namespace

BOOST_AUTO_TEST_CASE(a_scoped_key_is_usable_in_thread_local_destructors) {
    rthread::spawn([] {
        const int one = 1;
        FOO.set(one, [] { READER.with([](reads_foo_when_destroyed&) {}); });
    })
        .join()
        .value();
    BOOST_TEST(unbound_in_teardown.load());
}
