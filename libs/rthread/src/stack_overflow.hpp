// The stack-overflow report: a thread whose stack overflows prints
//   thread '<name>' (<os thread id>) has overflowed its stack
//   fatal runtime error: stack overflow, aborting
// and aborts the process, as Rust does, instead of dying of a bare SIGSEGV.
// Private to the library; the OS half is sys/stack_guard.hpp.
#ifndef RTHREAD_SRC_STACK_OVERFLOW_HPP
#define RTHREAD_SRC_STACK_OVERFLOW_HPP

#include "sys/stack_guard.hpp"

namespace rthread::detail {

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
