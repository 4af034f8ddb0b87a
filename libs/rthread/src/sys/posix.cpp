// The generic POSIX side of the seam (sys.hpp), for POSIX systems without
// a backend of their own (macOS, the BSDs): pthread names, a
// condition-variable wait for the futex calls, nanosleep. What it shares
// with Linux's backend (the stack minimum, the thread-exit key, CPU masks)
// is in posix_common.cpp. The build selects it off Linux and Windows;
// rthread-sys=posix (b2) or RTHREAD_SYS_BACKEND=posix (CMake) forces it on
// Linux, where its tests run.
#include "sys.hpp"

#include "posix_common.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <mutex>
#include <new>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <sys/sysctl.h>
#elif defined(__FreeBSD__)
#include <pthread_np.h>
#include <sys/cpuset.h>
#elif defined(__linux__)
#include <dlfcn.h>
#include <sys/syscall.h>
#endif

namespace rthread::sys {

namespace {

std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// The main thread: the thread of the first call, made from a static
// initializer (they run on the main thread): this file's below, or another
// file's that asks first (stack_overflow.cpp's does). Where the system says
// (pthread_main_np) that is asked instead.
pthread_t main_thread() noexcept {
    static const pthread_t main = ::pthread_self();
    return main;
}
[[maybe_unused]] const bool main_thread_known = (main_thread(), true);

} // namespace

std::uint64_t current_os_id() noexcept {
#if defined(__APPLE__)
    std::uint64_t id = 0;
    ::pthread_threadid_np(nullptr, &id);
    return id;
#elif defined(__FreeBSD__)
    return static_cast<std::uint64_t>(::pthread_getthreadid_np());
#elif defined(__linux__)
    return static_cast<std::uint64_t>(::syscall(SYS_gettid));
#else
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(::pthread_self()));
#endif
}

bool is_main_thread() noexcept {
#if defined(__APPLE__) || defined(__FreeBSD__)
    return ::pthread_main_np() == 1;
#else
    return ::pthread_equal(::pthread_self(), main_thread()) != 0;
#endif
}

void set_current_thread_name(const char* name) noexcept {
#if defined(__APPLE__)
    ::pthread_setname_np(name); // the calling thread only
#elif defined(__NetBSD__)
    ::pthread_setname_np(::pthread_self(), "%s", const_cast<char*>(name));
#elif defined(__FreeBSD__)
    ::pthread_set_name_np(::pthread_self(), name);
#else
    ::pthread_setname_np(::pthread_self(), name);
#endif
}

namespace {

// The futex calls on a condition variable: a fixed table of buckets, an
// address hashed to one (as Rust's and WebKit's parking lots do). A bucket
// may serve several words, so a wake wakes all its waiters, each of which
// looks at its own word again.
struct bucket {
    std::mutex mutex;
    std::condition_variable woken;
};

// Never destroyed: detached threads may still park and wake after main
// returned, while static destructors run.
struct bucket_table {
    bucket buckets[64];
};

bucket& bucket_of(const void* word) noexcept {
    alignas(bucket_table) static unsigned char storage[sizeof(bucket_table)];
    static bucket_table* const table = new (storage) bucket_table();
    return table->buckets[std::hash<const void*>{}(word) % std::size(table->buckets)];
}

} // namespace

bool futex_wait(std::atomic<std::int32_t>* word, std::int32_t expected,
                std::optional<std::int64_t> deadline_ns) noexcept {
    bucket& b = bucket_of(word);
    try {
        std::unique_lock<std::mutex> lock(b.mutex);
        // relaxed: as FUTEX_WAIT's comparison, which orders nothing; the
        // waker's store is seen here or its wake comes after our wait
        // began (it takes the bucket's mutex first).
        if (word->load(std::memory_order_relaxed) != expected) {
            return true;
        }
        if (!deadline_ns) {
            b.woken.wait(lock);
            return true;
        }
        const std::chrono::steady_clock::time_point deadline{
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::nanoseconds(*deadline_ns))};
        return b.woken.wait_until(lock, deadline) == std::cv_status::no_timeout ||
               now_ns() < *deadline_ns;
    } catch (...) {
        return true; // the mutex failed: a spurious wake, the caller looks again
    }
}

void futex_wake_one(std::atomic<std::int32_t>* word) noexcept {
    bucket& b = bucket_of(word);
    try {
        // Under the mutex: a waiter that saw the old value is waiting by
        // now (it holds the mutex from its check into its wait).
        const std::lock_guard<std::mutex> lock(b.mutex);
        b.woken.notify_all();
    } catch (...) {
        b.woken.notify_all();
    }
}

void sleep_until_monotonic(std::int64_t deadline_ns) noexcept {
    // No absolute monotonic sleep everywhere (macOS has no clock_nanosleep):
    // sleep for what is left, again after a signal or an early wake.
    for (std::int64_t left = deadline_ns - now_ns(); left > 0; left = deadline_ns - now_ns()) {
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(left / 1000000000);
        ts.tv_nsec = static_cast<long>(left % 1000000000);
        ::nanosleep(&ts, nullptr);
    }
}

void yield_now() noexcept {
    ::sched_yield();
}

// No portable process-wide barrier (macOS and the BSDs have none we can
// rely on): the channels keep their symmetric fences.
bool process_barrier_init() noexcept {
    return false;
}

void process_barrier() noexcept {}

std::optional<std::size_t> affinity_cpu_count() noexcept {
    long n = 0;
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
        n = CPU_COUNT(&set);
    }
#elif defined(__FreeBSD__)
    cpuset_t set;
    CPU_ZERO(&set);
    if (::cpuset_getaffinity(CPU_LEVEL_WHICH, CPU_WHICH_PID, -1, sizeof(set), &set) == 0) {
        n = CPU_COUNT(&set);
    }
#else
    n = ::sysconf(_SC_NPROCESSORS_ONLN); // no affinity masks (macOS)
#endif
    return n > 0 ? std::optional<std::size_t>(static_cast<std::size_t>(n)) : std::nullopt;
}

std::optional<std::size_t> cgroup_cpu_quota(const std::string&) noexcept {
    return std::nullopt; // cgroups are Linux's
}

// Affinity where the system has per-thread masks (glibc and FreeBSD's
// pthread_{get,set}affinity_np); elsewhere (macOS) there is none to read or
// set, and builder::affinity / current_affinity say errc::not_supported.
#if defined(__linux__) || defined(__FreeBSD__)
namespace {

bool cpus_of(pthread_t thread, std::vector<std::size_t>& cpus) {
    cpu_mask set;
    CPU_ZERO(&set);
    if (::pthread_getaffinity_np(thread, sizeof(set), &set) != 0) {
        return false;
    }
    cpus_of_mask(set, cpus);
    return true;
}

} // namespace

bool process_cpus(std::vector<std::size_t>& cpus) {
    // The main thread's mask, which every thread inherits (it may have
    // ended: then the calling thread's).
    return cpus_of(main_thread(), cpus) || cpus_of(::pthread_self(), cpus);
}

bool current_thread_cpus(std::vector<std::size_t>& cpus) {
    return cpus_of(::pthread_self(), cpus);
}

bool set_current_thread_cpus(const std::vector<std::size_t>& cpus) noexcept {
    cpu_mask set;
    return mask_of_cpus(cpus, set) &&
           ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set) == 0;
}
#else
bool process_cpus(std::vector<std::size_t>&) {
    return false;
}

bool current_thread_cpus(std::vector<std::size_t>&) {
    return false;
}

bool set_current_thread_cpus(const std::vector<std::size_t>&) noexcept {
    return false;
}
#endif

namespace {

// POSIX has no timed join (pthread_timedjoin_np, where there is one, reaps
// the thread, which Boost's join that follows must do). glibc on Linux
// publishes for debuggers where a thread's kernel id is kept in its
// descriptor (libthread_db's _thread_db_pthread_tid: {size in bits, count,
// offset}); the kernel clears that word when the thread has ended
// (CLONE_CHILD_CLEARTID), which is what pthread_join waits for. Elsewhere:
// nullptr, and what a thread runs after its exit notice (its pthread key
// destructors) is waited for, unbounded, by the join that follows.
const volatile std::int32_t* thread_id_word(pthread_t thread) noexcept {
#if defined(__linux__) && defined(__GLIBC__)
    static const auto* const field =
        static_cast<const std::uint32_t*>(::dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid"));
    if (field == nullptr || field[0] != 32 || field[1] != 1) {
        return nullptr;
    }
    // NOLINTNEXTLINE(performance-no-int-to-ptr): pthread_t is the descriptor's address
    return reinterpret_cast<const volatile std::int32_t*>(reinterpret_cast<const char*>(thread) +
                                                          field[2]);
#else
    (void)thread;
    return nullptr;
#endif
}

} // namespace

bool wait_thread_exit(detail::native_thread::native_handle_type thread,
                      std::optional<std::int64_t> deadline_ns) noexcept {
    const volatile std::int32_t* word = thread_id_word(static_cast<pthread_t>(thread));
    if (word == nullptr) {
        return true;
    }
    // Looked at, not waited on (this backend makes no futex calls): the
    // thread raised its exit notice, so it is in its last steps; a sleep
    // between looks that doubles from 50 us to 1 ms. The word is written by
    // the kernel only, not a C++ atomic: a volatile read; what the thread did
    // is ordered by the pthread_join that follows.
    std::int64_t pause = 50000;
    for (;;) {
        if (*word == 0) {
            return true;
        }
        const std::int64_t now = now_ns();
        if (deadline_ns && now >= *deadline_ns) {
            return false;
        }
        sleep_until_monotonic(deadline_ns ? std::min(now + pause, *deadline_ns) : now + pause);
        pause = std::min<std::int64_t>(pause * 2, 1000000);
    }
}

} // namespace rthread::sys
