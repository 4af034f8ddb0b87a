// The stack-overflow report: a thread whose stack overflows prints
//   thread '<name>' (<os thread id>) has overflowed its stack
//   fatal runtime error: stack overflow, aborting
// and aborts the process, as Rust does, instead of dying of a bare SIGSEGV.
// Private to the library; the OS half is sys/stack_guard.hpp.
#ifndef RTHREAD_SRC_STACK_OVERFLOW_HPP
#define RTHREAD_SRC_STACK_OVERFLOW_HPP

#include "sys/stack_guard.hpp"

#include <rthread/detail/native_thread.hpp>

#include <atomic>
#include <cstdint>

namespace rthread::detail {

/// A new thread's stack bounds, which its report needs, read once. They cost
/// a system call (pthread_getattr_np); asked on the new thread, the call
/// costs spawn + join its context switches (doc/performance.md), so the
/// spawner asks instead, right after the thread was made, while the thread
/// waits for a CPU. Exactly one of the two asks: a thread that starts first
/// claims the job (on two CPUs), and one that finds the spawner asking waits
/// for it.
class stack_handover {
public:
    /// The spawner, right after the thread was made.
    void read_for(native_handle_type thread) noexcept;
    /// On the new thread: the bounds its spawner read, or nullptr when the
    /// thread is to read them itself.
    const sys::stack_bounds* take() noexcept;

private:
    enum : std::uint8_t { unclaimed, spawner_reading, published, thread_reads };
    sys::stack_bounds bounds_;
    // Who reads them; its release/acquire publishes bounds_.
    std::atomic<std::uint8_t> claim_{unclaimed};
};

/// Makes the calling, newly started thread's overflow reported (its guard
/// page and alternate signal stack). run_thread() calls it first thing.
void watch_thread_stack(const sys::stack_bounds* known = nullptr) noexcept;

/// Makes the calling thread's overflow reported when the library did not
/// make it (the main thread, a std::thread): the registry calls it when the
/// thread first asks for current().
void watch_seen_thread_stack() noexcept;

/// Installs the SIGSEGV/SIGBUS handler of the report on top of whatever
/// handler is installed now, which then gets every fault that is not a
/// stack overflow. Done once at program start; tests call it again after
/// installing a handler of their own, to stand for one installed before.
void install_stack_overflow_report() noexcept;

} // namespace rthread::detail

#endif
