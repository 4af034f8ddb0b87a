// The Linux side of the seam (sys.hpp): futex, gettid, thread names,
// sleeping, affinity and cgroup quotas. What it shares with the generic
// POSIX backend (the stack minimum, the thread-exit key, CPU masks) is in
// posix_common.cpp.
#include "sys.hpp"

#include "posix_common.hpp"

#include <cerrno>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rthread::sys {

namespace {

timespec to_timespec(std::int64_t ns) noexcept {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1000000000);
    ts.tv_nsec = static_cast<long>(ns % 1000000000);
    return ts;
}

} // namespace

std::uint64_t current_os_id() noexcept {
    return static_cast<std::uint64_t>(::syscall(SYS_gettid));
}

bool is_main_thread() noexcept {
    return static_cast<pid_t>(::syscall(SYS_gettid)) == ::getpid();
}

void set_current_thread_name(const char* name) noexcept {
    // PR_SET_NAME is what pthread_setname_np does for the calling thread,
    // without formatting a /proc path.
    ::prctl(PR_SET_NAME, name, 0, 0, 0);
}

bool futex_wait(std::atomic<std::int32_t>* word, std::int32_t expected,
                std::optional<std::int64_t> deadline_ns) noexcept {
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so a wait
    // resumed after a signal does not stretch.
    timespec ts{};
    const timespec* timeout = nullptr;
    if (deadline_ns) {
        ts = to_timespec(*deadline_ns);
        timeout = &ts;
    }
    const long r = ::syscall(SYS_futex, reinterpret_cast<std::int32_t*>(word),
                             FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, timeout, nullptr,
                             FUTEX_BITSET_MATCH_ANY);
    return !(r == -1 && errno == ETIMEDOUT);
}

void futex_wake_one(std::atomic<std::int32_t>* word) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::int32_t*>(word), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1,
              nullptr, nullptr, 0);
}

bool process_barrier_init() noexcept {
    // The commands' values (linux/membarrier.h, here since 4.14).
    constexpr int query = 0;
    constexpr int private_expedited = 1 << 3;
    constexpr int register_private_expedited = 1 << 4;
    const long supported = ::syscall(SYS_membarrier, query, 0);
    return supported > 0 && (supported & private_expedited) != 0 &&
           ::syscall(SYS_membarrier, register_private_expedited, 0) == 0;
}

void process_barrier() noexcept {
    constexpr int private_expedited = 1 << 3;
    // Cannot fail once registered (EINVAL and EPERM are for what
    // process_barrier_init() checked).
    ::syscall(SYS_membarrier, private_expedited, 0);
}

void sleep_until_monotonic(std::int64_t deadline_ns) noexcept {
    const timespec ts = to_timespec(deadline_ns);
    // The system call itself, not glibc's clock_nanosleep: that one is a
    // cancellation point, and pthread_cancel's forced unwind cannot pass
    // through rthread::sleep, which is noexcept (futex waits, through
    // syscall(), are not cancellation points either).
    while (::syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == -1 &&
           errno == EINTR) {
    }
}

void yield_now() noexcept {
    ::sched_yield();
}

std::optional<std::size_t> affinity_cpu_count() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) != 0) {
        return std::nullopt;
    }
    const int n = CPU_COUNT(&set);
    return n > 0 ? std::optional<std::size_t>(static_cast<std::size_t>(n)) : std::nullopt;
}

namespace {

std::optional<std::string> read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) {
        return std::nullopt;
    }
    return line;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(s);
    while (std::getline(in, part, sep)) {
        parts.push_back(part);
    }
    return parts;
}

// Whole CPUs allowed by a quota of `limit` microseconds per `period`.
std::optional<std::size_t> cpus_of(long long limit, long long period) {
    if (limit <= 0 || period <= 0) {
        return std::nullopt;
    }
    const long long cpus = limit / period;
    return static_cast<std::size_t>(cpus < 1 ? 1 : cpus);
}

void keep_smaller(std::optional<std::size_t>& quota, std::optional<std::size_t> level) {
    if (level && (!quota || *level < *quota)) {
        quota = level;
    }
}

// cgroup v2: the smallest cpu.max from the process's cgroup up to the root
// (a parent's limit bounds its children).
std::optional<std::size_t> quota_v2(const std::string& mount, std::string path) {
    std::optional<std::size_t> quota;
    for (;;) {
        if (auto line = read_first_line(mount + path + "/cpu.max")) {
            std::istringstream in(*line);
            std::string limit;
            long long period = 0;
            if (in >> limit >> period && limit != "max") {
                keep_smaller(quota, cpus_of(std::atoll(limit.c_str()), period));
            }
        }
        if (path.empty() || path == "/") {
            return quota;
        }
        path.erase(path.find_last_of('/'));
    }
}

// cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us from the cgroup up to the
// mount point of the cpu controller.
std::optional<std::size_t> quota_v1(const std::string& dir_root, std::string path) {
    std::optional<std::size_t> quota;
    for (;;) {
        const std::string dir = dir_root + path;
        auto limit = read_first_line(dir + "/cpu.cfs_quota_us");
        auto period = read_first_line(dir + "/cpu.cfs_period_us");
        if (limit && period) {
            keep_smaller(quota, cpus_of(std::atoll(limit->c_str()), std::atoll(period->c_str())));
        }
        if (path.empty() || path == "/") {
            return quota;
        }
        path.erase(path.find_last_of('/'));
    }
}

// The cpu controller's v1 mount: (mount root, mount point) from mountinfo.
std::optional<std::pair<std::string, std::string>> v1_cpu_mount(const std::string& root) {
    std::ifstream in(root + "/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        const auto dash = line.find(" - ");
        if (dash == std::string::npos) {
            continue;
        }
        const auto before = split(line.substr(0, dash), ' ');
        const auto after = split(line.substr(dash + 3), ' ');
        if (before.size() < 5 || after.size() < 3 || after[0] != "cgroup") {
            continue;
        }
        for (const auto& option : split(after[2], ',')) {
            if (option == "cpu") {
                return std::make_pair(before[3], before[4]);
            }
        }
    }
    return std::nullopt;
}

} // namespace

std::optional<std::size_t> cgroup_cpu_quota(const std::string& root) noexcept {
    try {
        std::ifstream in(root + "/proc/self/cgroup");
        std::string line;
        while (std::getline(in, line)) {
            // v2: "0::/path"; v1: "<n>:<controller,...>:/path".
            const auto first = line.find(':');
            const auto second = line.find(':', first + 1);
            if (first == std::string::npos || second == std::string::npos) {
                continue;
            }
            const std::string controllers = line.substr(first + 1, second - first - 1);
            std::string path = line.substr(second + 1);
            if (path == "/") {
                path.clear();
            }
            if (line.compare(0, first, "0") == 0 && controllers.empty()) {
                return quota_v2(root + "/sys/fs/cgroup", path);
            }
            for (const auto& controller : split(controllers, ',')) {
                if (controller != "cpu") {
                    continue;
                }
                const auto mount = v1_cpu_mount(root);
                if (!mount) {
                    return std::nullopt;
                }
                const auto& [mount_root, mount_point] = *mount;
                if (mount_root != "/" && path.compare(0, mount_root.size(), mount_root) == 0) {
                    path.erase(0, mount_root.size());
                }
                return quota_v1(root + (mount_point == "/" ? "" : mount_point), path);
            }
        }
    } catch (...) {
        // Unreadable or unexpected contents: no quota known.
    }
    return std::nullopt;
}

namespace {

bool cpus_of_thread(pid_t tid, std::vector<std::size_t>& cpus) {
    cpu_mask set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(tid, sizeof(set), &set) != 0) {
        return false;
    }
    cpus_of_mask(set, cpus);
    return true;
}

} // namespace

bool process_cpus(std::vector<std::size_t>& cpus) {
    // The main thread's tid is the pid; it may have ended (pthread_exit).
    return cpus_of_thread(::getpid(), cpus) || cpus_of_thread(0, cpus);
}

bool current_thread_cpus(std::vector<std::size_t>& cpus) {
    return cpus_of_thread(0, cpus);
}

bool set_current_thread_cpus(const std::vector<std::size_t>& cpus) noexcept {
    cpu_mask set;
    return mask_of_cpus(cpus, set) && ::sched_setaffinity(0, sizeof(set), &set) == 0;
}

namespace {

// Where glibc keeps a thread's kernel id in its thread descriptor (what a
// pthread_t points to), as it publishes it for debuggers (libthread_db's
// _thread_db_pthread_tid: {size in bits, count, offset}). glibc makes every
// thread with CLONE_CHILD_CLEARTID on that word: the kernel zeroes it and
// wakes its futex once the thread has ended, and pthread_join waits on it.
// nullptr where the symbol is not there (another C library).
const std::int32_t* thread_id_word(pthread_t thread) noexcept {
    static const auto* const field =
        static_cast<const std::uint32_t*>(::dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid"));
    if (field == nullptr || field[0] != 32 || field[1] != 1) {
        return nullptr;
    }
    // NOLINTNEXTLINE(performance-no-int-to-ptr): pthread_t is the descriptor's address
    return reinterpret_cast<const std::int32_t*>(reinterpret_cast<const char*>(thread) + field[2]);
}

} // namespace

bool wait_thread_exit(detail::native_thread::native_handle_type thread,
                      std::optional<std::int64_t> deadline_ns) noexcept {
    const std::int32_t* word = thread_id_word(static_cast<pthread_t>(thread));
    if (word == nullptr) {
        return true;
    }
    timespec ts{};
    const timespec* timeout = nullptr;
    if (deadline_ns) {
        ts = to_timespec(*deadline_ns);
        timeout = &ts;
    }
    for (;;) {
        // Written by the kernel only; the order of what the thread did comes
        // from the pthread_join that follows (relaxed would do; the word is
        // not a C++ atomic, so a volatile read).
        const std::int32_t tid = *static_cast<const volatile std::int32_t*>(word);
        if (tid == 0) {
            return true;
        }
        // Not FUTEX_PRIVATE_FLAG: the kernel's wake at thread exit is a
        // shared one. FUTEX_WAIT_BITSET: an absolute monotonic deadline.
        const long r = ::syscall(SYS_futex, word, FUTEX_WAIT_BITSET, tid, timeout, nullptr,
                                 FUTEX_BITSET_MATCH_ANY);
        if (r == -1 && errno == ETIMEDOUT) {
            return *static_cast<const volatile std::int32_t*>(word) == 0;
        }
    }
}

} // namespace rthread::sys
