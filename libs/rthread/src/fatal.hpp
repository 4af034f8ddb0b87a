// Ending the process on an error the runtime cannot recover from: Rust's
// rtabort! (library/std/src/rt.rs), one function for the whole library.
//
// It writes its line to stderr in one system call and aborts, allocating
// nothing and taking no lock: it runs where memory ran out, inside a
// thread's exit, and in a signal handler. A leaf header (it includes
// nothing of the library), so the seam's backends (sys/) may call it too.
#ifndef RTHREAD_SRC_FATAL_HPP
#define RTHREAD_SRC_FATAL_HPP

#include <string_view>

namespace rthread::detail {

/// Writes "fatal runtime error: <what>, aborting" and a newline to stderr,
/// as Rust's rtabort! words it, and ends the process with abort()
/// (SIGABRT). Async-signal-safe; allocates nothing.
[[noreturn]] void fatal(std::string_view what) noexcept;

/// Writes text to stderr as it is, then aborts: for the one report whose
/// words Rust does not make a "fatal runtime error" (a panic inside the
/// panic hook, "thread panicked while processing panic. aborting.").
[[noreturn]] void abort_with(std::string_view text) noexcept;

} // namespace rthread::detail

#endif
