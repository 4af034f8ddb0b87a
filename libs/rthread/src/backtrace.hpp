// Backtraces for the default panic hook: RTHREAD_BACKTRACE, as Rust's
// RUST_BACKTRACE. Private to the library (and its tests).
//
// Where the stack is taken: a backtrace made in the hook would show the top
// of the thread, where the panic was caught after unwinding, not where it
// was raised. So panic_error takes one in its constructor when backtraces
// are on (capture_panic_backtrace(), declared in panic.hpp), and the hook
// prints that one. Exceptions of other types carry none: for them the hook
// takes the stack where the thread caught them, and says so. Symbols are
// resolved only when the hook prints (Boost.Stacktrace's libbacktrace
// backend: names, files and lines from the program's debug information).
#ifndef RTHREAD_SRC_BACKTRACE_HPP
#define RTHREAD_SRC_BACKTRACE_HPP

#include <exception>
#include <string>

namespace rthread::detail {

/// What RTHREAD_BACKTRACE asks for (Rust's BacktraceStyle).
enum class backtrace_style {
    off,     // unset, empty or "0": a one-line note on how to get one
    trimmed, // any other value: the program's frames only (Rust's Short)
    full,    // "full": every frame
};

/// The style an RTHREAD_BACKTRACE value selects (nullptr: unset).
backtrace_style parse_backtrace_style(const char* value) noexcept;

/// The process's style: RTHREAD_BACKTRACE, read once at the first panic that
/// asks (as Rust reads RUST_BACKTRACE once).
backtrace_style current_backtrace_style() noexcept;

/// For tests: overrides what RTHREAD_BACKTRACE said.
void set_backtrace_style_for_testing(backtrace_style style) noexcept;

/// The lines the default hook prints after the message: with style off, the
/// note on RTHREAD_BACKTRACE; otherwise "stack backtrace:" and the frames of
/// payload's panic_error, or of the calling thread for other payloads.
std::string describe_backtrace(const std::exception_ptr& payload, backtrace_style style);

} // namespace rthread::detail

#endif
