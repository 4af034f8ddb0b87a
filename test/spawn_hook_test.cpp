// Spawn hooks: add_spawn_hook and builder::no_hooks, with the semantics of
// Rust's unstable std::thread::add_spawn_hook (rust-lang/rust#132951).
//
// Hooks belong to the thread that added them and cannot be removed, so
// every case adds its hooks on a thread of its own (spawned with no_hooks),
// which leaves the test runner's thread without any.
#define BOOST_TEST_MODULE spawn_hook
#include <boost/test/unit_test.hpp>

#include <rthread/rthread.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

// Runs f on a fresh thread that starts with no hooks, and gives its value.
template <class F>
auto on_a_thread_of_its_own(F f) {
    auto h = rthread::builder{}.no_hooks().spawn(std::move(f));
    BOOST_TEST_REQUIRE(h.has_value());
    return h->join().value();
}

// What the hooks of a case saw, in order, from every thread.
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

private:
    std::mutex mutex_;
    std::vector<std::string> events_;
};

// A hook that logs "<tag> parent" on the spawner and "<tag> child" on the
// new thread.
void add_logging_hook(const std::shared_ptr<event_log>& log, const std::string& tag) {
    rthread::add_spawn_hook([log, tag](const rthread::thread&) {
        log->add(tag + " parent");
        return [log, tag] { log->add(tag + " child"); };
    });
}

using events = std::vector<std::string>;

struct hook_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

} // namespace

BOOST_AUTO_TEST_CASE(the_parent_side_runs_on_the_spawner_and_the_child_side_on_the_child_first) {
    struct seen {
        rthread::thread_id parent_side_on, child_side_on, child_given, spawned;
        std::vector<std::string> order;
    };
    const seen s = on_a_thread_of_its_own([] {
        auto log = std::make_shared<event_log>();
        auto ids = std::make_shared<std::vector<rthread::thread_id>>(3, rthread::current_id());
        rthread::add_spawn_hook([log, ids](const rthread::thread& child) {
            (*ids)[0] = rthread::current_id();
            (*ids)[1] = child.id();
            log->add("parent side");
            return [log, ids] {
                (*ids)[2] = rthread::current_id();
                log->add("child side");
            };
        });
        auto h = rthread::spawn([log] { log->add("function"); });
        const rthread::thread_id spawned = h.thread().id();
        h.join().value();
        return seen{(*ids)[0], (*ids)[2], (*ids)[1], spawned, log->events()};
    });
    BOOST_TEST(s.child_given == s.spawned);
    BOOST_TEST(s.child_side_on == s.spawned);
    BOOST_TEST(s.parent_side_on != s.spawned);
    BOOST_TEST(s.order == (events{"parent side", "child side", "function"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_parent_side_sees_the_childs_name) {
    const std::string name = on_a_thread_of_its_own([] {
        auto seen = std::make_shared<std::string>();
        rthread::add_spawn_hook([seen](const rthread::thread& child) {
            *seen = std::string(child.name().value_or("<unnamed>"));
            return [] {};
        });
        rthread::builder{}.name("worker").spawn([] {}).value().join().value();
        return *seen;
    });
    BOOST_TEST(name == "worker");
}

BOOST_AUTO_TEST_CASE(hooks_run_newest_first_on_both_sides) {
    const events order = on_a_thread_of_its_own([] {
        auto log = std::make_shared<event_log>();
        add_logging_hook(log, "a");
        add_logging_hook(log, "b");
        add_logging_hook(log, "c");
        rthread::spawn([] {}).join().value();
        return log->events();
    });
    BOOST_TEST(order ==
                   (events{"c parent", "b parent", "a parent", "c child", "b child", "a child"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hooks_are_inherited_across_three_generations) {
    const events order = on_a_thread_of_its_own([] {
        auto log = std::make_shared<event_log>();
        add_logging_hook(log, "first");
        rthread::spawn([log] {
            log->add("second generation");
            add_logging_hook(log, "second");
            rthread::spawn([log] {
                log->add("third generation");
                rthread::spawn([log] { log->add("fourth generation"); }).join().value();
            })
                .join()
                .value();
        })
            .join()
            .value();
        return log->events();
    });
    BOOST_TEST(order == (events{"first parent", "first child", "second generation", "second parent",
                                "first parent", "second child", "first child", "third generation",
                                "second parent", "first parent", "second child", "first child",
                                "fourth generation"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hooks_belong_to_the_thread_that_added_them) {
    const events order = on_a_thread_of_its_own([] {
        auto log = std::make_shared<event_log>();
        add_logging_hook(log, "parent's");
        // A child's hook is the child's: not its parent's, nor its sibling's.
        rthread::spawn([log] { add_logging_hook(log, "child's"); }).join().value();
        log->add("sibling");
        rthread::spawn([] {}).join().value();
        return log->events();
    });
    BOOST_TEST(order == (events{"parent's parent", "parent's child", "sibling", "parent's parent",
                                "parent's child"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(threads_not_made_by_rthread_start_with_no_hooks) {
    const events order = on_a_thread_of_its_own([] {
        auto log = std::make_shared<event_log>();
        add_logging_hook(log, "hook");
        std::thread([] { rthread::spawn([] {}).join().value(); }).join();
        return log->events();
    });
    BOOST_TEST(order.empty());
}

BOOST_AUTO_TEST_CASE(no_hooks_runs_no_hook_and_inherits_none) {
    const events order = on_a_thread_of_its_own([] {
        auto log = std::make_shared<event_log>();
        add_logging_hook(log, "hook");
        rthread::builder{}
            .no_hooks()
            .spawn([log] {
                log->add("opted out");
                rthread::spawn([] {}).join().value(); // inherited nothing
            })
            .value()
            .join()
            .value();
        log->add("then");
        rthread::builder b;
        b.no_hooks(); // on an lvalue too
        b.spawn([] {}).value().join().value();
        return log->events();
    });
    BOOST_TEST(order == (events{"opted out", "then"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_throwing_parent_side_passes_out_of_spawn_and_makes_no_thread) {
    struct seen {
        bool spawn_threw, builder_threw, scoped_threw, ran;
        long captures_left;
        std::size_t threads_before, threads_after;
    };
    const seen s = on_a_thread_of_its_own([] {
        auto witness = std::make_shared<int>(0);
        bool ran = false;
        rthread::add_spawn_hook(
            [](const rthread::thread&) -> void (*)() { throw hook_error("parent side"); });
        const std::size_t before = rthread::threads().size();
        seen r{false, false, false, false, 0, before, 0};
        try {
            (void)rthread::spawn([&ran, witness] { ran = true; });
        } catch (const hook_error&) {
            r.spawn_threw = true;
        }
        try {
            (void)rthread::builder{}.name("x").spawn([&ran, witness] { ran = true; });
        } catch (const hook_error&) {
            r.builder_threw = true;
        }
        rthread::scope([&](rthread::scope_handle& sh) {
            try {
                (void)sh.spawn([&ran, witness] { ran = true; });
            } catch (const hook_error&) {
                r.scoped_threw = true;
            }
        }); // and the scope ends: it counted no thread
        r.ran = ran;
        r.captures_left = witness.use_count() - 1;
        r.threads_after = rthread::threads().size();
        return r;
    });
    BOOST_TEST(s.spawn_threw);
    BOOST_TEST(s.builder_threw);
    BOOST_TEST(s.scoped_threw);
    BOOST_TEST(!s.ran);
    BOOST_TEST(s.captures_left == 0);
    BOOST_TEST(s.threads_after == s.threads_before);
}

BOOST_AUTO_TEST_CASE(a_throwing_child_side_is_that_threads_panic_and_its_function_never_runs) {
    struct seen {
        std::string panic;
        events order;
    };
    const seen s = on_a_thread_of_its_own([] {
        auto log = std::make_shared<event_log>();
        add_logging_hook(log, "older");
        rthread::add_spawn_hook(
            [](const rthread::thread&) { return [] { throw hook_error("child side"); }; });
        auto r = rthread::spawn([log] { log->add("function"); }).join();
        // No Boost.Test check off the test's own thread: it is not thread-safe.
        return seen{r.has_error() ? rthread::panic_message(r.error()).value_or("") : "no panic",
                    log->events()};
    });
    BOOST_TEST(s.panic == "child side");
    // Newest first: the throwing child side ran before the older one's.
    BOOST_TEST(s.order == (events{"older parent"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hooks_run_for_scoped_threads) {
    const events order = on_a_thread_of_its_own([] {
        auto log = std::make_shared<event_log>();
        add_logging_hook(log, "hook");
        rthread::scope([&](rthread::scope_handle& s) {
            s.spawn([&] { log->add("scoped"); }).join().value();
            rthread::builder{}.spawn_scoped(s, [&] { log->add("built"); }).value().join().value();
            rthread::builder{}
                .no_hooks()
                .spawn_scoped(s, [&] { log->add("opted out"); })
                .value()
                .join()
                .value();
        });
        return log->events();
    });
    BOOST_TEST(order == (events{"hook parent", "hook child", "scoped", "hook parent", "hook child",
                                "built", "opted out"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_spawn_inside_a_parent_side_runs_no_hooks_but_inherits_them) {
    const events order = on_a_thread_of_its_own([] {
        auto log = std::make_shared<event_log>();
        auto spawned_once = std::make_shared<bool>(false);
        rthread::add_spawn_hook([log, spawned_once](const rthread::thread&) {
            log->add("hook parent");
            if (!std::exchange(*spawned_once, true)) {
                // No recursion: this spawn runs no hooks...
                rthread::spawn([log] {
                    log->add("spawned by the hook");
                    // ...but its thread inherited them.
                    rthread::spawn([] {}).join().value();
                })
                    .join()
                    .value();
            }
            return [log] { log->add("hook child"); };
        });
        rthread::spawn([] {}).join().value();
        return log->events();
    });
    BOOST_TEST(order == (events{"hook parent", "spawned by the hook", "hook parent", "hook child",
                                "hook child"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_child_side_may_be_move_only_and_dies_on_the_child) {
    const bool ok = on_a_thread_of_its_own([] {
        auto freed_on = std::make_shared<rthread::thread_id>(rthread::current_id());
        struct on_death {
            std::shared_ptr<rthread::thread_id> where;
            ~on_death() { *where = rthread::current_id(); }
        };
        rthread::add_spawn_hook([freed_on](const rthread::thread&) {
            return [owned = std::make_unique<on_death>(on_death{freed_on})] { (void)owned; };
        });
        auto h = rthread::spawn([] {});
        const rthread::thread_id child = h.thread().id();
        h.join().value();
        return *freed_on == child;
    });
    BOOST_TEST(ok);
}

BOOST_AUTO_TEST_CASE(one_hook_serves_every_thread_that_inherited_it_at_once) {
    const int count = on_a_thread_of_its_own([] {
        auto calls = std::make_shared<std::atomic<int>>(0);
        rthread::add_spawn_hook([calls](const rthread::thread&) {
            calls->fetch_add(1, std::memory_order_relaxed); // relaxed: a count, read after joins
            return [] {};
        });
        std::vector<rthread::join_handle<void>> spawners;
        spawners.reserve(4);
        for (int i = 0; i < 4; ++i) {
            spawners.push_back(rthread::spawn([] {
                for (int j = 0; j < 8; ++j) {
                    rthread::spawn([] {}).join().value();
                }
            }));
        }
        for (auto& h : spawners) {
            h.join().value();
        }
        return calls->load(std::memory_order_relaxed);
    });
    BOOST_TEST(count == 4 + 4 * 8);
}
