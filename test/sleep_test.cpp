// Sleeping, yielding and available_parallelism. Ported from Rust's
// library/std/src/thread/tests.rs (sleep_ms_smoke) plus the duration edge
// cases, any clock, and the affinity/cgroup sources of parallelism.
#define BOOST_TEST_MODULE sleep
#include "test_main.hpp"

#include "child_process.hpp"
#include "platform.hpp"
#include "sys/sys.hpp"

#include <rthread/rthread.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#if RTHREAD_TEST_POSIX
#include <sched.h>
#endif

using namespace std::chrono_literals;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_CASE(sleep_lasts_at_least_its_duration) {
    // A lower bound only: the contract is "at least d".
    const auto start = std::chrono::steady_clock::now();
    rthread::sleep(20ms);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 20ms));
    const auto again = std::chrono::steady_clock::now();
    rthread::sleep(std::chrono::duration<double, std::milli>(5.5));
    BOOST_TEST((std::chrono::steady_clock::now() - again >= 5500us));
}

BOOST_AUTO_TEST_CASE(zero_and_negative_sleeps_return_at_once) {
    rthread::sleep(0s);
    rthread::sleep(-1s);
    rthread::sleep(std::chrono::nanoseconds::min());
    rthread::sleep(std::chrono::hours::min());
    rthread::sleep(std::chrono::duration<double>(-1e300));
    rthread::sleep(std::chrono::duration<double>(std::nan("")));
    rthread::sleep_until(std::chrono::steady_clock::time_point::min());
    rthread::sleep_until(std::chrono::system_clock::now() - 1h);
}

// A sleep of duration::max() must not overflow into "no sleep": the thread
// is still asleep when the process ends.
RTHREAD_SCENARIO(sleep_max) {
    static std::atomic<bool> woke{false};
    rthread::spawn([] {
        rthread::sleep(std::chrono::nanoseconds::max());
        woke = true;
    });
    rthread::spawn([] {
        rthread::sleep(std::chrono::hours::max());
        woke = true;
    });
    rthread::spawn([] {
        rthread::sleep_until(std::chrono::system_clock::time_point::max());
        woke = true;
    });
    rthread::sleep(100ms);
    return woke.load() ? 1 : 0;
}

BOOST_AUTO_TEST_CASE(huge_sleeps_do_not_overflow) {
    const auto child = test_support::run_scenario("sleep_max");
    BOOST_TEST(child.exited);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
}

BOOST_AUTO_TEST_CASE(sleep_until_any_clock_reaches_its_time_point) {
    const auto system_target = std::chrono::system_clock::now() + 20ms;
    rthread::sleep_until(system_target);
    BOOST_TEST((std::chrono::system_clock::now() >= system_target));
    const auto steady_target = std::chrono::steady_clock::now() + 10ms;
    rthread::sleep_until(steady_target);
    BOOST_TEST((std::chrono::steady_clock::now() >= steady_target));
    // A time point of a coarser duration type.
    const auto coarse =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()) +
        5ms;
    rthread::sleep_until(coarse);
    BOOST_TEST((std::chrono::steady_clock::now() >= coarse));
}

BOOST_AUTO_TEST_CASE(sleep_does_not_touch_the_park_token) {
    rthread::current().unpark();
    rthread::sleep(1ms);
    BOOST_TEST(rthread::park_timeout(0s));
}

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
BOOST_AUTO_TEST_CASE(sleep_ms_smoke) {
    // Rust: sleep_ms_smoke.
    const auto start = std::chrono::steady_clock::now();
    rthread::sleep_ms(2);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 2ms));
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

BOOST_AUTO_TEST_CASE(yield_now_returns) {
    for (int i = 0; i < 100; ++i) {
        rthread::yield_now();
    }
    // And lets another runnable thread make progress on one CPU.
    std::atomic<bool> ran{false};
    auto h = rthread::spawn([&] { ran = true; });
    while (!ran.load()) {
        rthread::yield_now();
    }
    h.join().value();
}

// ---- available_parallelism ---------------------------------------------------

BOOST_AUTO_TEST_CASE(available_parallelism_is_at_least_one_and_within_the_affinity_mask) {
    const auto n = rthread::available_parallelism();
    BOOST_REQUIRE(n.has_value());
    BOOST_TEST(*n >= 1u);
#if RTHREAD_TEST_POSIX
    cpu_set_t set;
    CPU_ZERO(&set);
    BOOST_REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
    BOOST_TEST(*n <= static_cast<std::size_t>(CPU_COUNT(&set)));
#else
    DWORD_PTR process = 0;
    DWORD_PTR system = 0;
    BOOST_REQUIRE(::GetProcessAffinityMask(::GetCurrentProcess(), &process, &system));
    std::size_t cpus = 0;
    for (; process != 0; process &= process - 1) {
        ++cpus;
    }
    BOOST_TEST(*n <= cpus);
#endif
}

BOOST_AUTO_TEST_CASE(available_parallelism_honours_the_affinity_mask,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
#if RTHREAD_TEST_POSIX
    // As under `taskset -c 0`.
    const auto child = test_support::run_in_child([] {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        if (::sched_setaffinity(0, sizeof one, &one) != 0) {
            ::_exit(2);
        }
        const auto n = rthread::available_parallelism();
        ::_exit(n.has_value() && *n == 1 ? 0 : 1);
    });
    BOOST_TEST(child.exit_code == 0);
#endif
}

#if RTHREAD_TEST_LINUX_BACKEND
namespace {

// A fake root with /proc/self/cgroup, mountinfo and cgroup files.
struct fake_root {
    fs::path root;
    fake_root() {
        char templ[] = "/tmp/rthread-cgroup-XXXXXX";
        root = ::mkdtemp(templ);
        fs::create_directories(root / "proc/self");
    }
    ~fake_root() { fs::remove_all(root); }
    void write(const std::string& relative, const std::string& text) const {
        const fs::path p = root / relative;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text;
    }
    std::optional<std::size_t> quota() const {
        return rthread::sys::cgroup_cpu_quota(root.string());
    }
};

} // namespace
#endif

BOOST_AUTO_TEST_CASE(cgroup_v2_quota_is_the_smallest_along_the_path,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_LINUX_BACKEND,
                                          "the Linux backend's cgroups")) {
#if RTHREAD_TEST_LINUX_BACKEND
    fake_root fake;
    fake.write("proc/self/cgroup", "0::/outer/inner\n");
    fake.write("sys/fs/cgroup/outer/inner/cpu.max", "max 100000\n");
    fake.write("sys/fs/cgroup/outer/cpu.max", "350000 100000\n");
    BOOST_TEST(fake.quota().value() == 3u); // 3.5 CPUs: whole CPUs, rounded down
    fake.write("sys/fs/cgroup/outer/inner/cpu.max", "150000 100000\n");
    BOOST_TEST(fake.quota().value() == 1u);
    fake.write("sys/fs/cgroup/outer/inner/cpu.max", "50000 100000\n");
    BOOST_TEST(fake.quota().value() == 1u); // at least one
#endif
}

BOOST_AUTO_TEST_CASE(cgroup_v2_without_a_limit_has_no_quota,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_LINUX_BACKEND,
                                          "the Linux backend's cgroups")) {
#if RTHREAD_TEST_LINUX_BACKEND
    fake_root fake;
    fake.write("proc/self/cgroup", "0::/\n");
    fake.write("sys/fs/cgroup/cpu.max", "max 100000\n");
    BOOST_TEST(!fake.quota().has_value());
#endif
}

BOOST_AUTO_TEST_CASE(cgroup_v1_quota_comes_from_the_cpu_controller_mount,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_LINUX_BACKEND,
                                          "the Linux backend's cgroups")) {
#if RTHREAD_TEST_LINUX_BACKEND
    fake_root fake;
    fake.write("proc/self/cgroup", "12:memory:/job\n4:cpu,cpuacct:/job/task\n0::/\n");
    fake.write("proc/self/mountinfo",
               "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
               "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup "
               "rw,cpu,cpuacct\n");
    fake.write("sys/fs/cgroup/cpu,cpuacct/job/task/cpu.cfs_quota_us", "-1\n");
    fake.write("sys/fs/cgroup/cpu,cpuacct/job/task/cpu.cfs_period_us", "100000\n");
    fake.write("sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us", "200000\n");
    fake.write("sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us", "100000\n");
    BOOST_TEST(fake.quota().value() == 2u);
#endif
}

BOOST_AUTO_TEST_CASE(no_cgroup_information_means_no_quota,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_LINUX_BACKEND,
                                          "the Linux backend's cgroups")) {
#if RTHREAD_TEST_LINUX_BACKEND
    fake_root fake;
    BOOST_TEST(!fake.quota().has_value());
    fake.write("proc/self/cgroup", "garbage without colons\n");
    BOOST_TEST(!fake.quota().has_value());
#endif
}
