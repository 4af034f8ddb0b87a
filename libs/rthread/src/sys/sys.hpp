// The seam: the only functions of the library that make OS calls.
//
// Everything above this header is portable C++ and Boost; below it, one
// backend a platform, as Rust's sys/thread/{unix,windows}.rs: sys/linux.cpp
// (Linux), sys/windows.cpp (Windows), sys/posix.cpp (any other POSIX system;
// the build can force it on Linux, where its tests run).
#ifndef RTHREAD_SRC_SYS_SYS_HPP
#define RTHREAD_SRC_SYS_SYS_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

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
/// within the hook makes it run again, a bounded number of times.
void set_thread_exit_value(void (*exit_hook)(void*), void* value) noexcept;

/// Blocks while *word == expected, until woken or until deadline_ns on the
/// monotonic clock (steady_clock nanoseconds; nullopt: no deadline).
/// Returns false on timeout; true otherwise (woken, value changed, signal).
bool futex_wait(std::atomic<std::int32_t>* word, std::int32_t expected,
                std::optional<std::int64_t> deadline_ns) noexcept;
/// Wakes one thread blocked in futex_wait on word.
void futex_wake_one(std::atomic<std::int32_t>* word) noexcept;

/// Sleeps until deadline_ns on the monotonic clock, resuming after signals.
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

/// Runs prepare/parent/child around fork() (pthread_atfork; nothing on
/// Windows, which has no fork).
void at_fork(void (*prepare)(), void (*parent)(), void (*child)()) noexcept;

} // namespace rthread::sys

#endif
