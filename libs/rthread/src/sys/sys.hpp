// The seam: the only functions of the library that make OS calls.
//
// Everything above this header is portable C++ and Boost; below it, one
// backend a platform, as Rust's sys/thread/{unix,windows}.rs: sys/linux.cpp
// (Linux), sys/windows.cpp (Windows), sys/posix.cpp (any other POSIX system;
// the build can force it on Linux, where its tests run). The two POSIX
// backends define what they share once, in sys/posix_common.cpp.
#ifndef RTHREAD_SRC_SYS_SYS_HPP
#define RTHREAD_SRC_SYS_SYS_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rthread/detail/native_thread.hpp>

namespace rthread::sys {

/// The calling thread's OS id (gettid on Linux, GetCurrentThreadId on
/// Windows), as panic messages show it.
std::uint64_t current_os_id() noexcept;

/// True on the process's main thread (the thread whose OS id is the pid).
bool is_main_thread() noexcept;

/// Sets the calling thread's OS name, already cut to what the OS takes.
void set_current_thread_name(const char* name) noexcept;

/// The longest OS thread name in bytes (15 on Linux); 0 when names are not
/// supported. Windows (SetThreadDescription) has no limit.
#if defined(_WIN32)
constexpr std::size_t max_thread_name = static_cast<std::size_t>(-1);
#elif defined(__APPLE__)
constexpr std::size_t max_thread_name = 63;
#elif defined(__FreeBSD__)
constexpr std::size_t max_thread_name = 19; // MAXCOMLEN
#else
constexpr std::size_t max_thread_name = 15;
#endif

/// The smallest stack a thread may be given (PTHREAD_STACK_MIN).
std::size_t min_thread_stack() noexcept;

/// The largest stack a thread may be asked for. On Windows, Boost.Thread
/// hands the size to _beginthreadex as an unsigned int, which would cut a
/// larger one to a wrong size instead of refusing it.
#if defined(_WIN32)
constexpr std::size_t max_thread_stack = static_cast<unsigned int>(-1);
#else
constexpr std::size_t max_thread_stack = static_cast<std::size_t>(-1);
#endif

/// Calls exit_hook(value) on the calling thread when it ends, after its C++
/// thread_local destructors (a pthread key destructor; on Windows a TLS
/// callback). Not on the main thread at process exit. Setting it again from
/// within the hook makes it run again, a bounded number of times. False when
/// the C library cannot record it (pthread_setspecific: ENOMEM, for a key
/// past the first 32 on a thread that cannot get the memory for more): the
/// hook will then not run.
[[nodiscard]] bool set_thread_exit_value(void (*exit_hook)(void*), void* value) noexcept;

/// Blocks while *word == expected, until woken or until deadline_ns on the
/// monotonic clock (steady_clock nanoseconds; nullopt: no deadline).
/// Returns false on timeout; true otherwise (woken, value changed, signal).
bool futex_wait(std::atomic<std::int32_t>* word, std::int32_t expected,
                std::optional<std::int64_t> deadline_ns) noexcept;
/// Wakes one thread blocked in futex_wait on word.
void futex_wake_one(std::atomic<std::int32_t>* word) noexcept;

/// Readies process_barrier(); true when it works (Linux: membarrier's
/// private expedited command, registered here, since 4.14; refused under
/// some sandboxes and emulators). Elsewhere false.
bool process_barrier_init() noexcept;
/// A full memory barrier on every CPU now running a thread of this
/// process, before it returns: the heavy side of an asymmetric Dekker pair,
/// whose light side needs no fence of its own. Only after
/// process_barrier_init() returned true.
void process_barrier() noexcept;

/// Sleeps until deadline_ns on the monotonic clock, resuming after signals.
/// Not a cancellation point (neither is futex_wait).
void sleep_until_monotonic(std::int64_t deadline_ns) noexcept;

void yield_now() noexcept;

/// CPUs in the calling thread's affinity mask; nullopt if unreadable.
std::optional<std::size_t> affinity_cpu_count() noexcept;

/// The cgroup (v2 cpu.max or v1 cpu.cfs_quota_us/cpu.cfs_period_us) CPU
/// quota of the process, in whole CPUs (at least 1), looking under root
/// ("" in production; tests pass a fake tree). nullopt when none is set.
/// On Windows: the hard CPU rate cap of the process's job object (root must
/// be ""); elsewhere without cgroups: nullopt.
std::optional<std::size_t> cgroup_cpu_quota(const std::string& root) noexcept;

/// Affinity (builder::affinity, current_affinity). CPUs are the indices the
/// OS numbers them by, lists are sorted.
///
/// The CPUs the process may run on: on Linux, where every thread has a mask
/// of its own, the mask of the process's main thread (the one `taskset -p`
/// reads and every thread inherits), else the calling thread's. False if
/// unreadable.
bool process_cpus(std::vector<std::size_t>& cpus);
/// The CPUs the calling thread may run on. False if unreadable.
bool current_thread_cpus(std::vector<std::size_t>& cpus);
/// Restricts the calling thread to cpus (non-empty, each one process_cpus
/// gave). False if the OS refused.
bool set_current_thread_cpus(const std::vector<std::size_t>& cpus) noexcept;
/// From now on the calling thread ignores pthread_cancel().
void ignore_cancellation() noexcept;

/// Runs prepare/parent/child around fork() (pthread_atfork; nothing on
/// Windows, which has no fork).
void at_fork(void (*prepare)(), void (*parent)(), void (*child)()) noexcept;

/// Waits until `thread` (started, not yet joined) has ended for the OS:
/// everything it still runs, its pthread key destructors included, is over
/// (on Linux, the kernel has cleared the thread id that pthread_join waits
/// on). False at deadline_ns on the monotonic clock (nullopt: no deadline).
/// Where the C library does not say where that id is kept, returns true at
/// once and a join that follows is not bounded.
bool wait_thread_exit(detail::native_handle_type thread,
                      std::optional<std::int64_t> deadline_ns) noexcept;

} // namespace rthread::sys

#endif
