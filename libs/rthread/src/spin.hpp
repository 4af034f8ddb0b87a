// The library's one spin policy, before any of its futex sleeps: the
// parker's (park.cpp) and a countdown's (countdown.cpp: join and scope).
// Private to the library.
//
// A wake-up through the kernel costs the waker a futex_wake system call and
// the sleeper a trip through the scheduler; on a virtual machine, waking a
// CPU that went idle costs tens of microseconds. What arrives within a
// microsecond or two is caught here instead, with the counts of libstdc++'s
// std::atomic::wait: 12 pauses, then 4 sched_yield calls.
// - The pauses only when another CPU can run the thread being waited for: on
//   one CPU (or a process pinned to one, `taskset -c 0`) they are time taken
//   from that very thread.
// - The yields always: a waiter that shares its CPU with the thread it waits
//   for hands it the CPU, and that thread usually gets to its next step
//   (unpark, or the end of a thread, which rarely blocks) before the waiter
//   runs again. A waiter that went to sleep at once would be woken by that
//   step and, on the same CPU, preempt the thread before it finished, which
//   then needs context switches of its own.
// doc/performance.md has the figures behind the counts.
#ifndef RTHREAD_SRC_SPIN_HPP
#define RTHREAD_SRC_SPIN_HPP

#include "sys/sys.hpp"

namespace rthread::detail {

/// True when more than one CPU may run this process's threads; read once.
inline bool spinning_pays() noexcept {
    static const bool pays = sys::affinity_cpu_count().value_or(1) > 1;
    return pays;
}

/// Tells the CPU this is a spin-wait loop (x86 PAUSE, Arm YIELD): it eases
/// the pipeline and a sibling hyperthread. Not an OS call, so not in the seam.
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield");
#endif
}

/// True as soon as ready() is; false if it still is not after the spin (the
/// caller then sleeps).
template <class Ready>
bool spin_until(Ready ready) noexcept {
    constexpr int pauses = 12;
    constexpr int yields = 4;
    if (spinning_pays()) {
        for (int i = 0; i < pauses; ++i) {
            if (ready()) {
                return true;
            }
            spin_pause();
        }
    }
    for (int i = 0; i < yields; ++i) {
        if (ready()) {
            return true;
        }
        sys::yield_now();
    }
    return ready();
}

} // namespace rthread::detail

#endif
