// Panics: Rust's panic!, std::panic::{set_hook, take_hook, PanicHookInfo}
// and std::thread::panicking.
//
// A panic is any exception that leaves a thread's function: it ends that
// thread only. The library catches it at the top of the thread and hands it
// to join() as the std::exception_ptr. Exceptions of every type count, int
// and types not derived from std::exception included. The panic hook
// reports each panic once: RTHREAD_PANIC at the panic site, before
// unwinding (as Rust's panic!), other exceptions when they leave the
// thread's function (C++ has no hook at throw).
#ifndef RTHREAD_PANIC_HPP
#define RTHREAD_PANIC_HPP

#include <rthread/result.hpp>
#include <rthread/thread.hpp>

#include <boost/assert/source_location.hpp>
#include <fmt/core.h>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
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
struct panic_site_access;
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
    friend struct detail::panic_site_access;

    boost::source_location location_;
    std::shared_ptr<const detail::panic_backtrace> backtrace_;
    bool reported_ = false; // by RTHREAD_PANIC, at its site
};

namespace detail {
/// Reports e through the panic hook, at the panic site, and marks it
/// reported so that it is not reported again when it leaves the thread.
void report_panic_at_site(panic_error& e) noexcept;

/// RTHREAD_PANIC's format literal as fmt's view of it.
template <std::size_t N>
constexpr fmt::string_view panic_format_view(const char (&format)[N]) noexcept {
    return fmt::string_view(format, N - 1);
}

/// Ends RTHREAD_PANIC's arguments (so that the macro always has one after
/// the format, in C++17 as in C++20).
struct end_of_panic_args {};

/// How many arguments a format string uses: one per automatic field ("{}",
/// "{:x}"), or the largest explicit index plus one ("{1}"); "{{" is text.
/// fmt itself accepts extra arguments; RTHREAD_PANIC does not.
constexpr std::size_t panic_format_arguments(fmt::string_view format) {
    std::size_t automatic = 0;
    std::size_t explicit_end = 0;
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '{') {
            continue;
        }
        if (i + 1 < format.size() && format[i + 1] == '{') {
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        if (j < format.size() && format[j] >= '0' && format[j] <= '9') {
            std::size_t index = 0;
            while (j < format.size() && format[j] >= '0' && format[j] <= '9') {
                index = index * 10 + static_cast<std::size_t>(format[j] - '0');
                ++j;
            }
            explicit_end = index + 1 > explicit_end ? index + 1 : explicit_end;
        } else {
            ++automatic;
        }
        while (j < format.size() && format[j] != '}') {
            ++j;
        }
        i = j;
    }
    return automatic > explicit_end ? automatic : explicit_end;
}

template <class Format, class Tuple, std::size_t... I>
[[noreturn]] void throw_formatted_panic(const boost::source_location& location,
                                        const Format& format, Tuple&& args,
                                        std::index_sequence<I...>) {
    // A fresh Format(), not the parameter: the compile-time string's type
    // carries the text, and fmt checks it in a constant expression (a
    // consteval conversion in C++20), which a parameter is not.
    (void)format;
    static_assert(panic_format_arguments(Format()) == sizeof...(I),
                  "RTHREAD_PANIC: the format string's fields and the arguments differ in number");
    panic_error e(fmt::format(Format(), std::get<I>(std::forward<Tuple>(args))...), location);
    report_panic_at_site(e);
    throw e;
}

// format: a compile-time format string (RTHREAD_PANIC_FORMAT_), checked against the
// arguments at compile time in C++17 and C++20; args: the arguments, then
// end_of_panic_args.
template <class Format, class... ArgsThenEnd>
[[noreturn]] void throw_panic(const boost::source_location& location, const Format& format,
                              ArgsThenEnd&&... args_then_end) {
    throw_formatted_panic(location, format,
                          std::forward_as_tuple(std::forward<ArgsThenEnd>(args_then_end)...),
                          std::make_index_sequence<sizeof...(ArgsThenEnd) - 1>{});
}
} // namespace detail

/// Rust's panic!: RTHREAD_PANIC("x = {}", x) reports through the panic hook,
/// here, before unwinding, then throws rthread::panic_error with the
/// fmt-formatted message and the source location of the call. The format
/// must be a string literal, checked against the arguments at compile time
/// (C++17 and C++20): RTHREAD_PANIC("{}", text) for a runtime string.
#define RTHREAD_PANIC(...) RTHREAD_PANIC_SPLIT_(__VA_ARGS__, ::rthread::detail::end_of_panic_args{})
#define RTHREAD_PANIC_SPLIT_(format, ...)                                                          \
    ::rthread::detail::throw_panic(BOOST_CURRENT_LOCATION, RTHREAD_PANIC_FORMAT_(format),          \
                                   __VA_ARGS__)
// The format as a type of its own that carries the text, as fmt's FMT_STRING
// makes it: fmt checks a string whose type derives from
// fmt::detail::compile_string against the arguments in a constant
// expression, in C++17 as in C++20 (FMT_STRING's own expansion names the
// same base in the user's code). FMT_STRING itself is in fmt/format.h,
// which this header leaves out for its cost (doc/performance.md, "Header
// cost"). A captureless lambda cannot name a local variable, and
// panic_format_view takes an array only: the format must be a literal.
#define RTHREAD_PANIC_FORMAT_(format)                                                              \
    [] {                                                                                           \
        struct RTHREAD_PANIC_HIDDEN_ rthread_panic_format : ::fmt::detail::compile_string {        \
            using char_type [[maybe_unused]] = char;                                               \
            constexpr operator ::fmt::string_view() const {                                        \
                return ::rthread::detail::panic_format_view(format);                               \
            }                                                                                      \
        };                                                                                         \
        return rthread_panic_format();                                                             \
    }()
// Hidden, as FMT_STRING's type is: under -fvisibility=hidden, GCC 6 and 7
// warn that the type is more visible than its base (fmtlib/fmt#1973).
#if defined(__GNUC__) && !defined(__clang__)
#define RTHREAD_PANIC_HIDDEN_ __attribute__((visibility("hidden")))
#else
#define RTHREAD_PANIC_HIDDEN_
#endif

/// Rust's std::panic::catch_unwind: calls f() and gives its value, or any
/// exception it threw as the exception_ptr. (A panic raised by
/// RTHREAD_PANIC inside was already reported, at its site.)
template <class F>
[[nodiscard]] result<std::invoke_result_t<F>> catch_unwind(F&& f) {
    using R = std::invoke_result_t<F>;
    try {
        if constexpr (std::is_void_v<R>) {
            std::invoke(std::forward<F>(f));
            return {};
        } else {
            return result<R>(boost::system::in_place_value, std::invoke(std::forward<F>(f)));
        }
    } catch (...) {
        std::exception_ptr caught = std::current_exception();
        if (!caught) {
            throw; // not a C++ exception (pthread_exit's forced unwind): it must go on
        }
        return result<R>(boost::system::in_place_error, std::move(caught));
    }
}

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

/// Replaces the process-wide panic hook, called on the panicking thread once
/// for every panic (at the panic site for RTHREAD_PANIC, when it leaves the
/// thread's function for other exceptions). An empty hook restores the default. A hook that throws
/// ends the process with "thread panicked while processing panic. aborting.".
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
