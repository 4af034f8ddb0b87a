// What the benchmark binaries share: a raw futex (the floor every parking
// mechanism is measured against; on Windows WaitOnAddress and
// WakeByAddressSingle, the same one wait and one wake a side) and the naming
// rule the run script reads.
//
// Names are "<operation>/<implementation>": the run script (table.py) puts
// every implementation of one operation on one row group, rthread's first,
// and divides rthread's median by each baseline's.
#ifndef RTHREAD_BENCH_SUPPORT_HPP
#define RTHREAD_BENCH_SUPPORT_HPP

#include <atomic>
#include <cstdint>

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace bench {

// The benchmarks are not part of the library: they call the OS directly so
// that the floor is exactly one futex system call a side.
inline void futex_wait(std::atomic<std::int32_t>* word, std::int32_t expected) noexcept {
#ifdef _WIN32
    ::WaitOnAddress(word, &expected, sizeof expected, INFINITE);
#else
    ::syscall(SYS_futex, reinterpret_cast<std::int32_t*>(word), FUTEX_WAIT_PRIVATE, expected,
              nullptr, nullptr, 0);
#endif
}

inline void futex_wake(std::atomic<std::int32_t>* word) noexcept {
#ifdef _WIN32
    ::WakeByAddressSingle(word);
#else
    ::syscall(SYS_futex, reinterpret_cast<std::int32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr,
              nullptr, 0);
#endif
}

/// Makes the compiler produce `value` in a register. benchmark::DoNotOptimize
/// may instead take a thread_local's address as a memory operand and never
/// load it, which would time an address computation, not a read.
template <class T>
inline void use_in_register(T value) noexcept {
    asm volatile("" : : "r"(value));
}

/// Makes the compiler assume `object` may change behind its back: a baseline
/// thread_local that the program never writes would otherwise be read as a
/// constant, and its "read" would time an empty loop.
template <class T>
inline void escape(T& object) noexcept {
    asm volatile("" : : "r"(&object) : "memory");
}

} // namespace bench

#endif
