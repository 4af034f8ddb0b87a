// Panics: Rust's panic!, std::panic::{set_hook, take_hook, PanicHookInfo}
// and std::thread::panicking.
//
// A panic is any exception that leaves a thread's function: it ends that
// thread only. The library catches it at the top of the thread, reports it
// through the panic hook, and hands it to join() as the std::exception_ptr.
// Exceptions of every type count, int and types not derived from
// std::exception included.
#ifndef RTHREAD_PANIC_HPP
#define RTHREAD_PANIC_HPP

#include <rthread/thread.hpp>

#include <boost/assert/source_location.hpp>
#include <fmt/format.h>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace rthread {

namespace detail {
// The stack where a panic_error was made, kept for the default panic hook
// (libs/rthread/src/backtrace.cpp): by the time the hook runs at the top of
// the thread, the stack has been unwound.
struct panic_backtrace;
// The calling thread's stack when RTHREAD_BACKTRACE asks for backtraces,
// else (and when it cannot be had) nullptr. Cheap when off: one relaxed load.
std::shared_ptr<const panic_backtrace> capture_panic_backtrace() noexcept;
struct panic_error_access;
struct panic_info_access;
} // namespace detail

/// The exception RTHREAD_PANIC throws: what() is the formatted message and
/// location() where the panic was raised.
class panic_error : public std::runtime_error {
public:
    panic_error(const std::string& message, const boost::source_location& location)
        : std::runtime_error(message), location_(location),
          backtrace_(detail::capture_panic_backtrace()) {}

    /// File, line, column (where the compiler provides one) and function.
    boost::source_location location() const noexcept { return location_; }

private:
    friend struct detail::panic_error_access;

    boost::source_location location_;
    std::shared_ptr<const detail::panic_backtrace> backtrace_;
};

namespace detail {
template <class... Args>
[[noreturn]] void throw_panic(const boost::source_location& location,
                              fmt::format_string<Args...> format, Args&&... args) {
    throw panic_error(fmt::format(format, std::forward<Args>(args)...), location);
}
} // namespace detail

/// Rust's panic!: RTHREAD_PANIC("x = {}", x) throws rthread::panic_error with
/// the fmt-formatted message and the source location of the call.
#define RTHREAD_PANIC(...) ::rthread::detail::throw_panic(BOOST_CURRENT_LOCATION, __VA_ARGS__)

/// The text of a panic payload, as Rust's downcast_ref::<&str>() /
/// downcast_ref::<String>(): what() of a std::exception, the text of a thrown
/// const char* or std::string, else std::nullopt (an empty pointer included).
std::optional<std::string> panic_message(const std::exception_ptr& payload);

/// True while the calling thread is unwinding because of an exception
/// (std::uncaught_exceptions() > 0), and while the panic hook runs on it.
bool panicking() noexcept;

/// What the panic hook is told about a panic.
class panic_info {
public:
    panic_info(rthread::thread panicked, std::exception_ptr payload);

    /// The thread that panicked.
    const rthread::thread& thread() const noexcept { return thread_; }
    /// The exception, as join() will return it.
    const std::exception_ptr& payload() const noexcept { return payload_; }
    /// what(), or the text of a thrown string, else
    /// "unknown exception of type <demangled type name>".
    std::string_view message() const noexcept { return message_; }
    /// Where a panic_error was raised; std::nullopt for other exceptions.
    std::optional<boost::source_location> location() const noexcept { return location_; }

private:
    friend struct detail::panic_info_access;
    // For the library's own report at the top of a thread, which learns the
    // message and location from the catch clause that caught the panic:
    // rethrowing the payload to ask again unwinds again, as dear as the panic.
    panic_info(rthread::thread panicked, std::exception_ptr payload, std::string message,
               std::optional<boost::source_location> location) noexcept
        : thread_(std::move(panicked)), payload_(std::move(payload)), message_(std::move(message)),
          location_(location) {}

    rthread::thread thread_;
    std::exception_ptr payload_;
    std::string message_;
    std::optional<boost::source_location> location_;
};

using panic_hook = std::function<void(const panic_info&)>;

/// Replaces the process-wide panic hook, called on the panicking thread for
/// every panic. An empty hook restores the default. A hook that throws ends
/// the process with "thread panicked while processing panic. aborting.".
void set_panic_hook(panic_hook hook);

/// Returns the current hook (a callable that runs the default hook when no
/// other was set) and restores the default.
panic_hook take_panic_hook();

/// The default hook, as Rust 1.9x prints it, to stderr:
///   thread '<name>' (<os thread id>) panicked at <file>:<line>:<column>:
///   <message>
/// ('<unnamed>' for unnamed threads; "panicked:" for exceptions without a
/// location), then a note on RTHREAD_BACKTRACE=1. With RTHREAD_BACKTRACE set
/// (read once), a symbolized backtrace instead, as RUST_BACKTRACE does: "0"
/// turns it off, "full" shows every frame, any other value the frames of the
/// program between the panic and the thread's entry. The backtrace of a
/// panic_error is the stack where it was made; other exceptions carry none,
/// so theirs is the stack where the thread caught them.
void default_panic_hook(const panic_info& info);

} // namespace rthread

#endif
