// The seam for the stack-overflow report: guard pages, alternate signal
// stacks and the SIGSEGV/SIGBUS handler (sys/posix_stack_overflow.cpp), or
// on Windows a vectored handler for
// EXCEPTION_STACK_OVERFLOW with a guaranteed stack reserve
// (sys/windows_stack_overflow.cpp).
//
// What the portable layer (stack_overflow.cpp) decides: the message and
// that the process then aborts. What this layer decides: whether a fault is
// a stack overflow (it hit the calling thread's guard page) and where the
// handler runs (an alternate signal stack, since the thread's own stack is
// exhausted). Rust's counterpart is sys/pal/unix/stack_overflow.rs.
#ifndef RTHREAD_SRC_SYS_STACK_GUARD_HPP
#define RTHREAD_SRC_SYS_STACK_GUARD_HPP

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <rthread/detail/native_thread.hpp>

namespace rthread::sys {

/// Called, on the faulting thread's alternate signal stack, for a fault in
/// that thread's guard page. It must be async-signal-safe and not return.
using stack_overflow_report = void (*)() noexcept;

/// False when the library was built with AddressSanitizer or
/// ThreadSanitizer: the sanitizer owns SIGSEGV and reports a stack overflow
/// itself (ERROR: AddressSanitizer: stack-overflow ...), and no handler of
/// ours is installed. Under ThreadSanitizer the threads we start still get
/// an alternate signal stack, without which its report could not run.
bool stack_overflow_report_available() noexcept;

/// Installs the process-wide SIGSEGV and SIGBUS handler on top of whatever
/// handler is installed now, and watches the calling thread if it is the
/// process's main thread. Faults outside the faulting thread's guard page
/// are handed on to the handler that was installed before (its function is
/// called; the default action ends the process with the signal, as if the
/// library were not there). Calling it again puts the handler back on top
/// of whatever was installed since, keeping the first call's report.
void install_stack_overflow_handler(stack_overflow_report report) noexcept;

/// A thread's stack as glibc made it: usable from low up, size bytes, with
/// a guard area of guard bytes just below low.
struct stack_bounds {
    std::uintptr_t low = 0;
    std::size_t size = 0;
    std::size_t guard = 0;
};

/// The stack of another (just started, not yet joined) thread: one system
/// call, made by the spawner so that the new thread need not.
/// thread: the native handle Boost.Thread holds (pthread_t; a HANDLE on
/// Windows). False when the backend does not need or cannot read them.
bool thread_stack_bounds(detail::native_thread::native_handle_type thread,
                         stack_bounds& bounds) noexcept;

/// Watches the calling (newly started) thread: records its guard page and
/// gives it an alternate signal stack carved from the bottom of its own
/// stack. known: its bounds, when the spawner already read them (else one
/// system call reads them). One more system call; no memory is mapped.
void watch_current_thread_stack(const stack_bounds* known = nullptr) noexcept;

/// Watches the calling thread, one the library did not make, from its
/// first current() (the main thread included): records its guard page and
/// gives it an alternate signal stack of its own (mapped, with a guard
/// page, unmapped when the thread ends), unless it has one already. Does
/// nothing on a thread watched already. POSIX only: on Windows
/// watch_current_thread_stack serves every thread.
void watch_current_foreign_thread_stack() noexcept;

/// Writes the parts to stderr in one system call (async-signal-safe).
void write_stderr(const std::string_view* parts, std::size_t count) noexcept;

/// Ends the process after the report, as abnormal termination: abort()
/// (SIGABRT) on POSIX, TerminateProcess with exit code 134 on Windows
/// (where abort() from an exception handler ends it with code 3, or 1
/// under Wine, and runs its own dialog logic).
[[noreturn]] void end_process_after_stack_overflow() noexcept;

} // namespace rthread::sys

#endif
