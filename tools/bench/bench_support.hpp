// What the benchmark binaries share: a raw futex (the floor every parking
// mechanism is measured against) and the naming rule the run script reads.
//
// Names are "<operation>/<implementation>": the run script (table.py) puts
// every implementation of one operation on one row group, rthread's first,
// and divides rthread's median by each baseline's.
#ifndef RTHREAD_BENCH_SUPPORT_HPP
#define RTHREAD_BENCH_SUPPORT_HPP

#include <atomic>
#include <cstdint>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bench {

// The benchmarks are not part of the library: they call the OS directly so
// that the floor is exactly one futex system call a side.
inline void futex_wait(std::atomic<std::int32_t>* word, std::int32_t expected) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::int32_t*>(word), FUTEX_WAIT_PRIVATE, expected,
              nullptr, nullptr, 0);
}

inline void futex_wake(std::atomic<std::int32_t>* word) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::int32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr,
              nullptr, 0);
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
