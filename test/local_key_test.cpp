// Thread-local storage: local_key, RTHREAD_THREAD_LOCAL and the per-thread
// destructor table. Ported from Rust's library/std/src/thread/local/tests.rs
// (smoke_no_dtor, states, smoke_dtor, circular, self_referential,
// dtors_in_dtors_in_dtors, join_orders_after_tls_destructors,
// thread_current_in_dtor) and the examples of LocalKey's set/get/take/replace
// and with_borrow/with_borrow_mut, plus the C++-specific cases: foreign
// threads, the main thread at exit, a destructor that throws, 10,000 keys,
// concurrent access.
//
// Boost.Test's assertions are not thread-safe: threads and destructors record
// what they see, and the test checks it after join().
#define BOOST_TEST_MODULE local_key
#include "test_main.hpp"

#include "child_process.hpp"
#include "platform.hpp"
#include "thread_locals.hpp"

#include <rthread/rthread.hpp>

#include <boost/thread/tss.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

namespace {

constexpr const char* access_error_text =
    "cannot access a Thread Local Storage value during or after destruction";

// A one-shot event (Rust's tests' Signal).
class one_shot {
public:
    void notify() {
        std::lock_guard<std::mutex> lock(mutex_);
        set_ = true;
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return set_; });
    }
    bool is_set() {
        std::lock_guard<std::mutex> lock(mutex_);
        return set_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool set_ = false;
};

// Notifies a signal when destroyed (Rust's NotifyOnDrop); moved-from
// instances stay silent, as Rust moves run no Drop.
struct notify_on_destroy {
    one_shot* target = nullptr;
    notify_on_destroy() = default;
    explicit notify_on_destroy(one_shot* s) : target(s) {}
    notify_on_destroy(notify_on_destroy&& other) noexcept
        : target(std::exchange(other.target, nullptr)) {}
    notify_on_destroy& operator=(notify_on_destroy&& other) noexcept {
        std::swap(target, other.target);
        return *this;
    }
    ~notify_on_destroy() {
        if (target != nullptr) {
            target->notify();
        }
    }
};

// A log that destructors running on other threads write to; read after
// join() (which orders those writes before the read) or under the lock.
class event_log {
public:
    void add(std::string event) {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(std::move(event));
    }
    std::vector<std::string> events() {
        std::lock_guard<std::mutex> lock(mutex_);
        return events_;
    }
    void clear() {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.clear();
    }

private:
    std::mutex mutex_;
    std::vector<std::string> events_;
};

event_log& the_log() {
    static event_log log;
    return log;
}

// Appends "<name>" to the log when destroyed (if armed).
struct logs_on_destroy {
    std::string name;
    logs_on_destroy() = default;
    explicit logs_on_destroy(std::string n) : name(std::move(n)) {}
    logs_on_destroy(logs_on_destroy&& other) noexcept : name(std::exchange(other.name, "")) {}
    logs_on_destroy& operator=(logs_on_destroy&& other) noexcept {
        std::swap(name, other.name);
        return *this;
    }
    ~logs_on_destroy() {
        if (!name.empty()) {
            the_log().add(name);
        }
    }
};

std::vector<std::string> expected(std::initializer_list<const char*> events) {
    return std::vector<std::string>(events.begin(), events.end());
}

} // namespace

// ---------------------------------------------------------------------------
// Declaring keys

RTHREAD_THREAD_LOCAL(int, NAMESPACE_SCOPE_KEY, 1);

const rthread::local_key<std::string> KEY_WITHOUT_MACRO{[] { return std::string("plain"); }};

// A key is a constant expression (every member set by the constexpr
// constructor), which is what lets the compiler fold a static const key.
constexpr rthread::local_key<int> CONSTEXPR_KEY{[] { return 3; }};

#if defined(__cpp_constinit)
// The constructor is constexpr: a key is constant-initialised, so static
// initializers in other translation units may use it in any order.
constinit RTHREAD_THREAD_LOCAL(int, CONSTINIT_KEY, 5);
#endif

BOOST_AUTO_TEST_CASE(keys_declared_at_namespace_scope_with_and_without_the_macro) {
    BOOST_TEST(NAMESPACE_SCOPE_KEY.get() == 1);
    BOOST_TEST(KEY_WITHOUT_MACRO.get() == "plain");
    BOOST_TEST(CONSTEXPR_KEY.get() == 3);
#if defined(__cpp_constinit)
    BOOST_TEST(CONSTINIT_KEY.get() == 5);
#endif
}

BOOST_AUTO_TEST_CASE(keys_declared_at_block_scope) {
    RTHREAD_THREAD_LOCAL(std::vector<int>, LIST, {1, 2, 3});
    BOOST_TEST(LIST.with([](std::vector<int>& v) { return v.size(); }) == 3u);
    static const rthread::local_key<double> SCALE{[] { return 0.5; }};
    BOOST_TEST(SCALE.get() == 0.5);
}

namespace {
// A key is named by its initializer lambda's type (local_key.hpp): these
// two keys are made from one lambda object, so they are one key.
constexpr auto shared_initializer = [] { return 10; };
const rthread::local_key<int> SAME_LAMBDA_A{shared_initializer};
const rthread::local_key<int> SAME_LAMBDA_B{shared_initializer};

// Keeps the key opaque to the compiler: access goes through the key's
// stored slot function instead of a folded thread-pointer offset.
BOOST_NOINLINE int add_through_reference(const rthread::local_key<int>& key, int n) {
    return key.with([n](int& v) { return v += n; });
}
} // namespace

BOOST_AUTO_TEST_CASE(keys_made_from_one_lambda_object_share_their_values) {
    SAME_LAMBDA_A.set(11);
    BOOST_TEST(SAME_LAMBDA_B.get() == 11);
    const int other_thread = rthread::spawn([] {
                                 SAME_LAMBDA_B.set(12);
                                 return SAME_LAMBDA_A.get();
                             })
                                 .join()
                                 .value();
    BOOST_TEST(other_thread == 12);
    BOOST_TEST(SAME_LAMBDA_A.get() == 11);
}

BOOST_AUTO_TEST_CASE(a_key_through_a_reference_and_by_name_is_one_value) {
    RTHREAD_THREAD_LOCAL(int, COUNT, 0);
    const auto seen = rthread::spawn([] {
                          const bool fresh =
                              COUNT.state() == rthread::local_key_state::uninitialized;
                          add_through_reference(COUNT, 5); // first made through the reference
                          COUNT.with([](int& v) { v *= 2; });
                          return std::make_pair(fresh, add_through_reference(COUNT, 1));
                      })
                          .join()
                          .value();
    BOOST_TEST(seen.first);
    BOOST_TEST(seen.second == 11);
}

// ---------------------------------------------------------------------------
// Rust's tests

namespace {

// Rust: smoke_no_dtor.
void smoke_no_dtor(const rthread::local_key<int>& key) {
    key.with([](int& v) {
        BOOST_TEST(v == 1);
        v = 2;
    });
    auto h = rthread::spawn([&key] { return key.with([](int& v) { return v; }); });
    BOOST_TEST(h.join().value() == 1);
    BOOST_TEST(key.with([](int& v) { return v; }) == 2);
}

} // namespace

BOOST_AUTO_TEST_CASE(each_thread_gets_its_own_value) {
    RTHREAD_THREAD_LOCAL(int, FOO, 1);
    smoke_no_dtor(FOO);
    static const rthread::local_key<int> FOO2{[] { return 1; }};
    smoke_no_dtor(FOO2);
}

namespace states_test {

struct foo {
    const rthread::local_key<foo>* key;
    ~foo() {
        // While its own destructor runs, the key reads as destroyed.
        const auto during = key->try_with([](foo&) {});
        the_log().add(during.has_value() ? "try_with ok" : "try_with error");
        the_log().add(key->state() == rthread::local_key_state::destroyed ? "destroyed"
                                                                          : "not destroyed");
    }
};

RTHREAD_THREAD_LOCAL(foo, FOO, foo{&FOO});

} // namespace states_test

BOOST_AUTO_TEST_CASE(states) {
    // Rust: states.
    using states_test::FOO;
    the_log().clear();
    auto h = rthread::spawn([] {
        std::vector<rthread::local_key_state> seen{FOO.state()};
        const bool ok = FOO.try_with([](states_test::foo&) {}).has_value();
        seen.push_back(FOO.state());
        return std::make_pair(ok, seen);
    });
    const auto [ok, seen] = h.join().value();
    BOOST_TEST(ok);
    BOOST_TEST(
        (seen == std::vector<rthread::local_key_state>{rthread::local_key_state::uninitialized,
                                                       rthread::local_key_state::valid}));
    BOOST_TEST(the_log().events() == expected({"try_with error", "destroyed"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(smoke_dtor) {
    // Rust: smoke_dtor. The value's destructor runs when its thread ends.
    RTHREAD_THREAD_LOCAL(std::optional<notify_on_destroy>, FOO, std::nullopt);
    one_shot done;
    auto h = rthread::spawn(
        [&done] { FOO.with([&done](std::optional<notify_on_destroy>& v) { v.emplace(&done); }); });
    done.wait();
    BOOST_TEST(done.is_set());
    h.join().value();
}

namespace circular_test {

struct s1;
struct s2;
using k1_type = rthread::local_key<std::optional<s1>>;
using k2_type = rthread::local_key<std::optional<s2>>;

std::atomic<int> hits{0};

struct s1 {
    const k1_type* k1;
    const k2_type* k2;
    s1(const k1_type* a, const k2_type* b) : k1(a), k2(b) {}
    s1(const s1&) = delete;
    ~s1();
};

struct s2 {
    const k1_type* k1;
    const k2_type* k2;
    s2(const k1_type* a, const k2_type* b) : k1(a), k2(b) {}
    s2(const s2&) = delete;
    ~s2();
};

s1::~s1() {
    const int hit = ++hits;
    if (!k2->try_with([](std::optional<s2>&) {}).has_value()) {
        the_log().add("s1 " + std::to_string(hit) + ": k2 destroyed");
    } else if (hit == 1) {
        the_log().add("s1 1: k2 valid, storing s2 in it");
        k2->with([this](std::optional<s2>& v) { v.emplace(k1, k2); });
    } else {
        the_log().add("s1 " + std::to_string(hit) + ": k2 valid");
    }
}

s2::~s2() {
    const int hit = ++hits;
    const bool k1_ok = k1->try_with([](std::optional<s1>&) {}).has_value();
    the_log().add("s2 " + std::to_string(hit) + (k1_ok ? ": k1 valid" : ": k1 destroyed") +
                  ", storing s1 in it");
    k1->with([this](std::optional<s1>& v) { v.emplace(k1, k2); });
}

RTHREAD_THREAD_LOCAL(std::optional<s1>, K1, std::nullopt);
RTHREAD_THREAD_LOCAL(std::optional<s2>, K2, std::nullopt);

} // namespace circular_test

BOOST_AUTO_TEST_CASE(circular) {
    // Rust: circular. s1 (a plain local) stores an s2 in K2; at teardown
    // K2's s2 stores a new s1 in K1, first touched then; K1 goes next and
    // finds K2 destroyed.
    using namespace circular_test;
    the_log().clear();
    hits = 0;
    rthread::spawn([] { s1 local(&K1, &K2); }).join().value();
    BOOST_TEST(the_log().events() ==
                   expected({"s1 1: k2 valid, storing s2 in it", "s2 2: k1 valid, storing s1 in it",
                             "s1 3: k2 destroyed"}),
               boost::test_tools::per_element());
}

namespace self_referential_test {

struct s1 {
    const rthread::local_key<std::optional<s1>>* key;
    explicit s1(const rthread::local_key<std::optional<s1>>* k) : key(k) {}
    s1(const s1&) = delete;
    ~s1() {
        const bool ok = key->try_with([](std::optional<s1>&) {}).has_value();
        the_log().add(ok ? "own key valid" : "own key destroyed");
    }
};

RTHREAD_THREAD_LOCAL(std::optional<s1>, K1, std::nullopt);

} // namespace self_referential_test

BOOST_AUTO_TEST_CASE(self_referential) {
    // Rust: self_referential.
    using namespace self_referential_test;
    the_log().clear();
    rthread::spawn([] { K1.with([](std::optional<s1>& v) { v.emplace(&K1); }); }).join().value();
    BOOST_TEST(the_log().events() == expected({"own key destroyed"}),
               boost::test_tools::per_element());
}

namespace dtors_in_dtors_test {

RTHREAD_THREAD_LOCAL(std::optional<notify_on_destroy>, K2, std::nullopt);

struct s1 {
    one_shot* target;
    explicit s1(one_shot* s) : target(s) {}
    s1(const s1&) = delete;
    ~s1() {
        // K2 is first touched here, during teardown: made now, destroyed
        // in the same teardown (its destructor is what the test waits for).
        (void)K2.try_with([this](std::optional<notify_on_destroy>& v) { v.emplace(target); });
    }
};

RTHREAD_THREAD_LOCAL(std::optional<s1>, K1, std::nullopt);

} // namespace dtors_in_dtors_test

BOOST_AUTO_TEST_CASE(dtors_in_dtors_in_dtors) {
    // Rust: dtors_in_dtors_in_dtors. Would hang if the value made during
    // teardown were never destroyed.
    using namespace dtors_in_dtors_test;
    one_shot done;
    auto h = rthread::spawn([&done] { K1.with([&](std::optional<s1>& v) { v.emplace(&done); }); });
    done.wait();
    h.join().value();
}

namespace join_orders_test {

// Rust: join_orders_after_tls_destructors, a rendezvous built from one
// atomic and yield_now().
enum sync_state : int { fresh, thread2_launched, thread1_waiting, main_rendezvous, thread2_joined };
std::atomic<int> state{fresh};

struct tl_drop {
    ~tl_drop() noexcept(false) {
        // relaxed: spawn and join order everything the test checks; the
        // atomic only carries its own value (as in Rust's test).
        int seen = state.exchange(thread1_waiting, std::memory_order_relaxed);
        for (;;) {
            if (seen == thread2_launched || seen == thread1_waiting) {
                rthread::yield_now();
            } else if (seen == main_rendezvous) {
                break;
            } else {
                // thread2_joined: thread 1 still ran after thread 2 joined it.
                // Ends the process ("thread local panicked on drop").
                throw std::logic_error("thread 1 still running after thread 2 joined it");
            }
            seen = state.load(std::memory_order_relaxed);
        }
    }
};

RTHREAD_THREAD_LOCAL(tl_drop, TL_DROP, tl_drop{});

} // namespace join_orders_test

BOOST_AUTO_TEST_CASE(join_orders_after_tls_destructors) {
    using namespace join_orders_test;
    for (int round = 0; round < 10; ++round) {
        state.store(fresh, std::memory_order_relaxed);
        auto jh = rthread::builder{}
                      .name("thread1")
                      .spawn([] {
                          TL_DROP.with([](tl_drop&) {});
                          for (;;) {
                              const int seen = state.load(std::memory_order_relaxed);
                              if (seen == fresh) {
                                  rthread::yield_now();
                              } else if (seen == thread2_launched) {
                                  break;
                              } else {
                                  throw std::logic_error("thread 1: unexpected state");
                              }
                          }
                      })
                      .value();
        auto jh2 =
            rthread::builder{}
                .name("thread2")
                .spawn([jh = std::move(jh)]() mutable {
                    if (state.exchange(thread2_launched, std::memory_order_relaxed) != fresh) {
                        throw std::logic_error("thread 2: unexpected start state");
                    }
                    jh.join().value();
                    const int seen = state.exchange(thread2_joined, std::memory_order_relaxed);
                    if (seen != main_rendezvous) {
                        throw std::logic_error(
                            "thread 2 running after thread 1 join before main rendezvous");
                    }
                })
                .value();
        bool rendezvous = false;
        while (!rendezvous) {
            int seen = thread1_waiting;
            if (state.compare_exchange_strong(seen, main_rendezvous, std::memory_order_relaxed)) {
                rendezvous = true;
            } else if (seen == fresh || seen == thread2_launched) {
                rthread::yield_now();
            } else {
                BOOST_FAIL("main thread rendezvous after thread 2 joined thread 1");
            }
        }
        BOOST_TEST(jh2.join().has_value());
    }
}

namespace current_in_dtor_test {

std::mutex name_mutex;
std::optional<std::string> name_seen;

struct retrieve_name {
    ~retrieve_name() {
        const auto name = rthread::current().name();
        std::lock_guard<std::mutex> lock(name_mutex);
        name_seen = name ? std::string(*name) : std::string("<none>");
    }
};
RTHREAD_THREAD_LOCAL(retrieve_name, RETRIEVE, retrieve_name{});

struct defer {
    // Touches RETRIEVE first during teardown: one more round.
    ~defer() {
        RETRIEVE.with([](retrieve_name&) {});
    }
};
RTHREAD_THREAD_LOCAL(defer, DEFER, defer{});

} // namespace current_in_dtor_test

BOOST_AUTO_TEST_CASE(thread_current_in_dtor) {
    // Rust: thread_current_in_dtor.
    using namespace current_in_dtor_test;
    rthread::builder{}.name("test").spawn([] { DEFER.with([](defer&) {}); }).value().join().value();
    std::lock_guard<std::mutex> lock(name_mutex);
    BOOST_TEST(name_seen.value_or("<not run>") == "test");
}

// ---------------------------------------------------------------------------
// set / get / take / replace (Rust's LocalKey<Cell<T>> and LocalKey<RefCell<T>>
// conveniences, and with_borrow / with_borrow_mut)

namespace {
std::atomic<int> initializer_runs{0};
int counted_initializer() {
    ++initializer_runs;
    return 1;
}
} // namespace

BOOST_AUTO_TEST_CASE(set_does_not_run_the_initializer) {
    // Rust's LocalKey::set example: the initializer panics if it runs.
    RTHREAD_THREAD_LOCAL(int, X, []() -> int { throw std::logic_error("should not run"); }());
    const int got = rthread::spawn([] {
                        X.set(123);
                        return X.get();
                    })
                        .join()
                        .value();
    BOOST_TEST(got == 123);
}

BOOST_AUTO_TEST_CASE(set_on_an_initialized_key_assigns) {
    static const rthread::local_key<int> X{[] { return counted_initializer(); }};
    const bool ok = rthread::spawn([] {
                        const int before = initializer_runs;
                        const int first = X.get();
                        X.set(7);
                        return first == 1 && X.get() == 7 && initializer_runs == before + 1;
                    })
                        .join()
                        .value();
    BOOST_TEST(ok);
}

BOOST_AUTO_TEST_CASE(set_a_vector_without_the_initializer) {
    // Rust's LocalKey<RefCell<T>>::set example.
    RTHREAD_THREAD_LOCAL(std::vector<int>, X,
                         []() -> std::vector<int> { throw std::logic_error("should not run"); }());
    const auto got = rthread::spawn([] {
                         X.set({1, 2, 3});
                         return X.with([](std::vector<int>& v) { return v; });
                     })
                         .join()
                         .value();
    BOOST_TEST(got == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(get_copies_the_value) {
    RTHREAD_THREAD_LOCAL(int, X, 1);
    const auto got = rthread::spawn([] {
                         const int first = X.get();
                         X.with([](int& v) { v = 5; });
                         return std::make_pair(first, X.get());
                     })
                         .join()
                         .value();
    BOOST_TEST(got.first == 1);
    BOOST_TEST(got.second == 5);
}

BOOST_AUTO_TEST_CASE(take_leaves_a_default_value) {
    // Rust's LocalKey<Cell<Option<i32>>>::take example.
    RTHREAD_THREAD_LOCAL(std::optional<int>, X, 1);
    const auto got = rthread::spawn([] {
                         const auto first = X.take();
                         const auto second = X.take();
                         return std::make_pair(first, second);
                     })
                         .join()
                         .value();
    BOOST_TEST((got.first == std::optional<int>(1)));
    BOOST_TEST(!got.second.has_value());
}

BOOST_AUTO_TEST_CASE(take_a_vector) {
    // Rust's LocalKey<RefCell<Vec<i32>>>::take example, with with_borrow_mut.
    RTHREAD_THREAD_LOCAL(std::vector<int>, X, {});
    const auto got = rthread::spawn([] {
                         X.with([](std::vector<int>& v) { v.push_back(1); });
                         const auto taken = X.take();
                         const bool now_empty =
                             X.with([](std::vector<int>& v) { return v.empty(); });
                         return std::make_pair(taken, now_empty);
                     })
                         .join()
                         .value();
    BOOST_TEST(got.first == (std::vector<int>{1}), boost::test_tools::per_element());
    BOOST_TEST(got.second);
}

BOOST_AUTO_TEST_CASE(replace_returns_the_old_value) {
    // Rust's LocalKey<Cell<i32>>::replace example.
    RTHREAD_THREAD_LOCAL(int, X, 1);
    const auto got = rthread::spawn([] {
                         const int a = X.replace(2);
                         const int b = X.replace(3);
                         return std::make_tuple(a, b, X.get());
                     })
                         .join()
                         .value();
    BOOST_TEST(std::get<0>(got) == 1);
    BOOST_TEST(std::get<1>(got) == 2);
    BOOST_TEST(std::get<2>(got) == 3);
}

BOOST_AUTO_TEST_CASE(replace_runs_the_initializer_first) {
    static const rthread::local_key<int> X{[] { return counted_initializer(); }};
    const bool ok = rthread::spawn([] {
                        const int before = initializer_runs;
                        const int old = X.replace(9);
                        return old == 1 && initializer_runs == before + 1 && X.get() == 9;
                    })
                        .join()
                        .value();
    BOOST_TEST(ok);
}

BOOST_AUTO_TEST_CASE(with_borrow_and_with_borrow_mut) {
    // Rust's with_borrow / with_borrow_mut examples: with() gives T&.
    RTHREAD_THREAD_LOCAL(std::vector<int>, X, {});
    const auto got = rthread::spawn([] {
                         X.with([](std::vector<int>& v) { v.push_back(1); });
                         return X.with([](const std::vector<int>& v) { return v; });
                     })
                         .join()
                         .value();
    BOOST_TEST(got == (std::vector<int>{1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(with_returns_what_the_function_returns) {
    RTHREAD_THREAD_LOCAL(std::string, X, "abc");
    BOOST_TEST(X.with([](std::string& s) { return s.size(); }) == 3u);
    std::string& ref = X.with([](std::string& s) -> std::string& { return s; });
    ref += "d";
    BOOST_TEST(X.get() == "abcd");
    X.with([](std::string& s) { s.clear(); });
    BOOST_TEST(X.get().empty());
}

BOOST_AUTO_TEST_CASE(try_with_returns_the_value_or_reference) {
    RTHREAD_THREAD_LOCAL(int, X, 4);
    const auto value = X.try_with([](int& v) { return v * 2; });
    BOOST_TEST(value.value() == 8);
    const auto reference = X.try_with([](int& v) -> int& { return v; });
    reference.value().get() = 6;
    BOOST_TEST(X.get() == 6);
    const auto nothing = X.try_with([](int&) {});
    BOOST_TEST(nothing.has_value());
}

// ---------------------------------------------------------------------------
// Initialisation

BOOST_AUTO_TEST_CASE(initializer_runs_lazily_once_per_thread) {
    static const rthread::local_key<int> X{[] { return counted_initializer(); }};
    const int runs = rthread::spawn([] {
                         const int before = initializer_runs;
                         const bool lazy = X.state() == rthread::local_key_state::uninitialized &&
                                           initializer_runs == before;
                         X.get();
                         X.get();
                         X.with([](int&) {});
                         return lazy ? initializer_runs - before : -1;
                     })
                         .join()
                         .value();
    BOOST_TEST(runs == 1);
}

namespace {
std::atomic<int> failing_runs{0};
int fails_the_first_time() {
    if (++failing_runs == 1) {
        throw std::runtime_error("first initialisation fails");
    }
    return 42;
}
} // namespace

BOOST_AUTO_TEST_CASE(initializer_that_throws_leaves_the_key_uninitialized) {
    static const rthread::local_key<int> X{[] { return fails_the_first_time(); }};
    const auto got = rthread::spawn([] {
                         std::string message;
                         try {
                             X.get();
                         } catch (const std::runtime_error& e) {
                             message = e.what();
                         }
                         const auto after_failure = X.state();
                         const int value = X.get(); // runs the initializer again
                         return std::make_tuple(message, after_failure, value, X.state());
                     })
                         .join()
                         .value();
    BOOST_TEST(std::get<0>(got) == "first initialisation fails");
    BOOST_TEST((std::get<1>(got) == rthread::local_key_state::uninitialized));
    BOOST_TEST(std::get<2>(got) == 42);
    BOOST_TEST((std::get<3>(got) == rthread::local_key_state::valid));
    BOOST_TEST(failing_runs == 2);
}

BOOST_AUTO_TEST_CASE(initializer_exception_passes_through_try_with) {
    RTHREAD_THREAD_LOCAL(int, X, []() -> int { throw std::out_of_range("no value"); }());
    BOOST_CHECK_THROW((void)X.try_with([](int&) {}), std::out_of_range);
    BOOST_TEST((X.state() == rthread::local_key_state::uninitialized));
}

BOOST_AUTO_TEST_CASE(initializer_that_accesses_its_own_key_panics) {
    static const rthread::local_key<int> X{[]() -> int { return X.get() + 1; }};
    BOOST_CHECK_EXCEPTION(X.get(), rthread::panic_error, [](const rthread::panic_error& e) {
        return std::string(e.what()).find("recursive initialization") != std::string::npos;
    });
    BOOST_TEST((X.state() == rthread::local_key_state::uninitialized));
}

BOOST_AUTO_TEST_CASE(initializer_may_use_other_keys) {
    RTHREAD_THREAD_LOCAL(int, BASE, 20);
    static const rthread::local_key<int> DERIVED{[] { return BASE.get() + 1; }};
    BOOST_TEST(rthread::spawn([] { return DERIVED.get(); }).join().value() == 21);
}

// ---------------------------------------------------------------------------
// Teardown

namespace access_in_dtor_test {

struct probe {
    const rthread::local_key<probe>* self = nullptr;
    ~probe() {
        if (self == nullptr) {
            return;
        }
        try {
            self->with([](probe&) {});
            the_log().add("with succeeded");
        } catch (const rthread::access_error& e) {
            the_log().add(e.what());
        }
        const auto r = self->try_with([](probe&) { return 1; });
        the_log().add(r.has_error() && r.error() == rthread::access_error() ? "try_with error"
                                                                            : "try_with value");
        try {
            (void)r.value();
        } catch (const rthread::access_error&) {
            the_log().add("value() throws access_error");
        }
        try {
            self->set(probe{});
        } catch (const rthread::access_error&) {
            the_log().add("set throws access_error");
        }
    }
};

RTHREAD_THREAD_LOCAL(probe, P, probe{});

} // namespace access_in_dtor_test

BOOST_AUTO_TEST_CASE(access_during_destruction_fails_with_access_error) {
    using namespace access_in_dtor_test;
    the_log().clear();
    rthread::spawn([] { P.with([](probe& p) { p.self = &P; }); }).join().value();
    BOOST_TEST(the_log().events() ==
                   expected({access_error_text, "try_with error", "value() throws access_error",
                             "set throws access_error"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(access_error_message_is_rusts) {
    BOOST_TEST(std::string(rthread::access_error().what()) == access_error_text);
}

namespace order_test {
RTHREAD_THREAD_LOCAL(logs_on_destroy, A, logs_on_destroy("A"));
RTHREAD_THREAD_LOCAL(logs_on_destroy, B, logs_on_destroy("B"));
RTHREAD_THREAD_LOCAL(logs_on_destroy, C, logs_on_destroy("C"));
RTHREAD_THREAD_LOCAL(logs_on_destroy, LATE, logs_on_destroy("LATE"));

struct touches_late {
    ~touches_late() {
        the_log().add("D");
        LATE.with([](logs_on_destroy&) {});
    }
};
RTHREAD_THREAD_LOCAL(touches_late, D, touches_late{});
} // namespace order_test

BOOST_AUTO_TEST_CASE(values_are_destroyed_in_reverse_order_of_initialization) {
    using namespace order_test;
    the_log().clear();
    rthread::spawn([] {
        B.with([](logs_on_destroy&) {});
        C.with([](logs_on_destroy&) {});
        A.with([](logs_on_destroy&) {});
        B.with([](logs_on_destroy&) {}); // a later access does not reorder
    })
        .join()
        .value();
    BOOST_TEST(the_log().events() == expected({"A", "C", "B"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(key_first_touched_during_teardown_is_destroyed_next) {
    using namespace order_test;
    the_log().clear();
    rthread::spawn([] {
        A.with([](logs_on_destroy&) {});
        D.with([](touches_late&) {});
        B.with([](logs_on_destroy&) {});
    })
        .join()
        .value();
    // B (newest) first, then D, whose destructor makes LATE: the newest now,
    // so it goes before A.
    BOOST_TEST(the_log().events() == expected({"B", "D", "LATE", "A"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(join_returns_after_the_values_were_destroyed) {
    // A destructor that sets a flag is observed by the joiner.
    static std::atomic<bool> destroyed{false};
    struct sets_flag {
        // relaxed: join() orders this store before the joiner's load.
        ~sets_flag() { destroyed.store(true, std::memory_order_relaxed); }
    };
    static const rthread::local_key<sets_flag> K{[] { return sets_flag{}; }};
    for (int round = 0; round < 20; ++round) {
        destroyed = false;
        rthread::spawn([] { K.with([](sets_flag&) {}); }).join().value();
        BOOST_TEST_REQUIRE(destroyed.load(std::memory_order_relaxed));
    }
}

BOOST_AUTO_TEST_CASE(scope_returns_after_the_scoped_threads_values_were_destroyed) {
    // Unlike Rust (rust-lang/rust#116179), scope() waits for the scoped
    // threads' thread-local destructors, as join() does; dropped handles
    // included.
    using namespace order_test;
    the_log().clear();
    rthread::scope([](rthread::scope_handle& s) {
        s.spawn([] { A.with([](logs_on_destroy&) {}); });
        (void)s.spawn([] { D.with([](touches_late&) {}); });
    });
    auto events = the_log().events();
    std::sort(events.begin(), events.end());
    BOOST_TEST(events == expected({"A", "D", "LATE"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(values_are_destroyed_after_a_panic_too) {
    using namespace order_test;
    the_log().clear();
    rthread::set_panic_hook([](const rthread::panic_info&) {});
    auto r = rthread::spawn([] {
                 A.with([](logs_on_destroy&) {});
                 B.with([](logs_on_destroy&) {});
                 throw std::runtime_error("boom");
             }).join();
    rthread::take_panic_hook();
    BOOST_TEST(r.has_error());
    BOOST_TEST(the_log().events() == expected({"B", "A"}), boost::test_tools::per_element());
}

namespace parking_in_dtor_test {
struct parks {
    rthread::thread_id owner{rthread::current_id()};
    ~parks() {
        // The thread's own handle still works: unpark it, then park()
        // consumes the token at once.
        const rthread::thread me = rthread::current();
        me.unpark();
        rthread::park();
        the_log().add(me.id() == owner && rthread::current_id() == owner ? "same thread"
                                                                         : "other thread");
    }
};
RTHREAD_THREAD_LOCAL(parks, K, parks{});

struct waits_for_main {
    rthread::thread main_thread;
    std::atomic<bool>* started;
    std::atomic<bool>* go;
    waits_for_main(rthread::thread m, std::atomic<bool>* s, std::atomic<bool>* g)
        : main_thread(std::move(m)), started(s), go(g) {}
    waits_for_main(const waits_for_main&) = delete;
    ~waits_for_main() {
        // Tells the main thread (through its handle) that teardown has
        // started, then parks until the main thread unparks this one.
        // release: pairs with the main thread's acquire load.
        started->store(true, std::memory_order_release);
        main_thread.unpark();
        // acquire: pairs with the main thread's release store.
        while (!go->load(std::memory_order_acquire)) {
            rthread::park();
        }
        the_log().add("unparked");
    }
};
} // namespace parking_in_dtor_test

BOOST_AUTO_TEST_CASE(current_and_park_work_inside_destructors) {
    using namespace parking_in_dtor_test;
    the_log().clear();
    rthread::spawn([] { K.with([](parks&) {}); }).join().value();
    BOOST_TEST(the_log().events() == expected({"same thread"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(another_thread_can_unpark_a_thread_in_teardown) {
    using namespace parking_in_dtor_test;
    static std::atomic<bool> started{false};
    static std::atomic<bool> go{false};
    static const rthread::local_key<std::optional<waits_for_main>> W{
        [] { return std::optional<waits_for_main>(); }};
    the_log().clear();
    started = false;
    go = false;
    auto h = rthread::spawn([main_thread = rthread::current()] {
        W.with([&](std::optional<waits_for_main>& w) { w.emplace(main_thread, &started, &go); });
    });
    // acquire: pairs with the release store in the worker's destructor.
    while (!started.load(std::memory_order_acquire)) {
        rthread::park();
    }
    // release: pairs with the worker's acquire load.
    go.store(true, std::memory_order_release);
    h.thread().unpark();
    h.join().value();
    BOOST_TEST(the_log().events() == expected({"unparked"}), boost::test_tools::per_element());
}

// ---------------------------------------------------------------------------
// Foreign threads

BOOST_AUTO_TEST_CASE(values_on_std_thread_are_destroyed_in_order) {
    using namespace order_test;
    the_log().clear();
    std::thread t([] {
        A.with([](logs_on_destroy&) {});
        D.with([](touches_late&) {});
        C.with([](logs_on_destroy&) {});
    });
    t.join();
    BOOST_TEST(the_log().events() == expected({"C", "D", "LATE", "A"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(values_on_pthread_are_destroyed_in_order) {
    using namespace order_test;
    the_log().clear();
    pthread_t t{};
    const int rc = ::pthread_create(
        &t, nullptr,
        [](void*) -> void* {
            B.with([](logs_on_destroy&) {});
            A.with([](logs_on_destroy&) {});
            return nullptr;
        },
        nullptr);
    BOOST_TEST_REQUIRE(rc == 0);
    ::pthread_join(t, nullptr);
    BOOST_TEST(the_log().events() == expected({"A", "B"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(foreign_thread_current_works_inside_destructors) {
    using namespace current_in_dtor_test;
    {
        std::lock_guard<std::mutex> lock(name_mutex);
        name_seen.reset();
    }
    std::thread t([] { DEFER.with([](defer&) {}); });
    t.join();
    std::lock_guard<std::mutex> lock(name_mutex);
    BOOST_TEST(name_seen.value_or("<not run>") == "<none>");
}

namespace cpp_thread_local_test {
// A C++ thread_local whose destructor touches a key for the first time on
// its thread: after rthread's explicit teardown (on rthread-made threads),
// or inside the C++ runtime's round of thread_local destructors (on every
// thread). The value is still made, and destroyed before the thread ends.
struct touches_key_on_destroy {
    ~touches_key_on_destroy() {
        the_log().add("cpp thread_local destroyed");
        order_test::C.with([](logs_on_destroy&) {});
    }
};
thread_local touches_key_on_destroy cpp_local;

void use_cpp_local() {
    (void)&cpp_local;
}
} // namespace cpp_thread_local_test

BOOST_AUTO_TEST_CASE(key_first_touched_by_a_cpp_thread_local_destructor_on_an_rthread) {
    the_log().clear();
    rthread::spawn([] { cpp_thread_local_test::use_cpp_local(); }).join().value();
    BOOST_TEST(the_log().events() == expected({"cpp thread_local destroyed", "C"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(key_first_touched_by_a_cpp_thread_local_destructor_on_a_std_thread) {
    the_log().clear();
    std::thread t([] { cpp_thread_local_test::use_cpp_local(); });
    t.join();
    BOOST_TEST(the_log().events() == expected({"cpp thread_local destroyed", "C"}),
               boost::test_tools::per_element());
}

namespace pthread_key_test {
// Issue 12, item 3: a key first touched from a pthread key destructor (a
// boost::thread_specific_ptr cleanup, say) ran after glibc's round of C++
// thread_local destructors, so the teardown guard it registered never ran:
// the value was made and never destroyed (LeakSanitizer saw it). Now such a
// value is destroyed by the library's exit hook, or, where that hook has
// already run on the thread, the key reads as destroyed (try_with fails).
std::atomic<int> made{0};
std::atomic<int> destroyed{0};
std::atomic<int> refused{0};

struct counted_value {
    std::vector<int> payload = std::vector<int>(32, 1); // a leak LeakSanitizer sees
    counted_value() { made.fetch_add(1); }
    counted_value(const counted_value&) = delete;
    counted_value& operator=(const counted_value&) = delete;
    ~counted_value() { destroyed.fetch_add(1); }
};
RTHREAD_THREAD_LOCAL(counted_value, LATE, {});

void touch_late_key(void*) {
    if (!LATE.try_with([](counted_value&) {}).has_value()) {
        refused.fetch_add(1);
    }
}

// Made once; never deleted (threads of later cases may still use it).
pthread_key_t key() {
    static const pthread_key_t k = [] {
        pthread_key_t made_key{};
        BOOST_TEST_REQUIRE(::pthread_key_create(&made_key, &touch_late_key) == 0);
        return made_key;
    }();
    return k;
}

void arm_on_this_thread() {
    ::pthread_setspecific(key(), reinterpret_cast<void*>(1));
}

void reset() {
    (void)key();
    made = 0;
    destroyed = 0;
    refused = 0;
}

// Made and destroyed alike, or refused: never made and left behind.
void check_nothing_left_behind() {
    BOOST_TEST(made.load() == destroyed.load());
    BOOST_TEST(made.load() + refused.load() == 1);
}
} // namespace pthread_key_test

BOOST_AUTO_TEST_CASE(key_first_touched_by_a_pthread_key_destructor_on_an_rthread_is_not_leaked) {
    using namespace pthread_key_test;
    reset();
    rthread::spawn(&arm_on_this_thread).join().value();
    check_nothing_left_behind();
}

BOOST_AUTO_TEST_CASE(key_first_touched_by_a_pthread_key_destructor_on_a_std_thread_is_destroyed) {
    using namespace pthread_key_test;
    reset();
    std::thread(&arm_on_this_thread).join();
    check_nothing_left_behind();
    BOOST_TEST(destroyed.load() == 1); // the thread had no handle: the value is made
}

BOOST_AUTO_TEST_CASE(key_first_touched_by_a_pthread_key_destructor_on_a_pthread_is_destroyed) {
    using namespace pthread_key_test;
    reset();
    pthread_t t{};
    BOOST_TEST_REQUIRE(::pthread_create(
                           &t, nullptr,
                           [](void*) -> void* {
                               arm_on_this_thread();
                               return nullptr;
                           },
                           nullptr) == 0);
    ::pthread_join(t, nullptr);
    check_nothing_left_behind();
    BOOST_TEST(destroyed.load() == 1);
}

BOOST_AUTO_TEST_CASE(key_first_touched_by_a_thread_specific_ptr_cleanup_on_a_std_thread) {
    using namespace pthread_key_test;
    reset();
    static boost::thread_specific_ptr<int> tsp([](int* p) {
        touch_late_key(nullptr);
        delete p;
    });
    std::thread([] { tsp.reset(new int(7)); }).join();
    check_nothing_left_behind();
}

#if defined(_WIN32)
// A thread neither rthread nor winpthreads made: the TLS callbacks alone
// run its C++ thread_local destructors and then the keys' teardown.
namespace {
template <typename F>
void run_on_a_createthread_thread(F f) {
    const HANDLE thread = ::CreateThread(
        nullptr, 0,
        [](void* arg) -> DWORD {
            (*static_cast<F*>(arg))();
            return 0;
        },
        &f, 0, nullptr);
    BOOST_TEST_REQUIRE(thread != nullptr);
    ::WaitForSingleObject(thread, INFINITE);
    ::CloseHandle(thread);
}
} // namespace

BOOST_AUTO_TEST_CASE(values_on_a_createthread_thread_are_destroyed_in_order) {
    using namespace order_test;
    the_log().clear();
    run_on_a_createthread_thread([] {
        A.with([](logs_on_destroy&) {});
        D.with([](touches_late&) {});
        C.with([](logs_on_destroy&) {});
    });
    BOOST_TEST(the_log().events() == expected({"C", "D", "LATE", "A"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(key_first_touched_by_a_cpp_thread_local_destructor_on_a_createthread_thread) {
    the_log().clear();
    run_on_a_createthread_thread([] { cpp_thread_local_test::use_cpp_local(); });
    BOOST_TEST(the_log().events() == expected({"cpp thread_local destroyed", "C"}),
               boost::test_tools::per_element());
}
#endif

BOOST_AUTO_TEST_CASE(running_the_teardown_again_destroys_only_values_made_since) {
    // rthread-made threads run the teardown before they count as ended; the
    // C++ runtime runs it again at thread exit. Each run destroys what is
    // there once.
    using namespace order_test;
    the_log().clear();
    const auto states = rthread::spawn([] {
                            A.with([](logs_on_destroy&) {});
                            rthread::detail::run_thread_local_destructors();
                            const auto a_after = A.state();
                            B.with([](logs_on_destroy&) {});
                            rthread::detail::run_thread_local_destructors();
                            rthread::detail::run_thread_local_destructors();
                            return std::make_pair(a_after, B.state());
                        })
                            .join()
                            .value();
    BOOST_TEST((states.first == rthread::local_key_state::destroyed));
    BOOST_TEST((states.second == rthread::local_key_state::destroyed));
    BOOST_TEST(the_log().events() == expected({"A", "B"}), boost::test_tools::per_element());
}

// ---------------------------------------------------------------------------
// Many keys, many threads

namespace {

struct numbered {
    int number = -1;
    std::vector<int>* destroyed = nullptr;
    numbered() = default;
    numbered(numbered&& other) noexcept
        : number(other.number), destroyed(std::exchange(other.destroyed, nullptr)) {}
    numbered& operator=(numbered&&) = delete;
    ~numbered() {
        if (destroyed != nullptr) {
            destroyed->push_back(number);
        }
    }
};

// Keys are named by their initializer lambda's type: a variable template
// makes one key (with its own lambda) per index.
template <std::size_t I>
const rthread::local_key<numbered> numbered_key{[] { return numbered(); }};

template <std::size_t... I>
std::vector<const rthread::local_key<numbered>*> numbered_keys(std::index_sequence<I...>) {
    return {&numbered_key<I>...};
}

} // namespace

BOOST_AUTO_TEST_CASE(ten_thousand_keys) {
    constexpr int count = 10000;
    static const std::vector<const rthread::local_key<numbered>*> keys =
        numbered_keys(std::make_index_sequence<count>());
    std::vector<int> destroyed;
    const bool all_seen = rthread::spawn([&destroyed] {
                              for (int i = 0; i < count; ++i) {
                                  keys[static_cast<std::size_t>(i)]->with([&](numbered& v) {
                                      v.number = i;
                                      v.destroyed = &destroyed;
                                  });
                              }
                              bool ok = true;
                              for (int i = 0; i < count; ++i) {
                                  ok = ok && keys[static_cast<std::size_t>(i)]->with(
                                                 [](numbered& v) { return v.number; }) == i;
                              }
                              return ok;
                          })
                              .join()
                              .value();
    BOOST_TEST(all_seen);
    BOOST_TEST_REQUIRE(destroyed.size() == static_cast<std::size_t>(count));
    bool newest_first = true;
    for (int i = 0; i < count; ++i) {
        newest_first = newest_first && destroyed[static_cast<std::size_t>(i)] == count - 1 - i;
    }
    BOOST_TEST(newest_first);
    // Another thread starts from fresh values.
    const bool fresh =
        rthread::spawn([] {
            const bool untouched = keys[0]->state() == rthread::local_key_state::uninitialized;
            return untouched && keys[count - 1]->with([](numbered& v) { return v.number; }) == -1;
        })
            .join()
            .value();
    BOOST_TEST(fresh);
}

BOOST_AUTO_TEST_CASE(threads_never_touch_each_others_values) {
    // Run under ThreadSanitizer: every thread hammers the same keys (one
    // of them first touched by all threads at once, racing for its index)
    // and must see only its own value.
    constexpr int threads = 4;
    constexpr int rounds = 2000;
    static const rthread::local_key<int> FRESH{[] { return 0; }};
    RTHREAD_THREAD_LOCAL(std::vector<int>, SHARED, {});
    std::atomic<int> ready{0};
    std::vector<rthread::join_handle<bool>> handles;
    handles.reserve(threads);
    for (int t = 0; t < threads; ++t) {
        handles.push_back(rthread::spawn([&ready, t] {
            // Start together so that the first accesses race.
            ready.fetch_add(1, std::memory_order_relaxed);
            while (ready.load(std::memory_order_relaxed) < threads) {
                rthread::yield_now();
            }
            for (int i = 0; i < rounds; ++i) {
                FRESH.with([](int& v) { ++v; });
                SHARED.with([t](std::vector<int>& v) { v.push_back(t); });
            }
            const bool own_count = FRESH.get() == rounds;
            const bool own_values = SHARED.with([t](std::vector<int>& v) {
                return v.size() == static_cast<std::size_t>(rounds) &&
                       std::all_of(v.begin(), v.end(), [t](int x) { return x == t; });
            });
            return own_count && own_values;
        }));
    }
    for (auto& h : handles) {
        BOOST_TEST(h.join().value());
    }
}

// ---------------------------------------------------------------------------
// Process-level behaviour, in fresh processes

namespace exit_test {

struct prints_on_destroy {
    const char* text;
    explicit prints_on_destroy(const char* t) : text(t) {}
    prints_on_destroy(const prints_on_destroy&) = delete;
    ~prints_on_destroy() {
        const auto name = rthread::current().name();
        std::printf("%s on %s\n", text, name ? std::string(*name).c_str() : "<unnamed>");
        std::fflush(stdout);
    }
};

RTHREAD_THREAD_LOCAL(std::optional<prints_on_destroy>, FIRST, std::nullopt);
RTHREAD_THREAD_LOCAL(std::optional<prints_on_destroy>, SECOND, std::nullopt);
RTHREAD_THREAD_LOCAL(std::optional<prints_on_destroy>, LATE, std::nullopt);

struct touches_late {
    ~touches_late() {
        LATE.with([](std::optional<prints_on_destroy>& v) { v.emplace("late"); });
    }
};
RTHREAD_THREAD_LOCAL(touches_late, TOUCHES_LATE, touches_late{});

void make_values() {
    FIRST.with([](std::optional<prints_on_destroy>& v) { v.emplace("first"); });
    TOUCHES_LATE.with([](touches_late&) {});
    SECOND.with([](std::optional<prints_on_destroy>& v) { v.emplace("second"); });
}

// A static destroyed after the main thread's values (glibc runs
// thread_local destructors first in exit()): it sees them destroyed.
struct checks_at_static_destruction {
    ~checks_at_static_destruction() {
        if (FIRST.state() == rthread::local_key_state::destroyed) {
            std::printf("static destructor sees destroyed\n");
        }
    }
};

} // namespace exit_test

RTHREAD_SCENARIO(main_thread_values_destroyed_on_return_from_main) {
    static exit_test::checks_at_static_destruction check;
    exit_test::make_values();
    return 0;
}

BOOST_AUTO_TEST_CASE(main_thread_values_are_destroyed_on_return_from_main) {
    const auto child =
        test_support::run_scenario("main_thread_values_destroyed_on_return_from_main");
    BOOST_TEST(child.exited);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
    const std::string destroyed = "second on main\nlate on main\nfirst on main\n";
    BOOST_TEST(child.stdout_text.substr(0, destroyed.size()) == destroyed);
}

BOOST_AUTO_TEST_CASE(a_static_destroyed_after_main_returns_sees_the_main_threads_values_destroyed,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_EXIT_DESTROYS_THREAD_LOCALS_FIRST,
                                          "mingw-w64 destroys thread_locals after statics")) {
    const auto child =
        test_support::run_scenario("main_thread_values_destroyed_on_return_from_main");
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
    BOOST_TEST(child.stdout_text == "second on main\nlate on main\nfirst on main\n"
                                    "static destructor sees destroyed\n");
}

RTHREAD_SCENARIO(main_thread_values_destroyed_by_exit) {
    exit_test::make_values();
    std::exit(3);
}

BOOST_AUTO_TEST_CASE(main_thread_values_are_destroyed_by_exit) {
    const auto child = test_support::run_scenario("main_thread_values_destroyed_by_exit");
    BOOST_TEST(child.exited);
    BOOST_TEST(child.exit_code == 3, child.stderr_text);
    BOOST_TEST(child.stdout_text == "second on main\nlate on main\nfirst on main\n");
}

RTHREAD_SCENARIO(exit_on_a_worker_destroys_only_its_values) {
    exit_test::FIRST.with(
        [](std::optional<exit_test::prints_on_destroy>& v) { v.emplace("main value"); });
    auto h = rthread::builder{}.name("worker").spawn([] {
        exit_test::SECOND.with(
            [](std::optional<exit_test::prints_on_destroy>& v) { v.emplace("worker value"); });
        std::exit(4);
    });
    h.value().join().value();
    return 0; // not reached
}

BOOST_AUTO_TEST_CASE(exit_on_a_worker_destroys_its_values_once_and_no_others) {
    const auto child = test_support::run_scenario("exit_on_a_worker_destroys_only_its_values");
    BOOST_TEST(child.exited);
    BOOST_TEST(child.exit_code == 4, child.stderr_text);
    BOOST_TEST(child.stdout_text == "worker value on worker\n");
}

namespace throwing_test {
struct throws_on_destroy {
    bool armed = true;
    ~throws_on_destroy() noexcept(false) {
        if (armed) {
            RTHREAD_PANIC("destructor failed with {}", 42);
        }
    }
};
RTHREAD_THREAD_LOCAL(throws_on_destroy, K, throws_on_destroy{});
} // namespace throwing_test

RTHREAD_SCENARIO(destructor_throws_on_a_spawned_thread) {
    auto h = rthread::builder{}.name("dropper").spawn(
        [] { throwing_test::K.with([](throwing_test::throws_on_destroy&) {}); });
    h.value().join().value();
    std::puts("joined"); // not reached: the process aborts in the teardown
    return 0;
}

BOOST_AUTO_TEST_CASE(destructor_that_throws_ends_the_process) {
    const auto child = test_support::run_scenario("destructor_throws_on_a_spawned_thread");
    BOOST_TEST(!child.exited);
    BOOST_TEST(child.signal == SIGABRT);
    BOOST_TEST(child.stdout_text.empty());
    // The panic hook reports the exception first, as Rust prints the panic
    // before the abort message.
    const std::string& err = child.stderr_text;
    BOOST_TEST(err.find("thread 'dropper'") != std::string::npos, err);
    BOOST_TEST(err.find("destructor failed with 42") != std::string::npos, err);
    BOOST_TEST(err.find("fatal runtime error: thread local panicked on drop, aborting\n") !=
                   std::string::npos,
               err);
}

RTHREAD_SCENARIO(destructor_throws_on_the_main_thread_at_exit) {
    throwing_test::K.with([](throwing_test::throws_on_destroy&) {});
    return 0;
}

BOOST_AUTO_TEST_CASE(destructor_that_throws_at_process_exit_ends_the_process) {
    const auto child = test_support::run_scenario("destructor_throws_on_the_main_thread_at_exit");
    BOOST_TEST(!child.exited);
    BOOST_TEST(child.signal == SIGABRT);
    BOOST_TEST(
        child.stderr_text.find("fatal runtime error: thread local panicked on drop, aborting\n") !=
            std::string::npos,
        child.stderr_text);
}

RTHREAD_SCENARIO(detached_thread_uses_keys_while_main_returns) {
    // The keys and the library's globals are never destroyed: a detached
    // thread may keep using keys while the process runs its static
    // destructors.
    static std::atomic<bool> started{false};
    rthread::spawn([] {
        RTHREAD_THREAD_LOCAL(std::string, TEXT, "x");
        for (;;) {
            TEXT.with([](std::string& s) {
                s += "x";
                if (s.size() > 64) {
                    s.resize(1);
                }
            });
            // relaxed: only a start signal.
            started.store(true, std::memory_order_relaxed);
        }
    });
    while (!started.load(std::memory_order_relaxed)) {
        rthread::yield_now();
    }
    return 0;
}

BOOST_AUTO_TEST_CASE(detached_thread_may_use_keys_while_the_process_exits) {
    const auto child = test_support::run_scenario("detached_thread_uses_keys_while_main_returns");
    BOOST_TEST(child.exited);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
}
