// Affinity before the thread starts: builder::affinity and
// current_affinity (rust-lang/libs-team#195: crates can only move a thread
// after it started). The process-mask cases run this binary under
// `taskset`, as a user would start a pinned program.
#define BOOST_TEST_MODULE affinity
#include "test_main.hpp"

#include "child_process.hpp"

#include <rthread/rthread.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#if !defined(_WIN32)
#include <climits>
#include <unistd.h>
#endif

namespace {

std::vector<std::size_t> cpus_of_this_thread() {
    auto cpus = rthread::current_affinity();
    BOOST_TEST_REQUIRE(cpus.has_value());
    return *cpus;
}

// Runs the scenario `name` of this binary with the process's CPUs limited
// to `cpus`: under `taskset -c cpus` (on Windows, with that affinity mask
// set before the child runs).
test_support::child_result run_on_cpus(const std::vector<std::size_t>& cpus, const char* name) {
#if defined(_WIN32)
    return test_support::run_scenario_on_cpus(name, cpus);
#else
    std::string list;
    for (const std::size_t cpu : cpus) {
        list += (list.empty() ? "" : ",") + std::to_string(cpu);
    }
    char self[PATH_MAX] = {};
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    BOOST_TEST_REQUIRE(n > 0);
    return test_support::run_in_child([&] {
        const std::string flag = std::string("--scenario=") + name;
        char taskset[] = "taskset";
        char c[] = "-c";
        char* argv[] = {
            taskset, c, const_cast<char*>(list.c_str()), self, const_cast<char*>(flag.c_str()),
            nullptr};
        ::execvp("taskset", argv);
        std::perror("execvp taskset");
        ::_exit(127);
    });
#endif
}

void check_scenario_passed(const test_support::child_result& child) {
    BOOST_TEST_INFO(child.stderr_text);
    BOOST_TEST(child.exited);
    BOOST_TEST(child.exit_code == 0);
}

// What a pinned thread sees of itself.
struct seen_cpus {
    std::vector<std::size_t> affinity;
    std::size_t parallelism = 0;
};

seen_cpus what_the_thread_sees() {
    return seen_cpus{*rthread::current_affinity(), *rthread::available_parallelism()};
}

} // namespace

BOOST_AUTO_TEST_CASE(current_affinity_lists_the_calling_threads_cpus_sorted) {
    const std::vector<std::size_t> cpus = cpus_of_this_thread();
    BOOST_TEST(!cpus.empty());
    BOOST_TEST(std::is_sorted(cpus.begin(), cpus.end()));
    BOOST_TEST((std::adjacent_find(cpus.begin(), cpus.end()) == cpus.end()));
}

BOOST_AUTO_TEST_CASE(a_thread_without_affinity_inherits_its_spawners_cpus) {
    const std::vector<std::size_t> mine = cpus_of_this_thread();
    const auto theirs = rthread::spawn([] { return *rthread::current_affinity(); }).join();
    BOOST_TEST(theirs.value() == mine, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(affinity_pins_the_thread_before_its_function_runs) {
    const std::size_t cpu = cpus_of_this_thread().front();
    auto h = rthread::builder{}.affinity({cpu}).spawn(what_the_thread_sees);
    BOOST_TEST_REQUIRE(h.has_value());
    const seen_cpus seen = h->join().value();
    BOOST_TEST(seen.affinity == std::vector<std::size_t>{cpu}, boost::test_tools::per_element());
    BOOST_TEST(seen.parallelism == 1U);
    // The spawner is not moved.
    BOOST_TEST(cpus_of_this_thread().size() >= 1U);
}

BOOST_AUTO_TEST_CASE(affinity_is_in_place_when_the_spawn_hooks_child_side_runs) {
    const std::size_t cpu = cpus_of_this_thread().front();
    // Hooks stay on the thread that adds them: add it on a thread of its own.
    auto seen = rthread::builder{}.no_hooks().spawn([cpu] {
        auto in_hook = std::make_shared<std::vector<std::size_t>>();
        rthread::add_spawn_hook([in_hook](const rthread::thread&) {
            return [in_hook] { *in_hook = *rthread::current_affinity(); };
        });
        rthread::builder{}.affinity({cpu}).spawn([] {}).value().join().value();
        return *in_hook;
    });
    BOOST_TEST(seen.value().join().value() == std::vector<std::size_t>{cpu},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(affinity_chains_on_temporaries_and_a_builder_spawns_more_than_once) {
    const std::vector<std::size_t> all = cpus_of_this_thread();
    const std::size_t cpu = all.back();
    auto h = rthread::builder{}.name("pinned").affinity({cpu}).stack_size(1 << 16).spawn([] {
        return std::make_pair(std::string(*rthread::current().name()),
                              *rthread::current_affinity());
    });
    BOOST_TEST_REQUIRE(h.has_value());
    const auto [name, cpus] = h->join().value();
    BOOST_TEST(name == "pinned");
    BOOST_TEST(cpus == std::vector<std::size_t>{cpu}, boost::test_tools::per_element());

    rthread::builder b;
    b.affinity({cpu, cpu}); // duplicates count once
    for (int i = 0; i < 2; ++i) {
        auto again = b.spawn(what_the_thread_sees);
        BOOST_TEST_REQUIRE(again.has_value());
        const seen_cpus seen = again->join().value();
        BOOST_TEST(seen.affinity == std::vector<std::size_t>{cpu},
                   boost::test_tools::per_element());
        BOOST_TEST(seen.parallelism == 1U);
    }
}

BOOST_AUTO_TEST_CASE(affinity_applies_to_scoped_threads) {
    const std::size_t cpu = cpus_of_this_thread().front();
    rthread::scope([&](rthread::scope_handle& s) {
        auto h = rthread::builder{}.affinity({cpu}).spawn_scoped(s, what_the_thread_sees);
        BOOST_TEST_REQUIRE(h.has_value());
        BOOST_TEST(h->join().value().parallelism == 1U);
    });
}

// The function's captures: none may survive a refused spawn.
struct refused_spawn {
    std::shared_ptr<int> witness = std::make_shared<int>(0);
    bool ran = false;

    boost::system::error_code spawn_with(std::vector<std::size_t> cpus) {
        auto h = rthread::builder{}.affinity(std::move(cpus)).spawn([this, w = witness] {
            ran = true;
            return *w;
        });
        BOOST_TEST_REQUIRE(!h.has_value());
        return h.error();
    }
    void check_nothing_ran_or_leaked() const {
        BOOST_TEST(!ran);
        BOOST_TEST(witness.use_count() == 1);
    }
};

BOOST_AUTO_TEST_CASE(an_empty_affinity_is_invalid_argument_and_the_function_never_runs) {
    refused_spawn spawn;
    BOOST_TEST(spawn.spawn_with({}) == boost::system::errc::invalid_argument);
    spawn.check_nothing_ran_or_leaked();
}

BOOST_AUTO_TEST_CASE(a_cpu_past_the_os_limit_is_invalid_argument) {
    const std::size_t cpu = cpus_of_this_thread().front();
    for (const std::size_t bad :
         {std::size_t{1024}, std::size_t{1} << 20, std::numeric_limits<std::size_t>::max()}) {
        refused_spawn spawn;
        BOOST_TEST(spawn.spawn_with({cpu, bad}) == boost::system::errc::invalid_argument);
        spawn.check_nothing_ran_or_leaked();
    }
}

BOOST_AUTO_TEST_CASE(a_scoped_spawn_with_a_bad_affinity_leaves_the_scope_clean) {
    bool ran = false;
    rthread::scope([&](rthread::scope_handle& s) {
        auto h = rthread::builder{}.affinity({}).spawn_scoped(s, [&] { ran = true; });
        BOOST_TEST_REQUIRE(!h.has_value());
        BOOST_TEST(h.error() == boost::system::errc::invalid_argument);
    });
    BOOST_TEST(!ran);
}

// Started under `taskset -c <first>`: every other CPU is outside the
// process's mask, even one the machine has.
RTHREAD_SCENARIO(affinity_outside_the_taskset_mask) {
    const std::vector<std::size_t> mask = *rthread::current_affinity();
    RTHREAD_CHILD_CHECK(mask.size() == 1);
    refused_spawn spawn;
    auto h = rthread::builder{}.affinity({mask.front() + 1}).spawn([&] { spawn.ran = true; });
    RTHREAD_CHILD_CHECK(!h.has_value());
    RTHREAD_CHILD_CHECK(!h.has_value() && h.error() == boost::system::errc::invalid_argument);
    RTHREAD_CHILD_CHECK(!spawn.ran);
    auto inside = rthread::builder{}.affinity({mask.front()}).spawn(what_the_thread_sees);
    RTHREAD_CHILD_CHECK(inside.has_value() && inside->join().value().parallelism == 1);
    return test_support::child_failures;
}

BOOST_AUTO_TEST_CASE(a_cpu_outside_the_process_mask_is_invalid_argument) {
    const std::size_t first = cpus_of_this_thread().front();
    check_scenario_passed(run_on_cpus({first}, "affinity_outside_the_taskset_mask"));
}

// Started under `taskset -c <a>,<b>`: a thread pinned to b sees one CPU, the
// process two.
RTHREAD_SCENARIO(affinity_inside_a_taskset_mask) {
    const std::vector<std::size_t> mask = *rthread::current_affinity();
    RTHREAD_CHILD_CHECK(mask.size() == 2);
    RTHREAD_CHILD_CHECK(*rthread::available_parallelism() <= 2);
    auto h = rthread::builder{}.affinity({mask.back()}).spawn(what_the_thread_sees);
    RTHREAD_CHILD_CHECK(h.has_value());
    if (h) {
        const seen_cpus seen = h->join().value();
        RTHREAD_CHILD_CHECK(seen.affinity == std::vector<std::size_t>{mask.back()});
        RTHREAD_CHILD_CHECK(seen.parallelism == 1);
    }
    // Both CPUs together are the whole mask.
    auto both = rthread::builder{}.affinity(mask).spawn(what_the_thread_sees);
    RTHREAD_CHILD_CHECK(both.has_value() && both->join().value().affinity == mask);
    RTHREAD_CHILD_CHECK(*rthread::current_affinity() == mask); // the spawner is not moved
    return test_support::child_failures;
}

BOOST_AUTO_TEST_CASE(a_thread_pinned_inside_a_taskset_mask_reports_its_own_cpus) {
    const std::vector<std::size_t> cpus = cpus_of_this_thread();
    BOOST_TEST_REQUIRE(cpus.size() >= 2U, "this case needs a process allowed two CPUs");
    check_scenario_passed(
        run_on_cpus({cpus.front(), cpus.back()}, "affinity_inside_a_taskset_mask"));
}
